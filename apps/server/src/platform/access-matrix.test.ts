import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { Role } from '@pingan/contracts';
import { createTestApp, PLACEMENTS, type Fixture, type Placement, type TestApp } from '../testing/app.js';

/**
 * The access policy, written down independently of the routes. Every /api route must have an
 * entry; a new route without one fails this test. `scoped` routes act on node A of the fixture
 * tree: allowed roles succeed from A itself and from above it, and get 403 from below and from
 * the sibling station.
 */
interface MatrixEntry {
  allowed: readonly Role[] | 'public';
  scoped: boolean;
  request: (fx: Fixture, n: number) => InjectOptions;
  /** Status of a successful call. */
  ok?: number;
  /** Log in afresh for each call (the route ends the session). */
  freshSession?: boolean;
}

const ALL = Role.options;
const MANAGERS: Role[] = ['admin', 'station_leader'];
const AUDITORS: Role[] = ['admin', 'inspector'];

export const ACCESS_MATRIX: Record<string, MatrixEntry> = {
  'GET /api/openapi.json': { allowed: 'public', scoped: false, request: () => ({ method: 'GET', url: '/api/openapi.json' }) },
  'POST /api/auth/login': {
    allowed: 'public',
    scoped: false,
    request: () => ({ method: 'POST', url: '/api/auth/login', payload: { username: 'subject.a', password: 'fixture-password-1' } }),
  },
  'POST /api/auth/token': {
    allowed: 'public',
    scoped: false,
    request: () => ({ method: 'POST', url: '/api/auth/token', payload: { username: 'subject.a', password: 'fixture-password-1' } }),
  },
  'GET /api/auth/me': { allowed: ALL, scoped: false, request: () => ({ method: 'GET', url: '/api/auth/me' }) },
  'POST /api/auth/logout': {
    allowed: ALL,
    scoped: false,
    ok: 204,
    freshSession: true,
    request: () => ({ method: 'POST', url: '/api/auth/logout' }),
  },
  'POST /api/auth/ticket': {
    allowed: ALL,
    scoped: false,
    request: () => ({ method: 'POST', url: '/api/auth/ticket', payload: { purpose: 'ws' } }),
  },
  'GET /api/audit': {
    allowed: AUDITORS,
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/audit?nodeId=${fx.target.id}` }),
  },
  'GET /api/audit/verify': { allowed: AUDITORS, scoped: false, request: () => ({ method: 'GET', url: '/api/audit/verify' }) },
  'GET /api/users': {
    allowed: MANAGERS,
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/users?nodeId=${fx.target.id}` }),
  },
  'GET /api/users/:id': {
    allowed: MANAGERS,
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/users/${fx.subjectUserId}?reveal=phone` }),
  },
  'POST /api/users': {
    allowed: MANAGERS,
    scoped: true,
    ok: 201,
    request: (fx, n) => ({
      method: 'POST',
      url: '/api/users',
      payload: { username: `matrix.${n}`, displayName: '新用户', password: 'a-long-password', role: 'volunteer', nodeId: fx.target.id },
    }),
  },
  'PATCH /api/users/:id': {
    allowed: MANAGERS,
    scoped: true,
    request: (fx, n) => ({ method: 'PATCH', url: `/api/users/${fx.subjectUserId}`, payload: { displayName: `受测民警${n}` } }),
  },
  'POST /api/users/:id/revoke-sessions': {
    allowed: MANAGERS,
    scoped: true,
    request: (fx) => ({ method: 'POST', url: `/api/users/${fx.subjectUserId}/revoke-sessions` }),
  },
  'GET /api/jurisdictions/:id': {
    allowed: ALL,
    scoped: true,
    request: (fx) => ({ method: 'GET', url: `/api/jurisdictions/${fx.target.id}` }),
  },
};

export function expectedAllowed(entry: MatrixEntry, role: Role, place: Placement): boolean {
  if (entry.allowed === 'public') return true;
  if (!entry.allowed.includes(role)) return false;
  return !entry.scoped || place === 'self' || place === 'above';
}

describe('access matrix: every route × every role × own / above / below / sibling node', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t?.close());

  it('has an entry for every /api route, and no stale entries', () => {
    const catalog = new Set(t.app.routeCatalog.map((r) => `${r.method} ${r.url}`));
    const missing = [...catalog].filter((k) => !(k in ACCESS_MATRIX));
    assert.deepEqual(missing, [], `routes without an access-matrix entry: ${missing.join(', ')}`);
    const stale = Object.keys(ACCESS_MATRIX).filter((k) => !catalog.has(k));
    assert.deepEqual(stale, [], `matrix entries for routes that no longer exist: ${stale.join(', ')}`);
  });

  it('answers every call as the policy says', async () => {
    let n = 0;
    const wrong: string[] = [];
    for (const [key, entry] of Object.entries(ACCESS_MATRIX)) {
      // Without a session: public routes work, the rest answer 401.
      const anon = await t.app.inject(entry.request(t.fx, ++n));
      const anonOk = entry.allowed === 'public';
      if (anonOk ? anon.statusCode >= 300 : anon.statusCode !== 401) {
        wrong.push(`${key} anonymous → ${anon.statusCode}`);
      }
      if (entry.allowed === 'public') continue;
      for (const role of Role.options) {
        for (const place of PLACEMENTS) {
          const opts = entry.request(t.fx, ++n);
          let res;
          if (entry.freshSession) {
            const s = await t.auth.login(`${role.replace(/_/g, '-')}.${place}`, 'fixture-password-1', '127.0.0.1', 'test');
            res = await t.app.inject({
              ...opts,
              headers: { cookie: `pingan_session=${s.token}`, 'x-csrf-token': t.auth.csrfTokenFor(s.tokenHash) },
            });
          } else {
            res = await t.as(role, place, opts);
          }
          const want = expectedAllowed(entry, role, place);
          const okStatus = entry.ok ?? 200;
          if (want ? res.statusCode !== okStatus : res.statusCode !== 403) {
            wrong.push(`${key} as ${role} at ${place}: expected ${want ? okStatus : 403}, got ${res.statusCode} ${res.body.slice(0, 120)}`);
          }
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("never shows a sibling station's records in listings", async () => {
    const res = await t.as('station_leader', 'sibling', { method: 'GET', url: '/api/users' });
    assert.equal(res.statusCode, 200);
    const items = (res.json() as { items: { nodeId: string }[] }).items;
    assert.ok(items.length > 0);
    const allowedNodes = new Set([t.fx.sibling.id, t.fx.nodes.get('370523101001')!.id]);
    assert.ok(items.every((u) => allowedNodes.has(u.nodeId)), 'only the sibling station and its grid appear');
  });
});
