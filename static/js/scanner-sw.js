/* Service worker for the scanner: keeps the page and its files so that a reload without
   network still shows a working scanner. The server fills in the version and file list. */
"use strict";

const VERSION = "__VERSION__";
const CACHE = "checkin-scanner-" + VERSION;
const PAGE = "__PAGE__";
const ASSETS = "__ASSETS__";
const PAGE_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS.map((url) => new Request(url, {cache: "reload"})));
    // The page itself with the browser's cookies, so an organiser's page stays an organiser's.
    const page = await fetch(PAGE, {credentials: "same-origin", cache: "reload"});
    if (page.ok) await cache.put(PAGE, page);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("checkin-scanner-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function isPage(url) {
  return url.pathname === PAGE;
}

async function pageResponse(request) {
  // Network first (the page carries the current language and code), the kept copy when
  // the network fails or hangs.
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), PAGE_WAIT_MS)),
    ]);
    if (response.ok) await cache.put(PAGE, response.clone());
    return response;
  } catch (e) {
    const kept = await cache.match(PAGE);
    if (kept) return kept;
    throw e;
  }
}

async function assetResponse(request) {
  // Cache first: the version in the cache name changes whenever a file changes.
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, {ignoreSearch: true});
  if (kept) return kept;
  return fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && isPage(url)) {
    event.respondWith(pageResponse(request));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(assetResponse(request));
  }
  // Everything else (the API above all) goes to the network untouched.
});
