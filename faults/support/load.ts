import { randomUUID } from 'node:crypto';
import { generateDay, type GridPlace } from '../../tools/simulator/calls.js';

/**
 * The load of the faults suite: what the drill simulator's callers, dispatcher and officers do
 * (intake, dispatch, unit status changes), through the public API, every creating call with an
 * Idempotency-Key. A call that fails on the way (connection refused or reset, 503) is retried with
 * the same key and body until it is answered, as a terminal or a command screen does; every 2xx
 * answer is recorded so a test can check it against the database afterwards.
 */
export type Kind = 'intake' | 'dispatch' | 'status';

export interface Acknowledged {
  kind: Kind;
  key: string;
  token: string;
  path: string;
  body: unknown;
  status: number;
  answer: Record<string, unknown>;
  /** Attempts it took; more than one means the client retried with the same key. */
  attempts: number;
  /** The answer was a replay of an earlier attempt that had committed but whose answer was lost. */
  replayed: boolean;
  at: number;
}

export interface Attempt {
  kind: Kind | 'probe';
  start: number;
  ms: number;
  /** HTTP status, or 0 when the connection failed, -1 when no answer came in time (a hang). */
  status: number;
  retryAfter: string | null;
  error: string | null;
  body: string;
}

export interface Lane {
  unitId: string;
  officerToken: string;
}

export interface LoadOptions {
  baseUrl: string;
  dispatcherToken: string;
  /** Each lane works one unit: intake, dispatch, acknowledged, on scene, cleared. */
  lanes: Lane[];
  /** Units sent as support on every `spareEvery`-th incident and never acknowledged: their 1-3-5 timers run on. */
  spares: string[];
  spareEvery: number;
  /** Incidents in all; each costs five requests. */
  incidents: number;
  /** Longest a request may go unanswered before it counts as a hang. */
  requestTimeoutMs?: number;
  /** Give up a request after retrying this long. */
  retryForMs?: number;
  seed?: number;
  /** Pause between one lane's requests (ms), to spread the load over an outage. */
  pauseMs?: number;
}

/** 李鹊村网格 of the fixture tree: every call of the load is placed in it. */
const FIXTURE_GRID: GridPlace = {
  code: '370523106001',
  name: '李鹊村网格',
  place: '李鹊村',
  weight: 1,
  geometry: { type: 'MultiPolygon', coordinates: [[[[118.5, 36.9], [118.6, 36.9], [118.6, 37.0], [118.5, 37.0], [118.5, 36.9]]]] },
  bbox: [118.5, 36.9, 118.6, 37.0],
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LoadDriver {
  readonly acknowledged: Acknowledged[] = [];
  readonly attempts: Attempt[] = [];
  /** Requests that ended without a 2xx (a 4xx, a 5xx other than 503, or retries exhausted). */
  readonly failures: { kind: Kind; path: string; status: number; body: string }[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  private stopped = false;

  constructor(private readonly opts: LoadOptions) {}

  /** Requests the load will send (not counting retries). */
  get planned() {
    return this.opts.incidents * 5;
  }

  /** Resolves once `n` requests have been answered with a 2xx. */
  acknowledgedCount(n: number): Promise<void> {
    if (this.acknowledged.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** No new incidents, and requests that fail are not retried any more. */
  stop() {
    this.stopped = true;
  }

  async run(): Promise<void> {
    const calls = generateDay(this.opts.seed ?? 9, Math.max(this.opts.incidents * 2, 100), [FIXTURE_GRID]).slice(0, this.opts.incidents);
    let next = 0;
    let spare = 0;
    await Promise.all(
      this.opts.lanes.map(async (lane) => {
        while (!this.stopped) {
          const i = next++;
          const call = calls[i];
          if (!call) return;
          const withSpare = (i + 1) % this.opts.spareEvery === 0 && spare < this.opts.spares.length ? this.opts.spares[spare++] : undefined;
          await this.incident(lane, call, withSpare);
        }
      }),
    );
  }

  private async incident(lane: Lane, call: ReturnType<typeof generateDay>[number], spareUnit: string | undefined) {
    const d = this.opts.dispatcherToken;
    const intake = await this.send('intake', d, '/api/incidents', {
      content: call.content,
      category: call.category,
      priority: call.priority,
      callerName: call.callerName,
      callerPhone: call.callerPhone,
      location: { lon: call.lon, lat: call.lat },
    });
    if (!intake) return;
    const units = [{ unitId: lane.unitId, role: 'primary' }, ...(spareUnit ? [{ unitId: spareUnit, role: 'support' }] : [])];
    const sent = await this.send('dispatch', d, `/api/incidents/${String(intake.id)}/dispatch`, { units });
    if (!sent) return;
    const assignment = (sent.assignments as { assignmentId: string; unitId: string }[]).find((a) => a.unitId === lane.unitId)!.assignmentId;
    for (const status of ['acknowledged', 'on_scene', 'cleared']) {
      if (!(await this.send('status', lane.officerToken, `/api/assignments/${assignment}/status`, { status, lon: call.lon, lat: call.lat }))) return;
    }
  }

  /** One request with its own Idempotency-Key, retried with the same key until it is answered. */
  private async send(kind: Kind, token: string, path: string, body: unknown): Promise<Record<string, unknown> | null> {
    const key = randomUUID();
    const started = Date.now();
    const retryFor = this.opts.retryForMs ?? 180_000;
    for (let attempt = 1; ; attempt++) {
      const a = await this.attempt(kind, token, path, body, key);
      if (a.status >= 200 && a.status < 300) {
        const answer = JSON.parse(a.body) as Record<string, unknown>;
        this.acknowledged.push({ kind, key, token, path, body, status: a.status, answer, attempts: attempt, replayed: a.replayed, at: Date.now() });
        for (const w of [...this.waiters]) {
          if (this.acknowledged.length >= w.n) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve();
          }
        }
        if (this.opts.pauseMs) await sleep(this.opts.pauseMs);
        return answer;
      }
      const retryable = a.status === 0 || a.status === 503 || a.status === 429;
      if (!retryable || Date.now() - started > retryFor || this.stopped) {
        this.failures.push({ kind, path, status: a.status, body: a.error ?? a.body.slice(0, 500) });
        return null;
      }
      // Honour Retry-After, but look again within a second so the test sees the recovery promptly.
      const after = Number(a.retryAfter ?? '0');
      await sleep(Math.min(1000, Math.max(150, after * 1000)));
    }
  }

  private async attempt(kind: Kind, token: string, path: string, body: unknown, key: string) {
    const r = await request(`${this.opts.baseUrl}${path}`, {
      method: 'POST',
      token,
      body,
      headers: { 'idempotency-key': key },
      timeoutMs: this.opts.requestTimeoutMs ?? 20_000,
    });
    this.attempts.push({ kind, start: r.start, ms: r.ms, status: r.status, retryAfter: r.retryAfter, error: r.error, body: r.status >= 300 ? r.body.slice(0, 300) : '' });
    return r;
  }
}

export interface Answer {
  start: number;
  ms: number;
  status: number;
  retryAfter: string | null;
  replayed: boolean;
  error: string | null;
  body: string;
}

/** One HTTP request that never throws: a failed connection is status 0, no answer in time is -1. */
export async function request(
  url: string,
  o: { method?: string; token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer> {
  const start = Date.now();
  try {
    const res = await fetch(url, {
      method: o.method ?? 'GET',
      headers: {
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...o.headers,
      },
      ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
      signal: AbortSignal.timeout(o.timeoutMs ?? 20_000),
    });
    const body = await res.text();
    return {
      start,
      ms: Date.now() - start,
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      replayed: res.headers.get('idempotent-replayed') === 'true',
      error: null,
      body,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
    return { start, ms: Date.now() - start, status: timedOut ? -1 : 0, retryAfter: null, replayed: false, error: `${e.name}: ${e.cause?.code ?? e.cause?.message ?? e.message}`, body: '' };
  }
}

/** Log in through the API (bearer token), retrying while the server is not there yet. */
export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  for (let i = 0; ; i++) {
    const r = await request(`${baseUrl}/api/auth/token`, { method: 'POST', body: { username, password } });
    if (r.status === 200) return (JSON.parse(r.body) as { token: string }).token;
    if (i > 20) throw new Error(`login of ${username} failed: ${r.status} ${r.error ?? r.body}`);
    await sleep(500);
  }
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
