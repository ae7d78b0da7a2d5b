import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../testing/app.js';
import { auditLog, users } from './db/schema.js';
import { appendAudit, verifyAuditChain } from './audit/service.js';

describe('platform', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t?.close());

  describe('operations endpoints', () => {
    it('answers /healthz and /readyz with 200 once migrations are applied', async () => {
      assert.equal((await t.app.inject({ url: '/healthz' })).statusCode, 200);
      const ready = await t.app.inject({ url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.json().status, 'ready');
    });

    it('publishes OpenAPI generated from the route schemas, and the docs UI', async () => {
      const res = await t.app.inject({ url: '/api/openapi.json' });
      assert.equal(res.statusCode, 200);
      const doc = res.json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
      assert.match(doc.openapi, /^3\./);
      assert.ok(doc.paths['/api/users']?.post?.requestBody, 'POST /api/users documents its body');
      const ui = await t.app.inject({ url: '/api/docs/' });
      assert.equal(ui.statusCode, 200);
      assert.match(ui.body, /swagger/i);
    });

    it('exports Prometheus metrics including request durations', async () => {
      await t.app.inject({ url: '/healthz' });
      const res = await t.app.inject({ url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /pingan_http_request_duration_seconds_bucket\{.*route="\/healthz"/);
      assert.match(res.body, /process_cpu_user_seconds_total/);
    });

    it('answers unknown routes with a JSON 404 and oversize bodies with 413', async () => {
      const nf = await t.app.inject({ url: '/api/nope' });
      assert.equal(nf.statusCode, 404);
      assert.equal(nf.json().error, 'not_found');
      const big = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'x', password: 'y'.repeat(2 * 1024 * 1024) },
      });
      assert.equal(big.statusCode, 413);
      assert.match(big.json().message, /too large/);
    });
  });

  describe('sessions', () => {
    it('logs in with a password, sets an HttpOnly SameSite cookie and answers the CSRF token', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'dispatcher.self', password: 'fixture-password-1' },
      });
      assert.equal(res.statusCode, 200);
      const cookie = String(res.headers['set-cookie']);
      assert.match(cookie, /pingan_session=/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      const body = res.json() as { csrfToken: string; user: { role: string; nodeName: string } };
      assert.equal(body.user.role, 'dispatcher');
      assert.equal(body.user.nodeName, '李鹊派出所');
      // The token is stored hashed: the cookie value appears nowhere in the session table.
      const token = /pingan_session=([^;]+)/.exec(cookie)![1]!;
      const rows = await t.ctx.database.query<{ n: number }>('select count(*)::int as n from session where token_hash = $1', [token]);
      assert.equal(rows[0]!.n, 0);
    });

    it('refuses unsafe requests made with the cookie but without the CSRF header', async () => {
      const headers = await t.session('admin', 'above');
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/ticket',
        headers: { cookie: headers.cookie! },
        payload: { purpose: 'ws' },
      });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error, 'csrf');
      const ok = await t.app.inject({ method: 'POST', url: '/api/auth/ticket', headers, payload: { purpose: 'ws' } });
      assert.equal(ok.statusCode, 200);
    });

    it('locks an account after repeated failures, and says so', async () => {
      const attempt = (password: string) =>
        t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'volunteer.below', password } });
      for (let i = 0; i < 5; i++) assert.equal((await attempt('wrong-password')).statusCode, 401);
      const locked = await attempt('fixture-password-1');
      assert.equal(locked.statusCode, 423);
      assert.match(locked.json().message, /locked/);
      const [row] = await t.ctx.database.db
        .select({ n: auditLog.seq })
        .from(auditLog)
        .where(and(eq(auditLog.action, 'auth.lockout')));
      assert.ok(row, 'the lockout is audited');
    });

    it('rate-limits logins per client address', async () => {
      const limited = await createTestApp({ config: { PINGAN_LOGIN_RATE_PER_MINUTE: 3 } });
      try {
        const codes: number[] = [];
        for (let i = 0; i < 5; i++) {
          const r = await limited.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'nobody', password: 'x' } });
          codes.push(r.statusCode);
        }
        assert.deepEqual(codes, [401, 401, 401, 429, 429]);
      } finally {
        await limited.close();
      }
    });

    it('ends a session at logout and all sessions at revocation', async () => {
      const s = await t.auth.login('mediator.self', 'fixture-password-1', '127.0.0.1', 'test');
      const headers = { cookie: `pingan_session=${s.token}`, 'x-csrf-token': t.auth.csrfTokenFor(s.tokenHash) };
      assert.equal((await t.app.inject({ url: '/api/auth/me', headers })).statusCode, 200);
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers })).statusCode, 204);
      assert.equal((await t.app.inject({ url: '/api/auth/me', headers })).statusCode, 401);

      const a = await t.auth.login('subject.a', 'fixture-password-1', '127.0.0.1', 'phone');
      const b = await t.auth.login('subject.a', 'fixture-password-1', '127.0.0.1', 'laptop');
      const revoke = await t.as('station_leader', 'self', {
        method: 'POST',
        url: `/api/users/${t.fx.subjectUserId}/revoke-sessions`,
      });
      assert.equal(revoke.statusCode, 200);
      assert.ok(revoke.json().revoked >= 2);
      for (const token of [a.token, b.token]) {
        const me = await t.app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });
        assert.equal(me.statusCode, 401);
      }
    });

    it('issues short-lived signed tickets that verify only for their purpose', async () => {
      const res = await t.as('community_officer', 'self', { method: 'POST', url: '/api/auth/ticket', payload: { purpose: 'ws' } });
      const { ticket, expiresAt } = res.json() as { ticket: string; expiresAt: string };
      const ttl = new Date(expiresAt).getTime() - Date.now();
      assert.ok(ttl > 0 && ttl <= 60_000, 'a WebSocket ticket lives at most a minute');
      const claims = await t.auth.verifyTicket(ticket, 'ws');
      assert.equal(claims?.sub, t.fx.userIds.get('community-officer.self'));
      assert.equal(await t.auth.verifyTicket(ticket, 'terminal'), null);
      assert.equal(await t.auth.verifyTicket(`${ticket.slice(0, -2)}xx`, 'ws'), null);
    });
  });

  describe('audit trail', () => {
    it('records writes with who, role, what, which record and where from, in a verified chain', async () => {
      const res = await t.as('admin', 'above', {
        method: 'PATCH',
        url: `/api/users/${t.fx.subjectUserId}`,
        payload: { displayName: '改名民警' },
      });
      assert.equal(res.statusCode, 200);
      const [rec] = await t.ctx.database.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'user.update'), eq(auditLog.entityId, t.fx.subjectUserId)));
      assert.ok(rec);
      assert.equal(rec.actorRole, 'admin');
      assert.equal(rec.actorId, t.fx.userIds.get('admin.above'));
      assert.equal(rec.ip, '127.0.0.1');
      assert.equal(rec.nodePath, t.fx.target.path);
      const verify = await t.as('inspector', 'above', { url: '/api/audit/verify' });
      assert.deepEqual({ ok: verify.json().ok, firstBad: verify.json().firstBad }, { ok: true, firstBad: null });
    });

    it('chains concurrent appends with any text into one gapless chain that verifies', async () => {
      const [{ seq: before }] = (await t.ctx.database.query<{ seq: number }>('select coalesce(max(seq), 0)::int as seq from audit_log')) as [{ seq: number }];
      const texts = ['调解 “纠纷” 已受理', 'emoji 🚓 and \\ backslash', 'quote " and \n newline', 'tab\tcontrol \u0001', 'ascii'];
      // Twenty transactions at once (on PostgreSQL they really overlap; PGlite runs them in turn).
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.ctx.database.db.transaction(async (tx) => {
            await appendAudit(tx, null, { action: 'test.concurrent', entityType: 'test', entityId: String(i), nodePath: t.fx.target.path, details: { text: texts[i % texts.length], i, nested: { list: [i, null, true] } } });
          }),
        ),
      );
      const added = await t.ctx.database.query<{ seq: number }>('select seq::int as seq from audit_log where seq > $1 order by seq', [before]);
      assert.deepEqual(added.map((r) => r.seq), Array.from({ length: 20 }, (_, i) => before + i + 1), 'seqs are gapless');
      const verified = await verifyAuditChain(t.ctx.database.db);
      assert.deepEqual({ ok: verified.ok, broken: verified.firstBroken }, { ok: true, broken: null });
      const [head] = await t.ctx.database.query<{ seq: number; hash: string }>('select seq::int as seq, hash from audit_head');
      const [last] = await t.ctx.database.query<{ seq: number; hash: string }>('select seq::int as seq, hash from audit_log order by seq desc limit 1');
      assert.deepEqual(head, last, 'the head is the last record');
    });

    it('detects an edited record, and a deleted one', async () => {
      const before = await verifyAuditChain(t.ctx.database.db);
      assert.equal(before.ok, true);
      assert.ok(before.checked >= 3);
      const [victim] = await t.ctx.database.query<{ seq: number; details: unknown }>(
        'select seq::int as seq, details from audit_log order by seq limit 1 offset 1',
      );
      await t.ctx.database.query(`update audit_log set details = '{"forged":true}'::jsonb where seq = $1`, [victim!.seq]);
      const edited = await t.as('inspector', 'above', { url: '/api/audit/verify' });
      assert.equal(edited.json().ok, false);
      assert.equal(edited.json().firstBad.seq, victim!.seq);
      await t.ctx.database.query('update audit_log set details = $2::jsonb where seq = $1', [victim!.seq, JSON.stringify(victim!.details)]);
      assert.equal((await verifyAuditChain(t.ctx.database.db)).ok, true, 'restoring the record restores the chain');

      await t.ctx.database.query('delete from audit_log where seq = $1', [victim!.seq]);
      const deleted = await verifyAuditChain(t.ctx.database.db);
      assert.equal(deleted.ok, false);
      assert.equal(deleted.firstBroken?.seq, victim!.seq);
      assert.match(deleted.firstBroken!.reason, /missing/);
    });

    it('lets inspectors read only their own jurisdiction', async () => {
      const sibling = await t.as('inspector', 'sibling', { url: '/api/audit?limit=500' });
      assert.equal(sibling.statusCode, 200);
      const paths = (sibling.json().items as { seq: number }[]).map((r) => r.seq);
      const rows = await t.ctx.database.query<{ seq: number; node_path: string | null }>(
        'select seq::int as seq, node_path from audit_log where seq = any($1::bigint[])',
        [paths],
      );
      assert.ok(rows.every((r) => r.node_path?.startsWith(t.fx.sibling.path)));
      const county = await t.as('inspector', 'above', { url: '/api/audit?limit=2' });
      const page = county.json() as { items: { seq: number }[]; nextCursor: string | null };
      assert.equal(page.items.length, 2);
      assert.ok(page.nextCursor);
      const next = await t.as('inspector', 'above', { url: `/api/audit?limit=2&cursor=${page.nextCursor}` });
      assert.ok((next.json().items as { seq: number }[]).every((r) => r.seq < page.items[1]!.seq));
    });
  });

  describe('personal data masking', () => {
    it('masks phones by default and unmasks only for a role that needs it, auditing the read', async () => {
      const masked = await t.as('station_leader', 'self', { url: `/api/users/${t.fx.subjectUserId}` });
      assert.equal(masked.json().phone, '137****1111');
      const list = await t.as('admin', 'above', { url: '/api/users' });
      assert.ok((list.json().items as { phone: string | null }[]).every((u) => !u.phone || u.phone.includes('****')));

      const count = async () =>
        (
          await t.ctx.database.query<{ n: number }>(
            `select count(*)::int as n from audit_log where action = 'personal_data.read' and entity_id = $1`,
            [t.fx.subjectUserId],
          )
        )[0]!.n;
      const before = await count();
      const shown = await t.as('station_leader', 'self', { url: `/api/users/${t.fx.subjectUserId}?reveal=phone` });
      assert.equal(shown.statusCode, 200);
      assert.equal(shown.json().phone, t.fx.subjectPhone);
      assert.equal(await count(), before + 1);
      const [rec] = await t.ctx.database.query<{ actor_id: string }>(
        `select actor_id from audit_log where action = 'personal_data.read' order by seq desc limit 1`,
      );
      assert.equal(rec!.actor_id, t.fx.userIds.get('station-leader.self'));

      const other = await t.as('station_leader', 'sibling', { url: `/api/users/${t.fx.subjectUserId}?reveal=phone` });
      assert.equal(other.statusCode, 403, 'a neighbour station may not read it at all');
      assert.equal(await count(), before + 1, 'a refused read leaves no record of a read');
    });
  });

  describe('idempotent creation', () => {
    it('returns the first answer to a retry with the same Idempotency-Key and creates one account', async () => {
      const payload = { username: 'retry.user', displayName: '重试', password: 'long-enough-pw', role: 'volunteer', nodeId: t.fx.target.id };
      const send = (key: string, body: object = payload) =>
        t.as('station_leader', 'self', { method: 'POST', url: '/api/users', headers: { 'idempotency-key': key }, payload: body });
      const first = await send('k-1');
      assert.equal(first.statusCode, 201);
      const again = await send('k-1');
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.json().id, first.json().id);
      const n = await t.ctx.database.db.select({ id: users.id }).from(users).where(eq(users.username, 'retry.user'));
      assert.equal(n.length, 1);
      const [creates] = await t.ctx.database.query<{ n: number }>(
        `select count(*)::int as n from audit_log where action = 'user.create' and entity_id = $1`,
        [first.json().id],
      );
      assert.equal(creates!.n, 1);

      const reused = await send('k-1', { ...payload, username: 'other.user' });
      assert.equal(reused.statusCode, 422);
      assert.match(reused.json().message, /different request/);
      const dup = await send('k-2');
      assert.equal(dup.statusCode, 409, 'without the key the same user name is a conflict, not a 500');
    });

    it('holds under concurrent retries', async () => {
      const payload = { username: 'race.user', displayName: '并发', password: 'long-enough-pw', role: 'volunteer', nodeId: t.fx.target.id };
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          t.as('admin', 'above', { method: 'POST', url: '/api/users', headers: { 'idempotency-key': 'race-1' }, payload }),
        ),
      );
      assert.deepEqual(answers.map((a) => a.statusCode), [201, 201, 201, 201, 201]);
      assert.equal(new Set(answers.map((a) => a.json().id)).size, 1);
    });
  });
});
