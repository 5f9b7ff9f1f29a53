/* The guide's "Roll call — back on the bus": once the bus has left, a roll call of those who
   departed with it (the server's list; offline, this phone's confirmed roster), names tapped
   or badges scanned, the missing list first. Starts and accounts are kept and sent exactly
   once by rollcall-phone.js, like the rest of the guide's page works offline. guide.js tells
   it the excursion's state (update) and hands it badge scans while it runs (scan).
   Exposes window.CheckinGuideRollcall. */
(function () {
  "use strict";
  const Store = window.CheckinStore;
  const Rollcall = window.CheckinRollcall;
  const RC = Rollcall.open("checkin-rollcall-guide");
  const UI = window.CheckinUI;
  const S = JSON.parse(document.getElementById("strings").textContent);
  const config = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const lang = document.documentElement.lang || "en";
  const fill = Rollcall.fill;
  const clockFormat = UI.timeFormat(lang, {}, config.timezone);
  const clock = (iso) => (iso && !isNaN(new Date(iso)) ? clockFormat.format(new Date(iso)) : "");
  const POLL_MS = 5000;
  const RETRY_MS = 8000;

  const ui = {excursion: null, status: null, roster: [], started: false, view: null,
              last: 0, live: false};

  const url = () => "/api/v1/excursions/" + encodeURIComponent(ui.excursion) + "/rollcall";
  const online = () => !Store.isOffline() && UI.isOnline();
  const mine = (r) => r && (r.local || r.scope === "excursion:" + ui.excursion);

  const say = Rollcall.say;

  async function draw() {
    if (!ui.excursion) return;
    const view = await RC.view();
    ui.view = mine(view) ? view : null;
    const r = ui.view;
    const running = Boolean(r && !r.ended_at);
    $("bus-rollcall").hidden = ui.status === "boarding" || ui.status === null;
    $("bus-start").hidden = running;
    $("bus-end").hidden = !running;
    if (!r) {
      $("bus-summary").textContent = S.bus_none;
      $("bus-list").replaceChildren();
      return;
    }
    const c = r.counts;
    $("bus-summary").textContent = (r.ended_at ? fill(S.rc_ended, {time: clock(r.ended_at)})
      : fill(S.rc_started, {time: clock(r.started_at)})) + " " +
      fill(S.bus_counts, {accounted: c.accounted, expected: c.expected, missing: c.missing});
    $("bus-rollcall").dataset.state = c.missing ? "missing" : "complete";
    Rollcall.draw($("bus-list"), r, {S, lang, timezone: config.timezone, group: false, onTap: choose});
  }

  async function refresh() {
    if (!ui.excursion || !online()) return;
    await RC.flush();
    await RC.fetchCurrent(url());
    await draw();
  }

  // ------------------------------------------------------------------ start and end
  $("bus-start").addEventListener("click", async () => {
    // Offline the phone's own list stands in for the server's: who came on the bus.
    const came = ui.roster.filter((row) => row.assigned && row.status === "confirmed"
                                           && typeof row.id === "number");
    const people = came.map((row) => ({id: row.id, first_name: "", last_name: row.name,
                                       organisation: row.organisation || "", last_seen: null}));
    const dev = Store.device();
    await RC.startLocal(url(), null, people, dev && dev.device ? dev.device.name : null);
    say(S.rc_started_now, "accepted");
    await draw();
    refresh();
  });

  $("bus-end").addEventListener("click", async () => {
    await RC.flush();
    const r = await RC.current();
    if (!r || (await RC.waiting()) || !online()) {
      say(S.end_offline, "warning");
      return;
    }
    try {
      const res = await Store.api("POST", "/api/v1/rollcall/" + encodeURIComponent(r.id) + "/end",
                                  {}, 15000);
      if (res.status === 200 && res.data && res.data.rollcall) await RC.applyServer(res.data.rollcall);
      else say(fill(S.refused, {message: ((res.data || {}).error || {}).message || res.status}), "warning");
    } catch (e) {
      say(S.end_offline, "warning");
    }
    await draw();
  });

  // ------------------------------------------------------------------ accounting
  const choose = Rollcall.accountDialog(RC, S, () => null, () => null, async () => {
    await draw();
    refresh();
  });

  /** A badge scanned while the bus roll call runs accounts for its holder; true when taken. */
  async function scan(code) {
    const r = ui.view;
    if (!r || r.ended_at) return false;
    // The guide's own roster (kept encrypted on the phone) names the badge's holder.
    let found = await Store.lookup(code);
    if (found.status === "noroster" && online() && await Store.refreshRoster().catch(() => false)) {
      found = await Store.lookup(code);
    }
    const p = found.participant;
    const person = p && r.people.find((x) => x.id === p.id);
    if (!p) say(S[{invalid: "invalid", revoked: "revoked_code"}[found.status]] || S.unknown_code, "rejected");
    else if (!person) say(fill(S.bus_not_expected, {name: p.name}), "warning");
    else if (person.account) say(fill(S.already_accounted, {name: p.name}), "info");
    else {
      await RC.account(person.id, "scan", null, "");
      say(fill(S.accounted_name, {name: p.name}), "accepted");
      await draw();
      refresh();
    }
    return true;
  }

  // ------------------------------------------------------------------ guide.js's side
  /** The excursion's state as guide.js shows it (with this phone's unsent changes). */
  function update(state, excursion) {
    ui.excursion = excursion;
    ui.status = state.excursion.status;
    ui.roster = state.roster;
    if (!ui.started) {
      ui.started = true;
      RC.onChange(() => draw());
      RC.expire(config.timezone).then(refresh);
      setInterval(async () => { if (await RC.waiting()) refresh(); }, RETRY_MS);
      setInterval(() => {
        if (ui.status !== "boarding" && Date.now() - ui.last >= (ui.live ? 4 * POLL_MS : POLL_MS)) {
          ui.last = Date.now();
          refresh();
        }
      }, 1000);
      window.addEventListener("online", () => refresh());
    }
    draw();
  }

  /** Follow the roll call's live push on guide.js's /live socket (polling stays the fallback). */
  function follow(socket) {
    socket.on("rollcall", async (r) => {
      if (!mine(r)) return;
      await RC.applyPush(r, url());
      await draw();
    });
    socket.on("connect", () => { ui.live = true; });
    socket.on("disconnect", () => { ui.live = false; });
  }

  window.CheckinGuideRollcall = {update, follow, scan, waiting: () => RC.waiting()};
})();
