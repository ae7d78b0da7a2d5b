import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, FIXTURE_PASSWORD, userNameFor, type TestApp } from '../../testing/app.js';
import { createAuthService } from './service.js';

/** The in-memory session cache of decision 002: a short window across instances, none on this one. */
describe('session cache', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t?.close());

  const settings = { sessionHours: 12, maxFailures: 5, lockoutMinutes: 15 };
  const revokeInDatabase = (tokenHash: string) =>
    t.ctx.database.query(`update session set revoked_at = now() where token_hash = $1`, [tokenHash]);

  it('answers a session from memory for at most sessionCacheMs (a revocation made elsewhere)', async () => {
    const auth = await createAuthService(t.ctx.database, { ...settings, sessionCacheMs: 300 });
    const s = await auth.login(userNameFor('dispatcher', 'self'), FIXTURE_PASSWORD, '127.0.0.1', 'test');
    const first = await auth.authenticate(s.token, '10.0.0.1');
    assert.ok(first);
    await revokeInDatabase(s.tokenHash); // as another instance would
    const cached = await auth.authenticate(s.token, '10.0.0.2');
    assert.ok(cached, 'within the window the cached session still answers');
    assert.equal(cached.actor.ip, '10.0.0.2', 'the actor carries the address of this request');
    assert.equal(cached.actor.sessionId, first.actor.sessionId);
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(await auth.authenticate(s.token, '10.0.0.2'), null, 'after the window the revocation holds');
  });

  it('logout and revocation on this instance take effect at once', async () => {
    const auth = await createAuthService(t.ctx.database, { ...settings, sessionCacheMs: 60_000 });
    const s = await auth.login(userNameFor('dispatcher', 'self'), FIXTURE_PASSWORD, '127.0.0.1', 'test');
    const found = await auth.authenticate(s.token, null);
    assert.ok(found);
    await auth.logout(found.actor);
    assert.equal(await auth.authenticate(s.token, null), null);

    const a = await auth.login(userNameFor('community_officer', 'self'), FIXTURE_PASSWORD, '127.0.0.1', 'phone');
    const b = await auth.login(userNameFor('community_officer', 'self'), FIXTURE_PASSWORD, '127.0.0.1', 'laptop');
    const admin = await auth.authenticate((await auth.login(userNameFor('admin', 'above'), FIXTURE_PASSWORD, '127.0.0.1', 'x')).token, null);
    assert.ok(admin);
    assert.ok(await auth.authenticate(a.token, null));
    assert.ok(await auth.authenticate(b.token, null));
    await auth.revokeAllSessions(admin.actor, a.userId, '/');
    assert.equal(await auth.authenticate(a.token, null), null);
    assert.equal(await auth.authenticate(b.token, null), null);
  });

  it('a lookup under way during a logout does not cache the session it read', async () => {
    const auth = await createAuthService(t.ctx.database, { ...settings, sessionCacheMs: 60_000 });
    const s = await auth.login(userNameFor('dispatcher', 'self'), FIXTURE_PASSWORD, '127.0.0.1', 'test');
    const found = await auth.authenticate(s.token, null);
    assert.ok(found);
    await auth.logout(found.actor);
    // Start a lookup and a second logout together; whatever the order, nothing revoked stays cached.
    const pending = auth.authenticate(s.token, null);
    await auth.logout(found.actor);
    await pending;
    assert.equal(await auth.authenticate(s.token, null), null);
  });

  it('sessionCacheMs 0 reads the database every time', async () => {
    const auth = await createAuthService(t.ctx.database, { ...settings, sessionCacheMs: 0 });
    const s = await auth.login(userNameFor('dispatcher', 'self'), FIXTURE_PASSWORD, '127.0.0.1', 'test');
    assert.ok(await auth.authenticate(s.token, null));
    await revokeInDatabase(s.tokenHash);
    assert.equal(await auth.authenticate(s.token, null), null);
  });
});
