/* The self check-in kiosk: a QR code (camera or hand scanner), or last name and e-mail, checks
   the attendee in; a big welcome in their own language, then back to the start screen after a
   few idle seconds. It keeps nothing about the people it greeted. Needs scanner-store.js
   (device token, API) and checkin-camera.js. */
(function () {
  "use strict";
  const S = JSON.parse(document.getElementById("strings").textContent);
  const config = JSON.parse(document.getElementById("kiosk-config").textContent);
  const Store = window.CheckinStore;
  const $ = (id) => document.getElementById(id);
  const PANELS = ["k-loading", "k-unpaired", "k-start", "k-lookup", "k-answer"];
  let idleTimer = null;
  let busy = false;
  let typed = "";
  let typedAt = 0;
  let pollTimer = null;
  let camera = null;
  const UI = window.CheckinUI;

  function show(id) {
    for (const panel of PANELS) $(panel).hidden = panel !== id;
    clearTimeout(idleTimer);
    if (id === "k-lookup" || id === "k-answer") armIdle();
  }

  /** Back to the start screen after the idle seconds; any touch or key restarts the count. */
  function armIdle() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(reset, (config.idle_seconds || 12) * 1000);
  }

  function reset() {
    clearTimeout(pollTimer);
    $("k-form").reset();
    $("k-result").dataset.status = "idle";
    $("k-result").removeAttribute("lang");
    $("k-answer-title").textContent = "";
    $("k-detail").textContent = "";
    $("k-print").hidden = true;
    busy = false;
    show("k-start");
    const start = $("k-start-title");
    start.tabIndex = -1;
    start.focus({preventScroll: true});
  }

  function answer(status, title, detail, lang) {
    const result = $("k-result");
    result.dataset.status = status;
    if (lang) result.setAttribute("lang", lang); else result.removeAttribute("lang");
    result.querySelector(".k-icon").textContent = status === "accepted" ? "✓"
      : status === "warning" ? "!" : "✕";
    $("k-answer-title").textContent = title;
    $("k-detail").textContent = detail || "";
    show("k-answer");
    $("k-done").focus({preventScroll: true});
  }

  async function followJob(job, text) {
    const line = $("k-print");
    line.textContent = text.printing;
    line.hidden = false;
    const deadline = Date.now() + 60000;
    async function poll() {
      let res;
      try { res = await Store.api("GET", job.url); } catch (e) { res = null; }
      const state = res && res.status === 200 ? res.data.job.state : "queued";
      if (state === "failed") { line.textContent = text.printer_failed; return; }
      if (state === "queued" && Date.now() < deadline) pollTimer = setTimeout(poll, 1000);
    }
    pollTimer = setTimeout(poll, 1000);
  }

  async function checkIn(body) {
    if (busy) return;
    busy = true;
    let res;
    try {
      res = await Store.api("POST", "/api/v1/kiosk/check-in", body, 10000);
    } catch (e) {
      busy = false;
      answer("rejected", S.lost, "");
      return;
    }
    busy = false;
    // The server refused this kiosk itself: it was removed; never a welcome after that.
    if (res.status === 401) {
      UI.showRemoved();
      return;
    }
    const data = res.data || {};
    if (res.status !== 200) {
      answer("rejected", (data.error && data.error.message) || S.error_network, "");
      return;
    }
    if (data.status === "not_found") {
      answer("rejected", S.not_found, "");
      return;
    }
    if (!data.person) {
      answer("rejected", S[data.reason] || S.unknown_code, "");
      return;
    }
    const text = data.text;
    const already = data.reason === "already_in";
    answer(data.status === "rejected" ? "rejected" : "accepted",
           text.welcome.replace("{name}", data.person.first_name),
           already ? text.already : text.checked_in, data.person.language);
    if (data.job) followJob(data.job, text);
  }

  function onCode(text) {
    // Only from the start screen: a code seen while a welcome shows is the same person.
    if ($("k-start").hidden || busy || UI.isRemoved()) return;
    checkIn({code: text});
  }

  // A hand scanner types the code and Enter while no field has the focus.
  document.addEventListener("keydown", (ev) => {
    if (!$("k-answer").hidden || !$("k-lookup").hidden) armIdle();
    if ($("k-start").hidden || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "BUTTON" && ev.key === "Enter"
                   && !typed)) return;
    const now = performance.now();
    if (now - typedAt > 1000) typed = "";
    typedAt = now;
    if (ev.key === "Enter") {
      if (!typed) return;
      ev.preventDefault();
      const code = typed;
      typed = "";
      onCode(code);
    } else if (ev.key.length === 1 && ev.key !== " ") {
      typed += ev.key;
    }
  });
  document.addEventListener("pointerdown", () => {
    if (!$("k-answer").hidden || !$("k-lookup").hidden) armIdle();
  });
  document.addEventListener("input", armIdle);

  $("k-forgot").addEventListener("click", () => {
    show("k-lookup");
    $("k-last-name").focus();
  });
  $("k-cancel").addEventListener("click", reset);
  $("k-done").addEventListener("click", reset);
  $("k-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    checkIn({last_name: $("k-last-name").value, email: $("k-email").value});
  });

  /** The connection in words and an icon; what needs the server waits for it. */
  function connection(s) {
    const offline = !s.online;
    $("net").dataset.state = offline ? "offline" : "online";
    $("net-text").textContent = offline ? S.offline : S.online;
    $("k-forgot").disabled = offline;
    $("k-submit").disabled = offline;
    if (s.removed && camera) camera.stop();
  }

  async function start() {
    const dev = Store.device();
    if (!dev || !dev.token) {
      $("k-unpaired-reason").textContent = S.not_paired;
      show("k-unpaired");
      return;
    }
    let res;
    try { res = await Store.api("GET", "/api/v1/me"); } catch (e) { res = null; }
    if (res && res.status === 401) {
      UI.showRemoved();
      return;
    }
    if (res && res.status === 200 && res.data.device.role !== "kiosk") {
      $("k-unpaired-reason").textContent = S.wrong_device;
      show("k-unpaired");
      return;
    }
    show("k-start");
    // The shared device states: the true connection within seconds, a removal at once.
    UI.banner({lost: S.lost, lost_since: S.lost});
    UI.onChange(connection);
    connection({online: UI.isOnline(), removed: UI.isRemoved()});
    UI.watch({token: () => (Store.device() || {}).token});
    camera = window.CheckinCamera.create({
      video: $("k-video"), canvas: $("k-frame"), onCode,
      onState: (state) => {
        const msg = $("k-camera-msg");
        msg.hidden = state === "on" || state === "off";
        msg.textContent = state === "insecure" ? S.camera_insecure : S.camera_unavailable;
      },
    });
    camera.start();
  }
  start();
})();
