import { loadConfig } from './platform/config.js';
import { applyMigrations, openDatabase } from './platform/db/index.js';
import { createAuthService } from './platform/auth/service.js';
import { createLocalBus, createPostgresBus } from './platform/bus.js';
import { buildApp } from './app.js';
import { JurisdictionLookup } from './modules/jurisdiction/lookup.js';
import { DEMO_PASSWORD, isEmpty, seedDemo } from './demo/seed.js';

/** Composition root: config → database → migrations → demo data → bus → services → routes → listen. */
async function main(): Promise<void> {
  const config = loadConfig();
  const started = Date.now();
  const engine = config.DATABASE_URL ? 'PostgreSQL' : `embedded PostgreSQL (PGlite) in ${config.PINGAN_DATA_DIR}`;
  console.log(`Ping'an: opening ${engine} …`);
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.PINGAN_DATA_DIR });
  await applyMigrations(database, config.DATABASE_URL);
  // Nothing is acknowledged before it is durable on the engine: refuse to run with asynchronous commits.
  const [sync] = await database.query<{ synchronous_commit: string }>('show synchronous_commit');
  if (sync?.synchronous_commit === 'off') {
    throw new Error('synchronous_commit is off on this database: acknowledged calls could be lost. Turn it on (postgresql.conf or ALTER DATABASE … SET synchronous_commit = on).');
  }
  const [fsyncSetting] = await database.query<{ fsync: string }>('show fsync');
  if (database.durable && fsyncSetting?.fsync !== 'on') {
    throw new Error('fsync is off on this database: a power cut or an OS crash could lose acknowledged calls. Turn it on (postgresql.conf: fsync = on).');
  }

  if (config.PINGAN_DEMO && (await isEmpty(database))) {
    console.log("Ping'an: empty database, loading the demo county 广饶县 …");
    const { buildDemoCounty } = await import('../../../tools/demo-county/county.js');
    await seedDemo(database, buildDemoCounty());
  }

  const bus = config.DATABASE_URL ? await createPostgresBus(database) : createLocalBus();
  const auth = await createAuthService(database, {
    sessionHours: config.PINGAN_SESSION_HOURS,
    maxFailures: config.PINGAN_LOGIN_MAX_FAILURES,
    lockoutMinutes: config.PINGAN_LOCKOUT_MINUTES,
  });
  const lookup = await JurisdictionLookup.start(database, bus);
  const app = await buildApp({ config, database, auth, bus, lookup, now: () => new Date() });
  await app.listen({ host: config.HOST, port: config.PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;

  const demo = await database.query<{ username: string; role: string; node: string }>(
    `select u.username, u.role, n.name as node from app_user u join jurisdiction_node n on n.id = u.node_id
     where u.username = any($1) order by u.created_at, u.username`,
    [DEMO_USERNAMES],
  );
  const lines = [
    '',
    `Ping'an is running at http://${host}:${port}`,
    `  API docs: http://${host}:${port}/api/docs   health: /healthz  /readyz   metrics: /metrics`,
    `  started in ${((Date.now() - started) / 1000).toFixed(1)} s on ${database.engine}`,
  ];
  if (database.engine === 'pglite') {
    // Say what the embedded engine guarantees (docs/decisions/013-durable-pglite.md).
    lines.push(
      database.durable
        ? '  Embedded database: durable — each commit is fsync\'ed to disk before it is acknowledged; one server process only. Production (several instances): PostgreSQL, DATABASE_URL.'
        : '  Embedded database: NOT durable (fsync off) — survives a crash of the process, not of the machine. Production runs on PostgreSQL (DATABASE_URL).',
    );
  }
  if (demo.length > 0) {
    lines.push(`  Demo accounts (password ${DEMO_PASSWORD}):`);
    for (const d of demo) lines.push(`    ${d.username.padEnd(16)} ${d.role.padEnd(18)} ${d.node}`);
  }
  // The drill simulator brings the demo county alive; never on a database that is not the demo's.
  let simulator: { stop(): Promise<void> } | null = null;
  const [demoSeeded] = await database.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'demo.seed'`);
  if (config.PINGAN_SIMULATOR && (demoSeeded?.n ?? 0) > 0) {
    const { Simulator } = await import('../../../tools/simulator/driver.js');
    const sim = new Simulator({
      baseUrl: `http://${host}:${port}`,
      seed: config.PINGAN_SIM_SEED,
      speed: config.PINGAN_SIM_SPEED,
      callsPerDay: config.PINGAN_SIM_CALLS_PER_DAY,
      // A demo opened at night still shows a working day: the drill starts at 09:00 simulated.
      startHour: config.PINGAN_SIM_START_HOUR,
      password: DEMO_PASSWORD,
      log: (line) => app.log.info(line),
    });
    simulator = sim;
    void sim
      .prepare()
      .then(() => sim.start())
      .catch((err: unknown) => app.log.warn({ err: String(err) }, 'simulator stopped'));
    lines.push(`  Drill simulator: on (${config.PINGAN_SIM_SPEED}× time, ${config.PINGAN_SIM_CALLS_PER_DAY} calls/day); PINGAN_SIMULATOR=off turns it off`);
  }
  console.log(lines.join('\n'));

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    await simulator?.stop();
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    await app.close();
    await bus.close();
    await database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

const DEMO_USERNAMES = [
  'admin', 'dispatcher', 'leader.lique', 'officer.lique', 'aux.lique', 'grid.lique', 'volunteer.lique',
  'guard.lique', 'mediator.lique', 'partner.county', 'inspector', 'leader.dawang',
];

main().catch((err: unknown) => {
  console.error("Ping'an failed to start:", err instanceof Error ? err.message : err);
  if (err instanceof Error && err.stack) console.error(err.stack);
  process.exit(1);
});
