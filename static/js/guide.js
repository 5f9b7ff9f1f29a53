/* The guide's page: an excursion's roster on a phone, confirmed by tap or badge scan, with
   walk-ons, "Depart" and "Returned". Works offline: the last roster is kept on the phone
   (IndexedDB, via checkin-idb.js), confirmations go through the scanner's durable queue
   (scanner-store.js), excursion events through this page's own queue, sent after the scans,
   exactly once. */
(function () {
  "use strict";
  const Store = window.CheckinStore;
  const BusRollcall = window.CheckinGuideRollcall;
  const S = JSON.parse(document.getElementById("strings").textContent);
  const config = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const lang = document.documentElement.lang || "en";

  const RETRY_MS = 8000;       // resend what waits this often
  const REFRESH_MS = 30000;    // fetch the state this often when no live connection
  const SETTLE_MS = 30000;     // a sent change the server does not show is dropped after this
  const ROSTER_MS = 5 * 60000;

  const ui = {excursion: null, server: null, local: [], lastTap: null, pendingAdd: null,
              socket: null, live: false};

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (m, k) => (values[k] === undefined ? m : String(values[k])));
  }

  const clockFormat = window.CheckinUI.timeFormat(lang, {}, config.timezone);

  function clock(iso) {
    const d = new Date(iso);
    if (!iso || isNaN(d)) return "";
    return clockFormat.format(d);
  }

  function show(id) {
    for (const s of ["loading", "unpaired", "choose", "guide"]) $(s).hidden = s !== id;
    $("dock").hidden = id !== "guide";
  }

  // ------------------------------------------------------------------ this page's storage
  const IDB = window.CheckinIDB;
  const req = IDB.req;
  const tx = IDB.open("checkin-guide", 2, (db) => {
    const make = (name, options) => {
      if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, options);
    };
    make("state", {keyPath: "excursion"});     // last server state
    make("events", {keyPath: "n", autoIncrement: true});  // to send
    make("local", {keyPath: "id"});            // changes not yet seen
    make("dropped", {keyPath: "n"});           // refused, kept
    make("sent", {keyPath: "n"});              // accepted lately: re-sent to a restored server
  }).transact;
  const KEEP_SENT_MS = 6 * 3600 * 1000;

  const getAll = (name) => tx([name], "readonly", (s) => req(s.getAll()));

  async function loadLocal() {
    ui.local = (await getAll("local")).filter((r) => r.excursion === ui.excursion);
  }

  async function putLocal(record) {
    record.excursion = ui.excursion;
    record.created = Date.now();
    await tx(["local"], "readwrite", (s) => s.put(record));
    ui.local = ui.local.filter((r) => r.id !== record.id).concat([record]);
  }

  async function deleteLocal(ids) {
    if (!ids.length) return;
    await tx(["local"], "readwrite", (s) => { for (const id of ids) s.delete(id); });
    ui.local = ui.local.filter((r) => !ids.includes(r.id));
  }

  // ------------------------------------------------------------------ what is still waiting
  async function pendingIds() {
    const ids = new Set();
    for (const item of await Store.queued()) ids.add(item.kind === "undo" ? "undo:" + item.id : item.id);
    for (const item of await getAll("events")) ids.add(item.body.id);
    return ids;
  }

  /** Drop local records that the server state shows, or that were sent long enough ago. */
  async function settle() {
    const state = ui.server;
    if (!state) return;
    const pending = await pendingIds();
    const byId = new Map(state.roster.map((r) => [r.id, r]));
    const done = [];
    for (const r of ui.local) {
      const row = r.participant ? byId.get(r.participant) : null;
      const shown =
        (r.kind === "confirm" && row && (row.status === "confirmed" || row.status === "not_on_list")) ||
        (r.kind === "unconfirm" && row && row.status === "missing") ||
        (r.kind === "walk_on" && row && row.assigned) ||
        (r.kind === "depart" && state.excursion.status !== "boarding") ||
        (r.kind === "return" && state.excursion.status === "returned");
      const old = Date.now() - r.created > SETTLE_MS;
      if (!pending.has(r.id) && (shown || old)) done.push(r.id);
    }
    await deleteLocal(done);
  }

  // ------------------------------------------------------------------ the view
  /** The server's state with this phone's unsent changes laid over it. */
  function merged() {
    const base = ui.server;
    const ex = {...base.excursion};
    // Someone scanned here but not on the list is "confirmed" on this phone only as "seen
    // here": the counts below never count them as confirmed (they need "Add").
    const rows = base.roster.map((r) => (r.status === "not_on_list"
      ? {...r, status: "confirmed", assigned: false} : {...r}));
    const byId = new Map(rows.map((r) => [r.id, r]));
    const ordered = ui.local.slice().sort((a, b) => a.created - b.created);
    for (const r of ordered) {
      let row = r.participant ? byId.get(r.participant) : rows.find((x) => x.code === r.code);
      if (r.kind === "confirm" || r.kind === "walk_on") {
        if (!row) {
          if (r.kind === "confirm" && !r.keep) continue;  // an unknown badge is not shown
          row = {id: r.participant || "code:" + r.code, code: r.code,
                 name: r.name || fill(S.unknown_badge, {code: (r.code || "").slice(-4)}),
                 organisation: r.organisation || "", city: r.city || "", status: "missing",
                 walk_on: false, assigned: false, confirmed_at: null};
          rows.push(row);
          byId.set(row.id, row);
        }
        row.pending = true;
        if (r.kind === "confirm") {
          row.status = "confirmed";
          row.confirmed_at = row.confirmed_at || r.at;
        } else {
          row.assigned = true;
          row.walk_on = true;
          row.status = "confirmed";
        }
      } else if (r.kind === "unconfirm" && row) {
        row.status = "missing";
        row.pending = true;
      } else if (r.kind === "depart" && ex.status === "boarding") {
        ex.status = "departed";
        ex.departed_at = r.at;
        ex.pending = true;
      } else if (r.kind === "return") {
        ex.status = "returned";
        ex.returned_at = r.at;
        ex.pending = true;
      }
    }
    const visible = rows.filter((r) => r.assigned || r.status === "confirmed");
    visible.sort((a, b) => (a.name.split(" ").slice(-1)[0] || "").localeCompare(
      b.name.split(" ").slice(-1)[0] || "", lang) || a.name.localeCompare(b.name, lang));
    const counts = base.forgotten ? {...base.counts} : {
      expected: visible.filter((r) => r.assigned).length,
      confirmed: visible.filter((r) => r.assigned && r.status === "confirmed").length,
      missing: visible.filter((r) => r.assigned && r.status === "missing").length,
      not_on_list: visible.filter((r) => !r.assigned && r.status === "confirmed").length,
      walk_ons: visible.filter((r) => r.walk_on).length,
    };
    return {excursion: ex, roster: visible, counts};
  }

  function render() {
    if (!ui.server) return;
    const state = merged();
    ui.view = state;
    const ex = state.excursion;
    const title = window.CheckinUI.excursionText(ex.id, "title", ex.title);
    $("title").textContent = title;
    document.title = title + " · checkin";
    $("place").textContent = window.CheckinUI.excursionText(ex.id, "departure_place",
                                                            ex.departure_place || "");
    $("departs").textContent = clock(ex.departs_at);
    $("returns").textContent = clock(ex.returns_at);
    $("capacity").textContent = ex.capacity === null || ex.capacity === undefined ? "–" : ex.capacity;
    const status = $("status");
    status.dataset.status = ex.status;
    status.querySelector(".status-icon").replaceChildren(window.CheckinUI.icon(
      {boarding: "wait", departed: "bus", returned: "home"}[ex.status] || "dot"));
    // A group that left can no longer be changed here: no "Undo" for a confirmation.
    if (ex.status !== "boarding") $("undo").hidden = true;
    $("status-text").textContent =
      ex.status === "boarding" ? S.status_boarding
        : ex.status === "departed" ? fill(S.status_departed, {time: clock(ex.departed_at)})
          : fill(S.status_returned, {time: clock(ex.returned_at)});
    const c = state.counts;
    const parts = [fill(S.counts, c), fill(S.missing_count, {n: c.missing})];
    if (c.walk_ons) parts.push(fill(S.walk_ons_count, {n: c.walk_ons}));
    if (c.not_on_list) parts.push(fill(S.not_on_list_count, {n: c.not_on_list}));
    $("counts").textContent = parts.join(" · ");
    // More people than seats, as the server judges it (checkin/core/places.py): in words.
    const seats = ui.server.seats;
    const over = Boolean(seats && seats.state === "over" && ex.status !== "returned");
    $("seats-warning").hidden = !over;
    $("seats-text").textContent = over ? fill(S.over_seats, seats) : "";
    $("depart").hidden = ex.status !== "boarding";
    $("return").hidden = ex.status !== "departed";

    const list = $("roster");
    list.textContent = "";
    for (const r of state.roster) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "person";
      button.dataset.id = r.id;
      button.dataset.status = r.assigned ? r.status : "not_on_list";
      if (r.pending) button.dataset.pending = "true";
      const icon = document.createElement("span");
      icon.className = "person-icon";
      icon.setAttribute("aria-hidden", "true");
      icon.append(window.CheckinUI.icon(r.assigned && r.status === "confirmed" ? "ok" : "question"));
      const text = document.createElement("span");
      text.className = "person-text";
      const name = document.createElement("span");
      name.className = "person-name";
      name.textContent = r.name;
      const sub = document.createElement("span");
      sub.className = "person-sub";
      sub.textContent = [r.organisation, r.city].filter(Boolean).join(" · ");
      text.append(name, sub);
      const tag = document.createElement("span");
      tag.className = "person-status";
      const words = [!r.assigned ? S.not_assigned : r.status === "confirmed" ? S.confirmed
        : S.missing];
      if (r.status === "confirmed" && r.confirmed_at) words[0] += " " + clock(r.confirmed_at);
      if (r.walk_on) words.push(S.walk_on);
      if (r.pending) words.push(S.queued || "…");
      tag.textContent = words.join(" · ");
      button.append(icon, text, tag);
      button.addEventListener("click", () => tap(r));
      li.appendChild(button);
      list.appendChild(li);
    }
    if (BusRollcall) BusRollcall.update(state, ui.excursion);
  }

  const SAY_ICONS = {accepted: "ok", warning: "warn", rejected: "bad"};
  function say(text, status) {
    $("message").dataset.status = status || "info";
    const icon = SAY_ICONS[status];
    $("message-text").replaceChildren(...(icon ? [window.CheckinUI.icon(icon), " "] : []), text);
  }

  function setActions(add, undo) {
    const boarding = !ui.view || ui.view.excursion.status === "boarding";
    $("add-walk-on").hidden = !add;
    $("undo").hidden = !undo || !boarding;
  }

  // ------------------------------------------------------------------ the server's state
  async function applyServer(state) {
    if (!state || !state.excursion || state.excursion.id !== ui.excursion) return;
    if (state.excursion.status === "returned") {
      // Back from the trip: the phone keeps the numbers, never the names (issue 8).
      state = {excursion: state.excursion, counts: state.counts, roster: [], forgotten: true};
      Store.refreshRoster().catch(() => {});
    }
    ui.server = state;
    await tx(["state"], "readwrite", (s) => s.put({excursion: ui.excursion, state,
                                                   at: new Date().toISOString()}));
    $("as-of").hidden = true;
    await settle();
    render();
  }

  async function fetchState() {
    let res;
    try {
      res = await Store.api("GET", "/api/v1/excursions/" + encodeURIComponent(ui.excursion),
                            undefined, 8000);
    } catch (e) {
      return false;
    }
    if (res.status === 200) {
      await applyServer(res.data);
      return true;
    }
    if (res.status === 401 && Store.device()) window.CheckinUI.showRemoved();
    else if (res.status === 401) unpaired(S.revoked_device);
    else if (res.status === 403 || res.status === 404) unpaired(S.not_guide);
    return false;
  }

  async function loadCached() {
    const row = await tx(["state"], "readonly", (s) => req(s.get(ui.excursion)));
    if (!row) return false;
    ui.server = row.state;
    $("as-of").textContent = fill(S.as_of, {time: clock(row.at)});
    $("as-of").hidden = false;
    render();
    return true;
  }

  // ------------------------------------------------------------------ sending
  let sending = Promise.resolve();
  /** Send the scans first (Store), then this page's events in order; then refresh. */
  function flush() {
    sending = sending.then(async () => {
      await Store.flush();
      if ((await Store.queued()).length) return;
      for (const item of await getAll("events")) {
        let res;
        try {
          res = await Store.api("POST", "/api/v1/excursions/" + encodeURIComponent(item.excursion) +
                                "/events", item.body, 15000);
        } catch (e) {
          return;
        }
        if (res.status === 200) {
          const now = Date.now();
          await tx(["events", "sent"], "readwrite", async (s, sent) => {
            s.delete(item.n);
            sent.put({...item, sent_at: now});
            for (const old of await req(sent.getAll())) {
              if (!(old.sent_at > now - KEEP_SENT_MS)) sent.delete(old.n);
            }
          });
          if (res.data && res.data.state) await applyServer(res.data.state);
        } else if ([400, 403, 404, 409].includes(res.status)) {
          // A definite refusal (e.g. departed already): out of the queue, kept on the phone.
          await tx(["events", "dropped"], "readwrite", (s, d) => {
            s.delete(item.n);
            d.put({...item, answer: res.data, dropped_at: new Date().toISOString()});
          });
          await deleteLocal([item.body.id]);
          const err = (res.data && res.data.error) || {};
          say(fill(S.refused, {message: err.message || res.status}), "warning");
        } else {
          return;
        }
      }
    }).catch((e) => console.error(e)).then(async () => {
      if (!Store.isOffline()) await fetchState();
      await status();
    });
    return sending;
  }

  // A restored server (new instance id): the scans are queued again by the Store; this
  // page's departures, returns and walk-ons go again too, in order and exactly once by id.
  // A scan sent again under a fresh id (its first was another scan's): follow it.
  Store.on("renamed", async (oldId, newId) => {
    const record = ui.local.find((r) => r.id === oldId);
    if (record) {
      await deleteLocal([oldId]);
      await putLocal({...record, id: newId});
    }
    if (ui.lastTap && ui.lastTap.scan === oldId) ui.lastTap.scan = newId;
  });

  Store.on("instance", async () => {
    await tx(["events", "sent"], "readwrite", async (s, sent) => {
      for (const item of await req(sent.getAll())) {
        const {sent_at: _unused, ...again} = item;
        s.put(again);
      }
      sent.clear();
    });
    flush();
  });

  async function queueEvent(action, extra, record) {
    const body = {id: Store.uuid(), action, at: Store.now(), ...extra};
    await tx(["events"], "readwrite", (s) => s.add({excursion: ui.excursion, body}));
    await putLocal({id: body.id, kind: action, at: body.at, ...record});
    render();
    flush();
    return body;
  }

  async function status() {
    const offline = Store.isOffline() || !window.CheckinUI.isOnline();
    $("net").dataset.state = offline ? "offline" : "online";
    $("net-text").textContent = offline ? S.offline : S.online;
    $("net-icon").replaceChildren(window.CheckinUI.icon(offline ? "offline" : "online"));
    const problem = Store.state.problem;
    if (problem && problem.status === 401 && Store.device()) window.CheckinUI.showRemoved();
    const n = (await Store.queued()).length + (await getAll("events")).length +
      (BusRollcall ? await BusRollcall.waiting() : 0);
    const waiting = $("waiting");
    waiting.hidden = n === 0;
    waiting.textContent = n ? fill(S.waiting, {n}) : "";
    const refused = (await Store.droppedCount()) + (await getAll("dropped")).length;
    $("dropped").hidden = refused === 0;
    $("dropped-text").textContent = refused ? fill(S.dropped, {n: refused}) : "";
  }

  // ------------------------------------------------------------------ confirming
  function checkpoint() { return "excursion:" + ui.excursion; }

  async function tap(row) {
    setActions(false, false);
    if (!row.assigned && typeof row.id === "number") {
      // Seen here but on another list (or none): counted nowhere until the guide adds them.
      ui.pendingAdd = {code: row.code || null, participant: row.id, name: row.name,
                       organisation: row.organisation, city: row.city};
      say(row.name + ": " + S.not_assigned, "warning");
      setActions(true, false);
      return;
    }
    if (row.status === "confirmed") {
      say(fill(S.already_confirmed, {name: row.name}), "info");
      return;
    }
    if (typeof row.id !== "number") return;
    const body = {id: Store.uuid(), participant: row.id, checkpoint: checkpoint(),
                  direction: "in", at: Store.now()};
    await putLocal({id: body.id, kind: "confirm", participant: row.id, at: body.at});
    render();
    say(fill(S.scanned_confirmed, {name: row.name}), "accepted");
    ui.lastTap = {scan: body.id, participant: row.id, name: row.name};
    setActions(false, true);
    const person = {id: row.id, name: row.name, organisation: row.organisation, city: row.city};
    await Store.scan(body, person);
    await status();
    if (!Store.isOffline()) flush();
  }

  async function scanCode(text) {
    const code = Store.normalise(text);
    setActions(false, false);
    if (!code) {
      say(S.invalid, "rejected");
      return;
    }
    // Back on the bus: while its roll call runs, a badge accounts for its holder there.
    if (BusRollcall && await BusRollcall.scan(code)) return;
    const body = {id: Store.uuid(), code, checkpoint: checkpoint(), direction: "in",
                  at: Store.now()};
    await putLocal({id: body.id, kind: "confirm", code, participant: null, at: body.at});
    const answer = await Store.scan(body);
    // The id the scan went under: a fresh one when its first was another scan's.
    const id = answer.id || body.id;
    const r = answer.result;
    const p = r.participant;
    if (p) {
      await putLocal({id, kind: "confirm", code, participant: p.id, name: p.name,
                      organisation: p.organisation, city: p.city, at: body.at,
                      keep: r.reason === "not_assigned"});
    }
    if (r.status === "rejected") {
      await deleteLocal([id]);
      if (answer.offline && r.reason === "unknown_code") {
        // A guide's phone holds only its own group: a valid badge of someone else is
        // "unknown" offline. Offer to add them; the server decides when the line is back.
        ui.pendingAdd = {code, participant: null, name: null};
        say(S.unknown_offline, "warning");
        setActions(true, false);
      } else {
        say(S[r.reason] || S.unknown_code, "rejected");
      }
    } else if (r.reason === "not_assigned" && p) {
      ui.pendingAdd = {code, participant: p.id, name: p.name, organisation: p.organisation,
                       city: p.city};
      say(p.excursion ? fill(S.other_excursion, {name: p.name, title: window.CheckinUI.excursionText(
        p.excursion, "title", p.excursion_title || p.excursion)})
        : fill(S.no_excursion, {name: p.name}), "warning");
      setActions(true, false);
    } else if (r.reason === "already_in" && p) {
      say(fill(S.already_confirmed, {name: p.name}), "info");
    } else if (p) {
      say(fill(S.scanned_confirmed, {name: p.name}), "accepted");
      ui.lastTap = {scan: id, participant: p.id, name: p.name};
      setActions(false, true);
    }
    if (answer.conflict) $("message-text").append(" · " + S.id_conflict_resent);
    render();
    await status();
    if (!answer.offline) flush();
  }

  $("add-walk-on").addEventListener("click", async () => {
    const who = ui.pendingAdd;
    if (!who) return;
    ui.pendingAdd = null;
    setActions(false, false);
    // By the badge code: the server lets a guide add someone only by the badge it saw.
    const extra = who.code ? {code: who.code} : {participant: who.participant};
    await queueEvent("walk_on", extra, {participant: who.participant, code: who.code,
                                        name: who.name, organisation: who.organisation,
                                        city: who.city});
    say(fill(S.added, {name: who.name || fill(S.unknown_badge, {code: who.code.slice(-4)})}),
        "accepted");
  });

  $("dropped-save").addEventListener("click", async () => {
    // Refused scans (the scanner's queue) and refused taps, departures and walk-ons.
    Store.saveRefused("checkin-refused-" + (ui.excursion || "guide"),
                      [...await Store.droppedItems(), ...await getAll("dropped")]);
  });

  $("undo").addEventListener("click", async () => {
    const last = ui.lastTap;
    if (!last) return;
    ui.lastTap = null;
    setActions(false, false);
    await deleteLocal([last.scan]);
    await putLocal({id: "undo:" + last.scan, kind: "unconfirm", participant: last.participant,
                    at: new Date().toISOString()});
    render();
    await Store.undo(last.scan);
    say(S.undo + ": " + last.name, "info");
    flush();
  });

  // ------------------------------------------------------------------ depart / return
  const departDialog = $("depart-dialog");
  $("depart").addEventListener("click", () => {
    const missing = ui.view.roster.filter((r) => r.assigned && r.status === "missing");
    $("depart-summary").textContent = missing.length
      ? fill(S.depart_missing, {n: missing.length}) : S.depart_none_missing;
    const list = $("depart-missing");
    list.textContent = "";
    for (const r of missing) {
      const li = document.createElement("li");
      li.textContent = r.name;
      list.appendChild(li);
    }
    departDialog.showModal();
  });
  $("depart-cancel").addEventListener("click", () => departDialog.close());
  $("depart-yes").addEventListener("click", async () => {
    departDialog.close();
    setActions(false, false);
    await queueEvent("depart", {}, {});
  });
  const returnDialog = $("return-dialog");
  $("return").addEventListener("click", () => returnDialog.showModal());
  $("return-cancel").addEventListener("click", () => returnDialog.close());
  $("return-yes").addEventListener("click", async () => {
    returnDialog.close();
    await queueEvent("return", {}, {});
  });

  // ------------------------------------------------------------------ scanning a badge
  const camera = window.CheckinCamera.create({
    video: $("video"), canvas: $("frame"), onCode: scanCode,
    onState: (state) => {
      const msg = $("camera-msg");
      msg.hidden = state === "on";
      msg.textContent = state === "insecure" ? S.camera_insecure
        : state === "unavailable" ? S.camera_unavailable : "";
    },
  });
  $("scan-toggle").addEventListener("click", async () => {
    const panel = $("scan-panel");
    const open = panel.hidden;
    panel.hidden = !open;
    $("scan-toggle").setAttribute("aria-expanded", String(open));
    $("scan-toggle").textContent = open ? S.camera_stop : S.camera_on;
    if (open) await camera.start(); else camera.stop();
  });
  $("manual").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("code-input");
    const text = input.value;
    input.value = "";
    if (text.trim()) scanCode(text);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) camera.stop();
    else if (!$("scan-panel").hidden) camera.start();
  });

  // ------------------------------------------------------------------ live updates
  function connectLive() {
    if (!window.io) return;
    const dev = Store.device();
    // WebSocket first (no sticky sessions needed with several server processes), long-polling
    // only if WebSocket fails: see docs/deployment.md.
    const options = {transports: ["websocket", "polling"], tryAllTransports: true,
                     reconnectionDelayMax: 10000};
    if (dev && dev.token) options.auth = {token: dev.token};
    const socket = window.CheckinUI.liveSocket("/live", options, () => (dev && dev.token) || null);
    ui.socket = socket;
    if (BusRollcall) BusRollcall.follow(socket);
    socket.on("connect", () => {
      ui.live = true;
      if (config.organiser && !(dev && dev.token)) {
        socket.emit("join", {room: "excursion:" + ui.excursion});
      }
      flush();
    });
    socket.on("disconnect", () => { ui.live = false; });
    socket.on("excursion", (state) => { window.CheckinUI.fresh(); applyServer(state); });
  }

  // The dock at the bottom grows with the camera and messages: keep the list's end above it.
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      document.getElementById("main").style.paddingBottom = ($("dock").offsetHeight + 16) + "px";
    }).observe($("dock"));
  }

  // ------------------------------------------------------------------ start
  function unpaired(reason) {
    $("unpaired-reason").textContent = reason || "";
    show("unpaired");
  }

  async function start() {
    const dev = Store.device();
    const params = new URLSearchParams(location.search);
    const device = dev && dev.device;
    if (device && device.role === "guide" && (device.checkpoint || "").startsWith("excursion:")) {
      ui.excursion = device.checkpoint.slice("excursion:".length);
    } else if (config.organiser && params.get("excursion")) {
      ui.excursion = params.get("excursion");
    } else if (config.organiser) {
      show("choose");
      return;
    } else {
      unpaired(device ? S.not_guide : S.not_paired);
      return;
    }
    // The true connection state (and a live revocation) within seconds.
    const conn = JSON.parse(document.getElementById("conn-strings").textContent);
    window.CheckinUI.banner(conn, lang, config.timezone);
    window.CheckinUI.onChange(() => status());
    window.CheckinUI.watch({token: () => (Store.device() || {}).token});
    await window.CheckinUI.loadNames((Store.device() || {}).token);
    await loadLocal();
    // Wait for a state: the server's, else the one kept on this phone, else keep trying.
    while (!(await fetchState()) && !(await loadCached())) {
      if (!$("unpaired").hidden) return;
      $("loading").firstElementChild.textContent = S.offline;
      await new Promise((r) => setTimeout(r, 5000));
    }
    if (!$("unpaired").hidden) return;
    show("guide");
    render();
    await status();
    if (dev && dev.token) Store.refreshRoster().catch(() => {});
    connectLive();
    if ("serviceWorker" in navigator && config.sw) {
      navigator.serviceWorker.register(config.sw, {scope: config.scope}).catch(() => {});
    }
    setInterval(async () => {
      const waiting = (await pendingIds()).size;
      if (waiting) flush(); else await status();
    }, RETRY_MS);
    setInterval(() => { if (!ui.live && !Store.isOffline()) fetchState(); }, REFRESH_MS);
    setInterval(() => { if (dev && dev.token) Store.refreshRoster().catch(() => {}); }, ROSTER_MS);
    window.addEventListener("online", () => flush());
    window.addEventListener("offline", () => status());
    Store.on("change", () => status());
  }

  start();
})();
