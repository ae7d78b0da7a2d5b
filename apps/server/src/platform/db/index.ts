import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import { PgDialect, type PgDatabase, type PgQueryResultHKT, type PgTransaction, type PgTransactionConfig } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations, SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { Worker } from 'node:worker_threads';
import * as schema from '../../schema.js';
import { openDurablePglite } from './durable-pglite.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that runs queries: the database or an open transaction. */
export type Executor = Db | Tx;

export type Engine = 'pglite' | 'postgres';

export interface Database {
  engine: Engine;
  /** Acknowledged commits survive a machine crash (PostgreSQL; PGlite in its durable mode). */
  durable: boolean;
  db: Db;
  /**
   * A separate small pool for single statements that must commit on their own at once, even while
   * the caller holds a transaction of the main pool (e.g. taking the next number from a counter row
   * without keeping it locked until the caller commits). Its commits do not wait for the WAL flush:
   * use it only for values a later durable commit depends on. PostgreSQL only; null on PGlite, whose one
   * connection would deadlock — there, use the caller's transaction (nothing runs concurrently).
   */
  independent: Db | null;
  /** Raw SQL with positional parameters, for bulk work (COPY-like inserts, PostGIS helpers). */
  query<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * `COPY … FROM STDIN` with the whole input in one buffer, as one statement (its own transaction).
   * PostgreSQL server only: PGlite has no COPY FROM STDIN over a connection, so callers keep a plain
   * SQL path for it. The buffer is handed to the COPY thread: do not use it afterwards.
   */
  copyIn?(text: string, data: Buffer): Promise<void>;
  /**
   * A buffer of at least `bytes` for a `copyIn` body, from memory the COPY thread hands back after
   * each COPY (PostgreSQL server only). Fresh memory of that size costs page faults on every use;
   * recycled memory does not. Pass the filled part (a subarray of it) to copyIn.
   */
  copyBuffer?(bytes: number): Buffer;
  /** Listen to PostgreSQL NOTIFY on a channel (both engines support it). */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** NOTIFY on a channel; several payloads go in one statement (each under 8,000 bytes: PostgreSQL's limit). */
  notify(channel: string, payload: string | readonly string[]): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const migrationsFolder = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../drizzle',
);

export interface OpenOptions {
  databaseUrl?: string;
  dataDir?: string;
  /** Connections of the PostgreSQL pool. */
  poolSize?: number;
  /**
   * Embedded engine only: sync the WAL to the disk before a commit returns (fsync on; default). Off is
   * PGlite's own mode (fsync off: survives a killed process, not a machine crash) — for test copies.
   */
  durable?: boolean;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.poolSize ?? 10) : openPglite(opts.dataDir, opts.durable ?? true);
}

async function openPglite(dataDir: string | undefined, durable: boolean): Promise<Database> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const client =
    dataDir && durable
      ? (await openDurablePglite(dataDir, { extensions: { postgis } })).client
      : await PGlite.create(dataDir ?? 'memory://', { extensions: { postgis } });
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    engine: 'pglite',
    durable: Boolean(dataDir) && durable,
    db,
    independent: null,
    async query<T>(text: string, params: unknown[] = []) {
      const r = await client.query<T>(text, params);
      return r.rows;
    },
    async listen(channel, onPayload) {
      const unsub = await client.listen(channel, onPayload);
      return async () => unsub();
    },
    async notify(channel, payload) {
      if (typeof payload === 'string') await client.query('select pg_notify($1, $2)', [channel, payload]);
      else if (payload.length > 0) await client.query('select pg_notify($1, m) from unnest($2::text[]) as m', [channel, payload]);
    },
    async ping() {
      await client.query('select 1');
    },
    async close() {
      if (!client.closed) await client.close();
    },
  };
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // Queries are written without waiting for the previous answer (transactions rely on it: see
    // `TransactionConnection`); a client is still used by one caller at a time.
    pipeline: true,
    // Fail fast while the database is down so requests get 503, never a hang.
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 30_000,
  });
  // A client losing its connection (database restart) must not crash the process: idle clients are
  // covered by the pool's 'error', clients handed out (in a transaction) by a listener of their own;
  // the caller's query fails (503) and the pool drops the broken client when it is released.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = pipelinedTransactions(pool, drizzlePg({ client: pool, schema }) as unknown as Db);
  // Its commits do not wait for the WAL flush (synchronous_commit off): they only advance counters,
  // and whatever uses a number commits durably later, which flushes the WAL up to and past the
  // counter's own commit record. A crash can lose only numbers no committed row holds (decision 019).
  const independentPool = new pg.Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 10_000,
    options: '-c synchronous_commit=off',
  });
  independentPool.on('error', () => undefined);
  independentPool.on('connect', (client) => client.on('error', () => undefined));
  const independent = drizzlePg({ client: independentPool, schema }) as unknown as Db;
  const listeners = new Set<pg.Client>();
  const copier = new CopyThread(url, Math.min(poolSize, 4));
  return {
    engine: 'postgres',
    durable: true,
    db,
    independent,
    async query<T extends Record<string, unknown>>(text: string, params: unknown[] = []) {
      const r = await pool.query<T>(text, params);
      return r.rows;
    },
    async listen(channel, onPayload) {
      let stopped = false;
      let client: pg.Client | null = null;
      // A dedicated connection that reconnects by itself after a database restart.
      const connect = async (): Promise<void> => {
        while (!stopped) {
          const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
          try {
            await c.connect();
            c.on('notification', (n) => n.channel === channel && onPayload(n.payload ?? ''));
            c.on('error', () => undefined);
            c.on('end', () => {
              listeners.delete(c);
              if (!stopped) setTimeout(() => void connect(), 500);
            });
            await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
            client = c;
            listeners.add(c);
            return;
          } catch {
            await c.end().catch(() => undefined);
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      };
      await connect();
      return async () => {
        stopped = true;
        if (client) {
          listeners.delete(client);
          await client.end().catch(() => undefined);
        }
      };
    },
    copyIn(text, data) {
      return copier.copy(text, data);
    },
    copyBuffer(bytes) {
      return copier.buffer(bytes);
    },
    async notify(channel, payload) {
      if (typeof payload === 'string') await pool.query('select pg_notify($1, $2)', [channel, payload]);
      else if (payload.length > 0) await pool.query('select pg_notify($1, m) from unnest($2::text[]) as m', [channel, payload]);
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      for (const c of listeners) await c.end().catch(() => undefined);
      await copier.close();
      await pool.end();
      await independentPool.end();
    },
  };
}

/** What a pipelined transaction has sent and not yet checked (see `withCommit`). */
interface PipelinedTransaction {
  /** The plain BEGIN, sent without waiting for its answer. */
  begun: Promise<unknown>;
  /** Statements sent with `withCommit`, checked when the transaction commits. */
  unchecked: Promise<unknown>[];
  /** COMMIT has been sent: the transaction is over whatever the answers say. */
  ended: boolean;
  /** Reads to send right behind the COMMIT (see `afterCommit`). */
  after: { text: string; values: unknown[]; resolve: (rows: unknown[]) => void; reject: (err: unknown) => void }[];
}

const PREPARED_PER_CONNECTION = 500;
const EMPTY_RESULT = { rows: [], rowCount: 0, command: '', fields: [] } as unknown as pg.QueryResult;
const quietly = (p: Promise<unknown>) => void p.catch(() => undefined);
const pipelinedOf = new WeakMap<object, PipelinedTransaction>();

/**
 * One physical connection of the pool as drizzle's transaction sees it. The pool's connections are in
 * node-postgres's pipeline mode (a query is written at once, not after the previous answer), so:
 * - a plain BEGIN is sent and answered at once (it cannot fail on a live connection; if the connection
 *   is gone, every statement behind it fails too); a BEGIN with options is awaited, as it can fail;
 * - statements handed to `withCommit` travel in the same write as the COMMIT: the commit checks them,
 *   and when one failed PostgreSQL has already turned the COMMIT into a rollback, so its error is thrown.
 * Two round trips fewer per transaction on the dispatch path (decision 017).
 */
class TransactionConnection {
  current: PipelinedTransaction | null = null;
  private corked = false;
  constructor(readonly client: pg.PoolClient) {}

  /**
   * Statements issued in one turn (BEGIN and the first reads; the last statement and COMMIT) leave in
   * one socket write: a send on loopback costs ≈ 70–90 µs of CPU here (decision 017), far more than
   * the bytes. The socket is corked until the turn's promise callbacks have run (a tick queued from
   * one runs after them); only how writes are grouped changes, never their order.
   */
  private coalesce(): void {
    if (this.corked) return;
    const stream = (this.client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
    if (!stream?.cork || !stream.uncork) return;
    this.corked = true;
    stream.cork();
    process.nextTick(() => {
      this.corked = false;
      stream.uncork!();
    });
  }

  /**
   * Statements with parameters are prepared once per connection under a name of their own, so
   * PostgreSQL parses them once and may keep a generic plan (planning was ≈ 2 ms of its CPU per
   * dispatch call, decision 017). Drizzle builds the same text for the same statement; values travel
   * as parameters. A connection names at most PREPARED_PER_CONNECTION texts, then sends the rest unnamed.
   */
  private prepared = new Map<string, string>();

  private named(config: string | pg.QueryConfig, values: unknown[] | undefined): string | pg.QueryConfig {
    if (typeof config === 'string' || config.name || !(values ?? config.values)?.length || config.text.length > 20_000) return config;
    let name = this.prepared.get(config.text);
    if (!name) {
      if (this.prepared.size >= PREPARED_PER_CONNECTION) return config;
      name = `pingan_${this.prepared.size}`;
      this.prepared.set(config.text, name);
    }
    return { ...config, name };
  }

  query(config: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> {
    this.coalesce();
    config = this.named(config, values);
    const raw = typeof config === 'string' ? config : config.text;
    // Only BEGIN, COMMIT and ROLLBACK matter here: a long statement is not copied to be compared.
    const text = raw.length <= 16 ? raw.trim().toLowerCase() : '';
    if (text === 'begin') {
      const begun = this.client.query(config, values);
      quietly(begun);
      this.current = { begun, unchecked: [], ended: false, after: [] };
      return Promise.resolve(EMPTY_RESULT);
    }
    const open = this.current;
    if (open && text === 'commit') return this.commit(open, config);
    if (open && text === 'rollback') {
      this.current = null;
      const notCommitted = new Error('the transaction was rolled back');
      for (const r of open.after) r.reject(notCommitted);
      // A COMMIT already sent ended the transaction (as a rollback, if a statement failed).
      return open.ended ? Promise.resolve(EMPTY_RESULT) : this.client.query(config, values);
    }
    if (!open?.unchecked.length) return this.client.query(config, values);
    // Behind a failed unchecked statement PostgreSQL refuses everything (25P02): report the cause instead.
    return this.client.query(config, values).catch(async (err: unknown) => {
      if ((err as { code?: unknown }).code === '25P02') for (const statement of open.unchecked) await statement;
      throw err;
    });
  }

  private async commit(open: PipelinedTransaction, config: string | pg.QueryConfig): Promise<pg.QueryResult> {
    const committed = this.client.query(config);
    quietly(committed);
    open.ended = true;
    // Reads that go out behind the COMMIT, in the same write; PostgreSQL runs them after it.
    const reads = open.after.map((r) => {
      const read = this.client.query(this.named({ text: r.text, values: r.values }, r.values), r.values);
      quietly(read);
      return read;
    });
    try {
      await open.begun;
      for (const statement of open.unchecked) await statement;
      const result = await committed;
      this.current = null;
      // Belt and braces: PostgreSQL answers ROLLBACK to the COMMIT of a failed transaction, without an error.
      if (result.command && result.command.toUpperCase() !== 'COMMIT') throw new Error(`the transaction was rolled back (${result.command})`);
      // Their answers follow the COMMIT's at once; the connection goes back to the pool after them.
      for (let i = 0; i < reads.length; i++) {
        const r = open.after[i]!;
        await reads[i]!.then((res) => r.resolve(res.rows), r.reject);
      }
      return result;
    } catch (err) {
      for (const r of open.after) r.reject(err);
      throw err;
    }
  }
}

const dialect = new PgDialect();

/**
 * A read to run right after the transaction commits, on its connection, sent in the same write as the
 * COMMIT: its answer arrives with the commit's, one round trip sooner than a read issued afterwards.
 * It sees the transaction's writes and everything committed before it (it runs outside the
 * transaction, in a snapshot of its own). Resolves with its rows once the transaction has committed;
 * rejects when the transaction fails. Null where that cannot be done (PGlite, or no pipelined
 * transaction): then read after the commit as usual.
 */
export function afterCommit<T>(tx: Executor, query: SQL): Promise<T[]> | null {
  const open = pipelinedOf.get(tx);
  if (!open || open.ended) return null;
  const { sql: text, params } = dialect.sqlToQuery(query);
  const read = new Promise<T[]>((resolve, reject) => {
    open.after.push({ text, values: params, resolve: resolve as (rows: unknown[]) => void, reject });
  });
  // A caller that stops at the failed transaction need not await it.
  quietly(read);
  return read;
}

/**
 * Send a statement of a transaction now and check its outcome when the transaction commits: on
 * PostgreSQL it goes out in the same write as the COMMIT (one round trip less); a failure still fails
 * the transaction, and nothing is acknowledged before the commit. Only for a statement whose result the
 * work does not read; statements issued after it must not depend on its outcome (if it failed, they fail
 * and its error is reported). On PGlite (or outside a pipelined transaction) it is simply awaited.
 */
export async function withCommit(tx: Executor, statement: PromiseLike<unknown>): Promise<void> {
  const open = pipelinedOf.get(tx);
  if (!open || open.ended) {
    await statement;
    return;
  }
  // `then` is called here, synchronously, so the statement is written before anything issued after it.
  const sent = new Promise<unknown>((resolve, reject) => void statement.then(resolve, reject));
  quietly(sent);
  open.unchecked.push(sent);
}

/**
 * Transactions on the pool's pipelined connections (see `TransactionConnection`). They also always
 * give their connection back: drizzle's own pool transaction kept it when `begin` failed (the
 * connection broke as the database went down), so every such failure held a pool slot until none was
 * left and the server could not recover (decision 014); a broken connection is dropped by the pool.
 */
function pipelinedTransactions(pool: pg.Pool, db: Db): Db {
  // One drizzle instance per physical connection (the pool reuses them), not one per transaction.
  const onClient = new WeakMap<pg.PoolClient, { connection: TransactionConnection; db: Db }>();
  async function transaction<T>(work: (tx: Tx) => Promise<T>, config?: PgTransactionConfig): Promise<T> {
    const client = await pool.connect();
    try {
      let entry = onClient.get(client);
      if (!entry) {
        const connection = new TransactionConnection(client);
        entry = { connection, db: drizzlePg({ client: connection as unknown as pg.PoolClient, schema }) as unknown as Db };
        onClient.set(client, entry);
      }
      const { connection } = entry;
      return await entry.db.transaction(async (tx) => {
        if (connection.current) pipelinedOf.set(tx, connection.current);
        return work(tx);
      }, config);
    } finally {
      client.release();
    }
  }
  return Object.assign(db, { transaction });
}

/**
 * COPY … FROM STDIN on a worker thread with its own connections (started on first use). The bulk
 * writes' protocol round trips and socket writes then wait for no HTTP work on the main event loop,
 * and use the second core. A body is handed over without a copy when it lies in memory from
 * `buffer()` (the thread sends that memory back after the COPY, for the next body) or owns its
 * whole ArrayBuffer; anything else is copied first.
 */
class CopyThread {
  private worker: Worker | null = null;
  private pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private seq = 0;
  /** Memory back from the thread, ready for the next body; `lent` is what buffer() handed out. */
  private spare: ArrayBuffer[] = [];
  private lent = new WeakSet<ArrayBuffer>();

  constructor(
    private readonly url: string,
    private readonly connections: number,
  ) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./copy-worker.mjs', import.meta.url), { workerData: { url: this.url, max: this.connections } });
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; message?: string; code?: string; detail?: string; data?: ArrayBuffer }) => {
      if (m.data && m.data.byteLength <= SPARE_COPY_BYTES && this.spare.length < SPARE_COPY_BUFFERS) this.spare.push(m.data);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve();
      else p.reject(Object.assign(new Error(m.message ?? 'COPY failed'), { code: m.code, detail: m.detail }));
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', () => fail(new Error('the COPY thread stopped')));
    this.worker = w;
    return w;
  }

  buffer(bytes: number): Buffer {
    // The smallest spare that fits.
    let at = -1;
    for (let i = 0; i < this.spare.length; i++) {
      const size = this.spare[i]!.byteLength;
      if (size >= bytes && (at < 0 || size < this.spare[at]!.byteLength)) at = i;
    }
    // Sizes in steps of 64 kB, so memory sent back fits the next body of about the same size.
    const memory = at >= 0 ? this.spare.splice(at, 1)[0]! : new ArrayBuffer(Math.ceil(bytes / 65_536) * 65_536);
    this.lent.add(memory);
    return Buffer.from(memory);
  }

  copy(text: string, data: Buffer): Promise<void> {
    const w = this.start();
    const id = ++this.seq;
    const memory = data.buffer as ArrayBuffer;
    const handOver = this.lent.has(memory) || (data.byteOffset === 0 && data.byteLength === memory.byteLength && memory instanceof ArrayBuffer);
    this.lent.delete(memory);
    const owned = handOver ? memory : memory.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const offset = handOver ? data.byteOffset : 0;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, text, data: owned, offset, length: data.byteLength }, [owned]);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ type: 'close' });
    const timer = setTimeout(() => void w.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Bodies' memory kept for reuse: one per COPY in flight and a few more, of at most 1 MB each (a bigger
 * body is rare and its page faults are small beside its work; kept, it would be external memory that
 * makes V8 collect more often).
 */
const SPARE_COPY_BUFFERS = 8;
const SPARE_COPY_BYTES = 1 << 20;

/**
 * Apply migrations. On PostgreSQL several instances may start at once, so the run holds an
 * advisory lock; PGlite has one connection and needs none.
 */
export async function applyMigrations(database: Database, databaseUrl?: string): Promise<void> {
  if (database.engine === 'pglite') {
    await database.query('create extension if not exists postgis');
    await migratePglite(database.db as unknown as Parameters<typeof migratePglite>[0], { migrationsFolder });
    return;
  }
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(727000)');
    await client.query('create extension if not exists postgis');
    await migratePg(drizzlePg({ client }), { migrationsFolder });
  } finally {
    await client.query('select pg_advisory_unlock(727000)').catch(() => undefined);
    await client.end();
  }
}

/** Whether every migration in the folder is recorded as applied (for /readyz). */
export async function migrationsApplied(database: Database): Promise<boolean> {
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  const rows = await database.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations');
  return Number(rows[0]?.n ?? 0) >= journal.entries.length;
}
