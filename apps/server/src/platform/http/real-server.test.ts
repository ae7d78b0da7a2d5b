import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServerProcess, type ServerProcess } from '../../testing/server-process.js';

/**
 * The server as `npm start` runs it (a real process, the web app served): errors leave in the
 * documented shape. (Fastify binds a route's error handler when the route is added; inject-based
 * tests once passed while the real process answered with Fastify's default shape.)
 */
describe('errors from a real server process', () => {
  let server: ServerProcess;
  let dir: string;
  let web: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-real-'));
    web = fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-web-'));
    fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>平安</title>');
    server = await startServerProcess({ PINGAN_DATA_DIR: dir, PINGAN_DEMO: 'off', PINGAN_WEB_DIST: web });
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(web, { recursive: true, force: true });
  });

  const post = (p: string, body: string) => fetch(`${server.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('answers domain errors, validation errors and unknown routes in the documented shape', async () => {
    const wrong = await post('/api/auth/login', JSON.stringify({ username: 'nobody', password: 'x' }));
    assert.equal(wrong.status, 401);
    assert.deepEqual(Object.keys((await wrong.json()) as object).sort(), ['error', 'message']);
    const bad = await post('/api/auth/login', JSON.stringify({ username: 1 }));
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { error: string; message: string; issues: { field: string }[] };
    assert.equal(body.error, 'validation');
    assert.equal(body.issues[0]!.field, 'body.username');
    const missing = await fetch(`${server.url}/api/nope`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: string }).error, 'not_found');
    const page = await fetch(`${server.url}/some/client/route`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /平安/);
  });
});
