/* The organisers' roll-call page: the shown roll call's part, rendered by the server (one way
   to write names and times), follows the `rollcall` pushes on /live (docs/live.md). A full
   push, a gap in the pushes' seq, or a change the page cannot lay in re-fetches the whole
   part; a push of changes fetches only the numbers and the changed people's rows (`only`)
   and lays them in. A push that comes while a fetch runs is answered by one more fetch
   after it, never by a pile of them, and fetches start at most every GAP ms: the server
   that renders them also answers the door. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("rollcall-config").textContent);
  const S = config.strings;
  const part = document.getElementById("rollcall-part");
  const status = document.getElementById("live-status");
  const GAP = 400;
  // Replaced from a fetched part: the numbers, the verdict, the tables of places, headings.
  const NUMBERS = ['[data-num="expected"]', '[data-num="accounted"]', '[data-num="missing"]',
                   ".rollcall-verdict", "#table-points tbody", "#table-rooms tbody",
                   "#missing-title", "#accounted-title"];
  let busy = false, again = false;
  let whole = false;              // the next fetch is of the whole part
  let changed = new Set();        // people pushed as changed, not yet fetched
  let seq = null;                 // the last push taken in (null: none since a whole fetch)
  let shownId = null;             // the roll call those pushes were of

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

  /** Lay a part fetched with `only` into the shown one; false when it cannot (fetch whole). */
  function layIn(html, ids) {
    const t = document.createElement("template");
    t.innerHTML = html;
    const fresh = t.content.querySelector(".rollcall-current");
    const shown = part.querySelector(".rollcall-current");
    // Ended, or no one missing any more: the part says so in words of its own.
    if (!fresh || !shown || fresh.dataset.rollcall !== shown.dataset.rollcall ||
        fresh.dataset.state !== shown.dataset.state || fresh.dataset.missing === "0") return false;
    const rows = Array.from(fresh.querySelectorAll("#accounted-list tr[data-person]"));
    const accounted = shown.querySelector("#accounted-list tbody");
    // A changed person is accounted for: the first of them has no table to go into yet.
    if ((rows.length && !accounted) || fresh.querySelector("#missing-list tr[data-person]")) return false;
    for (const sel of NUMBERS) {
      const before = shown.querySelector(sel), after = fresh.querySelector(sel);
      if (!before || !after) return false;
      before.replaceWith(after);
    }
    shown.dataset.missing = fresh.dataset.missing;
    for (const id of ids) {
      for (const row of shown.querySelectorAll(`tr[data-person="${id}"]`)) row.remove();
    }
    accounted.append(...rows);
    return true;
  }

  async function fetchPart(ids) {
    const url = new URL(config.part_url, location.href);
    if (ids) {
      url.searchParams.set("id", shownId);
      url.searchParams.set("only", ids.join(","));
    }
    const response = await fetch(url, {credentials: "same-origin", headers: {Accept: "text/html"}});
    return response.ok ? response.text() : null;
  }

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    const started = Date.now();
    const ids = whole || !changed.size ? null : Array.from(changed);
    whole = false;
    changed = new Set();
    try {
      if (ids) {
        const html = await fetchPart(ids);
        if (html === null || !layIn(html, ids)) { whole = true; again = true; }
      } else {
        const html = await fetchPart(null);
        // A start or end form the organiser has opened is kept open across the swap.
        const open = Array.from(part.querySelectorAll("details[open]"), (d) => d.className);
        if (html !== null) part.innerHTML = html;
        for (const name of open) {
          const details = part.querySelector(`details.${CSS.escape(name)}`);
          if (details) details.open = true;
        }
      }
    } catch (e) {
      // Offline for a moment: the next push or reconnect fetches again, all of it.
      whole = true;
    }
    setTimeout(() => {
      busy = false;
      if (again) { again = false; refresh(); }
    }, Math.max(0, GAP - (Date.now() - started)));
  }

  /** Take a push: changes that follow on from the last push are fetched alone, else all. */
  function onPush(r) {
    if (!r || !shows(r)) return;
    const follows = !r.full && Array.isArray(r.changed) && r.id === shownId &&
      (seq === null || r.seq === seq + 1);
    if (follows) for (const p of r.changed) changed.add(p.id);
    else whole = true;
    seq = r.seq;
    shownId = r.id;
    refresh();
  }

  // WebSocket first, long-polling only if WebSocket fails (as the overview does).
  const socket = io(config.namespace, {transports: ["websocket", "polling"], tryAllTransports: true,
                                       reconnectionDelay: 1000, reconnectionDelayMax: 5000});
  socket.on("connect", () => { setStatus("live", S.live); whole = true; refresh(); });
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
  socket.on("rollcall", onPush);
})();
