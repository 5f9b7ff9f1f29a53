/* The scanner page: choose checkpoint and direction, then scan with the camera, a hand
   scanner or a name search; answers at once, offline too (see scanner-store.js). */
(function () {
  "use strict";
  const Store = window.CheckinStore;
  const S = JSON.parse(document.getElementById("strings").textContent);
  const config = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const lang = document.documentElement.lang || "en";

  const RECENT = 10;
  const RETRY_MS = 10000;        // resend the queue this often while scans are waiting
  const ROSTER_MS = 5 * 60000;   // refresh the offline roster this often
  const COUNT_MS = 20000;        // refresh the headcount this often

  const ui = {
    me: null, checkpoints: [], choice: Store.readJSON("checkin.choice", null),
    recent: Store.readJSON("checkin.recent", []), lastScanId: null, counts: null,
    sound: Store.readJSON("checkin.sound", true),
  };

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (m, k) => (values[k] === undefined ? m : String(values[k])));
  }

  // Times in the event's zone (config.timezone), not the tablet's.
  const clockFormat = window.CheckinUI.timeFormat(lang, {}, config.timezone);

  function clock(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return "";
    return clockFormat.format(d);
  }

  function show(id) {
    for (const s of ["loading", "unpaired", "setup", "scanner"]) $(s).hidden = s !== id;
    const scanning = id === "scanner";
    $("where").hidden = !scanning;
    $("change").hidden = !scanning;
    $("count").hidden = !scanning || !$("count").textContent;
    if (scanning) startCamera(); else stopCamera();
  }

  // ------------------------------------------------------------------ start-up
  async function loadMe() {
    try {
      const res = await Store.api("GET", "/api/v1/me", undefined, 5000);
      if (res.status === 200 && res.data) {
        Store.writeJSON("checkin.me", res.data);
        return {me: res.data};
      }
      if (res.status === 401 || res.status === 403) return {denied: true};
    } catch (e) { /* offline: use what we knew */ }
    const cached = Store.readJSON("checkin.me", null);
    return cached ? {me: cached, offline: true} : {offline: true};
  }

  async function loadCheckpoints() {
    try {
      const res = await Store.api("GET", "/api/v1/checkpoints", undefined, 5000);
      if (res.status === 200 && res.data && Array.isArray(res.data.checkpoints)) {
        Store.writeJSON("checkin.checkpoints", res.data.checkpoints);
        return res.data.checkpoints;
      }
    } catch (e) { /* offline */ }
    return Store.readJSON("checkin.checkpoints", []);
  }

  async function start() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(config.sw, {scope: config.scope}).catch((e) => {
        console.warn("service worker not registered", e);
      });
    }
    const loaded = await loadMe();
    // A device that holds a token and is refused was removed: never a scan screen again.
    if (loaded.denied && Store.device()) {
      window.CheckinUI.showRemoved();
      return;
    }
    if (loaded.denied || !loaded.me) {
      const dev = Store.device();
      // The heading already says "not paired"; the line below only adds a why.
      $("unpaired-reason").textContent = loaded.denied && dev ? S.revoked_device
        : (loaded.offline && dev ? S.error_network : "");
      show("unpaired");
      // Scans already on this device are still sent if the device comes back.
      refreshWaiting();
      return;
    }
    ui.me = loaded.me;
    ui.checkpoints = await loadCheckpoints();
    await window.CheckinUI.loadNames((Store.device() || {}).token);
    const dev = ui.me.device;
    $("device-name").textContent = dev ? dev.name : "";
    if (dev && dev.role === "display") {
      $("unpaired-reason").textContent = S.display_device;
      show("unpaired");
      return;
    }
    if (!ui.checkpoints.length) {
      $("unpaired-reason").textContent = S.no_checkpoints;
      show("unpaired");
      return;
    }
    // The true connection state (and a live revocation) within seconds, not at the next scan.
    window.CheckinUI.banner(JSON.parse($("conn-strings").textContent), lang, config.timezone);
    window.CheckinUI.onChange(refreshWaiting);
    window.CheckinUI.watch({token: () => (Store.device() || {}).token});
    buildSetup();
    renderRecent();
    refreshWaiting();
    setInterval(tick, RETRY_MS);
    setInterval(() => { if (!Store.isOffline()) Store.refreshRoster().catch(() => {}); }, ROSTER_MS);
    setInterval(() => { if (!Store.isOffline()) loadCounts(); }, COUNT_MS);
    Store.refreshRoster().catch(() => {});
    Store.flush();
    if (validChoice(ui.choice)) beginScanning(); else show("setup");
  }

  function fixedCheckpoint() {
    const dev = ui.me && ui.me.device;
    return dev && dev.checkpoint ? dev.checkpoint : null;
  }

  function validChoice(choice) {
    if (!choice || !["in", "out"].includes(choice.direction)) return false;
    const fixed = fixedCheckpoint();
    if (fixed && choice.checkpoint !== fixed) return false;
    return ui.checkpoints.some((c) => c.id === choice.checkpoint);
  }

  function kindName(kind) { return S["kind_" + kind] || kind; }

  function buildSetup() {
    const list = $("checkpoint-list");
    list.textContent = "";
    const fixed = fixedCheckpoint();
    const choices = fixed ? ui.checkpoints.filter((c) => c.id === fixed) : ui.checkpoints;
    const current = ui.choice && ui.choice.checkpoint;
    choices.forEach((c, i) => {
      const label = document.createElement("label");
      label.className = "choice";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "checkpoint";
      input.value = c.id;
      input.checked = fixed ? true : (current ? current === c.id : i === 0);
      const span = document.createElement("span");
      span.textContent = window.CheckinUI.checkpointName(c.id, c.name);
      const small = document.createElement("small");
      small.textContent = kindName(c.kind);
      span.appendChild(small);
      label.append(input, span);
      list.appendChild(label);
    });
    $("checkpoint-fixed").hidden = !fixed;
    $("checkpoint-fixed").textContent = fixed ? S.fixed_checkpoint : "";
    if (ui.choice && ui.choice.direction) {
      const radio = document.querySelector(`input[name=direction][value=${ui.choice.direction}]`);
      if (radio) radio.checked = true;
    }
  }

  function beginScanning() {
    const cp = ui.checkpoints.find((c) => c.id === ui.choice.checkpoint);
    $("where-name").textContent = cp ? window.CheckinUI.checkpointName(cp.id, cp.name)
                                     : ui.choice.checkpoint;
    const tag = $("where-direction");
    tag.textContent = ui.choice.direction === "in" ? "→ " + S.direction_in : "← " + S.direction_out;
    tag.dataset.direction = ui.choice.direction;
    ui.counts = Store.readJSON("checkin.counts", null);
    renderCount();
    show("scanner");
    loadCounts();
  }

  $("start").addEventListener("click", () => {
    const cp = document.querySelector("input[name=checkpoint]:checked");
    const dir = document.querySelector("input[name=direction]:checked");
    if (!cp || !dir) return;
    ui.choice = {checkpoint: cp.value, direction: dir.value};
    Store.writeJSON("checkin.choice", ui.choice);
    beginScanning();
    // The setup may have been scrolled to reach Start: the scanner begins at its top, where
    // the answer and the controls are.
    window.scrollTo(0, 0);
  });
  $("change").addEventListener("click", () => { buildSetup(); show("setup"); });

  // ------------------------------------------------------------------ counts and waiting
  async function loadCounts() {
    try {
      const res = await Store.api("GET", "/api/v1/headcounts", undefined, 5000);
      if (res.status === 200 && res.data && Array.isArray(res.data.checkpoints)) {
        const mine = res.data.checkpoints.find((c) => ui.choice && c.id === ui.choice.checkpoint);
        if (mine) setCount(mine);
      }
    } catch (e) { /* offline: keep the last known count */ }
  }

  function setCount(hc) {
    ui.counts = {checkpoint: hc.checkpoint || hc.id, inside: hc.inside, expected: hc.expected,
                 capacity: hc.capacity, at: new Date().toISOString()};
    Store.writeJSON("checkin.counts", ui.counts);
    renderCount();
  }

  function renderCount() {
    const el = $("count");
    const c = ui.counts;
    if (!c || !ui.choice || c.checkpoint !== ui.choice.checkpoint) {
      el.textContent = "";
      el.hidden = true;
      return;
    }
    let text = fill(c.capacity ? S.inside_capacity : S.inside, c);
    if (Store.isOffline()) text += " (" + fill(S.count_as_of, {time: clock(c.at)}) + ")";
    el.textContent = text;
    el.dataset.inside = c.inside;
    el.hidden = $("scanner").hidden;
  }

  async function refreshWaiting() {
    let n = 0;
    try { n = await Store.waitingCount(); } catch (e) { n = 0; }
    const el = $("waiting");
    el.dataset.count = n;
    const problem = Store.state.problem;
    if (n === 0) el.textContent = "";
    else if (problem && problem.data && problem.data.error) {
      el.textContent = fill(n === 1 ? S.waiting_one : S.waiting, {n}) + " · " +
        fill(S.refused, {message: problem.data.error.message || problem.status});
    } else el.textContent = fill(n === 1 ? S.waiting_one : S.waiting, {n});
    el.hidden = n === 0;
    let dropped = 0;
    try { dropped = await Store.droppedCount(); } catch (e) { dropped = 0; }
    $("dropped").hidden = dropped === 0;
    $("dropped-text").textContent =
      dropped ? fill(dropped === 1 ? S.dropped_one : S.dropped, {n: dropped}) : "";
    const offline = Store.isOffline() || !window.CheckinUI.isOnline();
    $("net").dataset.state = offline ? "offline" : "online";
    $("net-text").textContent = offline ? S.offline : S.online;
    $("net-icon").replaceChildren(window.CheckinUI.icon(offline ? "offline" : "online"));
    if (removedProblem(problem)) window.CheckinUI.showRemoved();
    renderCount();
  }

  function tick() {
    Store.waitingCount().then((n) => { if (n > 0) Store.flush(); }).catch(() => {});
    refreshWaiting();
  }

  Store.on("change", refreshWaiting);
  Store.on("headcount", (hc) => { if (ui.choice && hc.checkpoint === ui.choice.checkpoint) setCount(hc); });
  Store.on("result", (result) => updateRecent(result.id, result, false));
  Store.on("error", (body) => updateRecent(body.id, null, false));
  // A scan sent again under a fresh id (its first met another scan's): follow it.
  Store.on("renamed", (oldId, newId) => {
    const entry = ui.recent.find((e) => e.id === oldId);
    if (entry) {
      entry.id = newId;
      entry.renamed = true;
      saveRecent();
    }
    if (ui.lastScanId === oldId) ui.lastScanId = newId;
  });
  window.addEventListener("online", () => {
    Store.flush().then(() => { loadCounts(); Store.refreshRoster().catch(() => {}); });
    refreshWaiting();
  });
  window.addEventListener("offline", refreshWaiting);

  // ------------------------------------------------------------------ the answer
  // Inline SVG (checkin-ui.js), never emoji: tablets without an emoji font show empty boxes.
  const ICONS = {accepted: "ok", warning: "warn", rejected: "bad"};

  function reasonText(result, direction) {
    const r = result.reason;
    if (!r) return result.status === "accepted" ? (direction === "out" ? S.accepted_out : S.accepted_in) : "";
    if (r === "already_in") {
      const since = result.detail && result.detail.since;
      if (!since) return S.already_in_plain;
      return fill(result.offline ? S.offline_already : S.already_in, {time: clock(since)});
    }
    if (r === "not_assigned") {
      const cp = ui.choice ? ui.checkpoints.find((c) => c.id === ui.choice.checkpoint) : null;
      if (cp && cp.kind === "excursion") return S.not_assigned_excursion;
      if (cp && cp.kind === "room") return S.not_assigned_room;
      return S.not_assigned;
    }
    if (r === "unchecked") return S.unchecked_offline;
    if (r === "id_conflict") return S.id_conflict;
    return S[r] || r;
  }

  function personLines(p) {
    if (!p) return [];
    const lines = [];
    const where = [p.organisation, p.city].filter(Boolean).join(" · ");
    if (where) lines.push(where);
    // The API's titles are the plain texts; the ids give them in this page's language.
    const UI = window.CheckinUI;
    if (p.working_group) lines.push(UI.workingGroupText(p.working_group, p.working_group_title || p.working_group));
    if (p.excursion) lines.push(UI.excursionText(p.excursion, "title", p.excursion_title || p.excursion));
    return lines;
  }

  function personName(p) {
    if (!p) return "";
    return p.name || [p.first_name, p.last_name].filter(Boolean).join(" ");
  }

  /** The server refused this device itself (401): it was removed. */
  function removedProblem(problem) {
    return !!(problem && problem.status === 401 && Store.device());
  }

  function display(result, body, offline, problem, conflict) {
    // A refused device never shows an answer, least of all a green welcome.
    if (removedProblem(problem) || window.CheckinUI.isRemoved()) {
      window.CheckinUI.showRemoved();
      return;
    }
    const panel = $("result");
    panel.dataset.status = result.status;
    panel.dataset.reason = result.reason || "";
    panel.dataset.offline = offline ? "true" : "false";
    panel.dataset.conflict = conflict ? "true" : "false";
    panel.textContent = "";
    const head = document.createElement("p");
    head.className = "result-head";
    const icon = document.createElement("span");
    icon.className = "result-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.replaceChildren(window.CheckinUI.icon(ICONS[result.status] || "question"));
    const title = document.createElement("span");
    title.className = "result-title";
    // Rejected says so in words before the reason; the other answers are their reason.
    const reason = reasonText(result, body.direction);
    title.textContent = result.status === "rejected" ? S.rejected + ": " + reason : reason;
    head.append(icon, title);
    panel.appendChild(head);
    const name = personName(result.participant);
    if (name) {
      const n = document.createElement("p");
      n.className = "result-name";
      n.textContent = name;
      panel.appendChild(n);
    }
    for (const line of personLines(result.participant)) {
      const l = document.createElement("p");
      l.className = "result-line";
      l.textContent = line;
      panel.appendChild(l);
    }
    if (conflict) {
      // The first id was another scan's: this answer is for the scan sent again.
      const c = document.createElement("p");
      c.className = "result-conflict";
      c.textContent = S.id_conflict_resent;
      panel.appendChild(c);
    }
    if (offline) {
      const o = document.createElement("p");
      o.className = "result-offline";
      const refusal = problem && problem.data && problem.data.error;
      o.textContent = refusal ? fill(S.refused, {message: refusal.message || problem.status})
        : S.saved_offline;
      panel.appendChild(o);
    }
    // After a name search on a phone the answer may be scrolled away: bring it back.
    const box = panel.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) panel.scrollIntoView({block: "start"});
    ui.lastScanId = result.status === "rejected" ? null : body.id;
    $("undo").hidden = ui.lastScanId === null;
    beep(result.status);
  }

  // ------------------------------------------------------------------ recent scans
  function addRecent(body, person) {
    ui.recent.unshift({id: body.id, at: body.at, status: "pending", reason: null,
                       name: personName(person) || body.code || "", queued: true});
    ui.recent = ui.recent.slice(0, RECENT);
    saveRecent();
  }

  function updateRecent(id, result, queued) {
    const entry = ui.recent.find((e) => e.id === id);
    if (!entry) return;
    if (result) {
      entry.status = result.status;
      entry.reason = result.reason || null;
      entry.detail = result.detail || null;
      entry.offline = !!result.offline;
      const name = personName(result.participant);
      if (name) entry.name = name;
    }
    entry.queued = queued;
    saveRecent();
  }

  function saveRecent() {
    Store.writeJSON("checkin.recent", ui.recent);
    renderRecent();
  }

  function renderRecent() {
    const list = $("recent");
    list.textContent = "";
    for (const e of ui.recent) {
      const li = document.createElement("li");
      li.dataset.status = e.status;
      const time = document.createElement("span");
      time.className = "recent-time";
      time.textContent = clock(e.at);
      const icon = document.createElement("span");
      icon.className = "recent-icon";
      icon.setAttribute("aria-hidden", "true");
      icon.replaceChildren(window.CheckinUI.icon(e.undone ? "undo" : (ICONS[e.status] || "wait")));
      const text = document.createElement("span");
      text.className = "recent-text";
      const what = e.undone ? S.undone : (e.status === "pending" ? S.queued
        : (e.status === "accepted" ? S.accepted : reasonText(e, ""))) || S[e.status];
      text.textContent = [e.name, what].filter(Boolean).join(" – ");
      const state = document.createElement("span");
      state.className = "recent-state";
      state.textContent = e.queued ? S.queued : S.sent;
      li.append(time, icon, text, state);
      list.appendChild(li);
    }
  }

  // ------------------------------------------------------------------ scanning
  async function submit(fields, person) {
    if (!ui.choice || $("scanner").hidden) return;
    // The time by the server's clock: a tablet whose clock is off still sends the right one.
    const body = {id: Store.uuid(), ...fields, checkpoint: ui.choice.checkpoint,
                  direction: ui.choice.direction, at: Store.now()};
    addRecent(body, person);
    let answer;
    try {
      answer = await Store.scan(body, person);
    } catch (e) {
      console.error(e);
      return;
    }
    const sent = {...body, id: answer.id || body.id};
    updateRecent(sent.id, answer.result, answer.offline);
    display(answer.result, sent, answer.offline, answer.problem, answer.conflict);
    refreshWaiting();
  }

  function scanCode(text) {
    const code = String(text).trim();
    if (!code) return;
    submit({code});
  }

  $("dropped-save").addEventListener("click", async () => {
    Store.saveRefused("checkin-refused-scans", await Store.droppedItems());
  });

  $("undo").addEventListener("click", async () => {
    const id = ui.lastScanId;
    if (!id) return;
    $("undo").hidden = true;
    ui.lastScanId = null;
    const entry = ui.recent.find((e) => e.id === id);
    if (entry) entry.undone = true;
    saveRecent();
    const panel = $("result");
    panel.dataset.status = "undone";
    panel.textContent = "";
    const head = document.createElement("p");
    head.className = "result-head";
    head.innerHTML = '<span class="result-icon" aria-hidden="true"></span> <span class="result-title"></span>';
    head.querySelector(".result-icon").append(window.CheckinUI.icon("undo"));
    head.querySelector(".result-title").textContent = S.undone;
    panel.appendChild(head);
    try { await Store.undo(id); } catch (e) { console.error(e); }
    refreshWaiting();
    loadCounts();
  });

  // Hand scanners type the code and Enter into whatever has focus; catch it globally when
  // no text field has focus, and show it in the scanner field.
  const field = $("code-input");
  let typed = "";
  let typedAt = 0;
  document.addEventListener("keydown", (ev) => {
    if ($("scanner").hidden || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" ||
                   active.tagName === "SELECT" || active.isContentEditable)) {
      return;
    }
    const now = performance.now();
    if (now - typedAt > 1000) typed = "";
    typedAt = now;
    // Most hand scanners end with Enter; some are set to Tab.
    if (ev.key === "Enter" || (ev.key === "Tab" && Store.normalise(typed))) {
      if (!typed) return;  // Enter on a button stays a button press
      ev.preventDefault();
      const code = typed;
      typed = "";
      field.value = "";
      scanCode(code);
    } else if (ev.key.length === 1 && ev.key !== " ") {
      ev.preventDefault();
      typed += ev.key;
      field.value = typed;
    }
  });
  $("manual").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = field.value;
    field.value = "";
    scanCode(code);
  });

  // ------------------------------------------------------------------ name search
  const search = $("search-input");
  const note = $("search-note");
  const found = $("search-results");
  let searchTimer = null;
  let searchSeq = 0;
  // The answer panel as it stands before any scan ("Ready to scan").
  const idleAnswer = $("result").cloneNode(true);
  /** Back to "Ready to scan": the last answer (a red "Not admitted") is not about this search. */
  function clearAnswer() {
    const panel = $("result");
    if (panel.dataset.status === "idle") return;
    panel.replaceChildren(...idleAnswer.cloneNode(true).childNodes);
    panel.dataset.status = "idle";
    panel.dataset.reason = "";
    $("undo").hidden = true;
  }
  search.addEventListener("input", () => {
    if (search.value.trim()) clearAnswer();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 250);
  });
  $("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    // A hand scanner typing into the search field (it had focus) still means a badge scan.
    if (Store.normalise(search.value)) {
      const code = search.value;
      search.value = "";
      found.textContent = "";
      note.textContent = "";
      scanCode(code);
      return;
    }
    runSearch();
  });

  async function runSearch() {
    const q = search.value.trim();
    const seq = ++searchSeq;
    found.textContent = "";
    if (q.length < 2) {
      note.textContent = q ? S.search_short : "";
      return;
    }
    note.textContent = S.searching;
    let people = null;
    if (!Store.isOffline()) {
      try {
        const res = await Store.api("GET", "/api/v1/participants?q=" + encodeURIComponent(q),
                                    undefined, 5000);
        people = (res.status === 200 && res.data && res.data.participants) || [];
      } catch (e) { /* no server: the offline name index below */ }
    }
    if (people === null) {
      // Without the server only a full last name opens its entry (scanner-store.js).
      let offline = null;
      try { offline = await Store.lookupName(q); } catch (e) { offline = null; }
      if (seq !== searchSeq) return;
      if (offline === null) {
        note.textContent = S.search_offline;
        return;
      }
      showPeople(offline, offline.length ? S.search_offline_found : S.search_offline_name);
      return;
    }
    if (seq !== searchSeq) return;
    showPeople(people, people.length ? "" : S.search_none);
  }

  function showPeople(people, message) {
    found.textContent = "";
    note.textContent = message;
    for (const p of people) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "person";
      const strong = document.createElement("strong");
      strong.textContent = p.name;
      const small = document.createElement("small");
      small.textContent = [p.organisation, p.city, p.working_group
        && window.CheckinUI.workingGroupText(p.working_group, p.working_group_title)].filter(Boolean).join(" · ");
      b.append(strong, small);
      b.addEventListener("click", () => {
        found.textContent = "";
        search.value = "";
        note.textContent = "";
        search.blur();
        submit({participant: p.id}, p);
      });
      li.appendChild(b);
      found.appendChild(li);
    }
  }

  // ------------------------------------------------------------------ camera
  const video = $("video");
  const canvas = $("frame");
  const cameraMsg = $("camera-msg");
  const cameraButton = $("camera-toggle");
  let wantCamera = Store.readJSON("checkin.camera", true);
  // Decoding (BarcodeDetector or jsQR, one scan per badge held up) is shared with the
  // guide's page: static/js/checkin-camera.js.
  const camera = window.CheckinCamera.create({
    video, canvas, onCode: (text) => scanCode(text),
    onState: (state) => {
      cameraMsg.hidden = state === "on";
      if (state !== "on") {
        cameraMsg.textContent = state === "insecure" ? S.camera_insecure
          : state === "unavailable" ? S.camera_unavailable : S.camera_off;
      }
      cameraLabel();
    },
  });

  function cameraLabel() {
    cameraButton.textContent = camera.running() ? S.camera_stop : S.camera_on;
  }

  async function startCamera() {
    if (camera.running() || !wantCamera || $("scanner").hidden || document.hidden) return;
    await camera.start();
  }

  function stopCamera() {
    camera.stop();
  }

  cameraButton.addEventListener("click", () => {
    wantCamera = !camera.running();
    Store.writeJSON("checkin.camera", wantCamera);
    if (camera.running()) stopCamera(); else startCamera();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) stopCamera(); else startCamera();
  });

  // ------------------------------------------------------------------ sound
  let audio = null;
  function unlockAudio() {
    if (audio || !(window.AudioContext || window.webkitAudioContext)) return;
    audio = new (window.AudioContext || window.webkitAudioContext)();
  }
  document.addEventListener("pointerdown", unlockAudio, {once: true});
  document.addEventListener("keydown", unlockAudio, {once: true});

  const TONES = {
    accepted: [[880, 0, 0.12, "sine"]],
    warning: [[660, 0, 0.12, "triangle"], [660, 0.18, 0.12, "triangle"]],
    rejected: [[220, 0, 0.45, "square"]],
  };
  function beep(status) {
    if (!ui.sound || !TONES[status]) return;
    unlockAudio();
    if (!audio) return;
    if (audio.state === "suspended") audio.resume().catch(() => {});
    const t0 = audio.currentTime + 0.01;
    for (const [freq, offset, length, type] of TONES[status]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = type;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, t0 + offset + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + offset + length);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + offset);
      osc.stop(t0 + offset + length + 0.02);
    }
  }

  const soundButton = $("sound-toggle");
  function soundLabel() {
    soundButton.textContent = ui.sound ? S.sound_on : S.sound_off;
  }
  soundButton.addEventListener("click", () => {
    ui.sound = !ui.sound;
    Store.writeJSON("checkin.sound", ui.sound);
    soundLabel();
  });
  soundLabel();

  start();
})();
