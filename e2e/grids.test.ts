/**
 * The grids map, polygon editing, grid import and the public contact card against the real server,
 * as the Li Que station leader (leader.lique), and the screenshots grids-map.png, grid-card.png and
 * grid-import.png in docs/screenshots/.
 *
 *   node --import tsx e2e/run.ts grids
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { screenshotDir, skipReason, startHarness, type Harness } from './harness.js';

const skip = skipReason();
if (skip) console.log(skip);

type Ring = number[][];
interface Geometry {
  type: 'Polygon' | 'MultiPolygon';
  coordinates: Ring[] | Ring[][];
}

const outerRing = (g: Geometry): Ring => (g.type === 'Polygon' ? (g.coordinates as Ring[])[0]! : (g.coordinates as Ring[][])[0]![0]!);

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, name), fullPage });
}

/** Wait until the grids map has drawn the node (MapLibre idle after the data arrived). */
async function mapDrawn(page: Page, nodeId?: string): Promise<void> {
  const sel = nodeId ? `[data-testid="grids-map"][data-drawn="${nodeId}"]` : '[data-testid="grids-map"]:not([data-drawn=""])';
  await page.locator(sel).waitFor({ timeout: 30_000 });
}

async function apiGet<T>(page: Page, url: string): Promise<T> {
  const res = await page.request.get(url);
  assert.equal(res.status(), 200, `${url}: ${await res.text()}`);
  return (await res.json()) as T;
}

describe('grids map, editing, import and public card', { skip }, () => {
  let h: Harness;
  let villageId = '';
  let microId = '';
  let originalRing: Ring = [];
  let cardSlug = '';

  before(async () => {
    h = await startHarness();
  });

  after(async () => {
    await h?.close();
  });

  it("shows Li Que's grids with Chinese labels, finds a village by search and opens its team and card", async () => {
    const page = await h.newPage();
    await h.login(page, 'leader.lique');
    await page.getByTestId('nav-grids').click();
    await page.waitForURL('**/grids');
    await mapDrawn(page);
    // The station's villages are labelled in Chinese.
    await page.locator('[data-testid="grids-label"]:visible', { hasText: '村' }).first().waitFor();
    assert.match(await page.getByTestId('grids-breadcrumb').innerText(), /李鹊派出所/);
    // With the station's micro-grids drawn beneath its villages (about 1,337 in the demo county).
    await page.locator('[data-testid="grids-map"]:not([data-sub="0"])').waitFor({ timeout: 30_000 });
    const micro = Number(await page.getByTestId('grids-map').getAttribute('data-sub'));
    assert.ok(micro > 1000, `Li Que's micro-grids are drawn (${micro})`);
    await shot(page, 'grids-map.png');

    // Search by name.
    await page.locator('[data-testid="grids-search"] input').fill('东水村');
    await page.locator('.ant-select-item-option', { hasText: '东水村网格' }).first().click();
    await page.waitForURL(/sel=/);
    villageId = new URL(page.url()).searchParams.get('node') ?? '';
    assert.ok(villageId, 'the map opened the village');
    await mapDrawn(page, villageId);
    assert.equal(await page.getByTestId('grid-panel-name').innerText(), '东水村网格');
    assert.match(await page.getByTestId('grids-breadcrumb').innerText(), /李鹊派出所[\s\S]*东水村网格/);

    // Its 4+N+N team, phones masked until revealed.
    await page.getByTestId('grid-team-member').first().waitFor();
    const members = await page.getByTestId('grid-team-member').allInnerTexts();
    assert.ok(members.length >= 4, `a 4+N+N team (${members.length} members)`);
    for (const duty of ['网格长', '网格指导员', '网格民警', '专职网格员']) {
      assert.ok(members.some((m) => m.includes(duty)), `the team has a ${duty}`);
    }
    const masked = await page.getByTestId('grid-team-phone').allInnerTexts();
    assert.ok(masked.length > 0 && masked.every((p) => /\d{3}\*{4}\d{4}/.test(p)), `phones masked: ${masked.join(', ')}`);
    const revealed = page.waitForResponse((r) => r.url().includes('/team?reveal=phone'));
    await page.getByTestId('grid-team-reveal').click();
    await revealed;
    await page.locator('[data-testid="grid-team-phone"]', { hasText: /1\d{10}/ }).first().waitFor();

    // The labels of its micro-grids, in Chinese.
    await page.locator('[data-testid="grids-label"]:visible', { hasText: /东水村第\d+微网格/ }).first().waitFor();
    await page.getByTestId('grid-team-reveal').click();
    await page.locator('[data-testid="grid-team-phone"]', { hasText: /\*{4}/ }).first().waitFor();

    // Its public card with the QR code.
    await page.getByTestId('grid-tab-card').click();
    await page.getByTestId('grid-card').waitFor();
    const qrOk = await page
      .getByTestId('grid-card-qr')
      .evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth > 0 : new Promise((r) => (img.onload = () => r(img.naturalWidth > 0)))));
    assert.ok(qrOk, 'the QR code image loads');
    assert.match(await page.getByTestId('grid-card-supervision').innerText(), /监督电话/);
    const href = await page.getByTestId('grid-card-public-link').getAttribute('href');
    cardSlug = href?.replace('/card/', '') ?? '';
    assert.ok(cardSlug, 'the card links to its public page');

    // Point lookup: click inside the village.
    await page.getByTestId('grids-lookup-mode').click();
    const box = (await page.getByTestId('grids-map').boundingBox())!;
    const answered = page.waitForResponse((r) => r.url().includes('/api/lookup'));
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await answered;
    await page.getByTestId('grids-lookup-chain').waitFor();
    assert.match(await page.getByTestId('grids-lookup-chain').innerText(), /李鹊派出所[\s\S]*微网格/);
  });

  it('refuses a micro-grid polygon dragged out of its village and saves one pulled inwards', async () => {
    const page = await h.newPage();
    await h.login(page, 'leader.lique');
    const hits = await apiGet<{ items: { id: string; name: string }[] }>(page, `/api/jurisdictions/search?q=${encodeURIComponent('东水村第1微网格')}`);
    microId = hits.items.find((i) => i.name === '东水村第1微网格')!.id;
    const micro = await apiGet<{ parentId: string; geometry: Geometry }>(page, `/api/jurisdictions/${microId}`);
    villageId = micro.parentId;
    originalRing = outerRing(micro.geometry);

    await page.goto(`/grids?node=${villageId}&sel=${microId}`);
    await mapDrawn(page, villageId);
    await page.getByTestId('grid-tab-edit').click();
    await page.getByTestId('grid-edit-polygon').click();
    await page.locator('[data-testid="grids-map"]:not([data-edit-vertices=""])').waitFor();
    const box = (await page.getByTestId('grids-map').boundingBox())!;
    const vertices = async () => JSON.parse((await page.getByTestId('grids-map').getAttribute('data-edit-vertices')) ?? '[]') as [number, number][];
    const drag = async (from: [number, number], to: [number, number]) => {
      await page.mouse.move(box.x + from[0], box.y + from[1]);
      await page.mouse.down();
      await page.mouse.move(box.x + to[0], box.y + to[1], { steps: 12 });
      await page.mouse.up();
    };

    // Out to the corner of the map: beyond the village's bounding box, so outside the parent.
    const v = await vertices();
    await drag(v[0]!, [8, box.height - 8]);
    await page.getByTestId('grids-edit-save').click();
    const refusal = page.getByTestId('grids-edit-refusal');
    await refusal.waitFor();
    const text = await refusal.innerText();
    assert.match(text, /服务器拒绝了新边界/);
    assert.match(text, /超出上级网格范围/);
    assert.match(text, /outside its parent/);

    // Undo, then pull the vertex 40% of the way towards the middle: accepted.
    await page.getByTestId('grids-edit-undo').click();
    const w = await vertices();
    const cx = w.reduce((s, p) => s + p[0], 0) / w.length;
    const cy = w.reduce((s, p) => s + p[1], 0) / w.length;
    const v0 = w[0]!;
    await drag(v0, [v0[0] + (cx - v0[0]) * 0.4, v0[1] + (cy - v0[1]) * 0.4]);
    const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes(`/api/jurisdictions/${microId}`));
    await page.getByTestId('grids-edit-save').click();
    assert.equal((await saved).status(), 200);
    await page.locator('[data-testid="grids-map"][data-editing=""]').waitFor();
  });

  it('imports a GeoJSON file with a broken feature: report, fix, commit with progress, new grid on the map', async () => {
    const page = await h.newPage();
    await h.login(page, 'leader.lique');
    // The gap the edit above opened: the old vertex, its neighbours and where it went.
    const now = outerRing((await apiGet<{ geometry: Geometry }>(page, `/api/jurisdictions/${microId}`)).geometry);
    const same = (a: number[], b: number[]) => Math.abs(a[0]! - b[0]!) < 1e-6 && Math.abs(a[1]! - b[1]!) < 1e-6;
    const moved = now.find((p) => !originalRing.some((q) => same(p, q)))!;
    const old = originalRing.find((q) => !now.some((p) => same(p, q)))!;
    assert.ok(moved && old, 'the edit moved one vertex');
    const i = originalRing.findIndex((q) => same(q, old));
    const n = originalRing.length - 1; // closed ring
    const prev = originalRing[(i - 1 + n) % n]!;
    const next = originalRing[(i + 1) % n]!;
    const gap = [prev, old, next, moved, prev];
    const [mx, my] = [moved[0]!, moved[1]!];
    const d = 0.0003;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-grids-')), '东水村补充微网格.geojson');
    fs.writeFileSync(
      file,
      JSON.stringify({
        type: 'FeatureCollection',
        features: [
          { type: 'Feature', properties: { code: '370523106201-90', name: '东水村第90微网格' }, geometry: { type: 'Polygon', coordinates: [gap] } },
          {
            // Broken: a bow-tie (self-intersecting ring), inside the micro-grid next to the gap.
            type: 'Feature',
            properties: { code: '370523106201-91', name: '东水村第91微网格' },
            geometry: {
              type: 'Polygon',
              coordinates: [[[mx - d, my - d], [mx - d * 3, my - d * 3], [mx - d, my - d * 3], [mx - d * 3, my - d], [mx - d, my - d]]],
            },
          },
        ],
      }),
    );

    await page.goto(`/grids?node=${villageId}&sel=${villageId}`);
    await mapDrawn(page, villageId);
    await page.getByTestId('grids-import').click();
    await page.waitForURL(/\/grids\/import\?parent=/);
    await page.getByTestId('page-grid-import').waitFor();
    await page.locator('[data-testid="grid-import-file"] input[type=file]').setInputFiles(file);
    await page.getByTestId('grid-import-validate').click();
    const report = page.getByTestId('grid-import-report');
    await report.waitFor();
    assert.equal(await report.getAttribute('data-can-commit'), 'false');
    const findings = await page.getByTestId('grid-import-findings').innerText();
    assert.match(findings, /invalid_geometry/);
    assert.match(findings, /#2 370523106201-91/);
    await shot(page, 'grid-import.png');

    await page.getByTestId('grid-import-fix-button').click();
    await page.locator('[data-testid="grid-import-report"][data-can-commit="true"]').waitFor();
    assert.match(await page.getByTestId('grid-import-fixes').innerText(), /made_valid|dropped/);
    await page.getByTestId('grid-import-commit').click();
    await page.getByTestId('grid-import-progress').waitFor();
    await page.getByTestId('grid-import-done').waitFor({ timeout: 60_000 });
    assert.match(await page.getByTestId('grid-import-done').innerText(), /已导入 1 个网格/);

    await page.getByTestId('grid-import-view').click();
    await page.waitForURL(/\/grids\?/);
    await mapDrawn(page, villageId);
    await page.locator('[data-testid="grids-children"]', { hasText: '东水村第90微网格' }).waitFor();
    await page.locator('[data-testid="grids-label"]', { hasText: '东水村第90微网格' }).waitFor({ state: 'attached' });
  });

  it('shows a public card at phone width without logging in, and finds it by address', async () => {
    const page = await h.newPage({ width: 390, height: 844 });
    await page.goto(`/card/${cardSlug}`);
    await page.getByTestId('public-card').waitFor();
    assert.equal(new URL(page.url()).pathname, `/card/${cardSlug}`, 'no redirect to the login page');
    assert.equal(await page.getByTestId('public-card-name').innerText(), '东水村网格');
    const members = await page.getByTestId('public-card-member').allInnerTexts();
    assert.ok(members.length >= 4);
    assert.ok(members.some((m) => m.includes('网格民警')));
    // Only public phones are shown, in full; the others say so.
    assert.ok(members.every((m) => /1\d{10}|电话不公开/.test(m)), members.join(' | '));
    await shot(page, 'grid-card.png', true);

    await page.goto('/card');
    await page.locator('[data-testid="public-lookup-address"] input').fill('广饶县李鹊镇东水村');
    await page.locator('[data-testid="public-lookup-address"] button').click();
    await page.locator('[data-testid="public-card-name"]', { hasText: '东水村网格' }).waitFor();
  });
});
