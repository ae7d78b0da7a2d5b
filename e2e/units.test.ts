/**
 * Units, live positions and patrols in the browser against the real server: the station leader of 李鹊
 * opens the unit board and toggles a unit's duty, watches the live map, replays a track (positions
 * reported first through POST /api/units/positions by the dispatcher), draws a patrol zone and a plan
 * with two checkpoints, starts and ends a run, and opens the coverage and reach pages. Screenshots
 * (Chinese) land in docs/screenshots/.
 *
 *   node --import tsx e2e/run.ts units
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD, screenshotDir, skipReason, startHarness, type Harness } from './harness.js';

const skip = skipReason();
if (skip) console.log(skip);

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, name) });
}

interface ApiSession {
  call<T>(method: string, url: string, body?: unknown): Promise<T>;
}

/** Log in over HTTP (cookie + CSRF token) for setting up data the way a terminal or a dispatcher would. */
async function apiLogin(baseUrl: string, username: string): Promise<ApiSession> {
  const r = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: DEMO_PASSWORD }),
  });
  assert.equal(r.status, 200, `login ${username}: ${r.status}`);
  const cookie = r.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const { csrfToken } = (await r.json()) as { csrfToken: string };
  return {
    async call<T>(method: string, url: string, body?: unknown): Promise<T> {
      const res = await fetch(`${baseUrl}${url}`, {
        method,
        headers: { cookie, 'x-csrf-token': csrfToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${url}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

interface Unit {
  id: string;
  callSign: string;
  type: string;
  homeNodeId: string;
  onDuty: boolean;
  dutyChangedAt: string | null;
}

interface Node {
  id: string;
  geometry: { type: string; coordinates: number[][][] | number[][][][] } | null;
  children: Node[];
}

function firstRing(g: NonNullable<Node['geometry']>): number[][] {
  return g.type === 'Polygon' ? (g.coordinates as number[][][])[0]! : (g.coordinates as number[][][][])[0]![0]!;
}

/** Click the map at an offset (px) from its centre. */
async function clickMap(page: Page, testId: string, dx: number, dy: number, button: 'left' | 'right' = 'left'): Promise<void> {
  const box = await page.getByTestId(testId).boundingBox();
  assert.ok(box, 'the map has a box');
  await page.mouse.click(box.x + box.width / 2 + dx, box.y + box.height / 2 + dy, { button });
}

async function waitDrawn(page: Page, testId: string): Promise<void> {
  await page.waitForFunction((id) => (document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-drawn') ?? '') !== '', testId, { timeout: 30_000 });
}

describe('units, live positions and patrols', { skip }, () => {
  let h: Harness;
  let dispatcher: ApiSession;
  let car: Unit;
  let foot: Unit;
  let assignedCallSign: string | null = null;
  const problems: string[] = [];

  before(async () => {
    h = await startHarness();
    dispatcher = await apiLogin(h.baseUrl, 'dispatcher');
    const { items } = await dispatcher.call<{ items: Unit[] }>('GET', '/api/units');
    const lique = items.filter((u) => u.callSign.startsWith('李鹊'));
    car = lique.find((u) => u.callSign === '李鹊巡01')!;
    foot = lique.find((u) => u.callSign === '李鹊步01')!;
    assert.ok(car && foot, `李鹊 units: ${lique.map((u) => u.callSign).join(', ')}`);

    // A track for 李鹊巡01 and 李鹊巡02: circles around a grid of 李鹊, one point every 10 s up to now,
    // all after the unit went on duty (earlier points would be refused as off duty).
    const node = await dispatcher.call<Node>('GET', `/api/jurisdictions/${car.homeNodeId}`);
    const grids = node.children.filter((c) => c.geometry);
    const now = Date.now();
    const tracks: { unit: Unit; grid: Node }[] = [{ unit: car, grid: grids[0]! }];
    const car2 = lique.find((u) => u.callSign === '李鹊巡02');
    if (car2) tracks.push({ unit: car2, grid: grids[Math.floor(grids.length / 2)]! });
    for (const { unit, grid } of tracks) {
      const ring = firstRing(grid.geometry!);
      const cx = ring.reduce((a, p) => a + p[0]!, 0) / ring.length;
      const cy = ring.reduce((a, p) => a + p[1]!, 0) / ring.length;
      const since = unit.dutyChangedAt ? Date.parse(unit.dutyChangedAt) + 2000 : now - 30 * 60_000;
      const start = Math.max(since, now - 30 * 60_000);
      const points = [];
      for (let t = start, i = 0; t <= now - 1000; t += 10_000, i++) {
        const a = (i / 60) * 2 * Math.PI;
        const r = 0.004 + 0.001 * Math.sin(i / 7);
        points.push({ t: new Date(t).toISOString(), lon: cx + r * Math.cos(a), lat: cy + r * 0.8 * Math.sin(a), accuracy: 8, speed: 4.2, heading: 0 });
      }
      const answer = await dispatcher.call<{ stored: number; counts: Record<string, number> }>('POST', '/api/units/positions', { unitId: unit.id, points });
      assert.ok(answer.stored >= Math.min(2, points.length), `stored for ${unit.callSign}: ${JSON.stringify(answer.counts)}`);
    }
    // An open incident in 李鹊 with 李鹊巡02 sent to it: the board shows it as the unit's current assignment.
    if (car2) {
      const cats = await dispatcher.call<{ items: { code: string; police: boolean; parentCode: string | null }[] }>('GET', '/api/incident-categories');
      const cat = cats.items.find((c) => c.police && c.parentCode) ?? cats.items[0]!;
      const ring = firstRing(tracks[1]!.grid.geometry!);
      const lon = ring.reduce((a, p) => a + p[0]!, 0) / ring.length;
      const lat = ring.reduce((a, p) => a + p[1]!, 0) / ring.length;
      const incident = await dispatcher.call<{ id: string }>('POST', '/api/incidents', {
        content: '集市有人因摊位发生口角，请派员处置',
        category: cat.code,
        priority: 3,
        location: { lon, lat },
      });
      await dispatcher.call('POST', `/api/incidents/${incident.id}/dispatch`, { units: [{ unitId: car2.id }] });
      assignedCallSign = car2.callSign;
    }
    // 李鹊摩01 reported once, long ago: the live map greys it (only when it was on duty that long).
    const moto = lique.find((u) => u.callSign === '李鹊摩01');
    const old = now - 8 * 60_000;
    if (moto?.dutyChangedAt && Date.parse(moto.dutyChangedAt) < old - 1000) {
      const ring = firstRing(grids[1]!.geometry!);
      await dispatcher.call('POST', '/api/units/positions', { unitId: moto.id, points: [{ t: new Date(old).toISOString(), lon: ring[0]![0]! + 0.002, lat: ring[0]![1]! - 0.002 }] });
    }
  });

  after(async () => {
    await h?.close();
  });

  async function leaderPage(): Promise<Page> {
    const page = await h.newPage({ width: 1440, height: 900 });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    await h.login(page, 'leader.lique');
    return page;
  }

  it('shows the unit board and toggles a unit off and on duty', async () => {
    const page = await leaderPage();
    await page.getByTestId('nav-units').click();
    await page.waitForURL('**/units');
    const table = page.getByTestId('units-table');
    const row = table.locator(`tr[data-callsign="${foot.callSign}"]`);
    await row.waitFor();
    assert.equal(await table.locator('tr[data-callsign^="李鹊"]').count(), await table.locator('tbody tr.ant-table-row').count(), 'only 李鹊 units');
    assert.match(await row.getByTestId('unit-duty-tag').innerText(), /在岗/);

    await row.getByTestId('unit-duty-switch').click();
    await page.waitForFunction((cs) => document.querySelector(`tr[data-callsign="${cs}"] [data-testid="unit-duty-tag"]`)?.textContent === '不在岗', foot.callSign);
    let after = await dispatcher.call<Unit>('GET', `/api/units/${foot.id}`);
    assert.equal(after.onDuty, false);
    await row.getByTestId('unit-duty-switch').click();
    await page.waitForFunction((cs) => document.querySelector(`tr[data-callsign="${cs}"] [data-testid="unit-duty-tag"]`)?.textContent === '在岗', foot.callSign);
    after = await dispatcher.call<Unit>('GET', `/api/units/${foot.id}`);
    assert.equal(after.onDuty, true);

    // The car's last report shows as online.
    const carRow = table.locator(`tr[data-callsign="${car.callSign}"]`);
    await carRow.getByText('在线').waitFor();
    if (assignedCallSign) await table.locator(`tr[data-callsign="${assignedCallSign}"]`).getByTestId('unit-assignment').waitFor();
    await page.locator('.ant-message-notice').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
    await shot(page, 'units-board.png');
    await carRow.getByTestId('unit-open').click();
    await page.getByTestId('unit-details').waitFor();
    assert.match(await page.getByTestId('unit-details').innerText(), /张警官/);
  });

  it('shows the units on the live map over the grids, stale ones greyed', async () => {
    const page = await leaderPage();
    await page.getByTestId('nav-units-live').click();
    await page.waitForURL('**/units/live');
    await waitDrawn(page, 'live-map');
    await page.locator(`[data-testid="live-marker"][data-callsign="${car.callSign}"]`).waitFor();
    assert.equal(await page.locator(`[data-testid="live-marker"][data-callsign="${car.callSign}"]`).getAttribute('data-stale'), 'false');
    const stale = await page.locator('[data-testid="live-marker"][data-stale="true"]').count();
    const moto = page.locator('[data-testid="live-marker"][data-callsign="李鹊摩01"]');
    if (await moto.count()) assert.equal(await moto.getAttribute('data-stale'), 'true');
    await page.locator(`[data-testid="live-marker"][data-callsign="${car.callSign}"]`).click();
    await page.getByTestId('unit-details').waitFor();
    assert.match(await page.getByTestId('live-details').innerText(), /李鹊巡01[\s\S]*张警官/);
    await page.waitForTimeout(500);
    await shot(page, 'units-map.png');
    assert.ok(stale >= 0);
  });

  it('replays a track with a speed control and a time slider', async () => {
    const page = await leaderPage();
    await page.getByTestId('nav-units-replay').click();
    await page.waitForURL('**/units/replay');
    await page.getByTestId('replay-unit').click();
    await page.keyboard.type('李鹊巡01');
    await page.locator('.ant-select-item-option', { hasText: '李鹊巡01' }).first().click();
    const loaded = page.waitForResponse((r) => /\/api\/units\/[^/]+\/track\?/.test(r.url()), { timeout: 30_000 });
    await page.getByTestId('replay-load').click();
    const answer = await loaded;
    assert.equal(answer.status(), 200, `track: ${answer.status()}`);
    const { points } = (await answer.json()) as { points: unknown[] };
    assert.ok(points.length > 1, `track points: ${points.length}`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="replay-map"]')?.getAttribute('data-points') ?? 0) > 1);
    await page.getByTestId('replay-head').waitFor();
    const before = await page.getByTestId('replay-time').innerText();
    await page.getByTestId('replay-speed').getByText('60×').click();
    await page.getByTestId('replay-play').click();
    await page
      .waitForFunction((t0) => document.querySelector('[data-testid="replay-time"]')?.textContent !== t0, before, { timeout: 30_000 })
      .catch((err: unknown) => {
        throw new Error(`the replay clock did not move from ${before}: ${String(err)}`);
      });
    await page.waitForTimeout(1500);
    await page.getByTestId('replay-play').click(); // pause
    const during = await page.getByTestId('replay-time').innerText();
    assert.notEqual(during, before, 'the clock moved');
    await shot(page, 'units-replay.png');
  });

  it('draws a patrol zone and a plan with two checkpoints, then runs it', async () => {
    const page = await leaderPage();
    await page.getByTestId('nav-patrol').click();
    await page.waitForURL('**/patrol');
    await waitDrawn(page, 'patrol-map');

    await page.getByTestId('zone-new').click();
    await page.getByTestId('zone-name').fill('李鹊集市巡区');
    for (const [dx, dy] of [[-70, -50], [70, -50], [80, 45], [-60, 55]] as const) await clickMap(page, 'patrol-map', dx, dy);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="zone-vertex"]').length === 4);
    // Drag a corner a little: the polygon follows.
    const v = await page.locator('[data-testid="zone-vertex"]').nth(2).boundingBox();
    assert.ok(v);
    await page.mouse.move(v.x + v.width / 2, v.y + v.height / 2);
    await page.mouse.down();
    await page.mouse.move(v.x + 20, v.y + 12, { steps: 5 });
    await page.mouse.up();
    assert.match(await page.getByTestId('zone-vertex-count').innerText(), /4/);
    await page.getByTestId('zone-save').click();
    await page.getByTestId('zone-list').getByText('李鹊集市巡区').waitFor();

    await page.getByTestId('tab-plans').click();
    await page.getByTestId('plan-new').click();
    await page.getByTestId('plan-editor').waitFor();
    await page.waitForTimeout(300);
    await page.getByTestId('plan-name').fill('集市早巡');
    await page.getByTestId('plan-unit').click();
    await page.keyboard.type('李鹊巡01');
    await page.locator('.ant-select-item-option', { hasText: '李鹊巡01' }).first().click();
    await clickMap(page, 'patrol-map', -90, -40);
    await clickMap(page, 'patrol-map', 100, 60);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="checkpoint-marker"]').length === 2);
    assert.equal(await page.getByTestId('plan-checkpoints').locator('tbody tr.ant-table-row').count(), 2);
    // The first checkpoint counts on arrival (no dwell); the second keeps the default minute.
    const dwell = page.getByTestId('plan-checkpoints').locator('tbody tr.ant-table-row').first().locator('.ant-input-number input').nth(1);
    await dwell.fill('0');
    await page.waitForTimeout(300);
    await shot(page, 'patrol-plan.png');
    await page.getByTestId('plan-save').click();
    await page.getByTestId('plan-list').getByText('集市早巡').waitFor();

    const leader = await apiLogin(h.baseUrl, 'leader.lique');
    const plans = await leader.call<{ items: { id: string; name: string; zoneId: string | null; unitId: string | null; checkpoints: { lon: number; lat: number; radiusM: number }[] }[] }>(
      'GET',
      '/api/patrol/plans',
    );
    const plan = plans.items.find((p) => p.name === '集市早巡');
    assert.ok(plan, 'the plan was saved');
    assert.equal(plan.checkpoints.length, 2);
    assert.equal(plan.unitId, car.id);
    assert.ok(plan.zoneId, 'the plan is in the zone');

    // A run: started in the UI, the car reports at the first checkpoint, ended in the UI.
    await page.getByTestId('tab-runs').click();
    const runStarted = page.waitForResponse((r) => r.url().endsWith('/api/patrol/runs') && r.request().method() === 'POST');
    await page.getByTestId('run-plan').click();
    await page.locator('.ant-select-item-option', { hasText: '集市早巡' }).first().click();
    await page.getByTestId('run-start').click();
    assert.equal((await runStarted).status(), 201);
    await page.getByTestId('run-detail').waitFor();
    const cp = plan.checkpoints[0]!;
    const t0 = Date.now() + 500;
    await dispatcher.call('POST', '/api/units/positions', {
      unitId: car.id,
      points: [0, 1, 2, 3].map((i) => ({ t: new Date(t0 + i * 1000).toISOString(), lon: cp.lon + i * 0.00001, lat: cp.lat })),
    });
    await page.waitForTimeout(4500);
    await page.getByTestId('run-detail').getByRole('button', { name: '结束巡逻' }).click();
    await page.getByTestId('run-detail').getByText('1 / 2').waitFor();
    await page.getByTestId('run-detail').getByText('未到达').first().waitFor();
  });

  it('opens the coverage page (per grid, least covered first) and the reach page', async () => {
    const page = await leaderPage();
    await page.getByTestId('nav-patrol-coverage').click();
    await page.waitForURL('**/patrol/coverage');
    const rows = page.getByTestId('coverage-table').locator('tbody tr.ant-table-row');
    await rows.first().waitFor();
    const minutes = await rows.evaluateAll((trs) => trs.map((tr) => Number((tr.children[3]?.textContent ?? '0').trim())));
    for (let i = 1; i < minutes.length; i++) assert.ok(minutes[i]! >= minutes[i - 1]!, `least covered first: ${minutes.join(',')}`);
    await page.locator('[data-testid="coverage-chart"] canvas').waitFor();
    const leader = await apiLogin(h.baseUrl, 'leader.lique');
    const me = await leader.call<{ user: { nodeId: string } }>('GET', '/api/auth/me');
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    const cov = await leader.call<{ items: { minutes: number }[] }>('GET', `/api/patrol/coverage?nodeId=${me.user.nodeId}&date=${day}`);
    assert.ok(cov.items.some((i) => i.minutes > 0), 'the reported tracks cover some grid');
    await shot(page, 'units-coverage.png');
    await page.getByTestId('coverage-by').getByText('按巡逻区域').click();
    await page.getByTestId('coverage-table').getByText('李鹊集市巡区').waitFor();

    await page.getByTestId('nav-units-reach').click();
    await page.waitForURL('**/units/reach');
    await waitDrawn(page, 'reach-map');
    await clickMap(page, 'reach-map', 0, 0);
    await page.getByTestId('reach-compute').click();
    await page.getByTestId('reach-table').locator('tbody tr.ant-table-row').first().waitFor();
    assert.match(await page.getByTestId('reach-model').innerText(), /出发点/);
    const summary = await page.getByTestId('reach-summary').innerText();
    assert.match(summary, /全部网格[\s\S]*5 分钟: \d+(\.\d)?%/);
    await page.waitForTimeout(500);
    await shot(page, 'reach.png');
  });

  it('creates a unit through the form with a member picked from the accounts', async () => {
    const page = await leaderPage();
    await page.goto('/units');
    await page.getByTestId('units-table').locator('tbody tr.ant-table-row').first().waitFor();
    await page.getByTestId('units-create').click();
    const sent: (string | undefined)[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/units') sent.push(r.headers()['idempotency-key']);
    });
    await page.getByTestId('unit-form-callsign').fill('李鹊步02');
    await page.getByTestId('unit-form-name').fill('李鹊夜间步巡组');
    await page.getByTestId('unit-form-type').click();
    await page.locator('.ant-select-item-option', { hasText: '步巡' }).first().click();
    await page.getByTestId('unit-form-members').click();
    await page.keyboard.type('刘辅警');
    await page.locator('.ant-select-item-option', { hasText: '刘辅警' }).first().click();
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="unit-form"] .ant-modal-footer .ant-btn-primary, .ant-modal-footer .ant-btn-primary').first().click();
    const row = page.getByTestId('units-table').locator('tr[data-callsign="李鹊步02"]');
    await row.waitFor();
    assert.match(await row.innerText(), /刘辅警/);
    assert.equal(sent.length, 1);
    assert.match(sent[0] ?? '', /^[0-9a-f-]{36}$/);
  });

  it('shows service stations (functions, staffing, staff now) to the dispatcher, in English too', async () => {
    const page = await h.newPage({ width: 1440, height: 900 });
    await h.login(page, 'dispatcher');
    await page.goto('/units');
    await page.getByTestId('units-filter-type').click();
    await page.locator('.ant-select-item-option', { hasText: '警务服务站' }).first().click();
    const first = page.getByTestId('units-table').locator('tbody tr.ant-table-row').first();
    await first.waitFor();
    assert.match(await first.innerText(), /站0\d[\s\S]*警务服务站[\s\S]*当前在岗人数: \d/);
    await first.getByTestId('unit-open').click();
    const station = page.getByTestId('station-details');
    await station.waitFor();
    assert.match(await station.innerText(), /接待报警[\s\S]*08:00–20:00: 3/);
    await page.keyboard.press('Escape');

    await page.getByTestId('lang-switch').getByText('EN').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="nav-units"]')?.textContent === 'Units');
    assert.match(await first.innerText(), /Service station[\s\S]*Staff now: \d/);
    await page.getByTestId('nav-patrol').click();
    await page.getByText('Zones').first().waitFor();
    await page.getByTestId('lang-switch').getByText('中文').click();
  });

  it('had no page errors', () => {
    assert.deepEqual(problems, []);
  });
});
