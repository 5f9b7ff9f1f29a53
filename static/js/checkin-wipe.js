/* A revoked device forgets everything it stored (issue 8). When the server refuses this
   device's token it answers with `X-Checkin-Wipe: storage`, and this script deletes the
   device token and its copies in localStorage, every IndexedDB store (the scan queue, the
   encrypted roster, a guide's cached list, a roll call and a marshal's snapshot of who is
   present) and the service worker's caches.
   The scans still queued are counted first and the count stays in the tombstone: the server
   refuses them (a stolen tablet must not inject scans), so the removed screen tells the
   volunteer how many people to scan again on another device.
   Load it before the page's other scripts: it watches every fetch. Exposes window.CheckinWipe. */
(function () {
  "use strict";

  const DATABASES = ["checkin-scanner", "checkin-guide", "checkin-rollcall",
                     "checkin-rollcall-guide"];
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

  /** How many scans wait in the scanner's queue (0 where there is none). */
  function unsentScans() {
    return new Promise((resolve) => {
      let request;
      try {
        request = indexedDB.open("checkin-scanner");
      } catch (e) {
        resolve(0);
        return;
      }
      request.onupgradeneeded = () => request.transaction.abort();
      request.onerror = () => resolve(0);
      request.onsuccess = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains("queue")) {
          db.close();
          resolve(0);
          return;
        }
        const all = db.transaction(["queue"], "readonly").objectStore("queue").getAll();
        all.onsuccess = () => {
          db.close();
          resolve(all.result.filter((i) => i.kind === "scan").length);
        };
        all.onerror = () => {
          db.close();
          resolve(0);
        };
      };
    });
  }

  function tombstone() {
    try {
      const dev = JSON.parse(localStorage.getItem(DEVICE_KEY) || "null");
      return dev && dev.removed ? dev : null;
    } catch (e) {
      return null;
    }
  }

  function bury(unsent) {
    // A tombstone without token or name, so the page can still say "this device was
    // removed" rather than "never paired", and how many scans were refused; pairing again
    // replaces it.
    localStorage.setItem(DEVICE_KEY, JSON.stringify(unsent ? {removed: true, unsent}
                                                           : {removed: true}));
  }

  async function wipeOnce() {
    // Refusals answered one after the other each wipe: the count of the first stays.
    const before = tombstone();
    let total = before && before.unsent ? before.unsent : 0;
    try {
      // At once, before anything is awaited: no answer may read the token after this.
      for (const key of Object.keys(localStorage)) {
        if (key.startsWith("checkin.")) localStorage.removeItem(key);
      }
      bury(total);
      sessionStorage.clear();
    } catch (e) { /* storage blocked: nothing stored either */ }
    const unsent = await unsentScans();
    if (unsent) {
      total += unsent;
      try { bury(total); } catch (e) { /* storage blocked */ }
    }
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
    window.dispatchEvent(new CustomEvent("checkin:wiped", {detail: {unsent: total}}));
  }

  let wiping = null;
  /** Wipe the device; refusals that arrive together share one wipe (one count). */
  function wipe() {
    if (!wiping) wiping = wipeOnce().finally(() => { wiping = null; });
    return wiping;
  }

  /** The scans this device made that the server refused when it was removed. */
  function refusedScans() {
    const dead = tombstone();
    return dead && dead.unsent ? dead.unsent : 0;
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
  window.CheckinWipe = {wipe, check, refusedScans};
})();
