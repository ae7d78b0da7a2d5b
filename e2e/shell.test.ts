/**
 * The web shell against the real server: login per role, error messages, language switch, logout,
 * route guards, and the screenshots in docs/screenshots/.
 *
 *   node --import tsx --test e2e/shell.test.ts
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD, chooseOption, screenshotDir, skipReason, startHarness, type Harness } from './harness.js';

const skip = skipReason();
if (skip) console.log(skip);

function pathOf(page: Page): string {
  return new URL(page.url()).pathname;
}

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, name) });
}

describe('web shell', { skip }, () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });

  after(async () => {
    await h?.close();
  });

  it('shows the login page in Chinese and the API message for a wrong password', async () => {
    const page = await h.newPage();
    await page.goto('/');
    await page.waitForURL('**/login');
    await page.getByTestId('login-card').waitFor();
    assert.equal(await page.getByTestId('login-submit').innerText().then((s) => s.replace(/\s/g, '')), '登录');
    await shot(page, 'login.png');

    await page.getByTestId('login-username').fill('volunteer.lique');
    await page.getByTestId('login-password').fill('not-the-password');
    await page.getByTestId('login-submit').click();
    const error = page.getByTestId('login-error');
    await error.waitFor();
    assert.equal(await error.getAttribute('data-code'), 'invalid_credentials');
    const text = await error.innerText();
    assert.match(text, /用户名或密码错误/);
    assert.match(text, /user name or password is wrong/i);
    assert.equal(pathOf(page), '/login');
  });

  it('tells the user when the account is locked after repeated failures', async () => {
    const page = await h.newPage();
    await page.goto('/login');
    let code: string | null = null;
    for (let i = 0; i < 8 && code !== 'locked'; i++) {
      await page.getByTestId('login-username').fill('partner.county');
      await page.getByTestId('login-password').fill(`wrong-${i}`);
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
      await page.getByTestId('login-submit').click();
      await answered;
      await page.getByTestId('login-error').waitFor();
      code = await page.getByTestId('login-error').getAttribute('data-code');
    }
    assert.equal(code, 'locked');
    assert.match(await page.getByTestId('login-error').innerText(), /账号已被临时锁定[\s\S]*locked/);
  });

  it('asks for both fields before calling the server', async () => {
    const page = await h.newPage();
    await page.goto('/login');
    await page.getByTestId('login-submit').click();
    await page.getByText('请输入用户名').waitFor();
    await page.getByText('请输入密码').waitFor();
  });

  it('lands the dispatcher on the command home (or /home until the command page exists)', async () => {
    const page = await h.newPage();
    await h.login(page, 'dispatcher');
    assert.match(pathOf(page), /^\/(command|home)$/);
    assert.equal(await page.getByTestId('user-role').innerText(), '接警调度员');
    await page.getByTestId('user-node').waitFor();
    assert.ok((await page.getByTestId('user-node').innerText()).trim().length > 0, 'the header names the node');
  });

  it('lands the administrator on accounts, with masked phones; home shows who they are', async () => {
    const page = await h.newPage();
    await h.login(page, 'admin');
    assert.equal(pathOf(page), '/admin/users');
    await page.getByTestId('page-users').waitFor();
    await page.locator('[data-testid="users-table"] tbody tr.ant-table-row').first().waitFor();
    const phones = await page.locator('[data-testid="users-table"] tbody td').allInnerTexts();
    const withDigits = phones.filter((p) => /^1\d{2}/.test(p));
    for (const p of withDigits) assert.match(p, /^\d{3}\*{4}\d{4}$/, `phone ${p} is masked`);

    await shot(page, 'users.png');

    await page.getByTestId('nav-home').click();
    await page.waitForURL('**/home');
    await page.getByTestId('page-home').waitFor();
    await page.getByTestId('home-card-audit').waitFor();
    await page.getByTestId('home-card-users').waitFor();
    await page.getByTestId('home-card-map').waitFor();
    await page.waitForLoadState('networkidle');
    await shot(page, 'home-admin.png');
  });

  it('creates an account through the form (with an Idempotency-Key)', async () => {
    const page = await h.newPage();
    await h.login(page, 'admin');
    await page.getByTestId('users-create').click();
    const username = `e2e.${Date.now().toString(36)}`;
    const sent: (string | undefined)[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/users') sent.push(r.headers()['idempotency-key']);
    });
    await page.getByTestId('users-username').fill(username);
    await page.getByTestId('users-displayname').fill('测试 网格员');
    await page.getByTestId('users-password').fill('a-long-enough-password');
    await page.getByTestId('users-role').click();
    await chooseOption(page, '网格员');
    await page.locator('.ant-modal-footer .ant-btn-primary').click();
    await page.getByText(username).first().waitFor();
    assert.equal(sent.length, 1);
    assert.match(sent[0] ?? '', /^[0-9a-f-]{36}$/);
  });

  it('lands the inspector on the audit trail and verifies the chain', async () => {
    const page = await h.newPage();
    await h.login(page, 'inspector');
    assert.equal(pathOf(page), '/audit');
    await page.getByTestId('page-audit').waitFor();
    await page.locator('[data-testid="audit-table"] tbody tr.ant-table-row').first().waitFor();
    await page.getByTestId('audit-verify').click();
    const result = page.getByTestId('audit-verify-result');
    await result.waitFor();
    assert.match(await result.innerText(), /哈希链完整/);
    await shot(page, 'audit.png');
  });

  it('keeps the community officer out of account management (403) and shows 404 for unknown pages', async () => {
    const page = await h.newPage();
    await h.login(page, 'officer.lique');
    assert.match(pathOf(page), /^\/(terminal|home)$/);
    assert.equal(await page.getByTestId('nav-users').count(), 0, 'no Users entry in the officer\'s menu');
    await page.goto('/admin/users');
    await page.getByTestId('page-403').waitFor();
    await page.goto('/audit');
    await page.getByTestId('page-403').waitFor();
    await page.goto('/no-such-page');
    await page.getByTestId('page-404').waitFor();
  });

  it('switches zh → en, changes the navigation, and keeps the choice after a reload', async () => {
    const page = await h.newPage();
    await h.login(page, 'admin');
    const navHome = page.getByTestId('nav-home');
    assert.equal(await navHome.innerText(), '首页');
    assert.equal(await page.getByTestId('nav-audit').innerText(), '审计日志');
    await page.getByTestId('lang-switch').getByText('EN').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="nav-home"]')?.textContent === 'Home');
    assert.equal(await page.getByTestId('nav-audit').innerText(), 'Audit trail');
    assert.equal(await page.getByTestId('user-role').innerText(), 'Administrator');
    await page.reload();
    await page.getByTestId('nav-home').waitFor();
    assert.equal(await page.getByTestId('nav-home').innerText(), 'Home');
    await page.getByTestId('lang-switch').getByText('中文').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="nav-home"]')?.textContent === '首页');
  });

  it('draws the jurisdiction map from the API with no remote tiles', async () => {
    const page = await h.newPage();
    const remote: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !['data:', 'blob:'].includes(u.protocol)) remote.push(r.url());
    });
    await h.login(page, 'leader.lique');
    await page.getByTestId('nav-map').click();
    await page.waitForURL('**/map');
    await page.getByTestId('map-node-name').waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-testid="map"]')?.getAttribute('data-drawn') ?? '') !== '', undefined, {
      timeout: 30_000,
    });
    await page.locator('.pa-map-label').first().waitFor();
    await shot(page, 'map.png');
    assert.deepEqual(remote, []);
  });

  it('goes back to login when the session ends, and returns to the page after logging in again', async () => {
    const page = await h.newPage();
    await h.login(page, 'officer.lique');
    // The home page's own reads finish first: one still under way when the cookies go would find the
    // session gone and take the app to the login page before the click (seen on a slow machine).
    await page.waitForLoadState('networkidle');
    await page.context().clearCookies();
    await page.getByTestId('nav-map').click();
    await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('expired') === '1');
    await page.getByText('登录已失效，请重新登录').waitFor();
    await page.getByTestId('login-username').fill('officer.lique');
    await page.getByTestId('login-password').fill(DEMO_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.waitForURL('**/map');
    await page.getByTestId('page-map').waitFor();
  });

  it('opens every page of the administrator without console errors (CSP, React, MapLibre)', async () => {
    const page = await h.newPage();
    // After login: before it, GET /api/auth/me answers 401 on purpose (that is how the app knows).
    await h.login(page, 'admin');
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    for (const [path, testId] of [
      ['/home', 'page-home'],
      ['/map', 'page-map'],
      ['/audit', 'page-audit'],
      ['/admin/users', 'page-users'],
    ] as const) {
      await page.goto(path);
      await page.getByTestId(testId).waitFor();
      await page.waitForLoadState('networkidle');
    }
    assert.deepEqual(problems, []);
  });

  it('logs out back to the login page, and the session is gone', async () => {
    const page = await h.newPage();
    await h.login(page, 'dispatcher');
    await page.getByTestId('logout').click();
    await page.waitForURL((u) => u.pathname === '/login');
    await page.getByTestId('login-card').waitFor();
    await page.goto('/home');
    await page.waitForURL((u) => u.pathname === '/login');
    await page.getByTestId('login-card').waitFor();
    const me = await page.request.get('/api/auth/me');
    assert.equal(me.status(), 401);
  });
});
