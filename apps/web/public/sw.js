/*
 * Ping'an service worker: makes the terminal installable and usable on a bad connection.
 * - HTML (navigations): network first, the cached copy only when the network fails, so a new build
 *   is picked up at once and a stale app shell is never served while the server answers.
 * - /assets/*: content-hashed by Vite, so cache first is safe (a new build has new names).
 * - /api/*, WebSockets and everything else: never cached.
 */
const VERSION = 'pingan-sw-1';
const SHELL = `${VERSION}-shell`;
const ASSETS = `${VERSION}-assets`;

self.addEventListener('install', (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const keep = new Set([SHELL, ASSETS]);
      for (const key of await caches.keys()) if (!keep.has(key)) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;

  if (req.mode === 'navigate') {
    event.respondWith(
      (async () => {
        try {
          const fresh = await fetch(req, { cache: 'no-store' });
          if (fresh.ok) {
            const cache = await caches.open(SHELL);
            await cache.put('/index.html', fresh.clone());
          }
          return fresh;
        } catch {
          const cached = await caches.match('/index.html');
          return cached || new Response('offline', { status: 503, headers: { 'content-type': 'text/plain' } });
        }
      })(),
    );
    return;
  }

  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      (async () => {
        const cached = await caches.match(req);
        if (cached) return cached;
        const res = await fetch(req);
        if (res.ok) {
          const cache = await caches.open(ASSETS);
          await cache.put(req, res.clone());
        }
        return res;
      })(),
    );
  }
});
