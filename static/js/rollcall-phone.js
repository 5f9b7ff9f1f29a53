/* A roll call on a phone (the marshal's page and the guide's "back on the bus"): the roll
   call as the server last sent it, a start made offline, and accounts queued with their own
   ids and sent until answered (exactly once on the server, docs/api.md), in IndexedDB
   (checkin-idb.js). The marshal's snapshot of who is present lives here too: the one place
   names rest on a phone in the clear (docs/security.md). Also draws the missing-first list.
   Needs scanner-store.js (the device token, the server's clock, ids) and checkin-ui.js.
   Exposes window.CheckinRollcall. */
(function () {
  "use strict";
  const Store = window.CheckinStore;
  const IDB = window.CheckinIDB;
  const req = IDB.req;
  const BATCH = 100;           // accounts per request
  const SETTLE_MS = 30000;     // a sent scan the roll call does not show is forgotten after this
  const DEFINITE = [400, 403, 404, 409, 413, 422];

  function fullName(p) {
    return [p.title, p.first_name, p.last_name].filter(Boolean).join(" ");
  }

  /** A sentence with its {name}s filled in (unknown names stay as they are). */
  function fill(t, v) {
    return t.replace(/\{(\w+)\}/g, (m, k) => (v[k] === undefined ? m : String(v[k])));
  }

  /** One page's roll call store in its own database (the marshal's page and the guide's
      each have one, so an organiser's browser can hold both). */
  function open(dbName) {
    const tx = IDB.open(dbName, 1, (db) => {
      const make = (name, options) => {
        if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, options);
      };
      make("meta", {keyPath: "key"});                     // snapshot, current roll call, aliases
      make("starts", {keyPath: "id"});                    // a start made here, to send
      make("accounts", {keyPath: "n", autoIncrement: true});  // accounts to send, in order
      make("scans", {keyPath: "id"});                     // badge scans shown until the server has them
      make("dropped", {keyPath: "n", autoIncrement: true});   // refused by the server, kept
    }).transact;

    const getAll = (name) => tx([name], "readonly", (s) => req(s.getAll()));
    async function metaGet(key) {
      const row = await tx(["meta"], "readonly", (m) => req(m.get(key)));
      return row ? row.value : undefined;
    }
    const metaPut = (key, value) => tx(["meta"], "readwrite", (m) => m.put({key, value}));

    const listeners = [];
    function onChange(fn) { listeners.push(fn); }
    function changed() {
      for (const fn of listeners) {
        try { fn(); } catch (e) { console.error(e); }
      }
    }

    // ------------------------------------------------------------------ the day
    let dayFormat = null;
    /** The event's calendar day of a moment (the page's zone), to keep nothing past its day. */
    function dayOf(iso, timezone) {
      if (!dayFormat) {
        dayFormat = window.CheckinUI.timeFormat("en", {hour: undefined, minute: undefined,
          hourCycle: undefined, year: "numeric", month: "2-digit", day: "2-digit"}, timezone);
      }
      const d = new Date(iso);
      return isNaN(d) ? "" : dayFormat.format(d);
    }

    // ------------------------------------------------------------------ the snapshot
    /** Fetch who is present now and keep it (only the marshal's page asks). True on success. */
    async function refreshSnapshot(timezone) {
      let res;
      try {
        res = await Store.api("GET", "/api/v1/rollcall/snapshot", undefined, 20000);
      } catch (e) {
        return false;
      }
      if (res.status !== 200 || !res.data || !Array.isArray(res.data.people)) return false;
      const taken = res.data.taken_at || Store.now();
      await metaPut("snapshot", {taken_at: taken, day: dayOf(taken, timezone),
                                 people: res.data.people});
      return true;
    }

    const snapshot = () => metaGet("snapshot");

    /** Forget a snapshot and a roll call from an earlier day than today (the event's zone). */
    async function expire(timezone) {
      const today = dayOf(Store.now(), timezone);
      const snap = await snapshot();
      const current = await metaGet("current");
      const old = (x, at) => x && dayOf(at, timezone) !== today;
      if (old(snap, snap && snap.taken_at)) await tx(["meta"], "readwrite", (m) => m.delete("snapshot"));
      // Unsent accounts stay until the server has them, whatever the day.
      if (old(current, current && current.started_at) && !(await waiting())) {
        await wipe();
      }
    }

    // ------------------------------------------------------------------ the roll call
    /** The roll call this phone follows: the server's, or one started here and not yet sent. */
    const current = () => metaGet("current");

    /** The server's id for a roll call this phone started (it may have adopted a running one). */
    async function serverId(id) {
      const aliases = (await metaGet("aliases")) || {};
      return aliases[id] || id;
    }

    /** Take the server's roll call as the current one, unless a start made here is unsent. */
    async function applyServer(rollcall) {
      const mine = await current();
      if (mine && mine.local && (await getAll("starts")).length) {
        // A start made here goes first; the server's answer to it replaces this one.
        if (!rollcall || rollcall.id !== mine.id) return false;
      }
      if (rollcall === null && mine && mine.local) return false;
      await metaPut("current", rollcall);
      changed();
      return true;
    }

    /** Start a roll call here (works offline): id, start time and expected list are this
        phone's; `url` is where the start goes (the venue's or an excursion's). */
    async function startLocal(url, point, people, by) {
      const id = Store.uuid();
      const started = Store.now();
      const rollcall = {
        id, scope: url.includes("/excursions/") ? "excursion" : "venue", point: point || null,
        started_at: started, started_by: by || null, ended_at: null, local: true,
        people: people.map((p) => ({id: p.id, title: p.title || "", first_name: p.first_name || "",
                                    last_name: p.last_name || "", organisation: p.organisation || "",
                                    last_seen: p.last_seen || null, account: null})),
      };
      const body = {id, started_at: started};
      if (point) body.point = point;
      if (!url.includes("/excursions/")) {
        body.expected = people.map((p) => ({participant_id: p.id,
                                            last_checkpoint: (p.last_seen || {}).checkpoint || null,
                                            last_seen_at: (p.last_seen || {}).at || null}));
      }
      await tx(["starts", "meta"], "readwrite", (s, m) => {
        s.put({id, url, body, made: Date.now()});
        m.put({key: "current", value: rollcall});
      });
      changed();
      return rollcall;
    }

    /** Queue an account for a person in the current roll call; returns it. */
    async function account(personId, how, point, reason) {
      const rollcall = await current();
      if (!rollcall) return null;
      const body = {id: Store.uuid(), participant_id: personId, how, at: Store.now()};
      if (point) body.point = point;
      if (reason) body.reason = reason;
      await tx(["accounts"], "readwrite", (s) => s.add({rollcall: rollcall.id, body}));
      changed();
      return body;
    }

    /** Show a badge scan as accounting for the person until the server's roll call has it. */
    async function noteScan(scanId, personId, point, at) {
      const rollcall = await current();
      if (!rollcall) return;
      await tx(["scans"], "readwrite", (s) => s.put({id: scanId, rollcall: rollcall.id,
        participant_id: personId, point, at, made: Date.now()}));
      changed();
    }

    /** How many starts and accounts wait to be sent. */
    async function waiting() {
      return (await getAll("starts")).length + (await getAll("accounts")).length;
    }

    const droppedCount = () => tx(["dropped"], "readonly", (d) => req(d.count()));
    const droppedItems = () => getAll("dropped");

    async function drop(store, key, item, answer) {
      await tx([store, "dropped"], "readwrite", (s, d) => {
        s.delete(key);
        d.add({...item, answer, dropped_at: Store.now()});
      });
    }

    /** Send the starts, then the accounts oldest first; stops at the first answer that is not
        definite. Resolves with the last problem ({status, data}) or null. */
    async function sendAll() {
      for (const start of await getAll("starts")) {
        let res;
        try {
          res = await Store.api("POST", start.url, start.body, 15000);
        } catch (e) {
          return {status: 0};
        }
        const rollcall = res.data && res.data.rollcall;
        if ((res.status === 200 || res.status === 201) && rollcall) {
          const aliases = (await metaGet("aliases")) || {};
          // Another phone or an organiser started first: this phone's accounts go to theirs.
          if (rollcall.id !== start.id) aliases[start.id] = rollcall.id;
          await tx(["starts", "meta"], "readwrite", (s, m) => {
            s.delete(start.id);
            m.put({key: "aliases", value: aliases});
            m.put({key: "current", value: rollcall});
          });
          changed();
        } else if (DEFINITE.includes(res.status)) {
          await drop("starts", start.id, start, res.data);
          const mine = await current();
          if (mine && mine.id === start.id) await tx(["meta"], "readwrite", (m) => m.delete("current"));
          changed();
          return {status: res.status, data: res.data};
        } else {
          return {status: res.status, data: res.data};
        }
      }
      let single = false;
      for (;;) {
        const items = await getAll("accounts");
        if (!items.length) return null;
        const target = items[0].rollcall;
        if ((await getAll("starts")).some((s) => s.id === target)) return null;
        const batch = [];
        for (const i of items) {
          if (i.rollcall !== target || batch.length >= (single ? 1 : BATCH)) break;
          batch.push(i);
        }
        const id = await serverId(target);
        let res;
        try {
          res = await Store.api("POST", "/api/v1/rollcall/" + encodeURIComponent(id) + "/accounts",
                                {accounts: batch.map((i) => i.body)}, 15000);
        } catch (e) {
          return {status: 0};
        }
        if (res.status === 200 && res.data && Array.isArray(res.data.results)) {
          await tx(["accounts"], "readwrite", (s) => { for (const i of batch) s.delete(i.n); });
          if (res.data.rollcall) await applyServer(res.data.rollcall);
          changed();
        } else if (DEFINITE.includes(res.status) && batch.length > 1) {
          single = true;  // one bad account must not take its batch-mates with it
        } else if (DEFINITE.includes(res.status)) {
          await drop("accounts", batch[0].n, batch[0], res.data);
          changed();
        } else {
          return {status: res.status, data: res.data};
        }
      }
    }

    let chain = Promise.resolve(null);
    /** Send what waits (one sender at a time); resolves with the problem, if any. */
    function flush() {
      chain = chain.then(sendAll).catch((e) => { console.error(e); return null; });
      return chain;
    }

    /** Fetch the roll call from `url` ({"rollcall": R | null}); true when the server answered. */
    async function fetchCurrent(url) {
      let res;
      try {
        res = await Store.api("GET", url, undefined, 8000);
      } catch (e) {
        return false;
      }
      if (res.status !== 200 || !res.data || !("rollcall" in res.data)) return false;
      await applyServer(res.data.rollcall);
      return true;
    }

    /** The stored roll call with a push's changes laid in: its numbers, the changed people. */
    function merged(held, push) {
      const byId = new Map(push.changed.map((p) => [p.id, p]));
      const people = held.people.map((p) => byId.get(p.id) || p);
      const known = new Set(held.people.map((p) => p.id));
      for (const p of push.changed) if (!known.has(p.id)) people.push(p);
      const {changed, full, ...head} = push;
      return {...head, people};
    }

    /** Take one /live push of the roll call (docs/live.md): a full one as the server's roll
        call; one of changes laid into the stored roll call when it follows on from it (its
        seq is the stored one's + 1, or the stored one came from a read and has none). A gap,
        a roll call not held, or numbers the list does not add up to: `url` is read again. */
    async function takePush(push, url) {
      const held = await current();
      const same = held && push && held.id === push.id && typeof held.seq === "number";
      if (!push || push.full || !Array.isArray(push.changed)) {
        // A full roll call older than the one held (a newcomer's, read before the last
        // push came; or the server started afresh): read it again rather than go back.
        if (same && push.seq < held.seq) await fetchCurrent(url);
        else await applyServer(push);
        return;
      }
      const follows = held && !held.local && held.id === push.id && Array.isArray(held.people) &&
        (typeof held.seq !== "number" || push.seq === held.seq + 1);
      const next = follows ? merged(held, push) : null;
      if (!next || next.people.filter((p) => p.account).length !== push.counts.accounted) {
        await fetchCurrent(url);
        return;
      }
      await applyServer(next);
    }

    let pushes = Promise.resolve();
    /** Take /live pushes one at a time, in the order they came (see takePush). */
    function applyPush(push, url) {
      pushes = pushes.then(() => takePush(push, url)).catch((e) => console.error(e));
      return pushes;
    }

    /** Forget the roll call's names once it has ended and nothing waits: the snapshot, the
        roll call, what was shown of scans. True when it wiped. */
    async function wipeIfDone() {
      const rollcall = await current();
      if (!rollcall || !rollcall.ended_at || await waiting()) return false;
      await wipe();
      return true;
    }

    async function wipe() {
      await tx(["meta", "starts", "accounts", "scans", "dropped"], "readwrite", (...stores) => {
        for (const s of stores) s.clear();
      });
      changed();
    }

    // ------------------------------------------------------------------ the view
    /** The roll call with this phone's unsent accounts and unconfirmed scans laid over it. */
    async function view() {
      const rollcall = await current();
      if (!rollcall) return null;
      const ids = new Set([rollcall.id]);
      const aliases = (await metaGet("aliases")) || {};
      for (const [local, server] of Object.entries(aliases)) if (server === rollcall.id) ids.add(local);
      const people = (rollcall.people || []).map((p) => ({...p}));
      const byId = new Map(people.map((p) => [p.id, p]));
      const lay = (personId, how, point, reason, at) => {
        const p = byId.get(personId);
        if (p && !p.account) p.account = {how, point: point || null, reason: reason || "", at, pending: true};
      };
      for (const a of await getAll("accounts")) {
        if (ids.has(a.rollcall)) lay(a.body.participant_id, a.body.how, a.body.point, a.body.reason, a.body.at);
      }
      const settled = [];
      const queuedScans = new Set((await Store.queued()).map((i) => i.id));
      for (const s of await getAll("scans")) {
        const p = byId.get(s.participant_id);
        const stale = !queuedScans.has(s.id) && Date.now() - s.made > SETTLE_MS;
        if (!ids.has(s.rollcall) || (p && p.account && !p.account.pending) || stale) settled.push(s.id);
        else lay(s.participant_id, "scan", s.point, "", s.at);
      }
      if (settled.length) await tx(["scans"], "readwrite", (s) => { for (const id of settled) s.delete(id); });
      const accounted = people.filter((p) => p.account).length;
      // A display's copy has no people: its counts are the server's.
      const counts = rollcall.people ? {expected: people.length, accounted,
                                        missing: people.length - accounted} : rollcall.counts;
      return {...rollcall, people, counts};
    }

    return {
      refreshSnapshot, snapshot, expire, current, applyServer, applyPush, startLocal, account, noteScan,
      waiting, flush, fetchCurrent, wipeIfDone, wipe, view, onChange, droppedCount, droppedItems,
    };
  }

  // ------------------------------------------------------------------ drawing the list
  /**
   * Draw the roll call into `list` (an element): missing first, grouped by last-seen room
   * with counts (unless options.group is false), then the accounted. options: S (strings),
   * lang, timezone, filter (text), onTap(person).
   */
  function draw(list, rollcall, options) {
    const S = options.S;
    const lang = options.lang;
    const clock = window.CheckinUI.timeFormat(lang, {}, options.timezone);
    const time = (iso) => (iso && !isNaN(new Date(iso)) ? clock.format(new Date(iso)) : "");
    const needle = (options.filter || "").trim().toLocaleLowerCase(lang);
    const shown = rollcall.people.filter((p) => !needle ||
      (fullName(p) + " " + (p.organisation || "")).toLocaleLowerCase(lang).includes(needle));
    const byName = (a, b) => (a.last_name || "").localeCompare(b.last_name || "", lang) ||
      (a.first_name || "").localeCompare(b.first_name || "", lang);
    const place = (cp, fallback) => window.CheckinUI.checkpointName(cp, fallback || cp || "");

    function item(p) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "rc-person";
      b.dataset.id = String(p.id);
      const a = p.account;
      b.dataset.state = a ? "accounted" : "missing";
      if (a && a.pending) b.dataset.pending = "true";
      const mark = document.createElement("span");
      mark.className = "rc-mark";
      mark.setAttribute("aria-hidden", "true");
      mark.appendChild(window.CheckinUI.icon(a ? (a.how === "left" ? "home" : "ok") : "question"));
      const text = document.createElement("span");
      text.className = "rc-text";
      const name = document.createElement("span");
      name.className = "rc-name";
      name.textContent = fullName(p);
      text.appendChild(name);
      if (p.organisation) {
        const org = document.createElement("span");
        org.className = "rc-sub";
        org.textContent = p.organisation;
        text.appendChild(org);
      }
      const seen = p.last_seen;
      if (seen && (seen.checkpoint || seen.at)) {
        const line = document.createElement("span");
        line.className = "rc-sub rc-seen";
        line.textContent = fill(S.rc_last_seen, {place: place(seen.checkpoint, seen.name),
                                                time: time(seen.at)});
        text.appendChild(line);
      }
      const state = document.createElement("span");
      state.className = "rc-state";
      if (!a) state.textContent = S.rc_missing;
      else {
        // A tap on the bus has no assembly point: "Accounted for", without a place.
        const placed = a.point ? {scan: S.rc_how_scan, tap: S.rc_how_tap} : {};
        const words = {...placed, elsewhere: S.rc_how_elsewhere, left: S.rc_how_left}[a.how] ||
          S.rc_accounted + " · {time}";
        const parts = [fill(words, {place: a.point ? place("assembly:" + a.point, a.point) : "",
                                    time: time(a.at)}).replace(/\s+·\s*$/, "")];
        if (a.reason) parts.push(a.reason);
        if (a.by && options.showBy) parts.push(fill(S.rc_by, {by: a.by}));
        if (a.pending) parts.push(S.rc_waiting);
        state.textContent = parts.join(" · ");
      }
      text.appendChild(state);
      b.append(mark, text);
      b.addEventListener("click", () => options.onTap(p));
      li.appendChild(b);
      return li;
    }

    function group(title, people, cls) {
      const section = document.createElement("li");
      section.className = "rc-group " + cls;
      const h = document.createElement("h3");
      h.className = "rc-group-title";
      h.textContent = title;
      const ul = document.createElement("ul");
      ul.className = "rc-people";
      for (const p of people.sort(byName)) ul.appendChild(item(p));
      section.append(h, ul);
      return section;
    }

    const missing = shown.filter((p) => !p.account);
    const accounted = shown.filter((p) => p.account);
    const parts = [];
    if (options.group === false) {
      if (missing.length) parts.push(group(fill(S.rc_missing_n, {n: missing.length}), missing, "rc-missing"));
    } else {
      const rooms = new Map();
      for (const p of missing) {
        const cp = (p.last_seen && p.last_seen.checkpoint) || "";
        if (!rooms.has(cp)) rooms.set(cp, []);
        rooms.get(cp).push(p);
      }
      const order = Array.from(rooms.entries()).sort((x, y) => y[1].length - x[1].length ||
        place(x[0], "").localeCompare(place(y[0], ""), lang));
      for (const [cp, people] of order) {
        const first = people[0].last_seen || {};
        const title = cp ? place(cp, first.name) : S.rc_unknown_room;
        parts.push(group(fill(S.rc_missing_in, {place: title, n: people.length}), people, "rc-missing"));
      }
    }
    if (accounted.length) parts.push(group(fill(S.rc_accounted_n, {n: accounted.length}), accounted, "rc-accounted"));
    list.replaceChildren(...parts);
    return {missing: missing.length, accounted: accounted.length};
  }

  const SAY_ICONS = {accepted: "ok", warning: "warn", rejected: "bad"};
  /** Say the answer in the page's #message box: words and an icon, never colour alone. */
  function say(text, status) {
    document.getElementById("message").dataset.status = status || "info";
    const icon = SAY_ICONS[status];
    document.getElementById("message-text").replaceChildren(
      ...(icon ? [window.CheckinUI.icon(icon), " "] : []), text);
  }

  /** The account dialog both phone pages have (#account-dialog): `choose(person)` opens it
      for someone still missing; its buttons account them, "tap", or "elsewhere" and "left"
      with a reason. `store` is the page's roll call store, `point()` where this phone is
      (null on the bus); `before()` runs as the dialog closes, and `done(what before gave)`
      once the account is kept. */
  function accountDialog(store, S, point, before, done) {
    const $ = (id) => document.getElementById(id);
    const dialog = $("account-dialog");
    let chosen = null;
    function choose(person) {
      if (person.account) {
        say(fill(S.already_accounted, {name: fullName(person)}), "info");
        return;
      }
      chosen = person;
      $("account-name").textContent = fullName(person);
      $("account-reason").value = "";
      $("account-reason-error").hidden = true;
      dialog.showModal();
    }
    async function record(how) {
      const person = chosen;
      if (!person) return;
      const reason = $("account-reason").value.trim();
      if (how !== "tap" && !reason) {
        $("account-reason-error").hidden = false;
        $("account-reason").focus();
        return;
      }
      dialog.close();
      chosen = null;
      const noted = before();
      await store.account(person.id, how, point(), how === "tap" ? "" : reason);
      say(fill(S.accounted_name, {name: fullName(person)}), "accepted");
      await done(noted);
    }
    $("account-here").addEventListener("click", () => record("tap"));
    $("account-elsewhere").addEventListener("click", () => record("elsewhere"));
    $("account-left").addEventListener("click", () => record("left"));
    $("account-cancel").addEventListener("click", () => { chosen = null; dialog.close(); });
    return choose;
  }

  window.CheckinRollcall = {open, draw, fullName, say, fill, accountDialog};
})();
