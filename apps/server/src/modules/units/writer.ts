import type { Database } from '../../platform/db/index.js';
import { pgErrorCode } from '../../platform/http/errors.js';
import type { Ping } from './positions.js';
import { unitIds } from './unit-ids.js';

const DAY = 86_400_000;

/** Partition name of the UTC day that holds `t`: unit_position_p20250101. */
export function partitionName(t: number): string {
  const d = new Date(Math.floor(t / DAY) * DAY);
  return `unit_position_p${d.toISOString().slice(0, 10).replace(/-/g, '')}`;
}

function dayOfPartition(name: string): number | null {
  const m = /^unit_position_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

/**
 * The seven column arrays of track rows as PostgreSQL array literals ('{…}'), built with one join
 * per column instead of node-postgres's per-element escaping. Safe without quoting: unit ids are
 * uuids (checked against the unit table before a point is stored) and the rest are finite numbers
 * or NULL.
 */
export function encodeTrackColumns(rows: readonly Ping[]): string[] {
  const n = rows.length;
  const u = new Array<string>(n);
  const t = new Array<number>(n);
  const x = new Array<number>(n);
  const y = new Array<number>(n);
  const a = new Array<number | string>(n);
  const s = new Array<number | string>(n);
  const h = new Array<number | string>(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    u[i] = r.unitId;
    t[i] = r.t;
    x[i] = r.lon;
    y[i] = r.lat;
    a[i] = r.accuracy ?? 'NULL';
    s[i] = r.speed ?? 'NULL';
    h[i] = r.heading ?? 'NULL';
  }
  return [u, t, x, y, a, s, h].map((col) => `{${col.join(',')}}`);
}

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01), for binary timestamptz. */
const PG_EPOCH_MS = 946_684_800_000;
/** Bytes of one binary COPY row: field count, then length + value of uuid, timestamptz, 2 float8, 3 real. */
const COPY_ROW_BYTES = 2 + 7 * 4 + 16 + 8 + 8 + 8 + 4 + 4 + 4;
const COPY_HEADER = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

function hexNibble(c: number): number {
  // '0'-'9' → 0-9, 'a'-'f' / 'A'-'F' → 10-15 (the caller's uuids are checked already).
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/**
 * Track rows in PostgreSQL's binary COPY format (unit_id, t, lon, lat, accuracy, speed, heading):
 * no text for the server to parse, and no Date or string per row here. Unit ids are uuids (checked
 * against the unit table before a point is stored), copied from the registry when the row carries its
 * unit's number (`Ping.unitNo`); t is epoch milliseconds, stored to the microsecond.
 */
export function encodeTrackCopy(rows: readonly Ping[], allocate: (bytes: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const b = allocate(COPY_HEADER.length + 8 + rows.length * COPY_ROW_BYTES + 2);
  // DataView stores inline; Buffer's writeXxBE helpers cost a call and a bounds check each.
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = COPY_HEADER.copy(b, 0);
  v.setInt32(o, 0); // flags
  v.setInt32(o + 4, 0); // header extension length
  o += 8;
  const words = unitIds.table;
  const known = unitIds.size;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    v.setInt16(o, 7);
    v.setInt32(o + 2, 16);
    o += 6;
    const no = r.unitNo ?? -1;
    if (no >= 0 && no < known) {
      const w = 4 * no;
      v.setInt32(o, words[w]!);
      v.setInt32(o + 4, words[w + 1]!);
      v.setInt32(o + 8, words[w + 2]!);
      v.setInt32(o + 12, words[w + 3]!);
      o += 16;
    } else {
      const u = r.unitId;
      for (let c = 0; c < u.length; c++) {
        const hi = u.charCodeAt(c);
        if (hi === 45) continue; // '-'
        b[o++] = (hexNibble(hi) << 4) | hexNibble(u.charCodeAt(++c));
      }
    }
    // int64 microseconds since 2000-01-01 as two 32-bit halves (exact below 2^53, no BigInt per row).
    const us = Math.round((r.t - PG_EPOCH_MS) * 1000);
    const high = Math.floor(us / 4_294_967_296);
    v.setInt32(o, 8);
    v.setInt32(o + 4, high);
    v.setUint32(o + 8, us - high * 4_294_967_296);
    v.setInt32(o + 12, 8);
    v.setFloat64(o + 16, r.lon);
    v.setInt32(o + 24, 8);
    v.setFloat64(o + 28, r.lat);
    o += 36;
    o = putReal(v, o, r.accuracy);
    o = putReal(v, o, r.speed);
    o = putReal(v, o, r.heading);
  }
  v.setInt16(o, -1); // trailer
  return b.subarray(0, o + 2);
}

function putReal(v: DataView, o: number, x: number | null): number {
  if (x === null) {
    v.setInt32(o, -1);
    return o + 4;
  }
  v.setInt32(o, 4);
  v.setFloat32(o + 4, x);
  return o + 8;
}

const TRACK_COPY = 'copy unit_position (unit_id, t, lon, lat, accuracy, speed, heading) from stdin (format binary)';
const TRACK_INSERT = `insert into unit_position (unit_id, t, lon, lat, accuracy, speed, heading)
       select u, to_timestamp(t / 1000.0), x, y, a, s, h
       from unnest($1::uuid[], $2::float8[], $3::float8[], $4::float8[], $5::real[], $6::real[], $7::real[]) as r(u, t, x, y, a, s, h)
       on conflict do nothing`;

export interface WriterOptions {
  /** Rows per INSERT statement at most (whole requests are never split). */
  maxBatchRows: number;
  /** Wait this long after the first row before a flush, to gather more (0 = next tick). */
  lingerMs: number;
  /** Flushes running at once (1 on the embedded engine, which has one connection). */
  concurrency: number;
  retentionDays: number;
}

interface Pending {
  rows: Ping[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface WriterStats {
  flushes: number;
  rows: number;
  failedFlushes: number;
  /** COPYs that met a row already stored (by another instance) and went again as INSERT … ON CONFLICT. */
  copyConflicts: number;
}

/**
 * Group commit for the position track: requests enqueue their accepted points and wait; the
 * writer writes everything queued in one statement — a binary `COPY` on a PostgreSQL server, a
 * multi-row `INSERT … SELECT FROM unnest(…)` on PGlite — and then resolves every waiting request, so a ping is acknowledged only after it is committed.
 * While one flush runs, the next batch accumulates.
 */
export class TrackWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  private knownPartitions = new Set<string>();
  private idle: (() => void)[] = [];
  private maintenance: NodeJS.Timeout | null = null;
  readonly stats: WriterStats = { flushes: 0, rows: 0, failedFlushes: 0, copyConflicts: 0 };
  onFlush: ((rows: number, seconds: number) => void) | null = null;

  constructor(
    private readonly database: Database,
    public opts: WriterOptions,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get pendingRows(): number {
    return this.queuedRows;
  }

  /** Create today's and tomorrow's partitions, apply retention, and repeat every hour. */
  async start(): Promise<void> {
    await this.maintain();
    this.maintenance = setInterval(() => void this.maintain().catch(() => undefined), 3_600_000);
    this.maintenance.unref();
  }

  async maintain(): Promise<string[]> {
    const now = this.now();
    await this.ensurePartitions([now, now + DAY]);
    return this.applyRetention();
  }

  /** Resolves when the rows are committed; rejects when the write failed (nothing is acknowledged). */
  enqueue(rows: Ping[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.queuedRows += rows.length;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running >= this.opts.concurrency || this.queue.length === 0) return;
    if (this.queuedRows >= this.opts.maxBatchRows) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.flush();
      return;
    }
    if (this.timer) return;
    const run = () => {
      this.timer = null;
      void this.flush();
    };
    this.timer = this.opts.lingerMs > 0 ? setTimeout(run, this.opts.lingerMs) : (setImmediate(run) as unknown as NodeJS.Timeout);
  }

  private take(): Pending[] {
    const batch: Pending[] = [];
    let n = 0;
    while (this.queue.length > 0 && (n === 0 || n + this.queue[0]!.rows.length <= this.opts.maxBatchRows)) {
      const p = this.queue.shift()!;
      n += p.rows.length;
      batch.push(p);
    }
    this.queuedRows -= n;
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.running >= this.opts.concurrency || this.queue.length === 0) return;
    const batch = this.take();
    this.running++;
    const started = process.hrtime.bigint();
    const rows: Ping[] = [];
    for (const p of batch) for (const r of p.rows) rows.push(r);
    try {
      await this.insert(rows);
      this.stats.flushes++;
      this.stats.rows += rows.length;
      this.onFlush?.(rows.length, Number(process.hrtime.bigint() - started) / 1e9);
      for (const p of batch) p.resolve();
    } catch (err) {
      this.stats.failedFlushes++;
      for (const p of batch) p.reject(err);
    } finally {
      this.running--;
      if (this.queue.length > 0) this.schedule();
      else if (this.running === 0) for (const f of this.idle.splice(0)) f();
    }
  }

  private async insert(rows: Ping[]): Promise<void> {
    // Nearly every batch is one day: a Set.add per row was a visible share of the ingest thread.
    const days: number[] = [];
    let last = Number.NaN;
    for (let i = 0; i < rows.length; i++) {
      const d = Math.floor(rows[i]!.t / DAY);
      if (d !== last && !days.includes(d)) days.push(d);
      last = d;
    }
    await this.ensurePartitions(days.map((d) => d * DAY));
    const copyIn = this.database.copyIn;
    if (copyIn) {
      // The rules already dropped this instance's duplicates, so a plain COPY (the fastest way in)
      // almost always goes through. A row another instance stored first makes the whole COPY fail
      // with nothing written; then the same rows go again with ON CONFLICT DO NOTHING.
      try {
        const allocate = this.database.copyBuffer?.bind(this.database);
        await copyIn.call(this.database, TRACK_COPY, encodeTrackCopy(rows, allocate));
        return;
      } catch (err) {
        if (pgErrorCode(err) !== '23505') throw err;
        this.stats.copyConflicts++;
      }
    }
    // No RETURNING/count: duplicates skipped across instances are not worth a materialized CTE per flush.
    await this.database.query(TRACK_INSERT, encodeTrackColumns(rows));
  }

  /** Make sure the day partitions holding these instants exist (idempotent, safe across instances). */
  async ensurePartitions(instants: number[]): Promise<void> {
    const names = new Map<string, number>();
    for (const t of instants) {
      const name = partitionName(t);
      if (!this.knownPartitions.has(name)) names.set(name, Math.floor(t / DAY) * DAY);
    }
    for (const [name, day] of names) {
      const from = new Date(day).toISOString();
      const to = new Date(day + DAY).toISOString();
      try {
        await this.database.query(
          `create table if not exists ${name} partition of unit_position for values from ('${from}') to ('${to}')`,
        );
      } catch (err) {
        // Another instance created it between our check and our statement.
        const code = pgErrorCode(err);
        if (code !== '42P07' && code !== '23505') throw err;
      }
      this.knownPartitions.add(name);
    }
  }

  async partitions(): Promise<string[]> {
    const rows = await this.database.query<{ name: string }>(
      `select c.relname as name from pg_inherits i
         join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
       where p.relname = 'unit_position' order by 1`,
    );
    return rows.map((r) => r.name);
  }

  /** Drop whole day partitions that ended before the retention window; answers their names. */
  async applyRetention(): Promise<string[]> {
    const cutoff = this.now() - this.opts.retentionDays * DAY;
    const dropped: string[] = [];
    for (const name of await this.partitions()) {
      const day = dayOfPartition(name);
      if (day === null || day + DAY > cutoff) continue;
      await this.database.query(`drop table if exists ${name}`);
      this.knownPartitions.delete(name);
      dropped.push(name);
    }
    return dropped;
  }

  /** Resolves when everything queued so far is written (or failed). */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      void this.flush();
    }
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async stop(): Promise<void> {
    if (this.maintenance) clearInterval(this.maintenance);
    this.maintenance = null;
    await this.drain();
  }
}
