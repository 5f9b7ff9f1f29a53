/* IndexedDB in promises, shared by the scanner's queue (scanner-store.js) and the guide's
   page (guide.js). Exposes window.CheckinIDB = {open, transact, req}. */
(function () {
  "use strict";

  /** A request's result as a promise. */
  function req(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  /** Run fn(stores...) in one transaction of the database (a promise); resolves with fn's
      value once the transaction is committed, rejects when it fails or aborts. */
  async function transact(database, names, mode, fn) {
    const db = await database;
    return new Promise((resolve, reject) => {
      const t = db.transaction(names, mode);
      let value;
      t.oncomplete = () => resolve(value);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error || new Error("transaction aborted"));
      Promise.resolve(fn(...names.map((n) => t.objectStore(n)))).then((v) => { value = v; });
    });
  }

  /** A database opened on first use (upgrade(db) creates its stores), with its own
      transact(names, mode, fn). Name and version stay fixed: devices keep what they hold. */
  function open(name, version, upgrade) {
    let opening = null;
    function database() {
      if (!opening) {
        opening = new Promise((resolve, reject) => {
          const request = indexedDB.open(name, version);
          request.onupgradeneeded = () => upgrade(request.result);
          request.onsuccess = () => {
            // A revoked device's wipe deletes the database (checkin-wipe.js): let it go.
            request.result.onversionchange = () => request.result.close();
            resolve(request.result);
          };
          request.onerror = () => reject(request.error);
        });
      }
      return opening;
    }
    return {transact: (names, mode, fn) => transact(database(), names, mode, fn)};
  }

  window.CheckinIDB = {open, transact, req};
})();
