import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PgTransactionConfig } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { openServerDatabase, type TestDatabase } from '../../testing/database.js';

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
