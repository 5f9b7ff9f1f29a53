/* The organisers' roll-call page: every `rollcall` push on /live re-fetches the shown roll
   call's part, rendered by the server (one way to write names and times). A push that comes
   while a fetch runs is answered by one more fetch after it, never by a pile of them, and
   fetches start at most every GAP ms: with thousands of people the part is a big page, and
   the server that renders it also answers the door. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("rollcall-config").textContent);
  const S = config.strings;
  const part = document.getElementById("rollcall-part");
  const status = document.getElementById("live-status");
  const GAP = 400;
  let busy = false, again = false;

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  /** Whether a pushed roll call is the one this page shows (none shown: the venue's). */
  function shows(r) {
    const current = part.querySelector("[data-rollcall]");
    if (config.shown) return r.id === config.shown;
    return (current && current.dataset.rollcall === r.id) || r.scope === "venue";
  }

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    const started = Date.now();
    try {
      const response = await fetch(config.part_url, {credentials: "same-origin",
                                                     headers: {Accept: "text/html"}});
      // A start or end form the organiser has opened is kept open across the swap.
      const open = Array.from(part.querySelectorAll("details[open]"), (d) => d.className);
      if (response.ok) part.innerHTML = await response.text();
      for (const name of open) {
        const details = part.querySelector(`details.${CSS.escape(name)}`);
        if (details) details.open = true;
      }
    } catch (e) { /* offline for a moment: the next push or reconnect fetches again */ }
    setTimeout(() => {
      busy = false;
      if (again) { again = false; refresh(); }
    }, Math.max(0, GAP - (Date.now() - started)));
  }

  // WebSocket first, long-polling only if WebSocket fails (as the overview does).
  const socket = io(config.namespace, {transports: ["websocket", "polling"], tryAllTransports: true,
                                       reconnectionDelay: 1000, reconnectionDelayMax: 5000});
  socket.on("connect", () => { setStatus("live", S.live); refresh(); });
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
  socket.on("rollcall", (r) => { if (r && shows(r)) refresh(); });
})();
