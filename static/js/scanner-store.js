/* The scanner's memory and its line to the server: the device token, the durable scan queue
   (IndexedDB), the encrypted offline roster, and sending the queue exactly once.
   Exposes window.CheckinStore; used by scanner.js and scanner-pair.js; needs checkin-idb.js
   (loaded before it). */
(function () {
  "use strict";

  const DB_NAME = "checkin-scanner";
  const DB_VERSION = 2;
  const DEVICE_KEY = "checkin.device";
  const INSTANCE_KEY = "checkin.instance";
  const CLOCK_KEY = "checkin.clock";
  // What was sent is kept this long: a server restored from its replica may have lost the
  // last second before the old one died, and gets it again (exactly once by id).
  const KEEP_SENT_MS = 6 * 3600 * 1000;
  const ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWX";
  const CODE_LENGTH = 22;
  const BATCH = 100;            // scans per request when the queue is sent
  const ANSWER_WAIT_MS = 3000;  // how long a volunteer waits for the server before a local answer
  const SEND_WAIT_MS = 15000;   // a whole batch may take longer
  // A scan older than this when it is sent waited in the queue: the server places it by its
  // time; a younger one is live, placed after what the server holds of the person (api.md).
  const LIVE_MS = 10000;
  // A clock offset is measured only over a short round trip: its error is half of it.
  const CLOCK_TRIP_MS = 2000;
  // A scan whose fresh id meets another scan's id this often is kept aside (ids are random:
  // it means the device's random numbers are broken).
  const MAX_RENAMES = 3;

  // ---------------------------------------------------------------- small helpers
  function readJSON(key, fallback) {
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return fallback;
    }
  }

  function writeJSON(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* storage full or blocked: the page still works for this session */ }
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** The code in a scanned text, exactly like checkin.codes.normalise, or null. */
  function normalise(text) {
    if (typeof text !== "string" || text.length > 200) return null;
    const code = text.replace(/\s+/g, "").toUpperCase();
    if (code.length !== CODE_LENGTH) return null;
    for (const ch of code) if (!ALPHABET.includes(ch)) return null;
    return code;
  }

  // ---------------------------------------------------------------- device and session
  function device() { return readJSON(DEVICE_KEY, null); }
  function setDevice(value) { writeJSON(DEVICE_KEY, value); }
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : null;
  }

  // ---------------------------------------------------------------- the server's clock
  let clockOffset = (readJSON(CLOCK_KEY, null) || {}).offset || 0;

  /** Learn how far this device's clock is from the server's, from one answer's header. */
  function noteClock(header, sentAt, answeredAt) {
    const server = header ? Date.parse(header) : NaN;
    if (isNaN(server) || answeredAt - sentAt > CLOCK_TRIP_MS) return;
    // A removed device keeps nothing but its tombstone (the refusal that wiped it has a time).
    const dev = device();
    if (dev && dev.removed) return;
    clockOffset = server - (sentAt + answeredAt) / 2;
    writeJSON(CLOCK_KEY, {offset: clockOffset});
  }

  /** The time now by the server's clock (this device's clock corrected), for a scan's `at`. */
  function now() {
    return new Date(Date.now() + clockOffset).toISOString();
  }

  class NetworkError extends Error {}

  /** One JSON request to the device API; throws NetworkError when no answer comes. */
  async function api(method, path, body, timeoutMs) {
    const headers = {"Accept": "application/json"};
    const dev = device();
    if (dev && dev.token) headers["Authorization"] = "Bearer " + dev.token;
    const csrf = csrfToken();
    if (csrf && method !== "GET") headers["X-CSRFToken"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeoutMs || 8000);
    let response;
    const sentAt = Date.now();
    try {
      response = await fetch(path, {method, headers, signal: ctrl.signal, cache: "no-store",
        credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body)});
    } catch (e) {
      throw new NetworkError(String(e));
    } finally {
      clearTimeout(timer);
    }
    noteClock(response.headers.get("X-Checkin-Time"), sentAt, Date.now());
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    await noteInstance(response.headers.get("X-Checkin-Instance"));
    return {status: response.status, data};
  }

  // ---------------------------------------------------------------- IndexedDB
  const IDB = window.CheckinIDB;
  const req = IDB.req;
  /** Run fn(stores...) in one transaction; resolves with fn's value once it is committed. */
  const transact = IDB.open(DB_NAME, DB_VERSION, (db) => {
    const make = (name, options) => {
      if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, options);
    };
    // queue: scans and undos in the order they happened (n), sent oldest first.
    make("queue", {keyPath: "n", autoIncrement: true});
    // roster: {k, iv, d} exactly as the server sends it (encrypted per code).
    make("roster", {keyPath: "k"});
    // seen: this device's latest valid scan per person and checkpoint.
    make("seen", {keyPath: "key"});
    // dropped: items the server definitely refused (kept, never silently lost).
    make("dropped", {keyPath: "n"});
    make("meta", {keyPath: "key"});
    // sent: what the server accepted in the last hours, re-sent to a restored server.
    make("sent", {keyPath: "n"});
  }).transact;

  async function queued() {
    return transact(["queue"], "readonly", (q) => req(q.getAll()));
  }

  async function waitingCount() {
    const items = await queued();
    return items.filter((i) => i.kind === "scan").length;
  }

  async function droppedCount() {
    return transact(["dropped"], "readonly", (d) => req(d.count()));
  }

  async function droppedItems() {
    return transact(["dropped"], "readonly", (d) => req(d.getAll()));
  }

  /** Offer refused items as a JSON file: kept on the device is only half kept. */
  function saveRefused(prefix, items) {
    const paired = device();
    const data = {
      saved_at: new Date().toISOString(),
      // Who sent them, never the token.
      device: paired && paired.device ? {id: paired.device.id, name: paired.device.name} : null,
      items,
    };
    const stamp = data.saved_at.slice(0, 19).replace(/[:T]/g, "-");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)],
                                          {type: "application/json"}));
    a.download = `${prefix}-${stamp}.json`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  }

  async function metaGet(key) {
    const row = await transact(["meta"], "readonly", (m) => req(m.get(key)));
    return row ? row.value : undefined;
  }

  // ---------------------------------------------------------------- roster (offline answers)
  const encoder = new TextEncoder();
  async function sha256(text) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  }
  function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""); }
  function unbase64(text) { return Uint8Array.from(atob(text), (c) => c.charCodeAt(0)); }

  /** Fetch the roster and replace the stored one in a single transaction. */
  async function refreshRoster() {
    const res = await api("GET", "/api/v1/roster", undefined, 20000);
    if (res.status !== 200 || !res.data || !Array.isArray(res.data.entries)) return false;
    const names = res.data.names;
    const index = names && Array.isArray(names.entries) && names.salt && names.iterations > 0;
    await transact(["roster", "meta"], "readwrite", (roster, meta) => {
      roster.clear();
      for (const e of res.data.entries) roster.put({k: e.k, iv: e.iv, d: e.d});
      // The name index shares the store under its own prefix (its keys are other hashes).
      if (index) for (const e of names.entries) roster.put({k: NAME_PREFIX + e.k, iv: e.iv, d: e.d});
      meta.put({key: "roster_at", value: res.data.generated_at || new Date().toISOString()});
      meta.put({key: "roster_size", value: res.data.entries.length});
      if (index) meta.put({key: "names", value: {salt: names.salt, iterations: names.iterations}});
      else meta.delete("names");
    });
    return true;
  }

  const NAME_PREFIX = "n:";

  /** A last name as the offline search keys it, exactly like roster.normalise_last_name. */
  function normaliseName(text) {
    return String(text || "").normalize("NFKD").toLowerCase().replace(/ß/g, "ss")
      .replace(/[^\p{L}\p{N}]/gu, "");
  }

  function joined(prefix, bytes) {
    const head = encoder.encode(prefix);
    const out = new Uint8Array(head.length + bytes.length);
    out.set(head);
    out.set(bytes, head.length);
    return out;
  }

  /** The people whose full last name is `text`, from the encrypted name index (offline).
      Resolves with a list (empty: nobody by that exact name), or null without an index.
      Each try costs the slow hash: that is what keeps the index from being listed. */
  async function lookupName(text) {
    const index = await metaGet("names");
    if (!index) return null;
    const name = normaliseName(text);
    if (name.length < 2) return [];
    const base = await crypto.subtle.importKey("raw", encoder.encode(name), "PBKDF2", false,
                                               ["deriveBits"]);
    const secret = new Uint8Array(await crypto.subtle.deriveBits(
      {name: "PBKDF2", hash: "SHA-256", salt: unbase64(index.salt), iterations: index.iterations},
      base, 256));
    const k = NAME_PREFIX + hex(new Uint8Array(
      await crypto.subtle.digest("SHA-256", joined("checkin-name-id:", secret))));
    const entry = await transact(["roster"], "readonly", (r) => req(r.get(k)));
    if (!entry) return [];
    try {
      const raw = await crypto.subtle.digest("SHA-256", joined("checkin-name-key:", secret));
      const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
      const plain = await crypto.subtle.decrypt({name: "AES-GCM", iv: unbase64(entry.iv)}, key,
                                                unbase64(entry.d));
      return JSON.parse(new TextDecoder().decode(plain)).people || [];
    } catch (e) {
      return [];
    }
  }

  /** What the offline roster says about a scanned text: {status, participant}. */
  async function lookup(text) {
    const code = normalise(text);
    if (code === null) return {status: "invalid", participant: null};
    if (await metaGet("roster_at") === undefined) return {status: "noroster", participant: null};
    const k = hex(await sha256("checkin-id:" + code));
    const entry = await transact(["roster"], "readonly", (r) => req(r.get(k)));
    if (!entry) return {status: "unknown", participant: null};
    try {
      const raw = await sha256("checkin-key:" + code);
      const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
      const plain = await crypto.subtle.decrypt({name: "AES-GCM", iv: unbase64(entry.iv)}, key,
                                                unbase64(entry.d));
      const record = JSON.parse(new TextDecoder().decode(plain));
      return {status: record.status, participant: record.participant || null};
    } catch (e) {
      return {status: "unknown", participant: null};
    }
  }

  function seenKey(personId, checkpoint) { return personId + "|" + checkpoint; }

  /** Remember a valid scan of a person on this device (for offline "already in"). */
  async function remember(item, participant) {
    if (!participant || participant.id === undefined || participant.id === null) return;
    await transact(["seen"], "readwrite", (s) => {
      s.put({key: seenKey(participant.id, item.checkpoint), direction: item.direction,
             at: item.at, scan: item.id});
    });
  }

  async function forget(scanId) {
    await transact(["seen"], "readwrite", async (s) => {
      const rows = await req(s.getAll());
      for (const row of rows) if (row.scan === scanId) s.delete(row.key);
    });
  }

  /** The answer computed on the device when the server cannot be reached. */
  async function localAnswer(item, person) {
    let found;
    if (item.participant !== undefined) found = {status: "valid", participant: person || null};
    else found = await lookup(item.code);
    const result = {id: item.id, participant: found.participant, detail: {}, offline: true};
    if (found.status === "invalid") return {...result, status: "rejected", reason: "invalid"};
    if (found.status === "unknown") return {...result, status: "rejected", reason: "unknown_code"};
    if (found.status === "revoked") return {...result, status: "rejected", reason: "revoked_code"};
    if (found.status === "noroster") return {...result, status: "warning", reason: "unchecked"};
    const p = found.participant;
    if (p && item.direction === "in") {
      const seen = await transact(["seen"], "readonly",
                                  (s) => req(s.get(seenKey(p.id, item.checkpoint))));
      if (seen && seen.direction === "in" && seen.scan !== item.id) {
        return {...result, status: "warning", reason: "already_in", detail: {since: seen.at}};
      }
    }
    return {...result, status: "accepted", reason: null};
  }

  // ---------------------------------------------------------------- the queue
  const listeners = {result: [], change: [], headcount: [], error: [], instance: [],
                     renamed: []};
  function on(name, fn) { listeners[name].push(fn); }
  function emit(name, ...args) {
    for (const fn of listeners[name]) {
      try { fn(...args); } catch (e) { console.error(e); }
    }
  }

  const results = new Map();        // scan id -> the server's answer, for this page's life
  const renamed = new Map();        // scan id refused as id_conflict -> the fresh id it went as
  const state = {offlineSince: null, problem: null};

  async function enqueueScan(body) {
    await transact(["queue"], "readwrite",
                   (q) => q.add({kind: "scan", id: body.id, body, made: Date.now()}));
    emit("change");
  }

  async function enqueueUndo(scanId) {
    await transact(["queue"], "readwrite", (q) => q.add({kind: "undo", id: scanId}));
    emit("change");
  }

  async function removeItems(items) {
    // Out of the queue, but kept a few hours in case the server is restored from its replica.
    const now = Date.now();
    await transact(["queue", "sent"], "readwrite", async (q, sent) => {
      for (const i of items) {
        q.delete(i.n);
        sent.put({...i, sent_at: now});
      }
      for (const old of await req(sent.getAll())) {
        if (!(old.sent_at > now - KEEP_SENT_MS)) sent.delete(old.n);
      }
    });
  }

  /** Notice a new server instance (a restore): queue again what was sent lately, in order. */
  async function noteInstance(instance) {
    if (!instance) return;
    const dev = device();
    // A removed device keeps nothing but its tombstone (an answer may land after the wipe).
    if (dev && dev.removed) return;
    const deviceId = dev && dev.device ? dev.device.id : null;
    const known = readJSON(INSTANCE_KEY, null);
    writeJSON(INSTANCE_KEY, {instance, device: deviceId});
    if (!known || known.instance === instance) return;
    if (known.device !== deviceId) {
      // Paired anew (perhaps to another event): what went to the old one stays there.
      await transact(["sent"], "readwrite", (sent) => sent.clear());
      return;
    }
    const moved = await transact(["queue", "sent"], "readwrite", async (q, sent) => {
      const items = await req(sent.getAll());
      for (const i of items) {
        const {sent_at: _unused, ...item} = i;
        q.put(item);  // its old n: it goes out before anything scanned since
      }
      sent.clear();
      return items.length;
    });
    emit("instance", {instance, previous: known.instance, resent: moved});
    emit("change");
  }

  async function dropItems(items, answer) {
    // A definite refusal: out of the queue, but kept on the device for the organisers.
    await transact(["queue", "dropped"], "readwrite", (q, d) => {
      for (const i of items) {
        q.delete(i.n);
        d.put({...i, answer, dropped_at: new Date().toISOString()});
      }
    });
  }

  /** The scan as sent: marked queued when it waited (or its age is unknown: an old queue). */
  function wire(item) {
    const live = typeof item.made === "number" && Date.now() - item.made <= LIVE_MS;
    return live ? item.body : {...item.body, queued: true};
  }

  /** Send a scan refused as id_conflict again, in its place, under a fresh id. */
  async function renameItem(item, answer) {
    if ((item.renames || 0) >= MAX_RENAMES) {
      await dropItems([item], answer);
      emit("error", item.body, answer);
      return;
    }
    const id = uuid();
    await transact(["queue", "seen"], "readwrite", async (q, seen) => {
      q.put({...item, id, body: {...item.body, id}, renames: (item.renames || 0) + 1});
      // An undo made offline follows its scan to the new id (the old one is another's).
      for (const other of await req(q.getAll())) {
        if (other.kind === "undo" && other.id === item.id) q.put({...other, id});
      }
      for (const row of await req(seen.getAll())) {
        if (row.scan === item.id) seen.put({...row, scan: id});
      }
    });
    renamed.set(item.id, id);
    emit("renamed", item.id, id);
  }

  /** The id a scan was last sent under (a fresh one after id_conflict). */
  function currentId(scanId) {
    let id = scanId;
    while (renamed.has(id)) id = renamed.get(id);
    return id;
  }

  function goneOffline() {
    if (state.offlineSince === null) state.offlineSince = Date.now();
  }

  /** Send queued items oldest first; stops at the first answer that is not definite. */
  async function sendQueue(timeoutMs) {
    let single = false;
    for (;;) {
      const items = await queued();
      if (!items.length) {
        state.problem = null;
        return;
      }
      if (items[0].kind === "undo") {
        const undo = items[0];
        let res;
        try {
          res = await api("POST", `/api/v1/scans/${encodeURIComponent(undo.id)}/undo`, {},
                          timeoutMs);
        } catch (e) {
          goneOffline();
          return;
        }
        state.offlineSince = null;
        if (res.status === 200) await removeItems([undo]);
        else if (res.status === 400 || res.status === 404) await dropItems([undo], res.data);
        else {
          state.problem = {status: res.status, data: res.data};
          return;
        }
        emit("change");
        continue;
      }
      const batch = [];
      for (const i of items) {
        if (i.kind !== "scan" || batch.length >= (single ? 1 : BATCH)) break;
        batch.push(i);
      }
      let res;
      try {
        res = await api("POST", "/api/v1/scans", {scans: batch.map(wire)}, timeoutMs);
      } catch (e) {
        goneOffline();
        return;
      }
      state.offlineSince = null;
      if (res.status === 200 && res.data && Array.isArray(res.data.results)) {
        // Another scan (of another badge, or another device's) holds the id: nothing was
        // stored, so the scan goes again in its place under a fresh id.
        const conflicts = new Set(res.data.results.filter((r) => r.reason === "id_conflict")
                                                  .map((r) => r.id));
        await removeItems(batch.filter((i) => !conflicts.has(i.id)));
        for (const i of batch) if (conflicts.has(i.id)) await renameItem(i, res.data);
        state.problem = null;
        for (const r of res.data.results) {
          if (conflicts.has(r.id)) continue;
          results.set(r.id, r);
          const item = batch.find((i) => i.id === r.id);
          if (item && r.participant && r.status !== "rejected") {
            await remember(item.body, r.participant);
          }
          emit("result", r, item ? item.body : null);
        }
        if (res.data.headcount) emit("headcount", res.data.headcount);
      } else if ((res.status === 400 || res.status === 413) && batch.length > 1) {
        // One bad item must not take its batch-mates with it: send them one by one.
        single = true;
        continue;
      } else if (res.status === 400 || res.status === 404 || res.status === 413) {
        await dropItems(batch, res.data);
        for (const i of batch) emit("error", i.body, res.data);
      } else {
        state.problem = {status: res.status, data: res.data};
        emit("change");
        return;
      }
      emit("change");
    }
  }

  let chain = Promise.resolve();
  /** Send the queue (one sender at a time); resolves when this round is over. */
  function flush(timeoutMs) {
    chain = chain.then(() => sendQueue(timeoutMs || SEND_WAIT_MS))
      .catch((e) => console.error(e))
      .then(() => emit("change"));
    return chain;
  }

  function isOffline() {
    return !navigator.onLine || state.offlineSince !== null;
  }

  /** Store a scan durably, then try the server; answers {result, offline, id, conflict}:
      `id` is the id the scan went under, a fresh one when its first met another scan's
      (`conflict`). */
  async function scan(body, person) {
    await enqueueScan(body);
    if (!isOffline()) {
      // A send already under way may hold the line; never keep the volunteer waiting long.
      await Promise.race([flush(ANSWER_WAIT_MS),
                          new Promise((r) => setTimeout(r, ANSWER_WAIT_MS + 300))]);
      const id = currentId(body.id);
      if (results.has(id)) {
        return {result: results.get(id), offline: false, id, conflict: id !== body.id};
      }
    } else {
      flush();  // in the background: the volunteer gets the local answer at once
    }
    const id = currentId(body.id);
    const sent = {...body, id};
    const local = await localAnswer(sent, person);
    if (local.status !== "rejected" && local.participant) await remember(sent, local.participant);
    // problem: the server answered but refused (revoked device, wrong checkpoint, ...).
    return {result: local, offline: true, problem: state.problem, id, conflict: id !== body.id};
  }

  async function undo(scanId) {
    await forget(scanId);
    await enqueueUndo(scanId);
    if (!isOffline()) await flush(ANSWER_WAIT_MS);
  }

  window.CheckinStore = {
    api, NetworkError, device, setDevice, uuid, normalise, readJSON, writeJSON, now,
    scan, undo, flush, refreshRoster, lookup, lookupName, normaliseName, waitingCount, queued, on, state, isOffline,
    metaGet, droppedCount, droppedItems, saveRefused,
  };
})();
