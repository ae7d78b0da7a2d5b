/**
 * End-to-end harness: builds the web app if needed, starts the real server (embedded PostgreSQL in a
 * fresh temporary data directory, demo data, simulator off) on a free port, launches the system's
 * Chromium through playwright-core, and tears everything down again.
 *
 *   const h = await startHarness();   … h.newPage() … h.login(page, 'admin') …   await h.close();
 *
 * Environment:
 *   PINGAN_E2E_CHROMIUM   browser executable (default /usr/bin/chromium); missing → tests skip
 *   PINGAN_E2E_TEMPLATE   a seeded data directory to copy instead of seeding from scratch; default: a
 *                         cache in node_modules/.cache/pingan-e2e keyed by the migrations, the demo
 *                         seed and today's date, made on first use; `off` seeds every time
 *   PINGAN_E2E_NO_BUILD=1 don't build apps/web when apps/web/dist is missing
 *   PINGAN_E2E_KEEP=1     keep the temporary data directory after the run
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../apps/server/src/node-flags.js';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const chromiumPath = process.env.PINGAN_E2E_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = fs.existsSync(chromiumPath);
export const DEMO_PASSWORD = 'pingan-demo-2026';
export const screenshotDir = path.join(repoRoot, 'docs/screenshots');

const READY = /Ping'an is running at (http:\/\/[^\s]+)/;
const START_TIMEOUT_MS = 180_000;

export interface Harness {
  baseUrl: string;
  browser: Browser;
  /** A page in a fresh browser context (own cookies and storage), Chinese UI unless `language` says otherwise. */
  newPage(opts?: { language?: 'zh-CN' | 'en'; width?: number; height?: number }): Promise<Page>;
  /** Log in through the login form and wait until the app has left /login. */
  login(page: Page, username: string, password?: string): Promise<void>;
  /** Last lines the server printed (for failure messages). */
  serverLog(): string;
  close(): Promise<void>;
}

/** One line saying why the browser tests cannot run here, or null when they can. */
export function skipReason(): string | false {
  return hasChromium ? false : `Chromium not found at ${chromiumPath}: browser tests skipped`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function ensureWebBuilt(): Promise<void> {
  const index = path.join(repoRoot, 'apps/web/dist/index.html');
  if (fs.existsSync(index) || process.env.PINGAN_E2E_NO_BUILD === '1') return;
  const { build } = await import('vite');
  await build({ configFile: path.join(repoRoot, 'apps/web/vite.config.ts'), logLevel: 'warn' });
}

interface Server {
  baseUrl: string;
  child: ChildProcess;
  log: string[];
  dataDir: string;
}

function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Where the seeded template lives: changes whenever the schema, the seed or the day changes. */
function templatePath(): string | null {
  const configured = process.env.PINGAN_E2E_TEMPLATE;
  if (configured === 'off') return null;
  if (configured) return configured;
  const hash = createHash('sha256');
  hash.update(new Date().toISOString().slice(0, 10));
  for (const dir of ['apps/server/drizzle', 'apps/server/src/demo', 'tools/demo-county']) {
    for (const file of filesBelow(path.join(repoRoot, dir))) {
      hash.update(path.relative(repoRoot, file));
      hash.update(fs.readFileSync(file));
    }
  }
  return path.join(repoRoot, 'node_modules/.cache/pingan-e2e', hash.digest('hex').slice(0, 16));
}

/** Seed a template once: start on an empty directory, stop cleanly, keep the directory. */
async function ensureTemplate(target: string): Promise<void> {
  if (fs.existsSync(path.join(target, '.complete'))) return;
  const fresh = await startServer(null);
  const seeded = fresh.dataDir;
  await stopServer(fresh, { keepData: true });
  if (fresh.child.exitCode !== 0) {
    fs.rmSync(seeded, { recursive: true, force: true });
    return;
  }
  fs.writeFileSync(path.join(seeded, '.complete'), new Date().toISOString());
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.rmSync(target, { recursive: true, force: true });
  try {
    fs.renameSync(seeded, target);
  } catch {
    fs.cpSync(seeded, target, { recursive: true });
    fs.rmSync(seeded, { recursive: true, force: true });
  }
}

async function startServerFromTemplate(): Promise<Server> {
  const template = templatePath();
  if (!template) return startServer(null);
  await ensureTemplate(template);
  return startServer(fs.existsSync(path.join(template, '.complete')) ? template : null);
}

async function startServer(template: string | null): Promise<Server> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-e2e-'));
  if (template) {
    fs.cpSync(template, dataDir, { recursive: true });
    fs.rmSync(path.join(dataDir, '.complete'), { force: true });
  }
  const port = await freePort();
  const log: string[] = [];
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, '--import', 'tsx', path.join(repoRoot, 'apps/server/src/main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      PINGAN_DATA_DIR: dataDir,
      PINGAN_SIMULATOR: 'off',
      PINGAN_WEB_DIST: path.join(repoRoot, 'apps/web/dist'),
      // Every test logs in from 127.0.0.1; the default (20 a minute) is for real clients.
      PINGAN_LOGIN_RATE_PER_MINUTE: process.env.PINGAN_LOGIN_RATE_PER_MINUTE ?? '200',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: teardown ends the server and anything it started, and nothing else.
    detached: true,
  });
  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log.push(line);
    if (log.length > 400) log.splice(0, log.length - 400);
  };
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the server did not print its ready line within ${START_TIMEOUT_MS / 1000} s:\n${log.slice(-30).join('\n')}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      const m = READY.exec(chunk.toString('utf8'));
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${signal ?? code}) before it was ready:\n${log.slice(-30).join('\n')}`));
    });
  });
  return { baseUrl, child, log, dataDir };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

async function stopServer(server: Server, opts: { keepData?: boolean } = {}): Promise<void> {
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child, 'SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      killGroup(child, 'SIGKILL');
      await exited;
    }
  }
  if (!opts.keepData && process.env.PINGAN_E2E_KEEP !== '1') fs.rmSync(server.dataDir, { recursive: true, force: true });
}

export async function startHarness(): Promise<Harness> {
  if (!hasChromium) throw new Error(`Chromium not found at ${chromiumPath}`);
  await ensureWebBuilt();
  const server = await startServerFromTemplate();
  const onExit = () => killGroup(server.child, 'SIGKILL');
  process.once('exit', onExit);

  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        // WebGL (MapLibre) in software: recent Chromium only falls back to SwiftShader when asked.
        '--enable-unsafe-swiftshader',
        '--use-angle=swiftshader',
      ],
    });
  } catch (err) {
    await stopServer(server);
    throw err;
  }
  const contexts: BrowserContext[] = [];

  return {
    baseUrl: server.baseUrl,
    browser,
    async newPage(opts = {}) {
      const context = await browser.newContext({
        baseURL: server.baseUrl,
        viewport: { width: opts.width ?? 1366, height: opts.height ?? 800 },
        locale: opts.language === 'en' ? 'en-US' : 'zh-CN',
        timezoneId: 'Asia/Shanghai',
      });
      if (opts.language) {
        await context.addInitScript((lang: string) => {
          if (!localStorage.getItem('pingan.lang')) localStorage.setItem('pingan.lang', lang);
        }, opts.language);
      }
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      return page;
    },
    async login(page, username, password = DEMO_PASSWORD) {
      await page.goto('/login');
      await page.getByTestId('login-username').fill(username);
      await page.getByTestId('login-password').fill(password);
      await page.getByTestId('login-submit').click();
      await page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 20_000 });
      await page.getByTestId('user-name').waitFor();
    },
    serverLog: () => server.log.join('\n'),
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await stopServer(server);
      process.off('exit', onExit);
    },
  };
}

/**
 * Choose an option of the open Ant Design select: click it, then wait until the list has closed (its
 * closing animation would take a click meant for the button under it). A click that landed while the
 * list was still opening is repeated.
 */
export async function chooseOption(page: Page, text: string): Promise<void> {
  const open = page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)');
  for (let attempt = 0; ; attempt++) {
    await page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option', { hasText: text }).first().click();
    try {
      await open.first().waitFor({ state: 'hidden', timeout: 2000 });
      return;
    } catch (err) {
      if (attempt >= 2) throw err;
    }
  }
}

/** JSON from the API with the page's session (and its CSRF token for writes). */
export async function apiOf(page: Page) {
  const me = (await (await page.request.get('/api/auth/me')).json()) as { csrfToken: string };
  return {
    get: async <T>(url: string): Promise<T> => {
      const r = await page.request.get(url);
      assert.ok(r.ok(), `${url} → ${r.status()} ${await r.text()}`);
      return (await r.json()) as T;
    },
    post: async <T>(url: string, data: unknown): Promise<T> => {
      const r = await page.request.post(url, { data, headers: { 'x-csrf-token': me.csrfToken } });
      assert.ok(r.ok(), `${url} → ${r.status()} ${await r.text()}`);
      return (await r.json()) as T;
    },
  };
}
