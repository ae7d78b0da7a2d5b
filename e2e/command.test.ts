/**
 * The core loop in a real browser: a dispatcher takes a call by keyboard and dispatches two units; the
 * officer's terminal (a second browser context at phone width) receives it with the caller's phone and
 * moves the status forward; the dispatcher sees each status within a second; the terminal goes
 * offline, changes status, comes back, and each change arrives once and in order. Counts and prints
 * the actions from "call answered" to "units dispatched". Screenshots: docs/screenshots/{command,terminal,bigscreen}.png.
 *
 *   node --import tsx e2e/run.ts command
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { labelPoint } from '../apps/web/src/map/geo.js';
import type { AreaGeometry } from '../apps/web/src/api/types.js';
import { apiOf, screenshotDir, skipReason, startHarness, type Harness } from './harness.js';

const skip = skipReason();
if (skip) console.log(skip);

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, name) });
}

/** Metres → degrees near a latitude. */
const offset = (lon: number, lat: number, eastM: number, northM: number): [number, number] => [
  lon + eastM / (111_320 * Math.cos((lat * Math.PI) / 180)),
  lat + northM / 110_540,
];

describe('command centre and officer terminal', { skip }, () => {
  let h: Harness;
  let officerContext: BrowserContext;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await officerContext?.close().catch(() => undefined);
    await h?.close();
  });

  it('takes a call by keyboard, dispatches two units, and the terminal answers live and offline', async () => {
    // ---- the dispatcher's command screen
    const desk = await h.newPage({ width: 1600, height: 900 });
    await h.login(desk, 'dispatcher');
    assert.equal(new URL(desk.url()).pathname, '/command', 'the dispatcher lands on the command screen');
    await desk.locator('[data-testid="stream-state"][data-state="live"]').waitFor();
    const api = await apiOf(desk);

    // The place of the call: a grid of 李鹊派出所, located as the web app locates a search hit.
    type Hit = { id: string; name: string; level: string };
    const station = (await api.get<{ items: Hit[] }>(`/api/jurisdictions/search?q=${encodeURIComponent('李鹊派出所')}`)).items[0];
    assert.ok(station, 'the demo county has 李鹊派出所');
    const children = (await api.get<{ children: Hit[] }>(`/api/jurisdictions/${station.id}?childGeometry=false`)).children;
    let grid: Hit | undefined;
    for (const c of children) {
      // A grid whose name finds it first (the intake picks the first hit).
      const first = (await api.get<{ items: Hit[] }>(`/api/jurisdictions/search?q=${encodeURIComponent(c.name)}`)).items[0];
      if (first?.id === c.id) {
        grid = c;
        break;
      }
    }
    assert.ok(grid, 'a grid of 李鹊 found by its name');
    const gridNode = await api.get<{ geometry: AreaGeometry | null }>(`/api/jurisdictions/${grid.id}?childGeometry=false`);
    const at = labelPoint(gridNode.geometry);
    assert.ok(at, 'the grid has a polygon');
    const [lon, lat] = at;

    const units = await api.get<{ items: { id: string; callSign: string; onDuty: boolean }[] }>('/api/units');
    const car1 = units.items.find((u) => u.callSign === '李鹊巡01');
    const car2 = units.items.find((u) => u.callSign === '李鹊巡02');
    assert.ok(car1 && car2, 'the demo units of 李鹊 exist');
    // The second car reports its position through the API (as its terminal would), 800 m away.
    const [lon2, lat2] = offset(lon, lat, 600, 530);
    const sent2 = await api.post('/api/units/positions', { unitId: car2.id, points: [{ t: Date.now(), lon: lon2, lat: lat2, accuracy: 10 }] });
    console.log('command: position of 李鹊巡02', JSON.stringify(sent2));

    // ---- the officer's terminal: phone width, geolocation allowed, 150 m from the place
    const [lon1, lat1] = offset(lon, lat, 100, 110);
    officerContext = await h.browser.newContext({
      baseURL: h.baseUrl,
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      geolocation: { longitude: lon1, latitude: lat1, accuracy: 8 },
      permissions: ['geolocation'],
    });
    const phone = await officerContext.newPage();
    phone.setDefaultTimeout(20_000);
    await h.login(phone, 'officer.lique');
    assert.equal(new URL(phone.url()).pathname, '/terminal', 'the officer lands on the terminal');
    await phone.locator('[data-testid="terminal-conn"][data-state="live"]').waitFor();
    const manifest = await phone.evaluate(() => document.querySelector('link[rel="manifest"]')?.getAttribute('href'));
    assert.equal(manifest, '/manifest.webmanifest');
    assert.equal((await phone.request.get('/manifest.webmanifest')).status(), 200);
    assert.equal((await phone.request.get('/sw.js')).status(), 200);
    await phone.getByTestId('share-switch').click();
    await phone.getByTestId('last-fix').waitFor();
    // Its position reaches the server's live view.
    for (let i = 0; ; i++) {
      const live = await api.get<{ items: { unitId: string }[] }>('/api/units/live');
      if (live.items.some((u) => u.unitId === car1.id)) break;
      if (i >= 40) {
        const box = await phone.evaluate(() => Object.entries(localStorage).filter(([k]) => k.includes('outbox')));
        assert.fail(`the terminal position did not reach the server: ${JSON.stringify(live)} ${JSON.stringify(box)}`);
      }
      await desk.waitForTimeout(250);
    }

    // ---- the call: counted actions from "call answered" to "units dispatched"
    const actions: string[] = [];
    const press = async (key: string) => {
      actions.push(key);
      await desk.keyboard.press(key);
    };
    const callerPhone = '13912345678';
    const content = '李鹊村东头有人打架，五六个人，有人受伤';
    // The phone switch answers the call and hands over the caller ID (CTI): not a dispatcher action.
    await desk.evaluate((p) => window.dispatchEvent(new CustomEvent('pingan:call', { detail: { callerPhone: p } })), callerPhone);
    await press('F2');
    await desk.keyboard.type(content); // free text, not counted
    await press('Tab');
    await desk.keyboard.type(grid.name); // typed address, not counted
    await desk.getByTestId('intake-results').waitFor();
    assert.equal(await desk.getByTestId('intake-category').getAttribute('data-code'), 'public_order.fight', 'the category is read from the words');
    assert.equal(await desk.getByTestId('intake-priority').getAttribute('data-priority'), '1');
    await press('Enter');
    const number = (await desk.getByTestId('detail-number').innerText()).trim();
    assert.match(number, /^370523-\d{8}-\d{4}$/);
    // The recommendation with its reasons, then accept it and add the next unit.
    await desk.getByTestId('rec-李鹊巡01').waitFor();
    const reasons = await desk.getByTestId('rec-李鹊巡01').innerText();
    assert.match(reasons, /距离最近/);
    await press('r');
    await press('a');
    await desk.locator('[data-testid="draft"][data-count="2"]').waitFor();
    await press('Control+Enter');
    await desk.locator('[data-testid="asg-李鹊巡01"]').waitFor();
    await desk.locator('[data-testid="asg-李鹊巡02"]').waitFor();
    console.log(`command: ${actions.length} actions from call answered to units dispatched: ${actions.join(', ')}`);
    assert.ok(actions.length <= 6, `at most 6 actions (got ${actions.length})`);

    // ---- the terminal receives the dispatch with everything needed
    const task = phone.locator(`[data-testid="task"][data-number="${number}"]`);
    await task.waitFor();
    assert.equal((await task.getByTestId('caller-tel').getAttribute('href')), `tel:${callerPhone}`);
    assert.match(await task.getByTestId('task-content').innerText(), /有人打架/);
    await task.getByTestId('task-location').waitFor();
    assert.ok(Number(await phone.getByTestId('page-terminal').getAttribute('data-beeps')) >= 1, 'the terminal sounded the alarm');
    await shot(phone, 'terminal.png');

    // ---- one tap per step; the command screen shows each within a second
    const row = desk.locator('[data-testid="asg-李鹊巡01"]');
    for (const status of ['acknowledged', 'en_route', 'on_scene']) {
      // The command page notes the moment the status appears (a MutationObserver, not Playwright's polling).
      // (A string: the test runner's transpiler would add helpers the page does not have.)
      const sel = `[data-testid="asg-李鹊巡01"][data-status="${status}"]`;
      const seen = desk.evaluate<number>(`new Promise((resolve) => {
        const obs = new MutationObserver(() => { if (document.querySelector(${JSON.stringify(sel)})) { obs.disconnect(); resolve(Date.now()); } });
        obs.observe(document.body, { subtree: true, childList: true, attributes: true });
        if (document.querySelector(${JSON.stringify(sel)})) { obs.disconnect(); resolve(Date.now()); }
      })`);
      const step = task.locator(`[data-testid="task-step"][data-next="${status}"]`);
      await step.waitFor();
      const t0 = Date.now();
      await step.click();
      const ms = (await seen) - t0;
      console.log(`command: ${status} shown on the command screen after ${ms} ms`);
      assert.ok(ms < 1000, `${status} within a second (took ${ms} ms)`);
      if (status === 'acknowledged') await row.locator('[data-testid="timer-acknowledge"][data-state="met"]').waitFor({ timeout: 1000 });
      if (status === 'on_scene') await row.locator('[data-testid="timer-arrive"][data-state="met"]').waitFor({ timeout: 1000 });
    }
    await shot(desk, 'command.png');

    // ---- offline: two changes wait in the queue, then arrive once and in order
    await officerContext.setOffline(true);
    await phone.locator('[data-testid="terminal-conn"][data-state="offline"]').waitFor();
    await task.locator('[data-testid="task-step"][data-next="returning"]').click();
    await task.locator('[data-testid="task-step"][data-next="cleared"]').click();
    await phone.locator('[data-testid="outbox"][data-status-count="2"]').waitFor();
    await desk.waitForTimeout(1200);
    assert.equal(await row.getAttribute('data-status'), 'on_scene', 'nothing reached the server while offline');
    await officerContext.setOffline(false);
    const t1 = Date.now();
    await desk.locator('[data-testid="asg-李鹊巡01"][data-status="cleared"]').waitFor({ timeout: 10_000 });
    console.log(`command: queued changes arrived ${Date.now() - t1} ms after the terminal came back`);
    await phone.locator('[data-testid="outbox"][data-status-count="0"]').waitFor();

    const incidentId = (await api.get<{ items: { id: string; number: string }[] }>('/api/incidents?state=all')).items.find((i) => i.number === number)!.id;
    const detail = await api.get<{ events: { type: string; data: { unitId?: string; status?: string } }[] }>(`/api/incidents/${incidentId}`);
    const statuses = detail.events.filter((e) => e.type === 'unit_status' && e.data.unitId === car1.id).map((e) => e.data.status);
    assert.deepEqual(statuses, ['acknowledged', 'en_route', 'on_scene', 'returning', 'cleared'], 'each change once, in order');
    // The terminal files the finished task under its history.
    await phone.getByText(/历史 \(1\)/).click();
    await phone.locator(`[data-testid="task"][data-number="${number}"]`).waitFor();

    // ---- the caller in full for a role that may see it (audited)
    await desk.getByTestId('reveal-caller').click();
    await desk.getByText(callerPhone).waitFor();

    // ---- the big screen
    await desk.goto('/bigscreen');
    await desk.locator('[data-testid="page-bigscreen"][data-ready="1"]').waitFor();
    const calls = Number(await desk.getByTestId('kpi-calls').locator('.pa-big-kpi-value').innerText());
    assert.ok(calls >= 1, 'calls today counted');
    assert.match(await desk.getByTestId('kpi-ack').innerText(), /%/);
    await desk.waitForTimeout(1500);
    await shot(desk, 'bigscreen.png');
  });
});
