import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FetchSource, PMTiles } from 'pmtiles';
import { createTestApp, type TestApp } from '../../testing/app.js';
import { buildPmtiles, solidPng } from '../../testing/pmtiles.js';
import { parseRange } from './routes.js';

describe('basemap: the operator’s PMTiles file, served with Range requests', () => {
  let t: TestApp;
  let bare: TestApp;
  let dir: string;
  let file: string;
  let archive: Buffer;
  const tile = solidPng([255, 0, 255]);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-basemap-'));
    file = path.join(dir, 'county.pmtiles');
    archive = buildPmtiles([{ z: 0, x: 0, y: 0, data: tile }]);
    fs.writeFileSync(file, archive);
    // The setting is read when the routes are made: one app with the file, one without.
    process.env.PINGAN_BASEMAP_PMTILES = file;
    try {
      t = await createTestApp();
    } finally {
      delete process.env.PINGAN_BASEMAP_PMTILES;
    }
    bare = await createTestApp();
  });
  after(async () => {
    await t?.close();
    await bare?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (app: TestApp, headers: Record<string, string> = {}) =>
    app.as('grid_worker', 'below', { method: 'GET', url: '/api/map/basemap.pmtiles', headers });

  it('tells the maps where the basemap is, and that there is none when unconfigured', async () => {
    const on = await t.as('dispatcher', 'self', { url: '/api/map/config' });
    assert.equal(on.statusCode, 200, on.body);
    assert.deepEqual(on.json(), { basemap: { url: '/api/map/basemap.pmtiles', bytes: archive.length } });
    const off = await bare.as('dispatcher', 'self', { url: '/api/map/config' });
    assert.deepEqual(off.json(), { basemap: null });
  });

  it('answers a range with 206 and exactly those bytes', async () => {
    const res = await get(t, { range: 'bytes=0-126' });
    assert.equal(res.statusCode, 206);
    assert.equal(res.headers['content-range'], `bytes 0-126/${archive.length}`);
    assert.equal(res.headers['accept-ranges'], 'bytes');
    assert.deepEqual(res.rawPayload, archive.subarray(0, 127));
    assert.equal(res.rawPayload.subarray(0, 7).toString('ascii'), 'PMTiles');

    const mid = await get(t, { range: 'bytes=130-199' });
    assert.equal(mid.statusCode, 206);
    assert.deepEqual(mid.rawPayload, archive.subarray(130, 200));

    // The reader asks for the first 16 KiB of a smaller file: the end is clamped, not refused.
    const big = await get(t, { range: 'bytes=0-16383' });
    assert.equal(big.statusCode, 206);
    assert.equal(big.headers['content-range'], `bytes 0-${archive.length - 1}/${archive.length}`);
    assert.deepEqual(big.rawPayload, archive);

    const suffix = await get(t, { range: 'bytes=-10' });
    assert.equal(suffix.statusCode, 206);
    assert.deepEqual(suffix.rawPayload, archive.subarray(archive.length - 10));

    const open = await get(t, { range: `bytes=${archive.length - 5}-` });
    assert.deepEqual(open.rawPayload, archive.subarray(archive.length - 5));
  });

  it('answers 200 with the whole file without a range, and 416 for a bad one', async () => {
    const whole = await get(t);
    assert.equal(whole.statusCode, 200);
    assert.deepEqual(whole.rawPayload, archive);
    assert.equal(Number(whole.headers['content-length']), archive.length);

    for (const bad of [`bytes=${archive.length}-`, `bytes=${archive.length + 100}-${archive.length + 200}`, 'bytes=50-10', 'bytes=abc', 'bytes=-0', 'bytes=-']) {
      const res = await get(t, { range: bad });
      assert.equal(res.statusCode, 416, `${bad}: ${res.statusCode} ${res.body}`);
      assert.equal(res.headers['content-range'], `bytes */${archive.length}`);
      assert.match(res.json().message, /range/);
    }
    // A stale If-Range: the client's copy is of another file, so it gets the whole current one.
    const stale = await get(t, { range: 'bytes=0-9', 'if-range': '"old"' });
    assert.equal(stale.statusCode, 200);
    const fresh = await get(t, { range: 'bytes=0-9', 'if-range': String((await get(t)).headers.etag) });
    assert.equal(fresh.statusCode, 206);
  });

  it('answers 404 when no basemap is configured, and 401 without a session', async () => {
    const res = await get(bare, { range: 'bytes=0-10' });
    assert.equal(res.statusCode, 404);
    assert.match(res.json().message, /PINGAN_BASEMAP_PMTILES/);
    const anon = await t.app.inject({ url: '/api/map/basemap.pmtiles' });
    assert.equal(anon.statusCode, 401);
  });

  it('is read by the PMTiles library over HTTP: header, then the tile', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as { port: number };
    const headers = new Headers(await t.session('community_officer', 'self'));
    const reader = new PMTiles(new FetchSource(`http://127.0.0.1:${port}/api/map/basemap.pmtiles`, headers));
    const header = await reader.getHeader();
    assert.equal(header.specVersion, 3);
    assert.equal(header.tileType, 2);
    assert.equal(header.maxZoom, 0);
    const got = await reader.getZxy(0, 0, 0);
    assert.ok(got, 'tile 0/0/0 found');
    assert.deepEqual(Buffer.from(got.data), tile);
    assert.equal(await reader.getZxy(1, 0, 0), undefined, 'no tile beyond the archive’s zooms');
    assert.deepEqual(await reader.getMetadata(), { name: 'test basemap' });
  });
});

describe('parseRange', () => {
  it('reads the forms of RFC 9110 byte ranges', () => {
    assert.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
    assert.deepEqual(parseRange('bytes=3-', 10), { start: 3, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=-30', 10), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=2-100', 10), { start: 2, end: 9 });
    assert.equal(parseRange(undefined, 10), null);
    assert.equal(parseRange('items=0-1', 10), null, 'another unit is ignored');
    assert.equal(parseRange('bytes=0-1,4-5', 10), null, 'several ranges: the whole file');
    assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  });
});
