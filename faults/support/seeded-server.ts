import fs from 'node:fs';
import { openDatabase, type Database } from '../../apps/server/src/platform/db/index.js';
import { openTestDatabase, testEngine, type TestDatabase } from '../../apps/server/src/testing/database.js';
import { startServerProcess, type ServerProcess } from '../../apps/server/src/testing/server-process.js';
import { seedSmallCounty, type SeededCounty, type Targets } from './county.js';

/**
 * A real server process (main.ts) on a database of its own holding the faults suite's small county:
 * on PostgreSQL (PINGAN_TEST_DATABASE_URL) a scratch database the test can read while the server
 * runs; on PGlite a data directory the server owns while it runs (one process at a time), which the
 * test opens again once the server has stopped (`database()`).
 */
export interface SeededServer {
  server: ServerProcess;
  county: SeededCounty;
  engine: 'postgres' | 'pglite';
  /** A database handle: at any time on PostgreSQL; on PGlite only after `stopServer()`. */
  database(): Promise<Database>;
  stopServer(): Promise<void>;
  /** Starts the server again on the same database (a new port: read `server` again). */
  restartServer(): Promise<ServerProcess>;
  /** Stops the server and removes the database. */
  close(): Promise<void>;
}

export async function startSeededServer(opts: {
  units: number;
  targets?: Targets;
  env?: Record<string, string>;
  /** More rows the test needs, written before the server starts. */
  prepare?: (database: Database, county: SeededCounty) => Promise<void>;
}): Promise<SeededServer> {
  const tdb: TestDatabase = await openTestDatabase();
  const engine = testEngine();
  const county = await seedSmallCounty(tdb.database, opts.units, opts.targets ?? { acknowledgeSeconds: 600, arriveSeconds: 900, warnShare: 0.8 });
  await opts.prepare?.(tdb.database, county);
  const env: Record<string, string> = { PINGAN_DEMO: 'off', PINGAN_SIMULATOR: 'off', LOG_LEVEL: 'warn', ...opts.env };
  if (engine === 'postgres') env.DATABASE_URL = tdb.databaseUrl!;
  else {
    // The server process opens the directory itself: this process lets go of it first.
    await tdb.database.close();
    env.PINGAN_DATA_DIR = tdb.dataDir!;
  }
  let server = await startServerProcess(env);
  let reopened: Database | null = null;
  let stopped = false;
  const stopServer = async () => {
    if (stopped) return;
    stopped = true;
    await server.stop();
  };
  return {
    get server() {
      return server;
    },
    county,
    engine,
    async database() {
      if (engine === 'postgres') return tdb.database;
      if (!stopped) throw new Error('the PGlite database is the server\'s while it runs: stop it first');
      reopened ??= await openDatabase({ dataDir: tdb.dataDir! });
      return reopened;
    },
    stopServer,
    async restartServer() {
      await stopServer();
      if (reopened) {
        await reopened.close();
        reopened = null;
      }
      server = await startServerProcess(env);
      stopped = false;
      return server;
    },
    async close() {
      await stopServer();
      if (engine === 'postgres') await tdb.close();
      else {
        await reopened?.close();
        fs.rmSync(tdb.dataDir!, { recursive: true, force: true });
      }
    },
  };
}
