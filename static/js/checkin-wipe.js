/* A revoked device forgets everything it stored (issue 8). When the server refuses this
   device's token it answers with `X-Checkin-Wipe: storage`, and this script deletes the
   device token and its copies in localStorage, every IndexedDB store (the scan queue, the
   encrypted roster, a guide's cached list) and the service worker's caches.
   Load it before the page's other scripts: it watches every fetch. Exposes window.CheckinWipe. */
(function () {
  "use strict";

  const DATABASES = ["checkin-scanner", "checkin-guide"];
  const DEVICE_KEY = "checkin.device";
  const CHECK_MS = 60000;

  function clearDatabase(name) {
    // Emptying every store works while the page still holds the database open, where
    // deleteDatabase would wait for the page to close; the delete is queued as well.
    return new Promise((resolve) => {
      let request;
      try {
        request = indexedDB.open(name);
      } catch (e) {
        resolve();
        return;
      }
      // Never create a database that is not there: the page would then find it without
      // its stores (same version, no upgrade) when it is paired again.
      request.onupgradeneeded = () => request.transaction.abort();
      request.onerror = () => resolve();
      request.onsuccess = () => {
        const db = request.result;
        const names = Array.from(db.objectStoreNames);
        if (!names.length) {
          db.close();
          resolve();
          return;
        }
        const t = db.transaction(names, "readwrite");
        for (const n of names) t.objectStore(n).clear();
        t.oncomplete = t.onerror = t.onabort = () => {
          db.close();
          try { indexedDB.deleteDatabase(name); } catch (e) { /* nothing left to do */ }
          resolve();
        };
      };
    });
  }

  async function wipe() {
    try {
      for (const key of Object.keys(localStorage)) {
        if (key.startsWith("checkin.")) localStorage.removeItem(key);
      }
      // A tombstone without token or name, so the page can still say "this device was
      // removed" rather than "never paired"; pairing again replaces it.
      localStorage.setItem(DEVICE_KEY, JSON.stringify({removed: true}));
      sessionStorage.clear();
    } catch (e) { /* storage blocked: nothing stored either */ }
    await Promise.all(DATABASES.map(clearDatabase));
    try {
      if (window.caches) {
        for (const key of await caches.keys()) {
          if (key.startsWith("checkin-")) await caches.delete(key);
        }
      }
      if (navigator.serviceWorker) {
        for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
      }
    } catch (e) { /* not available here */ }
    document.documentElement.dataset.wiped = "yes";
  }

  function refused(res) {
    return res && res.status === 401 && res.headers.get("X-Checkin-Wipe") === "storage";
  }

  const original = window.fetch.bind(window);
  window.fetch = async function (...args) {
    const res = await original(...args);
    if (refused(res)) await wipe();
    return res;
  };

  /** Ask the server whether the stored token still works (a display only has a socket). */
  async function check() {
    let dev = null;
    try {
      dev = JSON.parse(localStorage.getItem(DEVICE_KEY) || "null");
    } catch (e) { /* unreadable: nothing to check */ }
    if (!dev || !dev.token) return;
    try {
      await window.fetch("/api/v1/me", {headers: {Authorization: "Bearer " + dev.token},
                                        cache: "no-store"});
    } catch (e) { /* offline: check again later */ }
  }

  check();
  setInterval(check, CHECK_MS);
  window.CheckinWipe = {wipe, check};
})();
