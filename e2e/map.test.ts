/**
 * The shared map kit in a real browser, with an operator's PMTiles basemap configured: the command map
 * fetches the basemap by HTTP Range from the app's own origin and draws it under the GeoJSON layers;
 * names are HTML labels (stations, incidents, units); the heat layer shows recent incidents; unit
 * positions arrive pushed over the WebSocket (no polling) on the command map and the units live map,
 * and a sibling station's live map never shows them.
 *
 *   node --import tsx e2e/run.ts map
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { buildPmtiles, solidPng } from '../apps/server/src/testing/pmtiles.js';
import { labelPoint } from '../apps/web/src/map/geo.js';
import type { AreaGeometry } from '../apps/web/src/api/types.js';
import { apiOf, skipReason, startHarness, type Harness } from './harness.js';

const skip = skipReason();
if (skip) console.log(skip);

/** The RGB of a pixel of the page's map canvas (the map keeps its drawing buffer). */
async function pixel(page: Page, testId: string, x: number, y: number): Promise<[number, number, number]> {
  return page.evaluate(
    ({ testId, x, y }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`[data-testid="${testId}"] canvas`);
      if (!canvas) return [0, 0, 0] as [number, number, number];
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const ctx = copy.getContext('2d')!;
      ctx.drawImage(canvas, 0, 0);
      const d = ctx.getImageData(x, y, 1, 1).data;
      return [d[0]!, d[1]!, d[2]!] as [number, number, number];
    },
    { testId, x, y },
  );
}

describe('maps: basemap, labels, heat layer, pushed positions', { skip }, () => {
  let h: Harness;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-e2e-basemap-'));
    const file = path.join(dir, 'basemap.pmtiles');
    // One magenta world tile: where it shows, nothing else on the map is that colour.
    fs.writeFileSync(file, buildPmtiles([{ z: 0, x: 0, y: 0, data: solidPng([255, 0, 255]) }]));
    process.env.PINGAN_BASEMAP_PMTILES = file;
    try {
      h = await startHarness();
    } finally {
      delete process.env.PINGAN_BASEMAP_PMTILES;
    }
  });
  after(async () => {
    await h?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws the operator’s basemap under the command map, read by ranges from the app itself', async () => {
    const page = await h.newPage({ width: 1600, height: 900 });
    const ranges: { range: string; status: number }[] = [];
    const external: string[] = [];
    page.on('response', (res) => {
      const url = new URL(res.url());
      if (url.pathname === '/api/map/basemap.pmtiles') ranges.push({ range: res.request().headers().range ?? '', status: res.status() });
      if (url.origin !== new URL(h.baseUrl).origin && !url.protocol.startsWith('data') && !url.protocol.startsWith('blob')) external.push(res.url());
    });
    await h.login(page, 'dispatcher');
    await page.locator('[data-testid="command-map"][data-basemap="raster"]').waitFor();
    // The header read, then the tile: each a 206 for the bytes asked.
    for (let i = 0; i < 100 && !ranges.some((r) => r.status === 206 && !r.range.startsWith('bytes=0-')); i++) await page.waitForTimeout(100);
    console.log(`# basemap requests: ${JSON.stringify(ranges)}`);
    assert.ok(ranges.some((r) => r.status === 206 && r.range.startsWith('bytes=0-')), 'the header is read by a range request');
    assert.ok(ranges.some((r) => r.status === 206 && /^bytes=[1-9]\d*-\d+$/.test(r.range)), 'a tile is read by a range request');
    assert.deepEqual(external, [], 'nothing is fetched from outside the app');
    // A corner outside the county's polygons shows the basemap's colour.
    let rgb: [number, number, number] = [0, 0, 0];
    for (let i = 0; i < 50; i++) {
      rgb = await pixel(page, 'command-map', 3, 3);
      if (rgb[0] > 200 && rgb[1] < 100 && rgb[2] > 200) break;
      await page.waitForTimeout(200);
    }
    console.log(`# corner pixel of the command map: rgb(${rgb.join(', ')})`);
    assert.ok(rgb[0] > 200 && rgb[1] < 100 && rgb[2] > 200, `the corner is the basemap's magenta, got rgb(${rgb.join(', ')})`);
  });

  it('names stations, incidents and units on the command map, and shows the heat of recent incidents', async () => {
    const page = await h.newPage({ width: 1600, height: 900 });
    await h.login(page, 'dispatcher');
    await page.locator('[data-testid="stream-state"][data-state="live"]').waitFor();
    const api = await apiOf(page);
    type Hit = { id: string; name: string };
    const station = (await api.get<{ items: Hit[] }>(`/api/jurisdictions/search?q=${encodeURIComponent('李鹊派出所')}`)).items[0]!;
    const detail = await api.get<{ children: { geometry: AreaGeometry | null }[] }>(`/api/jurisdictions/${station.id}`);
    const at = labelPoint(detail.children.find((c) => c.geometry)!.geometry)!;
    const taken = await api.post<{ id: string; number: string }>('/api/incidents', {
      content: '地图标注测试：有人打架',
      category: 'public_order.fight',
      priority: 2,
      location: { lon: at[0], lat: at[1] },
    });
    await page.locator('[data-testid="map-label-station"]', { hasText: '李鹊派出所' }).waitFor();
    await page.locator(`[data-testid="map-label-incident"][data-incident="${taken.id}"]`).waitFor({ state: 'attached' });
    assert.match(await page.locator(`[data-testid="map-label-incident"][data-incident="${taken.id}"]`).innerText(), new RegExp(`^${taken.number.slice(-4)} \\S`));

    await page.getByTestId('map-heat-toggle').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="command-map"]')?.getAttribute('data-heat') || 0) > 0);
    console.log(`# heat cells (last 30 days): ${await page.getByTestId('command-map').getAttribute('data-heat')}`);
    await page.getByTestId('map-labels-toggle').click();
    await page.locator('[data-testid="map-label-station"]').first().waitFor({ state: 'detached' });
  });

  it('moves a unit on the command map and the live map as its positions are pushed, never on a sibling station’s map', async () => {
    const desk = await h.newPage({ width: 1600, height: 900 });
    await h.login(desk, 'dispatcher');
    await desk.locator('[data-testid="stream-state"][data-state="live"]').waitFor();
    const lique = await h.newPage();
    await h.login(lique, 'leader.lique');
    await lique.goto('/units/live');
    const dawang = await h.newPage();
    await h.login(dawang, 'leader.dawang');
    await dawang.goto('/units/live');
    for (const p of [lique, dawang]) await p.waitForFunction(() => (document.querySelector('[data-testid="live-map"]')?.getAttribute('data-drawn') ?? '') !== '');

    const api = await apiOf(desk);
    type Unit = { id: string; callSign: string; onDuty: boolean; homeNodeId: string };
    const station = (await api.get<{ items: { id: string }[] }>(`/api/jurisdictions/search?q=${encodeURIComponent('李鹊派出所')}`)).items[0]!;
    const unit = (await api.get<{ items: Unit[] }>(`/api/units?nodeId=${station.id}`)).items.find((u) => u.onDuty);
    assert.ok(unit, 'an on-duty unit of 李鹊');
    const detail = await api.get<{ geometry: AreaGeometry | null }>(`/api/jurisdictions/${station.id}`);
    const [lon0, lat0] = labelPoint(detail.geometry)!;

    // Count the polls: the moves must arrive without any.
    let polls = 0;
    for (const p of [desk, lique, dawang]) p.on('request', (r) => void (new URL(r.url()).pathname === '/api/units/live' && polls++));
    const started = Date.now();
    for (let k = 1; k <= 2; k++) {
      const lon = Math.round((lon0 + k * 0.0004) * 1e6) / 1e6;
      const lat = Math.round(lat0 * 1e6) / 1e6;
      const sent = Date.now();
      const answer: { stored: number; counts: Record<string, number> } = await api.post('/api/units/positions', {
        unitId: unit.id,
        points: [{ t: new Date(sent - (3 - k) * 10_000).toISOString(), lon, lat, accuracy: 5 }],
      });
      assert.equal(answer.stored, 1, JSON.stringify(answer));
      await desk.locator(`[data-testid="map-label-unit"][data-unit="${unit.id}"][data-at="${lon},${lat}"]`).waitFor({ state: 'attached' });
      const onDesk = Date.now() - sent;
      await lique.locator(`[data-testid="live-marker"][data-unit="${unit.id}"][data-at="${lon},${lat}"]`).waitFor({ state: 'attached' });
      console.log(`# move ${k}: on the command map after ${onDesk} ms, on the station's live map after ${Date.now() - sent} ms`);
    }
    assert.equal(polls, 0, 'no screen polled /api/units/live while the unit moved');
    assert.equal(await dawang.locator(`[data-testid="live-marker"][data-unit="${unit.id}"]`).count(), 0, 'the sibling station never sees the unit');
    console.log(`# two moves pushed in ${Date.now() - started} ms`);
  });
});
