import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'drizzle-orm';
import { Role } from '@pingan/contracts';
import { buildApp } from '../app.js';
import { insertNodes, type InsertedNode, type SeedNode } from '../demo/seed.js';
import { createAuthService, hashPassword, type AuthService } from '../platform/auth/service.js';
import { createLocalBus } from '../platform/bus.js';
import { loadConfig, type Config } from '../platform/config.js';
import type { AppContext, RouteModule, ZodApp } from '../platform/context.js';
import { users } from '../platform/db/schema.js';
import { JurisdictionLookup } from '../modules/jurisdiction/lookup.js';
import { openTestDatabase, type TestDatabase } from './database.js';

/** Where an acting user sits relative to the target node A of the fixture tree. */
export type Placement = 'above' | 'self' | 'below' | 'sibling';
export const PLACEMENTS: readonly Placement[] = ['above', 'self', 'below', 'sibling'];

export const FIXTURE_PASSWORD = 'fixture-password-1';
/** The fixture tree's first version is valid from this moment. */
export const FIXTURE_VALID_FROM = new Date('2025-01-01T00:00:00Z');

const box = (w: number, s: number, e: number, n: number) => ({
  type: 'MultiPolygon' as const,
  coordinates: [[[[w, s], [e, s], [e, n], [w, n], [w, s]]]],
});

/**
 * A small tree: province P → county C → stations A and B (siblings) → grids A1 and B1.
 * Node A is the target of the access matrix.
 */
export const FIXTURE_NODES: SeedNode[] = [
  { code: '37', name: '山东省', level: 'province', parentCode: null, geometry: box(118, 36, 120, 38), core: false },
  { code: '370523', name: '广饶县', level: 'county', parentCode: '37', geometry: box(118.5, 36.9, 119, 37.3), core: false },
  { code: '370523106', name: '李鹊派出所', level: 'station', parentCode: '370523', geometry: box(118.5, 36.9, 118.75, 37.3), core: false },
  { code: '370523106001', name: '李鹊村网格', level: 'grid', parentCode: '370523106', geometry: box(118.5, 36.9, 118.6, 37.0), core: false },
  { code: '370523101', name: '大王派出所', level: 'station', parentCode: '370523', geometry: box(118.75, 36.9, 119, 37.3), core: true },
  { code: '370523101001', name: '大王村网格', level: 'grid', parentCode: '370523101', geometry: box(118.75, 36.9, 118.85, 37.0), core: true },
];

const PLACEMENT_CODE: Record<Placement, string> = {
  above: '370523',
  self: '370523106',
  below: '370523106001',
  sibling: '370523101',
};

export interface Fixture {
  nodes: Map<string, InsertedNode>;
  /** The node every matrix request is about. */
  target: InsertedNode;
  sibling: InsertedNode;
  /** A community officer at node A, with a phone, for account routes to act on. */
  subjectUserId: string;
  subjectPhone: string;
  userIds: Map<string, string>;
}

export const userNameFor = (role: Role, place: Placement) => `${role.replace(/_/g, '-')}.${place}`;

export interface TestApp {
  app: ZodApp;
  ctx: AppContext;
  auth: AuthService;
  fx: Fixture;
  tdb: TestDatabase;
  /** Log in a fixture user; answers headers that authenticate a request (cookie + CSRF). */
  session(role: Role, place: Placement): Promise<Record<string, string>>;
  /** inject() with a session. */
  as(role: Role, place: Placement, opts: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createTestApp(
  options: { config?: Partial<Config>; extraRoutes?: RouteModule[] } = {},
): Promise<TestApp> {
  const tdb = await openTestDatabase();
  const { database } = tdb;
  const config = loadConfig(
    { PINGAN_DEMO: 'off', PINGAN_SIMULATOR: 'off', LOG_LEVEL: 'silent' },
    { PINGAN_TIMER_INTERVAL_MS: 0, PINGAN_LOGIN_RATE_PER_MINUTE: 100_000, PINGAN_PUBLIC_RATE_PER_MINUTE: 100_000, PINGAN_WEB_DIST: '/nonexistent', ...options.config },
  );
  const fx = await database.db.transaction(async (tx) => {
    const nodes = await insertNodes(tx, FIXTURE_NODES);
    await tx.execute(sql`insert into jurisdiction_node_version (node_id, code, name, level, parent_id, path, geom, valid_from, change)
      select id, code, name, level, parent_id, path, geom, ${FIXTURE_VALID_FROM}, 'create' from jurisdiction_node`);
    await tx.execute(sql`insert into grid_card (node_id, slug) select id, 'card' || code from jurisdiction_node where level = 'grid'`);
    const passwordHash = await hashPassword(FIXTURE_PASSWORD);
    const rows = [];
    for (const role of Role.options) {
      for (const place of PLACEMENTS) {
        rows.push({
          username: userNameFor(role, place),
          displayName: `${role} ${place}`,
          passwordHash,
          role,
          nodeId: nodes.get(PLACEMENT_CODE[place])!.id,
          phone: '13912345678',
        });
      }
    }
    const subjectPhone = '13700001111';
    rows.push({
      username: 'subject.a',
      displayName: '受测民警',
      passwordHash,
      role: 'community_officer',
      nodeId: nodes.get('370523106')!.id,
      phone: subjectPhone,
    });
    const inserted = await tx.insert(users).values(rows).returning({ id: users.id, username: users.username });
    const userIds = new Map(inserted.map((u) => [u.username, u.id]));
    return {
      nodes,
      target: nodes.get('370523106')!,
      sibling: nodes.get('370523101')!,
      subjectUserId: userIds.get('subject.a')!,
      subjectPhone,
      userIds,
    };
  });
  const auth = await createAuthService(database, {
    sessionHours: config.PINGAN_SESSION_HOURS,
    maxFailures: config.PINGAN_LOGIN_MAX_FAILURES,
    lockoutMinutes: config.PINGAN_LOCKOUT_MINUTES,
  });
  const bus = createLocalBus();
  const lookup = await JurisdictionLookup.start(database, bus);
  const ctx: AppContext = { config, database, auth, bus, lookup, now: () => new Date() };
  const app = await buildApp(ctx, { logger: false, extraRoutes: options.extraRoutes ?? [] });
  await app.ready();

  const sessionCache = new Map<string, Record<string, string>>();
  async function session(role: Role, place: Placement) {
    const key = `${role}/${place}`;
    const cached = sessionCache.get(key);
    if (cached) return cached;
    const s = await auth.login(userNameFor(role, place), FIXTURE_PASSWORD, '127.0.0.1', 'test');
    const headers = { cookie: `pingan_session=${s.token}`, 'x-csrf-token': auth.csrfTokenFor(s.tokenHash) };
    sessionCache.set(key, headers);
    return headers;
  }
  return {
    app,
    ctx,
    auth,
    fx,
    tdb,
    session,
    async as(role, place, opts) {
      const headers = await session(role, place);
      return app.inject({ ...opts, headers: { ...headers, ...(opts.headers ?? {}) } });
    },
    async close() {
      await app.close();
      lookup.stop();
      await bus.close();
      await tdb.close();
    },
  };
}
