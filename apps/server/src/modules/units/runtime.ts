import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import client from 'prom-client';
import { z } from 'zod';
import type { Role } from '@pingan/contracts';
import { coversPath, type Actor } from '../../platform/access.js';
import type { AppContext } from '../../platform/context.js';
import { MAX_PAYLOAD_BYTES } from '../../platform/bus.js';
import {
  IngestFilter, OUTCOMES, PositionStore, DEFAULT_RULES, type LiveHandle, type LivePosition, type LiveSlot, type Outcome, type Ping, type RuleSlot,
  type RuleState,
} from './positions.js';
import { unitIds } from './unit-ids.js';
import { TrackWriter } from './writer.js';

/** Settings of this module, from the environment (docs/decisions/010-avl-ingestion.md lists them). */
const Settings = z.object({
  PINGAN_AVL_MAX_SPEED_KMH: z.coerce.number().positive().default(DEFAULT_RULES.maxSpeedKmh),
  PINGAN_AVL_FUTURE_SECONDS: z.coerce.number().min(0).default(DEFAULT_RULES.futureToleranceMs / 1000),
  PINGAN_AVL_STALE_SECONDS: z.coerce.number().positive().default(300),
  PINGAN_AVL_RETENTION_DAYS: z.coerce.number().int().min(1).default(DEFAULT_RULES.retentionDays),
  PINGAN_AVL_FLUSH_ROWS: z.coerce.number().int().min(1).default(2000),
  PINGAN_AVL_LINGER_MS: z.coerce.number().min(0).default(2),
  /** Flushes at once on PostgreSQL (the embedded engine has one connection: always 1). */
  PINGAN_AVL_FLUSH_CONCURRENCY: z.coerce.number().int().min(1).max(8).default(4),
  PINGAN_AVL_PUBLISH_MS: z.coerce.number().min(50).default(250),
  PINGAN_REACH_SPEED_KMH: z.coerce.number().positive().default(30),
});
export type UnitsSettings = z.infer<typeof Settings>;

/**
 * A unit as this instance knows it, one record per unit: directory facts (updated in place when the
 * unit changes, so holders see the change), plus handles to its rule state and live entry, so the
 * ingest path finds everything about a point's unit with one lookup.
 */
export interface UnitInfo extends RuleSlot, LiveSlot {
  id: string;
  callSign: string;
  type: string;
  path: string;
  onDuty: boolean;
  dutySince: number | null;
  retired: boolean;
  /** NO_MEMBERS when the unit has none (most have none: the ingest path then reads no set). */
  members: ReadonlySet<string>;
  rules: RuleState | null;
  live: LiveHandle | null;
  /** The unit's number in the process's registry of unit ids (Ping.unitNo); -1 if it has none. */
  no: number;
  /** Ingest scratch: the batch that last grouped this unit, and the unit's index in that batch. */
  batch: number;
  slot: number;
  /** Waiting in the next fan-out message. */
  publish: boolean;
}

interface UnitRow extends Record<string, unknown> {
  id: string;
  call_sign: string;
  type: string;
  path: string;
  on_duty: boolean;
  duty_changed_at: Date | string | null;
  retired_at: Date | string | null;
  members: string[] | null;
}

export const UNITS_CHANGED = 'units.changed';
export const POSITIONS_CHANGED = 'units.positions';
/** Unit ids per platform-bus message: a uuid takes 39 bytes of JSON, the envelope about 60 (MAX_PAYLOAD_BYTES). */
export const IDS_PER_MESSAGE = Math.floor((MAX_PAYLOAD_BYTES - 100) / 39);
/** Unknown unit ids remembered at most (then forgotten all at once and looked up again when sent). */
const MAX_MISSING_IDS = 10_000;
/** Without Redis, changed unit ids go to the other instances at most this often. */
const BUS_FAN_OUT_MS = 1000;
const REDIS_CHANNEL = 'pingan:units:positions';
/** What may be looked up as a unit id (the body schema allows uuids only; a direct caller may not). */
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Who sends a batch: a terminal ticket bound to one unit, or a member's session. */
export type Sender = { kind: 'ticket'; userId: string; unitId: string } | { kind: 'session'; userId: string };

export type Counts = Record<Outcome, number>;

/** Told which units' live entries changed on this instance (moved, left duty, renamed): the live-map push. */
export type PositionsListener = (units: readonly Pick<UnitInfo, 'id' | 'path'>[]) => void;
export const emptyCounts = (): Counts => Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Counts;

/**
 * Everything this module keeps in memory for one app: the unit directory, the ingestion rules'
 * state, the latest positions, the track writer and the cross-instance fan-out. One per
 * AppContext; dispatch reads `unitsRuntime(ctx).positions`.
 */
export class UnitsRuntime {
  readonly instanceId = randomUUID();
  readonly settings: UnitsSettings;
  readonly filter: IngestFilter;
  readonly positions: PositionStore;
  readonly writer: TrackWriter;
  readonly totals: Counts = emptyCounts();
  private directory = new Map<string, UnitInfo>();
  /**
   * Ids asked for that the unit table does not hold, so they are not looked up again; bounded (cleared
   * when full), or a sender making up ids would grow it without end.
   */
  private missing = new Set<string>();
  /** The directory's units by their number in the registry of unit ids (what the body scanner yields). */
  private byNo: (UnitInfo | undefined)[] = [];
  /**
   * One string per jurisdiction path: units of a station share it, so the ingest path's jurisdiction
   * check compares pointers and reads no unit's own copy of the path (a cache miss per unit).
   */
  private paths = new Map<string, string>();
  /** Units whose live position changed since the last fan-out (each once: UnitInfo.publish). */
  private changed: UnitInfo[] = [];
  private batches = 0;
  /** Units changed since the last platform-bus message (no Redis), and when that went out. */
  private busPending = new Set<string>();
  private busSentAt = 0;
  private publishTimer: NodeJS.Timeout | null = null;
  private redisPub: Redis | null = null;
  private redisSub: Redis | null = null;
  private unsubscribe: (() => void)[] = [];
  private counter: client.Counter<'outcome'> | null = null;
  private started: Promise<void> | null = null;
  private listeners = new Set<PositionsListener>();

  constructor(private readonly ctx: AppContext) {
    const parsed = Settings.safeParse(process.env);
    this.settings = parsed.success ? parsed.data : Settings.parse({});
    const s = this.settings;
    this.filter = new IngestFilter({
      ...DEFAULT_RULES,
      maxSpeedKmh: s.PINGAN_AVL_MAX_SPEED_KMH,
      futureToleranceMs: s.PINGAN_AVL_FUTURE_SECONDS * 1000,
      retentionDays: s.PINGAN_AVL_RETENTION_DAYS,
    });
    this.positions = new PositionStore({ staleMs: s.PINGAN_AVL_STALE_SECONDS * 1000, indexMaxAgeMs: 250, now: () => ctx.now().getTime() });
    // A unit without rule state (first point here, after a restart or a failed write) is judged
    // against its live position, when there is one.
    this.filter.seedFrom = (unitId) => this.positions.latestFix(unitId);
    this.writer = new TrackWriter(
      ctx.database,
      {
        maxBatchRows: s.PINGAN_AVL_FLUSH_ROWS,
        lingerMs: s.PINGAN_AVL_LINGER_MS,
        concurrency: ctx.database.engine === 'pglite' ? 1 : s.PINGAN_AVL_FLUSH_CONCURRENCY,
        retentionDays: s.PINGAN_AVL_RETENTION_DAYS,
      },
      () => ctx.now().getTime(),
    );
  }

  /** Register Prometheus metrics on the app's registry. */
  installMetrics(registry: client.Registry): void {
    this.counter = new client.Counter({
      name: 'pingan_unit_positions_total',
      help: 'Position points received, by outcome of the ingestion rules',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    const flushRows = new client.Histogram({
      name: 'pingan_unit_position_flush_rows',
      help: 'Rows per group-commit flush of the position track',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
      registers: [registry],
    });
    const flushSeconds = new client.Histogram({
      name: 'pingan_unit_position_flush_seconds',
      help: 'Duration of one group-commit flush of the position track',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
    const writer = this.writer;
    const positions = this.positions;
    new client.Gauge({
      name: 'pingan_unit_position_queue_rows',
      help: 'Accepted points waiting for the next flush',
      registers: [registry],
      collect() {
        this.set(writer.pendingRows);
      },
    });
    new client.Gauge({
      name: 'pingan_units_live',
      help: 'Units with a live position in memory',
      registers: [registry],
      collect() {
        this.set(positions.size);
      },
    });
    this.writer.onFlush = (rows, seconds) => {
      flushRows.observe(rows);
      flushSeconds.observe(seconds);
    };
  }

  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  private async doStart(): Promise<void> {
    await this.writer.start();
    const { bus, config } = this.ctx;
    this.unsubscribe.push(
      bus.subscribe(UNITS_CHANGED, (payload) => {
        const ids = Array.isArray(payload.unitIds) ? payload.unitIds.filter((x): x is string => typeof x === 'string') : [];
        void this.refreshUnits(ids).catch(() => undefined);
      }),
    );
    if (config.REDIS_URL) {
      this.redisPub = new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
      this.redisSub = new Redis(config.REDIS_URL, { lazyConnect: false });
      this.redisPub.on('error', () => undefined);
      this.redisSub.on('error', () => undefined);
      await this.redisSub.subscribe(REDIS_CHANNEL).catch(() => undefined);
      this.redisSub.on('message', (_channel: string, message: string) => this.onRemotePositions(message));
    } else {
      this.unsubscribe.push(
        bus.subscribe(POSITIONS_CHANGED, (payload) => {
          if (payload.from === this.instanceId) return;
          const ids = Array.isArray(payload.unitIds) ? payload.unitIds.filter((x): x is string => typeof x === 'string') : [];
          void this.refreshLatestFromDb(ids)
            .then(() => this.tell(ids.flatMap((id) => this.directory.get(id) ?? [])))
            .catch(() => undefined);
        }),
      );
    }
    this.publishTimer = setInterval(() => void this.publishChanged().catch(() => undefined), this.settings.PINGAN_AVL_PUBLISH_MS);
    this.publishTimer.unref();
    // On-duty units' last known positions from the track, so a restart does not blank the map.
    const onDuty = await this.ctx.database.query<{ id: string }>('select id from unit where on_duty and retired_at is null');
    await this.refreshLatestFromDb(onDuty.map((r) => r.id));
  }

  async stop(): Promise<void> {
    if (this.publishTimer) clearInterval(this.publishTimer);
    for (const u of this.unsubscribe.splice(0)) u();
    await this.writer.stop();
    await Promise.all([this.redisPub?.quit().catch(() => undefined), this.redisSub?.quit().catch(() => undefined)]);
  }

  /** Hear position changes of this instance's store, whoever made them (here, or another instance). */
  onPositions(listener: PositionsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tell(units: readonly Pick<UnitInfo, 'id' | 'path'>[]): void {
    if (units.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(units);
      } catch {
        // A listener's failure is its own; the others and the ingest path go on.
      }
    }
  }

  // ---- unit directory ----------------------------------------------------------------------------

  private async loadUnits(ids: string[]): Promise<UnitRow[]> {
    return this.ctx.database.query<UnitRow>(
      `select u.id, u.call_sign, u.type, u.path, u.on_duty, u.duty_changed_at, u.retired_at,
              coalesce((select array_agg(m.user_id::text) from unit_member m where m.unit_id = u.id), '{}') as members
       from unit u where u.id = any($1::uuid[])`,
      [ids],
    );
  }

  private remember(r: UnitRow): UnitInfo {
    const facts = {
      callSign: r.call_sign,
      type: r.type,
      path: this.internPath(r.path),
      onDuty: r.on_duty && !r.retired_at,
      dutySince: r.on_duty && r.duty_changed_at ? new Date(r.duty_changed_at).getTime() : null,
      retired: r.retired_at !== null,
      members: r.members?.length ? new Set(r.members) : NO_MEMBERS,
    };
    this.missing.delete(r.id);
    const known = this.directory.get(r.id);
    if (known) return Object.assign(known, facts);
    const info: UnitInfo = { id: r.id, ...facts, rules: null, live: null, no: unitIds.register(r.id), batch: 0, slot: 0, publish: false };
    this.directory.set(r.id, info);
    if (info.no >= 0) this.byNo[info.no] = info;
    return info;
  }

  private internPath(path: string): string {
    const known = this.paths.get(path);
    if (known !== undefined) return known;
    this.paths.set(path, path);
    return path;
  }

  /** The unit's record, null when the unit table has no such unit, undefined when not looked up yet. */
  private known(id: string): UnitInfo | null | undefined {
    return this.directory.get(id) ?? (this.missing.has(id) ? null : undefined);
  }

  /** How many unknown ids are remembered (bounded by MAX_MISSING_IDS). */
  get missingIds(): number {
    return this.missing.size;
  }

  private markMissing(id: string): void {
    if (this.directory.has(id)) return;
    if (this.missing.size >= MAX_MISSING_IDS) this.missing.clear();
    this.missing.add(id);
  }

  async unit(id: string): Promise<UnitInfo | null> {
    const known = this.known(id);
    if (known !== undefined) return known;
    const [row] = await this.loadUnits([id]);
    if (!row) {
      this.markMissing(id);
      return null;
    }
    return this.remember(row);
  }

  /** Re-read units after a change (this instance's own write, or another's announced on the bus). */
  async refreshUnits(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = await this.loadUnits(ids);
    const found = new Set<string>();
    const told: Pick<UnitInfo, 'id' | 'path'>[] = [];
    for (const r of rows) {
      found.add(r.id);
      const info = this.remember(r);
      told.push(info);
      if (!info.onDuty) {
        this.positions.remove(info.id);
        this.filter.reset(info.id);
      } else {
        this.positions.updateMeta(info.id, { callSign: info.callSign, type: info.type, path: info.path });
      }
    }
    for (const id of ids) {
      if (found.has(id)) continue;
      // Gone from the table: anyone holding the record sees a retired unit.
      const gone = this.directory.get(id);
      if (gone) {
        Object.assign(gone, { onDuty: false, retired: true });
        this.positions.remove(id);
        told.push(gone);
        if (gone.no >= 0) this.byNo[gone.no] = undefined;
      }
      this.directory.delete(id);
    }
    this.tell(told);
  }

  /** A fixed position (a service station) straight into the live store. */
  placeFixed(info: UnitInfo, lon: number, lat: number): void {
    this.positions.set({ unitId: info.id, callSign: info.callSign, type: info.type, path: info.path, t: this.ctx.now().getTime(), lon, lat, accuracy: 0, speed: 0, heading: null });
    this.tell([info]);
  }

  async refreshLatestFromDb(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const since = new Date(this.ctx.now().getTime() - 12 * 3_600_000);
    const rows = await this.ctx.database.query<{ unit_id: string; t: Date | string; lon: number; lat: number; accuracy: number | null; speed: number | null; heading: number | null }>(
      `select p.unit_id, p.t, p.lon, p.lat, p.accuracy, p.speed, p.heading
       from unnest($1::uuid[]) as ids(id)
       cross join lateral (select * from unit_position where unit_id = ids.id and t >= $2 order by t desc limit 1) p`,
      [ids, since],
    );
    for (const r of rows) {
      const info = await this.unit(r.unit_id);
      if (!info || !info.onDuty) continue;
      const t = new Date(r.t).getTime();
      if (info.dutySince !== null && t < info.dutySince) continue;
      this.positions.set({ unitId: info.id, callSign: info.callSign, type: info.type, path: info.path, t, lon: r.lon, lat: r.lat, accuracy: r.accuracy, speed: r.speed, heading: r.heading });
    }
  }

  private actors = new Map<string, { actor: Actor | null; at: number }>();

  /** The sender's actor when cached and fresh (undefined: must be loaded; null: no such user). */
  private cachedActor(userId: string): Actor | null | undefined {
    const cached = this.actors.get(userId);
    return cached && Date.now() - cached.at <= 60_000 ? cached.actor : undefined;
  }

  private async loadActor(userId: string): Promise<Actor | null> {
    const actor = await this.ctx.auth.actorForUser(userId, null, null);
    this.actors.set(userId, { actor, at: Date.now() });
    return actor;
  }

  /** A member, or staff whose role may operate units and whose jurisdiction covers this one (cached 60 s). */
  async mayOperate(userId: string, info: UnitInfo): Promise<boolean> {
    if (info.members.has(userId)) return true;
    let actor = this.cachedActor(userId);
    if (actor === undefined) actor = await this.loadActor(userId);
    return actor !== null && canOperate(actor, info, info.members);
  }

  // ---- ingestion ---------------------------------------------------------------------------------

  /**
   * Apply the rules to a batch, write the stored points with group commit and answer the counts
   * once they are committed. A failed write rejects (nothing acknowledged) and resets the rule
   * state of the units involved so a retry is judged afresh.
   */
  async ingest(sender: Sender, pings: Ping[]): Promise<Counts> {
    const counts = emptyCounts();
    const now = this.ctx.now().getTime();
    const n = pings.length;
    // One directory lookup per point; the record carries the unit's rule state and live entry.
    const infos = new Array<UnitInfo | null | undefined>(n);
    let unknown: string[] | null = null;
    for (let i = 0; i < n; i++) {
      const p = pings[i]!;
      const no = p.unitNo ?? -1;
      const info = (no >= 0 ? this.byNo[no] : undefined) ?? this.known(p.unitId);
      infos[i] = info;
      if (info === undefined) (unknown ??= []).push(p.unitId);
    }
    // One query for every unit this instance has not seen yet (a cold start meets thousands).
    if (unknown) {
      const ids = [...new Set(unknown)].filter((id) => UUID_TEXT.test(id));
      if (ids.length) for (const r of await this.loadUnits(ids)) this.remember(r);
      for (const id of unknown) this.markMissing(id);
      for (let i = 0; i < n; i++) infos[i] ??= this.directory.get(pings[i]!.unitId) ?? null;
    }
    // Group by unit, synchronously (the record's batch stamp is scratch for this loop only); most
    // batches carry one point per unit, so no list until a unit repeats.
    const batch = ++this.batches;
    const units: UnitInfo[] = [];
    const groups: (Ping | Ping[])[] = [];
    for (let i = 0; i < n; i++) {
      const info = infos[i];
      if (!info) {
        counts.unknown_unit++;
        continue;
      }
      const p = pings[i]!;
      p.unitNo = info.no;
      if (info.batch !== batch) {
        info.batch = batch;
        info.slot = units.length;
        units.push(info);
        groups.push(p);
      } else {
        const g = groups[info.slot]!;
        if (Array.isArray(g)) g.push(p);
        else groups[info.slot] = [g, p];
      }
    }
    // The sender's rights: members need nothing more; anyone else is judged by role and jurisdiction,
    // from an actor loaded at most once per request (and cached for a minute).
    const userId = sender.userId;
    let actor = this.cachedActor(userId);
    if (actor === undefined && units.some((u) => !u.retired && !u.members.has(userId) && !(sender.kind === 'ticket' && sender.unitId !== u.id))) {
      actor = await this.loadActor(userId);
    }
    const rows: Ping[] = [];
    const newest: Ping[] = [];
    const live: UnitInfo[] = [];
    let accepted = 0;
    // A batch's units mostly share a few paths (interned): the jurisdiction check runs once per path.
    let checkedPath: string | null = null;
    let covered = false;
    for (let k = 0; k < units.length; k++) {
      const info = units[k]!;
      const entry = groups[k]!;
      let verdict: Outcome | null = null;
      if (info.retired) verdict = 'unknown_unit';
      else if (sender.kind === 'ticket' && sender.unitId !== info.id) verdict = 'forbidden';
      else if (!info.members.has(userId)) {
        if (info.path !== checkedPath) {
          checkedPath = info.path;
          covered = !!actor && mayOperateAt(actor, info.path);
        }
        if (!covered) verdict = 'forbidden';
      }
      if (verdict) {
        counts[verdict] += Array.isArray(entry) ? entry.length : 1;
        continue;
      }
      // UnitInfo carries the DutyInfo fields (onDuty, dutySince) and the rule state slot.
      if (!Array.isArray(entry)) {
        const outcome = this.filter.classify(entry, info, now, info);
        if (outcome === 'accepted') {
          accepted++;
          rows.push(entry);
          newest.push(entry);
          live.push(info);
          continue;
        }
        counts[outcome]++;
        if (outcome === 'reanchored') {
          rows.push(entry);
          newest.push(entry);
          live.push(info);
        } else if (outcome === 'out_of_order') {
          rows.push(entry);
        }
        continue;
      }
      entry.sort((a, b) => a.t - b.t);
      let last: Ping | null = null;
      for (const p of entry) {
        const outcome = this.filter.classify(p, info, now, info);
        counts[outcome]++;
        if (outcome === 'accepted' || outcome === 'reanchored') last = p;
        else if (outcome !== 'out_of_order') continue;
        rows.push(p);
      }
      if (last) {
        newest.push(last);
        live.push(info);
      }
    }
    counts.accepted += accepted;
    try {
      await this.writer.enqueue(rows);
    } catch (err) {
      for (const info of units) this.filter.reset(info.id);
      throw err;
    }
    const scratch = this.scratch;
    for (let k = 0; k < newest.length; k++) {
      const p = newest[k]!;
      // The record is updated in place: the unit may have gone off duty while the write was under way.
      const info = live[k]!;
      if (!info.onDuty) continue;
      scratch.unitId = info.id;
      scratch.callSign = info.callSign;
      scratch.type = info.type;
      scratch.path = info.path;
      scratch.t = p.t;
      scratch.lon = p.lon;
      scratch.lat = p.lat;
      scratch.accuracy = p.accuracy;
      scratch.speed = p.speed;
      scratch.heading = p.heading;
      if (this.positions.set(scratch, info) && !info.publish) {
        info.publish = true;
        this.changed.push(info);
      }
    }
    for (const o of OUTCOMES) {
      if (counts[o] === 0) continue;
      this.totals[o] += counts[o];
      this.counter?.inc({ outcome: o }, counts[o]);
    }
    return counts;
  }

  /** Reused for PositionStore.set, which copies the fields. */
  private scratch: LivePosition = { unitId: '', callSign: '', type: '', path: '', t: 0, lon: 0, lat: 0, accuracy: null, speed: null, heading: null };

  // ---- fan-out -------------------------------------------------------------------------------------

  /** At most one message per tick for all changed units; each unit at most once per tick. */
  private async publishChanged(): Promise<void> {
    if (this.changed.length === 0 && this.busPending.size === 0) return;
    const ids = this.changed.map((u) => u.id);
    for (const u of this.changed) u.publish = false;
    this.tell(this.changed);
    this.changed = [];
    const now = Date.now();
    if (this.redisPub) {
      for (let i = 0; i < ids.length; i += 2000) {
        const positions = ids
          .slice(i, i + 2000)
          .map((id) => this.positions.latest(id))
          .filter((p) => p !== null)
          .map((p) => [p.unitId, p.t, p.lon, p.lat, p.accuracy, p.speed, p.heading]);
        await this.redisPub.publish(REDIS_CHANNEL, JSON.stringify({ from: this.instanceId, positions }));
      }
      return;
    }
    // Without Redis, the other instances hear the ids on the platform bus and re-read the latest rows.
    // On PostgreSQL each message is a NOTIFY, whose payload must stay under 8,000 bytes: the ids go in
    // messages of IDS_PER_MESSAGE, all in one statement (2,000 ids in one message failed, every tick),
    // at most once a second (command screens get positions once a second anyway), and only while
    // another instance listens (16,000 moving units every 250 ms cost the database 10 % more CPU per
    // point in bench:avl). Until one does, the ids are kept, one entry a unit.
    for (const id of ids) this.busPending.add(id);
    if (now - this.busSentAt < BUS_FAN_OUT_MS || !this.ctx.bus.hasPeers()) return;
    this.busSentAt = now;
    const pending = [...this.busPending];
    this.busPending.clear();
    const payloads: { from: string; unitIds: string[] }[] = [];
    for (let i = 0; i < pending.length; i += IDS_PER_MESSAGE) payloads.push({ from: this.instanceId, unitIds: pending.slice(i, i + IDS_PER_MESSAGE) });
    try {
      await this.ctx.bus.publishAll(POSITIONS_CHANGED, payloads);
    } catch (err) {
      // The database is away: these go with the next message.
      for (const id of pending) this.busPending.add(id);
      throw err;
    }
  }

  private onRemotePositions(message: string): void {
    try {
      const msg = JSON.parse(message) as { from?: string; positions?: unknown[] };
      if (msg.from === this.instanceId || !Array.isArray(msg.positions)) return;
      const moved: UnitInfo[] = [];
      for (const raw of msg.positions) {
        if (!Array.isArray(raw) || typeof raw[0] !== 'string') continue;
        const [unitId, t, lon, lat, accuracy, speed, heading] = raw as [string, number, number, number, number | null, number | null, number | null];
        const info = this.directory.get(unitId);
        if (!info) {
          void this.unit(unitId).catch(() => undefined);
          continue;
        }
        if (!info.onDuty) continue;
        if (this.positions.set({ unitId, callSign: info.callSign, type: info.type, path: info.path, t, lon, lat, accuracy, speed, heading })) moved.push(info);
      }
      this.tell(moved);
    } catch {
      // A malformed message on our channel is ignored.
    }
  }
}

/** Roles that may operate a unit of their jurisdiction (duty, terminal ticket, positions, patrol runs). */
export const DUTY_ROLES = [
  'admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'volunteer', 'security_guard',
] as const satisfies readonly Role[];

/** May this actor act for the unit? A member always may; otherwise a duty role covering its home node. */
export function canOperate(actor: Pick<Actor, 'userId' | 'role' | 'nodePath'>, unit: { path: string }, members: ReadonlySet<string>): boolean {
  return members.has(actor.userId) || mayOperateAt(actor, unit.path);
}

/** Whether a non-member may operate units at this path: duty staff whose jurisdiction covers it. */
function mayOperateAt(actor: Pick<Actor, 'role' | 'nodePath'>, path: string): boolean {
  return (DUTY_ROLES as readonly string[]).includes(actor.role) && coversPath(actor, path);
}

/** The member set of a unit without members, shared (never written to). */
const NO_MEMBERS: ReadonlySet<string> = new Set<string>();

const runtimes = new WeakMap<AppContext, UnitsRuntime>();

/** The units runtime of an app (created on first use); dispatch reads `.positions` from it. */
export function unitsRuntime(ctx: AppContext): UnitsRuntime {
  let r = runtimes.get(ctx);
  if (!r) {
    r = new UnitsRuntime(ctx);
    runtimes.set(ctx, r);
  }
  return r;
}
