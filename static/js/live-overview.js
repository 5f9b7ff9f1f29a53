/* The organisers' overview, kept current from /live: new scans are added to the table as
   they come (and missed ones fetched with catch_up after a reconnect); the other parts of
   the page are re-fetched as server-rendered HTML when a push says they changed. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("overview-config").textContent);
  const S = config.strings;
  const lang = document.documentElement.lang || "en";
  const MAX_ROWS = 60;        // recent scans kept in the table
  const REFRESH_MS = 1500;    // at most one re-fetch of the parts per this time

  const status = document.getElementById("live-status");
  const rows = document.getElementById("scan-rows");
  const search = document.getElementById("missing-q");
  let lastSeq = config.latest_scan || 0;

  function fmt(template, params) {
    return template.replace(/\{(\w+)\}/g, (m, key) => (key in params ? String(params[key]) : m));
  }

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  // ------------------------------------------------------------------ recent scans
  const clock = window.CheckinUI.timeFormat(lang, {}, config.timezone);

  function cell(...children) {
    const td = document.createElement("td");
    td.append(...children);
    return td;
  }

  function link(href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function scanRow(s) {
    const tr = document.createElement("tr");
    tr.dataset.scan = s.id;
    tr.dataset.seq = s.seq;
    if (s.voided) tr.className = "voided";
    const time = document.createElement("time");
    time.dateTime = s.time;
    time.textContent = clock.format(new Date(s.time));
    const when = cell(time);
    when.className = "num";
    const who = s.participant
      ? link(config.person_url.replace(/0$/, String(s.participant)), s.participant_name)
      : link(config.scan_url.replace(/_$/, encodeURIComponent(s.id)), S.word_unknown);
    const names = config.checkpoints || {};
    let where = names[s.checkpoint] || s.checkpoint_name;
    if (s.moved_to) where += " → " + (names[s.moved_to] || s.moved_to_name || s.moved_to);
    where += " (" + (S["word_" + s.direction] || s.direction) + ")";
    const result = document.createElement("span");
    result.className = "result-" + s.status;
    result.textContent = S["word_" + s.status] || s.status;
    const resultCell = cell(result);
    resultCell.className = "corr";
    if (s.reason) resultCell.append(": " + (S["word_" + s.reason] || s.reason));
    if (s.voided) resultCell.append(" · " + S.word_voided);
    tr.append(when, cell(who), cell(where), cell(s.device_name || ""), resultCell);
    return tr;
  }

  function showScan(s) {
    const old = rows.querySelector(`tr[data-scan="${CSS.escape(s.id)}"]`);
    const tr = scanRow(s);
    if (old) {                       // a correction changed a scan already shown
      old.replaceWith(tr);
      return;
    }
    if (s.seq <= lastSeq && rows.querySelector("tr")) {
      // An old scan arriving late (catch-up): put it in seq order.
      const after = Array.from(rows.children).find((r) => Number(r.dataset.seq) < s.seq);
      if (!after) return;
      rows.insertBefore(tr, after);
    } else {
      tr.classList.add("new");
      rows.insertBefore(tr, rows.firstChild);
    }
    lastSeq = Math.max(lastSeq, s.seq);
    while (rows.children.length > MAX_ROWS) rows.lastElementChild.remove();
  }

  // ------------------------------------------------------------------ server-rendered parts
  const pending = new Set();
  let timer = null;
  let lastRefresh = 0;

  function schedule(...parts) {
    parts.forEach((p) => pending.add(p));
    if (timer) return;
    const wait = Math.max(0, lastRefresh + REFRESH_MS - Date.now());
    timer = setTimeout(refresh, wait);
  }

  async function refresh() {
    timer = null;
    lastRefresh = Date.now();
    const parts = Array.from(pending);
    pending.clear();
    for (const part of parts) {
      const box = document.querySelector(`[data-part="${part}"]`);
      if (!box) continue;
      if (box.contains(document.activeElement) && document.activeElement !== document.body) {
        // Never pull the page from under the keyboard: try again once focus moved on.
        setTimeout(() => schedule(part), 3000);
        continue;
      }
      const url = config.part_url.replace(/_$/, part) +
        (part === "missing" ? "?q=" + encodeURIComponent(search.value.trim()) : "");
      try {
        const response = await fetch(url, {credentials: "same-origin", cache: "no-store",
                                           redirect: "manual"});
        if (response.status !== 200) continue;
        box.innerHTML = await response.text();
      } catch (e) { /* offline for a moment: the next push or reconnect refreshes again */ }
    }
  }

  function filterMissing() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const li of document.querySelectorAll("#missing-list li")) {
      const text = li.dataset.search || "";
      li.hidden = !words.every((w) => text.includes(w));
    }
  }

  let searchTimer = null;
  search.addEventListener("input", () => {
    filterMissing();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => schedule("missing"), 400);
  });

  // ------------------------------------------------------------------ the connection
  // WebSocket first (no sticky sessions needed with several server processes), long-polling
  // only if WebSocket fails: see docs/deployment.md.
  const socket = io(config.namespace, {transports: ["websocket", "polling"], tryAllTransports: true,
                                       reconnectionDelay: 1000, reconnectionDelayMax: 5000});
  socket.on("connect", () => {
    setStatus("live", S.live);
    // After a restart or a network cut: the scans stored meanwhile, then fresh numbers.
    socket.emit("catch_up", {since: lastSeq});
    schedule("numbers", "alerts", "excursions", "missing");
  });
  socket.on("disconnect", (reason) => {
    setStatus("lost", S.reconnecting);
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 15000);
  });
  socket.on("connect_error", () => {
    if (!socket.active) {
      setStatus("refused", S.refused);
      setTimeout(() => socket.connect(), 30000);
    } else {
      setStatus("lost", S.reconnecting);
    }
  });
  // Scans come in batches: all those stored within one push window, or a catch-up.
  socket.on("scans", (rows) => rows.forEach(showScan));
  socket.on("headcounts", () => schedule("numbers", "missing"));
  socket.on("excursion", () => schedule("excursions"));
  socket.on("alerts", (list) => {
    const count = document.getElementById("alerts-count");
    count.textContent = list.length === 1 ? S.alerts_one
      : list.length ? fmt(S.alerts_count, {n: list.length}) : S.alerts_none;
    schedule("alerts");
  });
})();
