import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestDatabase, type TestDatabase } from '../testing/database.js';
import { createLocalBus, createPostgresBus, MAX_PAYLOAD_BYTES, type EventBus } from './bus.js';
import { openDatabase, type Database } from './db/index.js';

const serverUrl = process.env.PINGAN_TEST_DATABASE_URL;

const until = async (what: string, ok: () => boolean, ms = 5000) => {
  const started = Date.now();
  while (!ok()) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('event bus', () => {
  it('in one process has no peers and tells its own subscribers', async () => {
    const bus = createLocalBus();
    const got: unknown[] = [];
    bus.subscribe('t', (p) => got.push(p));
    await bus.publishAll('t', [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(got, [{ n: 1 }, { n: 2 }]);
    assert.equal(bus.hasPeers(), false);
    await bus.close();
  });

  describe('on PostgreSQL (NOTIFY)', { skip: !serverUrl && 'needs PostgreSQL: run with PINGAN_TEST_DATABASE_URL (CI does)' }, () => {
    let tdb: TestDatabase;
    let second: Database;
    let a: EventBus;
    let b: EventBus | null = null;
    before(async () => {
      tdb = await openTestDatabase();
      second = await openDatabase({ databaseUrl: tdb.databaseUrl!, poolSize: 2 });
      a = await createPostgresBus(tdb.database, 'pingan_bus_test');
    });
    after(async () => {
      await b?.close();
      await a?.close();
      await second?.close();
      await tdb?.close();
    });

    it('knows no peer while alone, and both know each other once a second instance says hello', async () => {
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(a.hasPeers(), false, 'alone: its own hello does not count');
      b = await createPostgresBus(second, 'pingan_bus_test');
      await until('a hears b', () => a.hasPeers());
      await until('b hears a (answer to its hello)', () => b!.hasPeers());
    });

    it('carries many messages of one topic in one statement, each as large as a NOTIFY allows', async () => {
      const got: { i: number; pad: string }[] = [];
      b!.subscribe('big', (p) => got.push(p as { i: number; pad: string }));
      const own: unknown[] = [];
      a.subscribe('big', (p) => own.push(p));
      const pad = 'x'.repeat(MAX_PAYLOAD_BYTES - 20);
      await a.publishAll('big', Array.from({ length: 40 }, (_, i) => ({ i, pad })));
      await until('b got all 40', () => got.length === 40);
      assert.deepEqual(got.map((p) => p.i), Array.from({ length: 40 }, (_, i) => i));
      assert.equal(own.length, 40, 'the sender told its own subscribers once each, not again from the echo');
    });
  });
});
