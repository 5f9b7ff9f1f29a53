/* The marshal's page: a phone at an assembly point when the alarm rings. It keeps a fresh
   snapshot of who is present (every minute while online), so a roll call starts and runs
   without the server too; accounts by badge (camera, hand scanner), name search or tap,
   "seen elsewhere" and "left earlier" with a reason. Badge scans go through the scanner's
   durable queue (scanner-store.js) to POST /api/v1/scans at `assembly:<point>`; starts and
   accounts through rollcall-phone.js, exactly once. Missing first, grouped by last-seen room. */
(function () {
  "use strict";
  const Store = window.CheckinStore;
  const Rollcall = window.CheckinRollcall;
  const RC = Rollcall.open("checkin-rollcall");
  const UI = window.CheckinUI;
  const S = JSON.parse(document.getElementById("strings").textContent);
  const config = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const lang = document.documentElement.lang || "en";
  const tz = config.timezone;
  const URL_VENUE = "/api/v1/rollcall";
  const POINT_KEY = "checkin.marshal.point";

  const RETRY_MS = 8000;        // resend what waits this often
  const POLL_MS = 4000;         // fetch the roll call this often without the live push ...
  const POLL_LIVE_MS = 20000;   // ... and this often with it (a push may be lost)
  const SNAPSHOT_MS = 60000;    // who is present, while online

  const ui = {point: null, fixed: false, points: [], live: false, filter: "",
              codes: null, codesOf: null, view: null};

  const fill = Rollcall.fill;
  const clockFormat = UI.timeFormat(lang, {}, tz);
  const clock = (iso) => (iso && !isNaN(new Date(iso)) ? clockFormat.format(new Date(iso)) : "");
  const online = () => !Store.isOffline() && UI.isOnline();

  function show(id) {
    for (const s of ["loading", "unpaired", "marshal"]) $(s).hidden = s !== id;
    $("dock").hidden = id !== "marshal";
  }

  const say = Rollcall.say;

  // ------------------------------------------------------------------ assembly point
  function pointName(id) {
    const p = ui.points.find((x) => x.id === "assembly:" + id);
    return UI.checkpointName("assembly:" + id, p ? p.name : id);
  }

  async function loadPoints() {
    const dev = Store.device();
    const fixed = dev && dev.device && (dev.device.checkpoint || "").startsWith("assembly:");
    try {
      const res = await Store.api("GET", "/api/v1/checkpoints", undefined, 8000);
      if (res.status === 200 && res.data) {
        const list = Array.isArray(res.data) ? res.data : res.data.checkpoints || [];
        ui.points = list.filter((c) => c.kind === "assembly" || String(c.id).startsWith("assembly:"));
        Store.writeJSON("checkin.marshal.points", ui.points);
      }
    } catch (e) {
      ui.points = Store.readJSON("checkin.marshal.points", []);
    }
    if (!ui.points.length) ui.points = Store.readJSON("checkin.marshal.points", []);
    ui.fixed = Boolean(fixed);
    ui.point = fixed ? dev.device.checkpoint.slice("assembly:".length) : Store.readJSON(POINT_KEY, null);
    if (!ui.point && ui.points.length === 1) ui.point = ui.points[0].id.slice("assembly:".length);
    const select = $("point");
    select.replaceChildren();
    const none = document.createElement("option");
    none.value = "";
    none.textContent = S.choose_point;
    select.appendChild(none);
    for (const p of ui.points) {
      const o = document.createElement("option");
      o.value = p.id.slice("assembly:".length);
      o.textContent = UI.checkpointName(p.id, p.name);
      select.appendChild(o);
    }
    select.value = ui.point || "";
    // A phone paired to one point shows it as a fact, not as a choice.
    $("point-choice").hidden = ui.fixed;
    $("point-fixed").hidden = !ui.fixed;
    $("point-name").textContent = ui.point ? pointName(ui.point) : "";
  }

  $("point").addEventListener("change", () => {
    ui.point = $("point").value || null;
    Store.writeJSON(POINT_KEY, ui.point);
  });

  // ------------------------------------------------------------------ badge codes, offline
  async function sha256hex(text) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** The snapshot's person holding this badge code, or null. */
  async function personOfCode(code) {
    const snap = await RC.snapshot();
    if (!snap) return null;
    if (ui.codesOf !== snap.taken_at) {
      ui.codes = new Map();
      for (const p of snap.people) for (const h of p.codes || []) ui.codes.set(h, p);
      ui.codesOf = snap.taken_at;
    }
    if (!(window.crypto && crypto.subtle)) return null;
    return ui.codes.get(await sha256hex(code)) || null;
  }

  // ------------------------------------------------------------------ the view
  async function render() {
    const rollcall = await RC.view();
    ui.view = rollcall;
    const snap = await RC.snapshot();
    const running = Boolean(rollcall && !rollcall.ended_at);
    $("idle").hidden = running || Boolean(rollcall);
    $("running").hidden = !rollcall;
    $("start").hidden = running || !config.may_start;
    $("start-hint").hidden = running || config.may_start;
    $("last-ended").hidden = !ui.endedAt || running;
    $("last-ended").textContent = ui.endedAt ? fill(S.rc_ended, {time: clock(ui.endedAt)}) : "";
    $("snapshot-line").textContent = snap
      ? fill(S.snapshot_line, {n: snap.people.length, time: clock(snap.taken_at)}) : S.snapshot_none;
    $("end").hidden = !running || !config.may_start;
    if (!rollcall) {
      $("rc-list").replaceChildren();
      return;
    }
    const c = rollcall.counts || {expected: 0, accounted: 0, missing: 0};
    $("n-missing").textContent = String(c.missing);
    $("n-accounted").textContent = String(c.accounted);
    $("n-expected").textContent = String(c.expected);
    $("rc-started").textContent = rollcall.ended_at
      ? fill(S.rc_ended, {time: clock(rollcall.ended_at)})
      : fill(S.rc_started, {time: clock(rollcall.started_at)}) +
        (rollcall.local ? " · " + S.rc_started_here : "");
    $("running").dataset.state = rollcall.ended_at ? "ended" : c.missing ? "missing" : "complete";
    $("all-accounted").hidden = c.missing !== 0 || !c.expected;
    Rollcall.draw($("rc-list"), rollcall, {S, lang, timezone: tz, filter: ui.filter, onTap: choose});
  }

  async function status() {
    const off = !online();
    $("net").dataset.state = off ? "offline" : "online";
    $("net-text").textContent = off ? S.offline : S.online;
    $("net-icon").replaceChildren(UI.icon(off ? "offline" : "online"));
    const problem = Store.state.problem;
    if (problem && problem.status === 401 && Store.device()) UI.showRemoved();
    const n = (await Store.waitingCount()) + (await RC.waiting());
    $("waiting").hidden = n === 0;
    $("waiting").textContent = n ? fill(S.waiting, {n}) : "";
    const refused = (await Store.droppedCount()) + (await RC.droppedCount());
    $("dropped").hidden = refused === 0;
    $("dropped-text").textContent = refused ? fill(S.dropped, {n: refused}) : "";
  }

  // ------------------------------------------------------------------ sending and fetching
  async function refresh() {
    if (!online()) return;
    const problem = await RC.flush();
    if (problem && problem.status >= 400 && problem.status !== 401) {
      const err = (problem.data && problem.data.error) || {};
      say(fill(S.refused, {message: err.message || problem.status}), "warning");
    }
    await Store.flush();
    await RC.fetchCurrent(URL_VENUE);
    await settle();
    await render();
    await status();
  }

  /** An ended roll call with nothing left to send: its names leave the phone, its end stays. */
  async function settle() {
    const rollcall = await RC.current();
    if (rollcall && rollcall.ended_at && await RC.wipeIfDone()) {
      ui.endedAt = rollcall.ended_at;
      // Ready for the next alarm: a fresh list of who is present replaces the old one.
      if (online()) await RC.refreshSnapshot(tz);
      await render();
    }
  }

  async function refreshSnapshot() {
    if (!online()) return;
    const rollcall = await RC.current();
    // While a roll call runs, its list is what counts; the snapshot is for the next start.
    if (rollcall && !rollcall.ended_at) return;
    if (await RC.refreshSnapshot(tz)) await render();
  }

  // ------------------------------------------------------------------ starting and ending
  const startDialog = $("start-dialog");
  $("start").addEventListener("click", async () => {
    const snap = await RC.snapshot();
    $("start-summary").textContent = snap
      ? fill(S.start_summary, {n: snap.people.length, time: clock(snap.taken_at)})
      : S.snapshot_none;
    $("start-yes").disabled = !snap && !online();
    startDialog.showModal();
  });
  $("start-cancel").addEventListener("click", () => startDialog.close());
  $("start-yes").addEventListener("click", async () => {
    startDialog.close();
    if (online()) await RC.refreshSnapshot(tz);
    const snap = await RC.snapshot();
    const dev = Store.device();
    await RC.startLocal(URL_VENUE, ui.point, snap ? snap.people : [],
                        dev && dev.device ? dev.device.name : null);
    say(S.rc_started_now, "accepted");
    await render();
    await status();
    await refresh();
  });

  const endDialog = $("end-dialog");
  $("end").addEventListener("click", () => endDialog.showModal());
  $("end-cancel").addEventListener("click", () => endDialog.close());
  $("end-yes").addEventListener("click", async () => {
    endDialog.close();
    const rollcall = await RC.current();
    if (!rollcall) return;
    await RC.flush();
    if (await RC.waiting() || !online()) {
      say(S.end_offline, "warning");
      return;
    }
    const id = (await RC.current()).id;
    try {
      const res = await Store.api("POST", URL_VENUE + "/" + encodeURIComponent(id) + "/end", {}, 15000);
      if (res.status === 200 && res.data && res.data.rollcall) await RC.applyServer(res.data.rollcall);
      else say(fill(S.refused, {message: ((res.data || {}).error || {}).message || res.status}), "warning");
    } catch (e) {
      say(S.end_offline, "warning");
    }
    await render();
  });

  // ------------------------------------------------------------------ accounting
  // The search that found the person is cleared once they are accounted for, unless the
  // marshal has typed (or a hand scanner has sent) something else meanwhile.
  const choose = Rollcall.accountDialog(RC, S, () => ui.point, () => $("code-input").value,
                                        async (typed) => {
    if ($("code-input").value === typed) clearSearch();
    await render();
    await status();
    refresh();
  });

  async function scanCode(text) {
    const typed = $("code-input").value;  // cleared at the end only if nothing came since
    const code = Store.normalise(text);
    if (!code) {
      say(S.invalid, "rejected");
      return;
    }
    if (!ui.point) {
      say(S.choose_point_first, "warning");
      return;
    }
    // A start made here goes before the scans that account in it.
    if (await RC.waiting() && online()) await RC.flush();
    const body = {id: Store.uuid(), code, checkpoint: "assembly:" + ui.point, direction: "in",
                  at: Store.now()};
    const [answer, person] = await Promise.all([Store.scan(body), personOfCode(code)]);
    const rollcall = ui.view;
    const running = rollcall && !rollcall.ended_at;
    const expected = person && running && rollcall.people.find((p) => p.id === person.id);
    const name = person ? Rollcall.fullName(person) : "";
    const r = answer.result;
    if (!answer.offline) {
      const p = r.participant;
      const who = p ? (p.name || Rollcall.fullName(p)) : name;
      if (r.status === "rejected") say(S[r.reason] || S.unknown_code, "rejected");
      else if (r.status === "accepted") {
        if (p && running) await RC.noteScan(answer.id, p.id, ui.point, body.at);
        say(fill(S.scan_accounted, {name: who}), "accepted");
      } else {
        say(fill(S["scan_" + r.reason] || S.scan_not_expected, {name: who}), "warning");
      }
      await RC.fetchCurrent(URL_VENUE);
    } else if (!person) {
      say(r.reason === "invalid" ? S.invalid : S.unknown_offline, "rejected");
    } else if (!running) {
      say(fill(S.scan_no_rollcall, {name}), "warning");
    } else if (!expected) {
      say(fill(S.scan_not_expected, {name}), "warning");
    } else {
      await RC.noteScan(answer.id, person.id, ui.point, body.at);
      say(fill(S.scan_accounted_offline, {name}), "accepted");
    }
    if ($("code-input").value === typed) clearSearch();
    await render();
    await status();
  }

  // ------------------------------------------------------------------ scanning and search
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
    const panel = $("camera-panel");
    const open = panel.hidden;
    panel.hidden = !open;
    $("scan-toggle").setAttribute("aria-expanded", String(open));
    $("scan-toggle").textContent = open ? S.camera_stop : S.camera_on;
    if (open) await camera.start(); else camera.stop();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) camera.stop();
    else if (!$("camera-panel").hidden) camera.start();
  });

  function clearSearch() {
    $("code-input").value = "";
    if (ui.filter) {
      ui.filter = "";
      render();
    }
  }
  $("code-input").addEventListener("input", () => {
    const text = $("code-input").value;
    // A hand scanner types a code: that is not a name to look for.
    ui.filter = Store.normalise(text) ? "" : text;
    render();
  });
  $("manual").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("code-input").value;
    if (!text.trim()) return;
    if (Store.normalise(text)) {
      scanCode(text);
      return;
    }
    const hits = ui.view ? Array.from($("rc-list").querySelectorAll(".rc-person[data-state='missing']")) : [];
    if (hits.length === 1) hits[0].click();
    else say(hits.length ? fill(S.search_many, {n: hits.length}) : S.search_none, "info");
  });

  $("dropped-save").addEventListener("click", async () => {
    Store.saveRefused("checkin-refused-marshal",
                      [...await Store.droppedItems(), ...await RC.droppedItems()]);
  });

  // ------------------------------------------------------------------ live
  function connectLive() {
    if (!window.io) return;
    const dev = Store.device();
    const options = {transports: ["websocket", "polling"], tryAllTransports: true,
                     reconnectionDelayMax: 10000};
    if (dev && dev.token) options.auth = {token: dev.token};
    const socket = UI.liveSocket("/live", options, () => (dev && dev.token) || null);
    socket.on("connect", () => { ui.live = true; refresh(); });
    socket.on("disconnect", () => { ui.live = false; });
    socket.on("rollcall", async (rollcall) => {
      UI.fresh();
      if (rollcall && rollcall.scope && rollcall.scope !== "venue") return;
      await RC.applyPush(rollcall, URL_VENUE);
      await settle();
      await render();
    });
  }

  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      $("main").style.paddingBottom = ($("dock").offsetHeight + 16) + "px";
    }).observe($("dock"));
  }

  // ------------------------------------------------------------------ start
  async function start() {
    const dev = Store.device();
    const device = dev && dev.device;
    if (!(device && device.role === "marshal") && !config.organiser) {
      $("unpaired-reason").textContent = device ? S.not_marshal : S.not_paired;
      show("unpaired");
      return;
    }
    const conn = JSON.parse(document.getElementById("conn-strings").textContent);
    UI.banner(conn, lang, tz);
    UI.onChange(() => status());
    UI.watch({token: () => (Store.device() || {}).token});
    await UI.loadNames((Store.device() || {}).token);
    await RC.expire(tz);
    await loadPoints();
    show("marshal");
    RC.onChange(() => render());
    await render();
    await refresh();
    await refreshSnapshot();
    await status();
    connectLive();
    if ("serviceWorker" in navigator && config.sw) {
      navigator.serviceWorker.register(config.sw, {scope: config.scope}).catch(() => {});
    }
    setInterval(async () => {
      if ((await RC.waiting()) || (await Store.waitingCount())) await refresh();
      else await status();
    }, RETRY_MS);
    let last = 0;
    setInterval(() => {
      if (Date.now() - last >= (ui.live ? POLL_LIVE_MS : POLL_MS)) {
        last = Date.now();
        refresh();
      }
    }, 1000);
    setInterval(refreshSnapshot, SNAPSHOT_MS);
    setInterval(() => RC.expire(tz).then(render), SNAPSHOT_MS);
    window.addEventListener("online", () => refresh());
    window.addEventListener("offline", () => status());
    Store.on("change", () => status());
  }

  start();
})();
