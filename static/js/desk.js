/* The registration desk on the scanner page: register a walk-in, print their badge, and
   reissue a lost badge. Shown to desk devices and organisers only; the server checks too.
   Needs scanner-store.js (the device token and CheckinStore.api). */
(function () {
  "use strict";
  const panel = document.getElementById("desk");
  if (!panel) return;
  const S = JSON.parse(document.getElementById("desk-strings").textContent);
  const Store = window.CheckinStore;
  const $ = (id) => document.getElementById(id);
  const FIELDS = ["first_name", "last_name", "organisation", "city", "email", "language"];
  let current = null;   // {id, name}
  let pollTimer = null;
  const UI = window.CheckinUI;

  class Removed extends Error {}

  /** One desk request; a device the server refuses was removed: the full-screen notice
      replaces the form (an organiser's 401 is an ended session, not a removal). */
  async function call(method, path, body) {
    const res = await Store.api(method, path, body);
    if (res.status === 401 && Store.device()) {
      UI.showRemoved();
      throw new Removed();
    }
    return res;
  }

  /** A desk request whose failure is said on the panel: resolves null when it failed. */
  async function attempt(method, path, body) {
    try {
      return await call(method, path, body);
    } catch (e) {
      if (!(e instanceof Removed)) say(fill(S.failed, {message: e.message}));
      return null;
    }
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }

  function isDesk() {
    const dev = Store.device();
    if (dev && dev.device) return dev.device.role === "desk";
    return !!document.querySelector('meta[name="csrf-token"]');  // a signed-in organiser
  }

  function choose(person) {
    current = person;
    $("desk-person").hidden = false;
  }

  function showJob(job, name) {
    const line = $("desk-job");
    line.hidden = false;
    line.dataset.state = job.state;
    line.textContent = fill(S["job_" + job.state], {name, reason: job.reason || ""});
    clearTimeout(pollTimer);
    if (job.state === "queued") {
      pollTimer = setTimeout(async () => {
        try {
          const res = await call("GET", job.url);
          if (res.status === 200) showJob(res.data.job, name);
        } catch (e) {
          if (!(e instanceof Removed)) pollTimer = setTimeout(() => showJob(job, name), 2000);
        }
      }, 1000);
    }
  }

  async function print(person, confirmed) {
    const res = await attempt("POST", `/api/v1/participants/${person.id}/print`,
                              {confirm: !!confirmed});
    if (!res) return;
    if (res.status === 202) { showJob(res.data.job, person.name); return; }
    const error = (res.data && res.data.error) || {};
    if (res.status === 409 && error.code === "printed_before") {
      // People throw away pre-printed badges when a reprint is one tap away: ask first.
      if (window.confirm(S.reprint_confirm)) print(person, true);
      return;
    }
    say(error.code === "printing_off" ? S.printing_off
        : fill(S.failed, {message: error.message || res.status}));
  }

  async function reissue(person) {
    if (!window.confirm(fill(S.reissue_confirm, {name: person.name}))) return;
    const res = await attempt("POST", `/api/v1/participants/${person.id}/reissue-and-print`,
                              {confirm: true});
    if (!res) return;
    if (res.status === 202) { showJob(res.data.job, person.name); return; }
    const error = (res.data && res.data.error) || {};
    say(error.code === "printing_off" ? S.printing_off
        : fill(S.failed, {message: error.message || res.status}));
  }

  function say(text) {
    const line = $("desk-job");
    line.hidden = false;
    line.dataset.state = "info";
    line.textContent = text;
  }

  $("walk-in-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const body = {};
    for (const name of FIELDS) {
      body[name] = form.elements[name].value.trim();
      form.elements[name].removeAttribute("aria-invalid");
      $(`wi-${name}-error`).textContent = "";
    }
    const res = await attempt("POST", "/api/v1/participants", body);
    if (!res) return;
    const data = res.data || {};
    if (res.status === 201) {
      const p = data.participant;
      const person = {id: p.id, name: `${p.first_name} ${p.last_name}`};
      $("desk-person-text").textContent = fill(S.registered, {name: person.name});
      choose(person);
      form.reset();
      $("desk-print").focus();
      return;
    }
    if (res.status === 400 && data.error && data.error.fields) {
      let first = null;
      for (const [name, message] of Object.entries(data.error.fields)) {
        const input = form.elements[name];
        if (!input) continue;
        input.setAttribute("aria-invalid", "true");
        $(`wi-${name}-error`).textContent = message;
        first = first || input;
      }
      say(S.fix_fields);
      if (first) first.focus();
      return;
    }
    if (res.status === 409 && data.error && data.error.participant) {
      const p = data.error.participant;
      const person = {id: p.id, name: `${p.first_name} ${p.last_name}`};
      $("desk-person-text").textContent = fill(S.already, {name: person.name,
                                                          organisation: p.organisation});
      choose(person);
      return;
    }
    say(fill(S.failed, {message: (data.error && data.error.message) || res.status}));
  });

  $("desk-print").addEventListener("click", () => { if (current) print(current, false); });

  $("lost-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = $("lost-q").value.trim();
    const list = $("lost-results");
    list.textContent = "";
    if (q.length < 2) return;
    const res = await attempt("GET", "/api/v1/participants?q=" + encodeURIComponent(q));
    if (!res) return;
    const found = (res.data && res.data.participants) || [];
    if (!found.length) { say(S.none_found); return; }
    for (const p of found) {
      const li = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = `${p.name} · ${p.organisation || ""} · ${p.city || ""}`;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = S.reissue;
      const who = document.createElement("span");
      who.className = "visually-hidden";
      who.textContent = " " + p.name;
      button.append(who);
      button.addEventListener("click", () => reissue({id: p.id, name: p.name}));
      // A registered person whose badge was not printed before the day: print it here.
      const printButton = document.createElement("button");
      printButton.type = "button";
      printButton.className = "button";
      printButton.textContent = S.print;
      const whom = who.cloneNode(true);
      printButton.append(whom);
      printButton.addEventListener("click", () => print({id: p.id, name: p.name}, false));
      li.append(label, " ", printButton, " ", button);
      list.append(li);
    }
  });

  /** Offline: say what waits for the server, and no button pretends to work. */
  function connection() {
    const offline = !navigator.onLine || !UI.isOnline();
    $("desk-offline").hidden = !offline;
    panel.dataset.offline = String(offline);
    for (const button of panel.querySelectorAll("button")) button.disabled = offline;
  }

  function update() { panel.hidden = !isDesk(); }
  update();
  connection();
  UI.onChange(connection);
  window.addEventListener("storage", update);
  window.addEventListener("offline", connection);
  window.addEventListener("online", connection);
})();
