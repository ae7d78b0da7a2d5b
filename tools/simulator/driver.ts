import bbox from '@turf/bbox';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import type { MultiPolygon } from 'geojson';
import { planDemoUnits } from '../../apps/server/src/demo/seed.js';
import { buildDemoCounty } from '../demo-county/county.js';
import { createRng, type Rng } from '../demo-county/prng.js';
import { demoPlaces, generateDay, type SimCall } from './calls.js';

/**
 * The drill simulator: it plays callers, the county dispatcher and the officers of every demo unit
 * against a running server, only through the public API with the demo accounts — never by writing
 * to the database behind the server's back.
 */
export interface SimulatorOptions {
  baseUrl: string;
  seed: number;
  /** Time multiplier for call arrivals and time on scene (travel is physical, at the unit's speed). */
  speed: number;
  /** Calls per simulated day (the daily rhythm), unless `callsPerMinute` fixes a flat rate. */
  callsPerDay?: number;
  callsPerMinute?: number;
  /** Stop after this much real time; unset runs until stop(). */
  durationMs?: number;
  password: string;
  dispatcher?: string;
  pingIntervalMs?: number;
  /** Hour of the simulated day the drill starts at (0–23); unset: the local time of day now (Asia/Shanghai). */
  startHour?: number;
  log?: (line: string) => void;
}

export interface SimulatorStats {
  calls: number;
  dispatched: number;
  diverted: number;
  acknowledged: number;
  arrived: number;
  cleared: number;
  closed: number;
  noAnswer: number;
  breakdowns: number;
  pings: number;
  mediations: number;
  errors: number;
  lastError: string | null;
}

const SPEED_KMH: Record<string, number> = { patrol_car: 40, motorbike: 35, foot_patrol: 5, bicycle: 15, drone: 50 };
const DISPOSITION: Record<string, string> = {
  criminal: 'case_opened',
  dispute: 'mediated',
  public_order: 'handled',
  traffic: 'handled',
  help: 'handled',
  fire_rescue: 'handled',
};

interface SimUnit {
  id: string;
  callSign: string;
  type: string;
  stationCode: string;
  username: string;
  /** The officer's own session, once logged in; until then the dispatcher acts for the unit (as by radio). */
  token: string | null;
  loginAfter: number;
  lon: number;
  lat: number;
  target: { lon: number; lat: number } | null;
  area: { geometry: MultiPolygon; bbox: number[] };
  busy: boolean;
  moving: boolean;
  lastPingAt: number;
}

class Api {
  constructor(private readonly base: string) {}

  async call<T>(method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(`${this.base}${path}`, {
          method,
          headers: {
            ...(token ? { authorization: token.startsWith('Ticket ') ? token : `Bearer ${token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        // Retry what the server asks to retry (503 while the database restarts); creations carry an Idempotency-Key.
        if ((res.status === 503 || res.status === 429) && attempt < 5) {
          await sleep(500 * (attempt + 1));
          continue;
        }
        return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(500 * (attempt + 1));
      }
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function distanceM(a: { lon: number; lat: number }, b: { lon: number; lat: number }) {
  const R = 6371008.8;
  const dLat = ((b.lat - a.lat) * Math.PI) / 180;
  const dLon = ((b.lon - a.lon) * Math.PI) / 180;
  const x = Math.sin(dLat / 2) ** 2 + Math.cos((a.lat * Math.PI) / 180) * Math.cos((b.lat * Math.PI) / 180) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(x));
}

function randomPointIn(rng: Rng, area: { geometry: MultiPolygon; bbox: number[] }) {
  for (let i = 0; i < 100; i++) {
    const lon = area.bbox[0]! + rng.next() * (area.bbox[2]! - area.bbox[0]!);
    const lat = area.bbox[1]! + rng.next() * (area.bbox[3]! - area.bbox[1]!);
    if (booleanPointInPolygon([lon, lat], area.geometry)) return { lon, lat };
  }
  return { lon: (area.bbox[0]! + area.bbox[2]!) / 2, lat: (area.bbox[1]! + area.bbox[3]!) / 2 };
}

export class Simulator {
  readonly stats: SimulatorStats = { calls: 0, dispatched: 0, diverted: 0, acknowledged: 0, arrived: 0, cleared: 0, closed: 0, noAnswer: 0, breakdowns: 0, pings: 0, mediations: 0, errors: 0, lastError: null };
  private readonly api: Api;
  private readonly rng: Rng;
  private units: SimUnit[] = [];
  private stopped = false;
  private timers = new Set<NodeJS.Timeout>();
  private dispatcherToken = '';
  private done: Promise<void> | null = null;

  constructor(private readonly opts: SimulatorOptions) {
    this.api = new Api(opts.baseUrl);
    this.rng = createRng(opts.seed);
  }

  private log(line: string) {
    this.opts.log?.(line);
  }

  private fail(where: string, detail: unknown) {
    this.stats.errors++;
    this.stats.lastError = `${where}: ${typeof detail === 'string' ? detail : JSON.stringify(detail).slice(0, 300)}`;
    this.log(`simulator error ${this.stats.lastError}`);
  }

  /** Run `fn` after `ms` of real time, unless stopped. */
  private later(ms: number, fn: () => Promise<void> | void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.stopped) return;
      void Promise.resolve(fn()).catch((err: unknown) => this.fail('step', String(err)));
    }, Math.max(0, ms));
    t.unref();
    this.timers.add(t);
  }

  private async login(username: string): Promise<string> {
    const r = await this.api.call<{ token: string; message?: string }>('POST', '/api/auth/token', null, { username, password: this.opts.password });
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.body?.message ?? ''}`);
    return r.body.token;
  }

  /** Log in as the dispatcher and every unit's terminal account; place the units in their station areas. */
  async prepare(): Promise<void> {
    this.dispatcherToken = await this.login(this.opts.dispatcher ?? 'dispatcher');
    const county = buildDemoCounty();
    const plan = planDemoUnits(county);
    const stationAreas = new Map(
      county.nodes.filter((n) => n.level === 'station' && n.geometry).map((n) => [n.code, { geometry: n.geometry as MultiPolygon, bbox: bbox(n.geometry!) as number[] }]),
    );
    const listed = await this.api.call<{ items: { id: string; callSign: string; type: string; onDuty: boolean }[] }>('GET', '/api/units', this.dispatcherToken);
    if (listed.status !== 200) throw new Error(`units: ${listed.status}`);
    for (const u of listed.body.items) {
      const planned = plan.find((p) => p.callSign === u.callSign);
      const area = planned ? stationAreas.get(planned.stationCode) : undefined;
      if (!planned || !area) continue;
      if (!u.onDuty) {
        const r = await this.api.call('POST', `/api/units/${u.id}/duty`, this.dispatcherToken, { onDuty: true });
        if (r.status !== 200) this.fail(`duty ${u.callSign}`, r.body);
      }
      this.units.push({
        id: u.id,
        callSign: u.callSign,
        type: u.type,
        stationCode: planned.stationCode,
        username: planned.memberUsername,
        token: null,
        loginAfter: 0,
        ...randomPointIn(this.rng, area),
        target: null,
        area,
        busy: false,
        moving: u.type !== 'service_station',
        lastPingAt: 0,
      });
    }
    this.log(`simulator: ${this.units.length} units ready`);
  }

  /**
   * The session a unit acts with: its officer's, logged in when first needed (logins are rate
   * limited per address, so a refused login falls back to the dispatcher and is retried later).
   */
  private async tokenFor(unit: SimUnit): Promise<string> {
    if (unit.token) return unit.token;
    if (Date.now() >= unit.loginAfter) {
      const r = await this.api.call<{ token: string }>('POST', '/api/auth/token', null, { username: unit.username, password: this.opts.password });
      if (r.status === 200) unit.token = r.body.token;
      else unit.loginAfter = Date.now() + 30_000;
    }
    return unit.token ?? this.dispatcherToken;
  }

  /** Move every unit one step and report its position. */
  private async pingAll() {
    const now = Date.now();
    const points = this.units.map((u) => {
      const dt = u.lastPingAt ? (now - u.lastPingAt) / 1000 : 0;
      u.lastPingAt = now;
      if (u.moving && dt > 0) {
        if (!u.target) u.target = randomPointIn(this.rng, u.area); // patrol: a random waypoint in the station's area
        const step = (((SPEED_KMH[u.type] ?? 5) * 1000 * dt) / 3600) * (u.busy ? 1 : 0.5);
        const d = distanceM(u, u.target);
        if (d <= step) {
          u.lon = u.target.lon;
          u.lat = u.target.lat;
          if (!u.busy) u.target = null;
        } else {
          u.lon += ((u.target.lon - u.lon) * step) / d;
          u.lat += ((u.target.lat - u.lat) * step) / d;
        }
      }
      return { unitId: u.id, t: now, lon: Math.round(u.lon * 1e6) / 1e6, lat: Math.round(u.lat * 1e6) / 1e6, accuracy: 8 };
    });
    // One batch for every unit: the county's duty staff may report for the units below them.
    const r = await this.api.call<{ stored: number }>('POST', '/api/units/positions', this.dispatcherToken, { points });
    if (r.status === 200) this.stats.pings += r.body.stored;
    else this.fail('positions', r.body);
  }

  private async handleCall(call: SimCall, index: number) {
    this.stats.calls++;
    const intake = await this.api.call<{ id: string; nonPolice: boolean; message?: string }>(
      'POST',
      '/api/incidents',
      this.dispatcherToken,
      { content: call.content, category: call.category, priority: call.priority, callerPhone: call.callerPhone, callerName: call.callerName, location: { lon: call.lon, lat: call.lat } },
      { 'idempotency-key': `sim-${this.opts.seed}-${index}` },
    );
    if (intake.status !== 201) return this.fail('intake', intake.body);
    const id = intake.body.id;
    if (call.nonPolice) {
      this.stats.diverted++;
      // Handed to the partner department by phone in this drill: closed as referred.
      this.later(20_000 / this.opts.speed, async () => {
        const r = await this.api.call('POST', `/api/incidents/${id}/close`, this.dispatcherToken, { disposition: 'referred', result: '已转相关部门处理（联调联处）' });
        if (r.status === 200) this.stats.closed++;
      });
      return;
    }
    const rec = await this.api.call<{ picks: { unitId: string }[]; plan: { requirements: { count: number }[] } }>('POST', `/api/incidents/${id}/recommendation`, this.dispatcherToken, {});
    if (rec.status !== 200) return this.fail('recommendation', rec.body);
    const picks = rec.body.picks.filter((p) => this.units.some((u) => u.id === p.unitId && !u.busy)).slice(0, 3);
    if (picks.length === 0) return; // stays open: the queue shows it waiting
    const sent = await this.api.call<{ assignments: { assignmentId: string; unitId: string }[] }>(
      'POST',
      `/api/incidents/${id}/dispatch`,
      this.dispatcherToken,
      { units: picks.map((p) => ({ unitId: p.unitId, reason: 'recommended' })) },
      { 'idempotency-key': `sim-${this.opts.seed}-${index}-dispatch` },
    );
    if (sent.status !== 201) return this.fail('dispatch', sent.body);
    this.stats.dispatched++;
    let open = sent.body.assignments.length;
    const finished = async () => {
      open--;
      if (open > 0) return;
      const top = call.category.split('.')[0]!;
      const r = await this.api.call('POST', `/api/incidents/${id}/close`, this.dispatcherToken, { disposition: DISPOSITION[top] ?? 'handled', result: '现场处置完毕' });
      if (r.status === 200) this.stats.closed++;
      else this.fail('close', r.body);
    };
    for (const a of sent.body.assignments) {
      const unit = this.units.find((u) => u.id === a.unitId);
      if (!unit) continue;
      unit.busy = true;
      void this.runAssignment(unit, a.assignmentId, call, finished);
    }
  }

  private async status(unit: SimUnit, assignmentId: string, status: string) {
    const r = await this.api.call('POST', `/api/assignments/${assignmentId}/status`, await this.tokenFor(unit), { status, lon: unit.lon, lat: unit.lat });
    if (r.status !== 200) this.fail(`status ${status}`, r.body);
    return r.status === 200;
  }

  /** A dispute found on scene becomes a mediation case, registered by the officer from the incident (矛盾纠纷排查化解). */
  private async openMediation(unit: SimUnit, assignmentId: string, call: SimCall) {
    const mine = await this.api.call<{ items: { assignmentId: string; incident: { id: string } }[] }>('GET', '/api/assignments?mine=true&state=all&limit=50', unit.token);
    const incidentId = mine.body?.items?.find((a) => a.assignmentId === assignmentId)?.incident.id;
    if (!incidentId) return;
    const type = call.category === 'dispute.family' ? 'family' : call.content.includes('噪') ? 'noise' : 'neighbours';
    const r = await this.api.call('POST', '/api/mediation/disputes', unit.token, {
      type,
      source: 'call',
      incidentId,
      title: call.content.slice(0, 40),
      description: `${call.content}。现场初步调解，双方同意进一步调解。`,
      parties: [
        { side: 'applicant', name: call.callerName, phone: call.callerPhone },
        { side: 'respondent', name: `${call.callerName.slice(0, 1)}某` },
      ],
    }, { 'idempotency-key': `sim-mediation-${incidentId}` });
    if (r.status === 201) this.stats.mediations++;
    else if (r.status !== 409) this.fail('mediation', r.body);
  }

  /** One officer's response: acknowledge after a human delay, drive there, work the scene, clear. */
  private async runAssignment(unit: SimUnit, assignmentId: string, call: SimCall, finished: () => Promise<void>) {
    const release = () => {
      unit.busy = false;
      unit.target = null;
    };
    const roll = this.rng.next();
    if (roll < 0.04) {
      // No answer: the acknowledge timer escalates; the dispatcher marks the unit unavailable later.
      this.stats.noAnswer++;
      this.later(90_000, async () => {
        await this.api.call('POST', `/api/assignments/${assignmentId}/status`, this.dispatcherToken, { status: 'unavailable' });
        release();
        await finished();
      });
      return;
    }
    const ackDelay = Math.min(55_000, 5_000 + Math.abs(this.rng.normal()) * 15_000) / Math.max(1, this.opts.speed / 4);
    this.later(ackDelay, async () => {
      if (!(await this.status(unit, assignmentId, 'acknowledged'))) return release();
      this.stats.acknowledged++;
      await this.status(unit, assignmentId, 'en_route');
      unit.target = { lon: call.lon, lat: call.lat };
      if (roll < 0.06) {
        // Breakdown on the way.
        this.stats.breakdowns++;
        this.later(30_000, async () => {
          await this.status(unit, assignmentId, 'unavailable');
          release();
          await finished();
        });
        return;
      }
      const waitArrival = () => {
        if (this.stopped) return;
        if (distanceM(unit, call) > 30) return this.later(1000, waitArrival);
        void (async () => {
          if (!(await this.status(unit, assignmentId, 'on_scene'))) return release();
          this.stats.arrived++;
          this.later((call.onSceneMinutes * 60_000) / this.opts.speed, async () => {
            await this.status(unit, assignmentId, 'cleared');
            this.stats.cleared++;
            if (call.category.startsWith('dispute') && unit.token) await this.openMediation(unit, assignmentId, call);
            release();
            await finished();
          });
        })();
      };
      waitArrival();
    });
  }

  /** Start the drill; resolves when stopped or when `durationMs` has passed. */
  start(): Promise<void> {
    this.done ??= this.run();
    return this.done;
  }

  private async run() {
    const started = Date.now();
    const pingEvery = this.opts.pingIntervalMs ?? 5000;
    const pinger = async () => {
      if (this.stopped) return;
      await this.pingAll().catch((err: unknown) => this.fail('ping', String(err)));
      this.later(pingEvery, pinger);
    };
    await pinger();
    const places = demoPlaces();
    let index = 0;
    const due = async (at: number) => {
      if (this.opts.durationMs !== undefined && at - started > this.opts.durationMs) {
        this.stopped = true;
        return false;
      }
      const wait = at - Date.now();
      if (wait > 0) await sleep(wait);
      return !this.stopped;
    };
    if (this.opts.callsPerMinute) {
      // Load mode: a flat N calls per real minute, drawn from the same mix.
      for (let i = 0; !this.stopped; i++) {
        const call = generateDay(this.opts.seed * 100_003 + i, 24, places)[i % 24 === 0 ? 0 : 0]!;
        if (!(await due(started + (i * 60_000) / this.opts.callsPerMinute))) break;
        await this.handleCall(call, index++).catch((err: unknown) => this.fail('call', String(err)));
      }
      return;
    }
    // Day mode: the simulated clock starts at `startHour` (or the local time of day now) and runs `speed` times faster.
    const simStart = this.opts.startHour !== undefined ? this.opts.startHour * 3600 : ((Date.now() + 8 * 3_600_000) % 86_400_000) / 1000;
    for (let day = 0; !this.stopped; day++) {
      for (const call of generateDay(this.opts.seed + day, this.opts.callsPerDay ?? 240, places)) {
        const simSecond = day * 86_400 + call.atSecond;
        if (simSecond < simStart) continue;
        if (!(await due(started + ((simSecond - simStart) * 1000) / this.opts.speed))) break;
        await this.handleCall(call, index++).catch((err: unknown) => this.fail('call', String(err)));
      }
    }
  }

  async stop() {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
