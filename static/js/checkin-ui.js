/* Shared by every page: state icons (inline SVG), a true connection state (a heartbeat to the
   server every 2 s, so "online" is never older than ~4 s), and the full-screen "this device
   was removed" state that replaces everything once the server refuses this device. */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const meta = document.querySelector('meta[name="checkin-icons"]');
  const SPRITE = meta ? meta.content : "/static/img/icons.svg";
  const HEARTBEAT_MS = 2000;   // ask the server this often ...
  const TIMEOUT_MS = 2500;     // ... and call it lost when it does not answer within this

  /** An inline SVG icon from static/img/icons.svg (hidden from screen readers). */
  function icon(name, cls) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", (cls || "icon") + " icon-" + name);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("width", "1em");
    svg.setAttribute("height", "1em");
    const use = document.createElementNS(SVG, "use");
    use.setAttribute("href", SPRITE + "#" + name);
    svg.appendChild(use);
    return svg;
  }

  // ------------------------------------------------------------------ removed device
  const state = {removed: false, online: true, lastOk: null, listeners: []};

  /** Replace the whole page with "this device was removed" (for good: no welcome after it). */
  function showRemoved() {
    const screen = document.getElementById("removed");
    if (!screen) return;
    if (!state.removed) {
      state.removed = true;
      for (const child of document.body.children) {
        if (child !== screen && child.tagName !== "SCRIPT") child.hidden = true;
      }
      screen.hidden = false;
      document.body.classList.add("device-removed");
      document.querySelectorAll("video").forEach((v) => {
        const stream = v.srcObject;
        if (stream && stream.getTracks) stream.getTracks().forEach((t) => t.stop());
        v.srcObject = null;
      });
      const heading = screen.querySelector("h1");
      if (heading) heading.focus();
      notify();
    }
    showUnsent();
  }

  /** Say on the removed screen how many scans the server refused (kept by checkin-wipe.js). */
  function showUnsent() {
    const line = document.getElementById("removed-unsent");
    const n = window.CheckinWipe ? window.CheckinWipe.refusedScans() : 0;
    if (!line || !n) return;
    // German, Dutch and English share one plural rule: one, and everything else.
    line.textContent = (n === 1 ? line.dataset.one : line.dataset.other).replace("{n}", String(n));
    line.dataset.count = String(n);
    line.hidden = false;
  }
  // A wipe follows only the server's refusal of this device's token (checkin-wipe.js). The
  // request refused first may be any of the page's (a roster refresh, the wipe's own check),
  // and the wipe removes the token the heartbeat asks with: say "removed" here, not there.
  window.addEventListener("checkin:wiped", () => showRemoved());

  function isRemoved() { return state.removed; }

  // ------------------------------------------------------------------ connection
  function notify() {
    for (const fn of state.listeners) {
      try { fn({online: state.online, lastOk: state.lastOk, removed: state.removed}); }
      catch (e) { console.error(e); }
    }
  }

  function onChange(fn) { state.listeners.push(fn); }

  function setOnline(online) {
    if (online) state.lastOk = new Date();
    if (online !== state.online) {
      state.online = online;
      notify();
    }
  }

  /** Mark data as fresh now (a live message arrived), without waiting for the heartbeat. */
  function fresh() { setOnline(true); }

  /**
   * Ask `url` every 2 s. A 401 from a device that holds a token means it was revoked:
   * the removed screen. No answer within 2.5 s, or a network error: lost.
   */
  function watch(options) {
    const url = options.url || "/api/v1/me";
    async function beat() {
      if (state.removed) return;
      const token = options.token ? options.token() : null;
      const headers = {"Accept": "application/json"};
      if (token) headers["Authorization"] = "Bearer " + token;
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
      try {
        const res = await fetch(url, {headers, signal: ctrl.signal, cache: "no-store",
                                      credentials: "same-origin"});
        if (res.status === 401 && token) {
          setOnline(true);
          showRemoved();
          return;
        }
        setOnline(res.status < 500);
      } catch (e) {
        setOnline(false);
      } finally {
        clearTimeout(timer);
      }
      setTimeout(beat, HEARTBEAT_MS);
    }
    window.addEventListener("offline", () => setOnline(false));
    beat();
  }

  /** The one way pages write a time for people: the event's wall clock (IANA zone `timeZone`,
      which the server gives each page), whatever zone the device is set to. */
  function timeFormat(lang, options, timeZone) {
    const base = Object.assign({hour: "2-digit", minute: "2-digit", hourCycle: "h23"}, options);
    try {
      return new Intl.DateTimeFormat(lang, timeZone ? Object.assign({timeZone}, base) : base);
    } catch (e) {
      // A browser that does not know the zone still shows a time, in its own zone.
      return new Intl.DateTimeFormat(lang, base);
    }
  }

  /** Tell the state in the connection banner: hidden while online, else "lost since". */
  function banner(strings, lang, timeZone) {
    const box = document.getElementById("conn-banner");
    if (!box) return;
    const format = timeFormat(lang || document.documentElement.lang || "en", {second: "2-digit"},
                              timeZone);
    onChange((s) => {
      const lost = !s.online && !s.removed;
      document.body.classList.toggle("conn-lost", lost);
      box.hidden = !lost;
      if (lost) {
        const text = box.querySelector(".conn-banner-text");
        text.textContent = s.lastOk
          ? strings.lost_since.replace("{time}", format.format(s.lastOk)) : strings.lost;
      }
    });
  }

  // ------------------------------------------------------------------ phone navigation
  // Without this script the navigation simply stays open; with it, phones get a Menu button.
  const toggle = document.querySelector(".menu-toggle");
  const nav = document.getElementById("main-nav");
  if (toggle && nav) {
    toggle.hidden = false;
    const set = (open) => {
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("collapsed", !open);
    };
    set(false);
    toggle.addEventListener("click", () => set(toggle.getAttribute("aria-expanded") !== "true"));
  }

  // ------------------------------------------------------------------ tables on phones
  /** Give every cell of main's tables its column name, for the stacked rows on phones. */
  function labelTables(root) {
    for (const table of (root || document).querySelectorAll("main table:not(.no-stack)")) {
      table.classList.add("stack");
      const heads = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
      if (!heads.length) continue;
      for (const row of table.querySelectorAll("tbody tr")) {
        Array.from(row.children).forEach((cell, i) => {
          if (heads[i] && !cell.hasAttribute("data-label") && !cell.hasAttribute("colspan")) {
            cell.setAttribute("data-label", heads[i]);
          }
        });
      }
    }
  }
  labelTables();
  // Live pages replace their tables' rows: label the new ones too.
  if (window.MutationObserver && document.querySelector("main")) {
    new MutationObserver(() => labelTables()).observe(document.querySelector("main"),
                                                      {childList: true, subtree: true});
  }

  // ------------------------------------------------------------------ event names
  // Rooms, excursions and places in this page's language, from the server (device token or
  // organiser), kept on the device for offline starts. Until then the server's plain names.
  const lang = document.documentElement.lang || "en";
  const NAMES_KEY = "checkin.names." + lang;
  let names = null;
  function eventNames() {
    if (names === null) {
      try { names = JSON.parse(localStorage.getItem(NAMES_KEY) || "{}"); } catch (e) { names = {}; }
    }
    return names;
  }
  /** Fetch the names (resolves true when they arrived); never throws. */
  async function loadNames(token) {
    const headers = {"Accept": "application/json"};
    if (token) headers["Authorization"] = "Bearer " + token;
    try {
      const res = await fetch("/api/v1/event-names?lang=" + encodeURIComponent(lang),
                              {headers, cache: "no-store", credentials: "same-origin"});
      if (res.status !== 200) return false;
      names = await res.json();
      try { localStorage.setItem(NAMES_KEY, JSON.stringify(names)); } catch (e) { /* full */ }
      return true;
    } catch (e) {
      return false;
    }
  }
  /** A checkpoint's name in this page's language (the server's text otherwise). */
  function checkpointName(id, fallback) {
    return ((eventNames().checkpoints || {})[id]) || fallback;
  }
  /** An excursion's title or departure place in this page's language. */
  function excursionText(id, field, fallback) {
    const x = (eventNames().excursions || {})[id];
    return (x && x[field]) || fallback;
  }
  /** A working group's title in this page's language (the scan API's ids resolve here). */
  function workingGroupText(id, fallback) {
    const w = (eventNames().working_groups || {})[id];
    return (w && w.title) || fallback;
  }

  /**
   * Open a /live socket that shows at its handshake which paired device it is: the SHA-256 of
   * the token goes in the query (never the token itself), so the server counts it against the
   * devices' own budget per address, where a crowd of strangers cannot take its place. Pages
   * served without HTTPS have no crypto.subtle and connect as before.
   */
  function liveSocket(namespace, options, token) {
    const socket = window.io(namespace, Object.assign({}, options, {autoConnect: false}));
    const pass = async () => {
      const t = token();
      if (!t || !(window.crypto && crypto.subtle)) return {};
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(t));
      return {device: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")};
    };
    const refresh = () => pass().then((q) => { socket.io.opts.query = q; }, () => {});
    // Read again before each reconnection: a device paired again in another tab has a new token.
    socket.io.on("reconnect_attempt", refresh);
    refresh().then(() => socket.connect());
    return socket;
  }

  window.CheckinUI = {checkpointName, excursionText, workingGroupText, loadNames, icon, watch, fresh, onChange, banner, timeFormat, showRemoved, isRemoved,
                      liveSocket, isOnline: () => state.online};
})();
