import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PgTransactionConfig } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { openServerDatabase, type TestDatabase } from '../../testing/database.js';
import { pgErrorCode } from '../http/errors.js';
import { afterCommit, withCommit } from './index.js';
import { rows } from './rows.js';

const serverUrl = process.env.PINGAN_TEST_DATABASE_URL;

/**
 * drizzle's pool transaction keeps its connection when `begin` fails (decision 014): during a database
 * restart that leaked a pool slot per failure until the server could not recover. The pool of a test
 * database has 5 connections; more failed begins than that must leave it fully usable.
 */
describe('PostgreSQL pool: transactions give their connection back', { skip: !serverUrl && 'needs PostgreSQL: run with PINGAN_TEST_DATABASE_URL (CI does)' }, () => {
  let tdb: TestDatabase;
  before(async () => {
    tdb = await openServerDatabase(serverUrl!);
  });
  after(async () => {
    await tdb?.close();
  });

  it('releases the connection when begin itself fails', async () => {
    // An isolation level PostgreSQL does not know makes `begin` fail with a syntax error.
    const broken = { isolationLevel: 'no such level' } as unknown as PgTransactionConfig;
    for (let i = 0; i < 12; i++) {
      await assert.rejects(tdb.database.db.transaction(async () => undefined, broken));
    }
    // With leaked connections these would wait for a free one and time out (3 s) instead.
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        tdb.database.db.transaction(async (tx) => {
          await tx.execute(sql`select 1`);
          return 1;
        }),
      ),
    );
    assert.deepEqual(answers, [1, 1, 1, 1, 1]);
  });

  it('releases the connection when the work fails and the transaction rolls back', async () => {
    for (let i = 0; i < 12; i++) {
      await assert.rejects(
        tdb.database.db.transaction(async (tx) => {
          await tx.execute(sql`select 1`);
          throw new Error('the command refused');
        }),
        /the command refused/,
      );
    }
    const [row] = await tdb.database.query<{ n: number }>('select 1::int as n');
    assert.equal(row!.n, 1);
  });
});

/**
 * The pool's connections are pipelined (decision 017): a plain BEGIN is not waited for, and statements
 * given to `withCommit` leave with the COMMIT. The outcome must be that of an ordinary transaction.
 */
describe('PostgreSQL pool: pipelined transactions', { skip: !serverUrl && 'needs PostgreSQL: run with PINGAN_TEST_DATABASE_URL (CI does)' }, () => {
  let tdb: TestDatabase;
  before(async () => {
    tdb = await openServerDatabase(serverUrl!);
    await tdb.database.query('create table pipelined_probe (k text primary key, n integer not null)');
  });
  after(async () => {
    await tdb?.close();
  });
  const keys = async (prefix: string) =>
    (await tdb.database.query<{ k: string }>('select k from pipelined_probe where k like $1 order by k', [`${prefix}%`])).map((r) => r.k);

  it('commits statements sent with the commit, in the order they were issued', async () => {
    await tdb.database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into pipelined_probe values ('a1', 1)`);
      await withCommit(tx, tx.execute(sql`insert into pipelined_probe values ('a2', 2)`));
      // Depends on a2 being written first: the update finds it.
      await withCommit(tx, tx.execute(sql`update pipelined_probe set n = 20 where k = 'a2'`));
    });
    assert.deepEqual(await keys('a'), ['a1', 'a2']);
    const [row] = await tdb.database.query<{ n: number }>(`select n from pipelined_probe where k = 'a2'`);
    assert.equal(row!.n, 20);
  });

  it('fails the whole transaction with the cause when a statement sent with the commit fails', async () => {
    await tdb.database.query(`insert into pipelined_probe values ('b0', 0)`);
    await assert.rejects(
      tdb.database.db.transaction(async (tx) => {
        await tx.execute(sql`insert into pipelined_probe values ('b1', 1)`);
        await withCommit(tx, tx.execute(sql`insert into pipelined_probe values ('b0', 2)`));
      }),
      (err: unknown) => pgErrorCode(err) === '23505',
    );
    assert.deepEqual(await keys('b'), ['b0'], 'b1 was rolled back with the failed statement');
  });

  it('reports the cause, not "transaction aborted", for a statement issued behind a failed one', async () => {
    await tdb.database.query(`insert into pipelined_probe values ('c0', 0)`);
    await assert.rejects(
      tdb.database.db.transaction(async (tx) => {
        await withCommit(tx, tx.execute(sql`insert into pipelined_probe values ('c0', 1)`));
        await tx.execute(sql`insert into pipelined_probe values ('c1', 1)`);
      }),
      (err: unknown) => pgErrorCode(err) === '23505',
    );
    assert.deepEqual(await keys('c'), ['c0']);
  });

  it('rolls back statements sent with the commit when the work fails after them', async () => {
    await assert.rejects(
      tdb.database.db.transaction(async (tx) => {
        await withCommit(tx, tx.execute(sql`insert into pipelined_probe values ('d1', 1)`));
        throw new Error('refused after the statement');
      }),
      /refused after the statement/,
    );
    assert.deepEqual(await keys('d'), []);
  });

  it('waits for a BEGIN with options, which can fail, and runs its statements in order', async () => {
    await tdb.database.db.transaction(
      async (tx) => {
        await withCommit(tx, tx.execute(sql`insert into pipelined_probe values ('e1', 1)`));
        const [level] = await rows<{ transaction_isolation: string }>(tx, sql`show transaction_isolation`);
        assert.equal(level!.transaction_isolation, 'serializable');
      },
      { isolationLevel: 'serializable' },
    );
    assert.deepEqual(await keys('e'), ['e1']);
  });

  it('prepares a statement once per connection and still answers each call with its own values', async () => {
    for (let i = 0; i < 30; i++) {
      const got = await tdb.database.db.transaction(async (tx) => rows<{ n: number; k: string }>(tx, sql`select ${i}::int as n, ${`k${i}`}::text as k`));
      assert.deepEqual(got, [{ n: i, k: `k${i}` }]);
    }
    const [prepared] = await tdb.database.db.transaction(async (tx) =>
      rows<{ n: number }>(tx, sql`select count(*)::int as n from pg_prepared_statements where statement like ${'select $1::int as n%'}`),
    );
    assert.equal(prepared!.n, 1, 'the statement is prepared on this connection, once');
  });

  it('commits counters on the independent pool without waiting for the WAL flush, and everything else with it', async () => {
    const [independent] = await rows<{ synchronous_commit: string }>(tdb.database.independent!, sql`show synchronous_commit`);
    assert.equal(independent!.synchronous_commit, 'off');
    const [main] = await tdb.database.query<{ synchronous_commit: string }>('show synchronous_commit');
    assert.equal(main!.synchronous_commit, 'on');
    const [inTransaction] = await tdb.database.db.transaction(async (tx) => rows<{ synchronous_commit: string }>(tx, sql`show synchronous_commit`));
    assert.equal(inTransaction!.synchronous_commit, 'on');
  });

  it('answers a read sent behind the COMMIT once the transaction has committed, with its writes', async () => {
    let read: Promise<{ k: string; n: number }[]> | null = null;
    await tdb.database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into pipelined_probe values ('g1', 1)`);
      await withCommit(tx, tx.execute(sql`insert into pipelined_probe values ('g2', 2)`));
      read = afterCommit(tx, sql`select k, n from pipelined_probe where k like ${'g%'} order by k`);
      assert.ok(read, 'a pipelined transaction takes reads behind its COMMIT');
    });
    assert.deepEqual(await read!, [{ k: 'g1', n: 1 }, { k: 'g2', n: 2 }]);
    assert.equal(afterCommit(tdb.database.db, sql`select 1`), null, 'outside a transaction there is no COMMIT to go behind');
  });

  it('rejects a read behind the COMMIT when the transaction fails, before or at the commit', async () => {
    let early: Promise<unknown[]> | null = null;
    await assert.rejects(
      tdb.database.db.transaction(async (tx) => {
        await tx.execute(sql`insert into pipelined_probe values ('h1', 1)`);
        early = afterCommit(tx, sql`select k from pipelined_probe where k = 'h1'`);
        throw new Error('the work failed');
      }),
      /the work failed/,
    );
    await assert.rejects(early!, /rolled back/);
    let late: Promise<unknown[]> | null = null;
    await assert.rejects(
      tdb.database.db.transaction(async (tx) => {
        await tx.execute(sql`insert into pipelined_probe values ('h2', 1)`);
        late = afterCommit(tx, sql`select k from pipelined_probe where k = 'h2'`);
        await withCommit(tx, tx.execute(sql`select 1 / 0`));
      }),
      (err: unknown) => pgErrorCode(err) === '22012',
    );
    await assert.rejects(late!, (err: unknown) => pgErrorCode(err) === '22012');
    assert.deepEqual(await keys('h'), [], 'neither transaction left a row');
  });

  it('keeps concurrent transactions apart on the pool', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        tdb.database.db.transaction(async (tx) => {
          await tx.execute(sql`insert into pipelined_probe values (${`f${String(i).padStart(2, '0')}`}, ${i})`);
          // Every third one fails at commit time: its own row must go, the others must stay.
          await withCommit(tx, tx.execute(i % 3 === 0 ? sql`select 1 / 0` : sql`select 1`));
        }),
      ),
    );
    const expected = Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => `f${String(i).padStart(2, '0')}`);
    assert.deepEqual(await keys('f'), expected);
    assert.equal(results.filter((r) => r.status === 'rejected').length, 7);
  });
});

/**
 * COPY bodies travel to the COPY thread without a copy when they lie in memory from copyBuffer(), and
 * that memory comes back for the next body (fresh memory of that size costs page faults each time).
 */
describe('PostgreSQL COPY thread: recycled body memory', { skip: !serverUrl && 'needs PostgreSQL: run with PINGAN_TEST_DATABASE_URL (CI does)' }, () => {
  let tdb: TestDatabase;
  before(async () => {
    tdb = await openServerDatabase(serverUrl!);
    await tdb.database.query('create table copy_probe (k integer primary key, v text not null)');
  });
  after(async () => {
    await tdb?.close();
  });
  const text = (from: number, n: number) => Array.from({ length: n }, (_, i) => `${from + i}\tv${from + i}\n`).join('');

  it('stores every body exactly, with reused memory, at an offset and side by side', async () => {
    const { database } = tdb;
    // Three rounds of four COPYs at once: each body is written into memory from copyBuffer (after the
    // first round, memory a finished COPY gave back), part-way in, with other bytes around it.
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 4 }, (_, j) => {
          const from = (round * 4 + j) * 1000;
          const body = Buffer.from(text(from, 1000));
          const memory = database.copyBuffer!(body.length + 64);
          memory.fill(0x21);
          body.copy(memory, 32);
          return database.copyIn!('copy copy_probe (k, v) from stdin', memory.subarray(32, 32 + body.length));
        }),
      );
    }
    const [summary] = await database.query<{ n: number; bad: number }>(
      `select count(*)::int as n, count(*) filter (where v <> 'v' || k)::int as bad from copy_probe`,
    );
    assert.deepEqual(summary, { n: 12_000, bad: 0 });
    // Memory the thread gave back is lent again: a buffer of the same size is not fresh (zeroed) memory.
    const again = database.copyBuffer!(1000 * 12 + 64);
    assert.ok(again.includes(0x21), 'memory from an earlier body is reused');
  });

  it('fails a COPY with the cause and keeps the thread usable', async () => {
    const { database } = tdb;
    const memory = database.copyBuffer!(64);
    const n = memory.write('1\tduplicate\n');
    await assert.rejects(database.copyIn!('copy copy_probe (k, v) from stdin', memory.subarray(0, n)), (err: unknown) => pgErrorCode(err) === '23505');
    const next = database.copyBuffer!(64);
    const m = next.write('999999\tlast\n');
    await database.copyIn!('copy copy_probe (k, v) from stdin', next.subarray(0, m));
    const [row] = await database.query<{ v: string }>('select v from copy_probe where k = 999999');
    assert.equal(row?.v, 'last');
  });
});
