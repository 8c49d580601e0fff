// The service worker: the pages open without signal. The server serves this file as /sw.js
// with one line in front of it (self.GRIDPOINTS_OFFLINE): the cache version, a hash of every
// static file, and the pages, styles and scripts to keep (sign-in, 我的, 签到, 我的记录).
// A changed file changes the version, so the new worker fills a new cache and drops the old.
//
// Pages and their files come from the cache first (a reload or Back with no signal shows the
// page, not the browser's error page). API answers are never kept: /api/ goes to the network.

const OFFLINE = self.GRIDPOINTS_OFFLINE || { version: "dev", files: [] };
const PREFIX = "gridpoints-";
const CACHE = PREFIX + OFFLINE.version;
// Never answered by the worker: the browser fetches these itself, as without a worker.
const NETWORK_ONLY = ["/api/", "/schema", "/healthz", "/readyz", "/sw.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(OFFLINE.files.map((file) => new Request(file, { cache: "no-cache" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.map((name) => {
        if (name.indexOf(PREFIX) === 0 && name !== CACHE) return caches.delete(name);
        return null;
      })))
      .then(() => self.clients.claim()),
  );
});

function networkOnly(url) {
  if (url.origin !== self.location.origin) return true;
  for (const prefix of NETWORK_ONLY) {
    if (url.pathname.indexOf(prefix) === 0) return true;
  }
  return false;
}

// The cache key of a page: "/" is the sign-in page; the query (?a=…&t=…) is not part of it.
function pageKey(url) {
  const path = url.pathname === "/" ? "/index.html" : url.pathname;
  return new Request(url.origin + path);
}

async function answer(request, url) {
  const cache = await caches.open(CACHE);
  const navigate = request.mode === "navigate";
  const key = navigate ? pageKey(url) : request;
  const kept = await cache.match(key, { ignoreSearch: navigate });
  if (kept) return kept;
  const response = await fetch(request);
  // Other pages are kept as they are first fetched; a new version starts a new cache.
  if (response.ok && response.type === "basic" && !response.redirected) {
    cache.put(key, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (networkOnly(url)) return;
  event.respondWith(answer(request, url));
});
