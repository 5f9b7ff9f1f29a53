/* The badge mailing's progress on the Participants page, polled while a run is going. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("mail-config").textContent);
  const S = config.strings;
  const box = document.getElementById("mail-run");
  const bar = document.getElementById("mail-progress");
  const line = document.getElementById("mail-status");
  const fill = (t, v) => t.replace(/\{(\w+)\}/g, (m, k) => (k in v ? String(v[k]) : m));
  let wasRunning = false;

  async function poll() {
    let state;
    try {
      const res = await fetch(config.progress, {credentials: "same-origin", cache: "no-store"});
      state = await res.json();
    } catch (e) {
      setTimeout(poll, 2000);
      return;
    }
    if (state.running || state.total) box.hidden = false;
    bar.max = Math.max(1, state.total);
    bar.value = state.done;
    if (state.running) {
      wasRunning = true;
      line.textContent = fill(S.running, state);
      setTimeout(poll, 1000);
      return;
    }
    line.textContent = state.problem ? fill(S.problem, {reason: state.problem})
      : state.stopped ? fill(S.stopped, {reason: state.stopped}) : fill(S.finished, state);
    // The counts and the failures list come from the server: show them fresh once done.
    if (wasRunning) setTimeout(() => location.reload(), 1500);
  }
  poll();
})();
