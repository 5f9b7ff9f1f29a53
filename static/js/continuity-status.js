/* Reloads the replica's status on the organisers' overview every 10 seconds, so an alert
   appears when replication stops. */
(function () {
  "use strict";
  const box = document.getElementById("continuity-status");
  if (!box) return;
  async function reload() {
    try {
      const res = await fetch(box.dataset.url, {cache: "no-store", credentials: "same-origin"});
      if (res.ok) box.innerHTML = await res.text();
    } catch (e) { /* offline: keep what is shown */ }
  }
  setInterval(reload, 10000);
})();
