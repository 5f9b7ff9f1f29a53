/* The room dashboard: listens to /live and redraws the numbers, bars and charts in place.
   It runs unattended all day: socket.io reconnects by itself (and the server sends the whole
   state on every connect), elements are updated or replaced, never piled up. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("dashboard-config").textContent);
  const S = config.strings;
  const lang = document.documentElement.lang || "en";
  const SVG = "http://www.w3.org/2000/svg";

  const el = (id) => document.getElementById(id);
  const connection = el("dash-connection");
  const grid = el("dash-grid");
  const unpaired = el("dash-unpaired");

  function fmt(template, params) {
    return template.replace(/\{(\w+)\}/g, (m, key) => (key in params ? String(params[key]) : m));
  }

  function number(n) { return new Intl.NumberFormat(lang).format(n); }

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ------------------------------------------------------------------ clock and connection
  const clockFormat = window.CheckinUI.timeFormat(lang, {}, config.timezone);
  function tick() {
    const now = new Date();
    const clock = el("dash-clock");
    clock.textContent = clockFormat.format(now);
    clock.dateTime = now.toISOString();
  }
  tick();
  setInterval(tick, 10000);

  function setConnection(state, text) {
    connection.dataset.state = state;
    connection.querySelector(".dash-connection-text").textContent = text;
  }

  // ------------------------------------------------------------------ places: rooms and venue
  /** The state of a place (none, ok, near, full, over): the server's one rule
      (checkin/places.py) sends it with each place; the venue's total uses the same. */
  function placeState(place) { return place.state || "none"; }

  const ICONS = {ok: "ok", near: "warn", full: "full", over: "over", none: "dot"};

  function statusText(state, inside, capacity) {
    if (state === "none") return S.state_none;
    if (state === "over") return fmt(S.state_over, {over: number(inside - capacity)});
    if (state === "full") return S.state_full;
    if (state === "near") return fmt(S.state_near, {free: number(capacity - inside)});
    return fmt(S.state_ok, {free: number(capacity - inside)});
  }

  /** Fill a place card (venue or room) with its count, words, icon and bar. */
  function fillPlace(card, place) {
    const inside = place.inside, capacity = place.capacity;
    const state = placeState(place);
    card.dataset.state = state;
    card.querySelector(".place-inside").textContent = number(inside);
    const of = card.querySelector(".place-of");
    // Without a capacity the status line says "Inside now"; nothing to add here.
    if (of) of.textContent = capacity === null ? ""
                                               : fmt(S.of_capacity, {capacity: number(capacity)});
    const status = card.querySelector(".place-status");
    const icon = make("span", "place-icon");
    icon.append(window.CheckinUI.icon(ICONS[state]));
    status.replaceChildren(icon, make("span", "place-words", statusText(state, inside, capacity)));
    const fill = card.querySelector(".place-fill");
    const share = capacity ? Math.min(inside / capacity, 1) : 0;
    fill.style.width = (state === "none" ? 0 : Math.round(share * 100)) + "%";
    const bar = card.querySelector(".place-bar");
    bar.hidden = state === "none";
  }

  function roomCard(cp) {
    const li = make("li", "place-card room-card");
    li.dataset.checkpoint = cp.id;
    const title = make("h3", "place-name", window.CheckinUI.checkpointName(cp.id, cp.name));
    const count = make("p", "place-count");
    count.append(make("span", "place-inside", "0"), " ", make("span", "place-of", ""));
    const status = make("p", "place-status");
    const bar = make("div", "place-bar");
    bar.setAttribute("aria-hidden", "true");
    bar.append(make("span", "place-fill"));
    li.append(title, count, status, bar);
    return li;
  }

  function renderHeadcounts(data) {
    const list = el("rooms");
    const seen = new Set();
    let previous = null;
    for (const cp of data.checkpoints) {
      if (cp.kind === "entrance") {
        const card = el("venue-card");
        fillPlace(card, cp);
        card.querySelector(".place-inside").dataset.checkpoint = cp.id;
        continue;
      }
      if (cp.kind !== "room") continue;
      seen.add(cp.id);
      let card = list.querySelector(`li[data-checkpoint="${CSS.escape(cp.id)}"]`);
      if (!card) card = roomCard(cp);
      card.querySelector(".place-name").textContent =
        window.CheckinUI.checkpointName(cp.id, cp.name);
      fillPlace(card, cp);
      // Keep the server's order without rebuilding the list.
      const want = previous ? previous.nextSibling : list.firstChild;
      if (card !== want) list.insertBefore(card, want);
      previous = card;
    }
    for (const card of Array.from(list.children)) {
      if (!seen.has(card.dataset.checkpoint)) card.remove();
    }
    el("venue-arrived").textContent = fmt(S.arrived_of, {arrived: number(data.arrived),
                                                         registered: number(data.registered)});
    grid.setAttribute("aria-busy", "false");
  }

  // ------------------------------------------------------------------ arrivals
  function renderShares(list, rows, label) {
    const items = rows.map((row) => {
      const li = make("li", "share");
      const name = make("span", "share-name", label(row.key) || S.unknown);
      const figure = make("span", "share-figure",
                          fmt(S.arrived_of, {arrived: number(row.arrived),
                                             registered: number(row.registered)}));
      const bar = make("span", "share-bar");
      bar.setAttribute("aria-hidden", "true");
      const fill = make("span", "share-fill");
      fill.style.width = (row.registered ? Math.round(100 * row.arrived / row.registered) : 0) + "%";
      bar.append(fill);
      li.append(name, figure, bar);
      return li;
    });
    list.replaceChildren(...items);
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceMax(n) {
    if (n <= 5) return 5;
    const p = Math.pow(10, Math.floor(Math.log10(n)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
    return 10 * p;
  }

  /** Bars: arrivals per slot (left scale); line: running total (right scale). */
  function renderTimeline(t) {
    const chart = el("timeline");
    lastTimeline = t;
    const desc = svg("desc", {id: "timeline-desc"});
    // Arrivals far from the event's day are counted apart: they never stretch the axis.
    // Shown before the chart is measured: the line takes room from the chart.
    el("outside-day").hidden = !t.outside_day;
    el("outside-day").textContent = t.outside_day ? fmt(S.outside_day, {n: t.outside_day}) : "";
    // Drawn at the chart's real size: labels keep the page's font size at any screen size.
    const box = chart.getBoundingClientRect();
    const fs = parseFloat(getComputedStyle(chart).fontSize) || 16;
    const W = Math.max(300, Math.round(box.width)), H = Math.max(160, Math.round(box.height));
    const L = fs * 2.4, R = fs * 2.6, T = fs * 0.7, B = fs * 1.9;
    chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const parts = [desc];
    el("legend-slot").textContent = fmt(S.per_slot, {minutes: t.bucket_minutes});
    if (!t.buckets.length) {
      desc.textContent = S.chart_empty;
      parts.push(svg("text", {x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty"},
                     S.chart_empty));
      chart.replaceChildren(...parts);
      return;
    }
    const n = t.buckets.length;
    const maxCount = niceMax(Math.max(...t.buckets.map((b) => b.count)));
    const maxTotal = niceMax(t.total);
    const x = (i) => L + (W - L - R) * i / n;
    const slot = (W - L - R) / n;
    const yCount = (v) => H - B - (H - T - B) * v / maxCount;
    const yTotal = (v) => H - B - (H - T - B) * v / maxTotal;
    for (const f of [0, 0.5, 1]) {
      const y = yCount(maxCount * f);
      parts.push(svg("line", {x1: L, x2: W - R, y1: y, y2: y, class: "chart-grid"}));
      parts.push(svg("text", {x: L - 6, y: y + fs * 0.35, "text-anchor": "end", class: "chart-axis"},
                     number(maxCount * f)));
      parts.push(svg("text", {x: W - R + 6, y: y + fs * 0.35, class: "chart-axis chart-axis-total"},
                     number(maxTotal * f)));
    }
    // As many time labels as fit side by side (a label is about 3.3em wide).
    const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((W - L - R) / (fs * 3.6)))));
    let peak = t.buckets[0];
    t.buckets.forEach((b, i) => {
      if (b.count > peak.count) peak = b;
      const h = (H - T - B) * b.count / maxCount;
      parts.push(svg("rect", {x: x(i) + slot * 0.12, y: H - B - h, width: slot * 0.76,
                              height: h, class: "chart-bar"}));
      if (i % every === 0) {
        parts.push(svg("text", {x: x(i) + slot / 2, y: H - B + fs * 1.3, "text-anchor": "middle",
                                class: "chart-axis"}, b.label));
      }
    });
    const points = t.buckets.map((b, i) => `${x(i + 1).toFixed(1)},${yTotal(b.total).toFixed(1)}`);
    points.unshift(`${x(0).toFixed(1)},${yTotal(0).toFixed(1)}`);
    parts.push(svg("polyline", {points: points.join(" "), class: "chart-line"}));
    const last = t.buckets[n - 1];
    parts.push(svg("circle", {cx: x(n), cy: yTotal(last.total), r: fs * 0.3, class: "chart-dot"}));
    desc.textContent = fmt(S.chart_summary, {total: number(t.total), count: number(peak.count),
                                             label: peak.label});
    chart.replaceChildren(...parts);
  }

  let lastTimeline = null;
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (lastTimeline) renderTimeline(lastTimeline); }, 200);
  });
  // The chart's box also changes without a window resize (a line above it appears, the rooms
  // wrap, a font loads): draw again at the new size, or the labels would be scaled with it.
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      const chart = el("timeline");
      const drawn = chart.viewBox && chart.viewBox.baseVal;
      if (!lastTimeline || !drawn) return;
      const box = chart.getBoundingClientRect();
      const W = Math.max(300, Math.round(box.width)), H = Math.max(160, Math.round(box.height));
      if (W !== drawn.width || H !== drawn.height) renderTimeline(lastTimeline);
    }).observe(el("timeline"));
  }

  function renderArrivals(data) {
    renderTimeline(data.timeline);
    renderShares(el("by-city"), data.by_city, (key) => key);
    renderShares(el("by-type"), data.by_type, (key) => config.types[key] || key);
  }

  // ------------------------------------------------------------------ the connection
  function deviceToken() {
    try {
      const device = JSON.parse(localStorage.getItem(config.device_key) || "null");
      return device && device.token ? device.token : null;
    } catch (e) {
      return null;
    }
  }

  const socket = window.CheckinUI.liveSocket(config.namespace, {
    // WebSocket first (no sticky sessions needed with several server processes), long-polling
    // only if WebSocket fails: see docs/deployment.md.
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    // Read on every (re)connection: a screen paired again in another tab uses its new token.
    auth: (cb) => { const token = deviceToken(); cb(token ? {token} : {}); },
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
  }, deviceToken);

  // The true state within seconds: a heartbeat besides the socket (a socket notices a
  // stopped server or a cut network only after its ping timeout, tens of seconds).
  const conn = JSON.parse(el("conn-strings").textContent);
  window.CheckinUI.banner(conn, lang, config.timezone);
  window.CheckinUI.watch({token: deviceToken});
  window.CheckinUI.onChange((s) => {
    if (!s.online) setConnection("lost", S.reconnecting);
    else if (socket.connected) setConnection("live", S.live);
  });
  socket.on("connect", () => {
    unpaired.hidden = true;
    // Names in this screen's language; the room cards take them at the next push.
    window.CheckinUI.loadNames(deviceToken()).then((got) => {
      if (!got) return;
      for (const card of document.querySelectorAll("#rooms li[data-checkpoint]")) {
        const name = card.querySelector(".place-name");
        name.textContent = window.CheckinUI.checkpointName(card.dataset.checkpoint,
                                                           name.textContent);
      }
    });
    if (window.CheckinUI.isOnline()) setConnection("live", S.live);
    window.CheckinUI.fresh();
  });
  socket.onAny(() => window.CheckinUI.fresh());
  socket.on("disconnect", (reason) => {
    setConnection("lost", S.reconnecting);
    // The server hung up on purpose (this screen's device was revoked): socket.io does not
    // retry that by itself; try again later, which shows "not paired" if it is refused.
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 15000);
  });
  socket.on("connect_error", (err) => {
    if (!socket.active) {
      // Refused by the server (no or revoked token): say so, and try again now and then,
      // in case the screen is paired or an organiser signs in meanwhile.
      setConnection("refused", S.not_paired);
      unpaired.textContent = S.not_paired;
      unpaired.hidden = false;
      setTimeout(() => socket.connect(), 15000);
    } else {
      setConnection("lost", S.reconnecting);
    }
  });
  // ------------------------------------------------------------------ departure board
  function at(iso) { return iso ? clockFormat.format(new Date(iso)) : ""; }

  /** One excursion's status in words: boarding, departed at, returned at. */
  function busStatus(x) {
    if (x.status === "departed") return fmt(S.bus_departed, {time: at(x.departed_at)});
    if (x.status === "returned") return fmt(S.bus_returned, {time: at(x.returned_at)});
    return S.bus_boarding;
  }

  /** Seats in words; more people than seats (the server's rule) says so with an icon. */
  function busSeats(x) {
    const seats = x.seats || {state: "none"};
    const cell = make("td", "bus-seats");
    if (seats.state === "none") { cell.textContent = "–"; return cell; }
    cell.append(fmt(S.bus_seats, {people: number(seats.people), capacity: number(seats.capacity)}));
    if (seats.state === "over" && x.status !== "returned") {
      const warn = make("strong", "bus-over");
      const short = seats.people - seats.capacity;
      warn.append(make("span", "place-icon"), " ",
                  short === 1 ? S.bus_over_one : fmt(S.bus_over, {n: number(short)}));
      warn.firstChild.append(window.CheckinUI.icon("over"));
      cell.append(" ", warn);
    }
    return cell;
  }

  function renderDepartures(board) {
    const section = el("departures");
    const body = el("departure-rows");
    section.hidden = !board.length;
    body.replaceChildren(...board.map((x) => {
      const row = make("tr", "bus");
      row.dataset.excursion = x.id;
      row.dataset.status = x.status;
      const name = make("th", "bus-name", window.CheckinUI.excursionText(x.id, "title", x.title));
      name.scope = "row";
      const c = x.counts;
      row.append(name, make("td", "bus-time", at(x.departs_at)),
                 make("td", "bus-status", busStatus(x)),
                 make("td", "bus-confirmed", fmt(S.bus_confirmed, {confirmed: number(c.confirmed),
                                                                  expected: number(c.expected)})),
                 make("td", "bus-missing", x.status === "returned" ? "–" : number(c.missing)),
                 busSeats(x));
      return row;
    }));
  }

  // ------------------------------------------------------------------ roll call
  /** A venue roll call's numbers (a display is sent no names): shown instead of the day's
      figures while it runs, the state in words and icon as well as colour. A whole push and
      a push of changes both carry all the numbers (docs/live.md): no seq to follow here. */
  const ROOMS_SHOWN = 6;
  function renderRollcall(r) {
    const section = el("rollcall");
    const running = Boolean(r && r.scope === "venue" && !r.ended_at);
    section.hidden = !running;
    document.body.classList.toggle("rollcall-running", running);
    if (!running) return;
    const c = r.counts;
    el("rollcall-started").textContent = fmt(S.rollcall_started, {time: at(r.started_at)});
    el("rollcall-expected").textContent = number(c.expected);
    el("rollcall-accounted").textContent = number(c.accounted);
    el("rollcall-missing").textContent = number(c.missing);
    section.dataset.state = c.missing ? "missing" : "done";
    const icon = make("span", "place-icon");
    icon.append(window.CheckinUI.icon(c.missing ? "warn" : "ok"));
    el("rollcall-state").replaceChildren(icon, make("span", "", !c.missing ? S.rollcall_done
      : c.missing === 1 ? S.rollcall_missing_one : fmt(S.rollcall_missing, {n: number(c.missing)})));
    const row = (name, ...figures) => {
      const tr = make("tr");
      const th = make("th", "", name);
      th.scope = "row";
      tr.append(th, ...figures.map((n) => make("td", "num", number(n))));
      return tr;
    };
    el("rollcall-points").replaceChildren(...r.by_point.map(
      (p) => row(p.point ? window.CheckinUI.checkpointName("assembly:" + p.point, p.name)
                         : S.rollcall_no_point, p.accounted)));
    // The rooms where people are missing, most first (the server's order); a screen shows
    // ROOMS_SHOWN of them and sums up the rest, so that it never needs scrolling.
    const rooms = r.by_room.filter((room) => room.missing);
    const rows = rooms.slice(0, ROOMS_SHOWN).map((room) => row(
      room.checkpoint ? window.CheckinUI.checkpointName(room.checkpoint, room.name)
                      : S.rollcall_nowhere, room.missing, room.expected));
    const rest = rooms.slice(ROOMS_SHOWN);
    if (rest.length) {
      rows.push(row(fmt(S.rollcall_more_rooms, {n: number(rest.length)}),
                    rest.reduce((sum, room) => sum + room.missing, 0),
                    rest.reduce((sum, room) => sum + room.expected, 0)));
    }
    el("rollcall-rooms").replaceChildren(...rows);
  }

  socket.on("rollcall", renderRollcall);
  socket.on("hello", (hello) => { if (hello.event) el("dash-event").textContent = hello.event; });
  socket.on("departures", renderDepartures);
  socket.on("headcounts", renderHeadcounts);
  socket.on("arrivals", renderArrivals);
})();
