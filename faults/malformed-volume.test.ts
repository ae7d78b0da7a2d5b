/**
 * Bad input at volume (issue 9, item 5): at least 100,000 generated malformed requests across every
 * operation of /api/openapi.json against a real server process over HTTP (keep-alive, a few
 * connections, loopback) — wrong types, huge strings, deep JSON, invalid coordinates and polygons,
 * broken multipart and audio uploads, bad Unicode, SQL and script payloads, odd paths — as an admin
 * with a cookie and CSRF token, with a bearer token, with a cookie but no CSRF token, and with none.
 * Then malformed WebSocket handshakes and frames. Asserts: zero 5xx, zero hangs, the process alive,
 * memory back within tolerance of its level after the same warm-up, and the database changed only by
 * requests that were answered 2xx.
 *
 * FAULTS_MALFORMED_REQUESTS changes the count (100,000 by default) for a quick run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import WebSocket from 'ws';
import { hashPassword } from '../apps/server/src/platform/auth/service.js';
import type { Database } from '../apps/server/src/platform/db/index.js';
import { rows } from '../apps/server/src/platform/db/rows.js';
import { paramsFor, queryFor, rawBodies, shapedBody, NASTY_STRINGS, type RawBody } from '../apps/server/src/testing/malformed.js';
import { FAULTS_PASSWORD } from './support/county.js';
import { RawHttp, type RawAnswer } from './support/raw-http.js';
import { startSeededServer, type SeededServer } from './support/seeded-server.js';
import { collectGarbage } from './support/inspector-gc.js';
import { gauge, parsePrometheus } from './support/soak-measure.js';

const REQUESTS = Number(process.env.FAULTS_MALFORMED_REQUESTS ?? 100_000);
const WARMUP = Math.min(5_000, Math.ceil(REQUESTS / 10));
const CONNECTIONS = 6;
/** The server's body limit (PINGAN_BODY_LIMIT_BYTES, default). */
const BODY_LIMIT = 1024 * 1024;
/** Memory after the run may exceed the level after the warm-up by this much (GC timing, caches at rest). */
const HEAP_TOLERANCE = 0.25;
const RSS_TOLERANCE = 0.25;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => (b / 1048576).toFixed(1);

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  anyOf?: JsonSchema[];
}
interface Operation {
  method: string;
  /** Fastify form: /api/users/:id */
  path: string;
  params: string[];
  query: string[];
  body: JsonSchema | null;
}
interface Case {
  op: Operation;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  auth: Auth;
}
type Auth = 'cookie' | 'bearer' | 'cookie-no-csrf' | 'none' | 'forged';

function operationsOf(doc: { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const parameters = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase(),
        path: p.replace(/\{([^}]+)\}/g, ':$1'),
        params: parameters.filter((x) => x.in === 'path').map((x) => x.name),
        query: parameters.filter((x) => x.in === 'query').map((x) => x.name),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
      });
    }
  }
  return ops;
}

/** A value of roughly the schema's shape (so a request gets past validation now and then and reaches the handler). */
function nearValid(schema: JsonSchema | undefined, known: string[], depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.constant(null);
  if (schema.anyOf?.length) return fc.oneof(...schema.anyOf.map((s) => nearValid(s, known, depth + 1)));
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const props = schema.properties ?? {};
      return fc.record(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, nearValid(v, known, depth + 1)])), { requiredKeys: [] });
    }
    case 'array':
      return fc.array(nearValid(schema.items, known, depth + 1), { maxLength: 3 });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1000, 1e9) });
    case 'number':
      return fc.double({ min: schema.minimum ?? 118.5, max: schema.maximum ?? 118.6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'string':
      if (schema.format === 'uuid') return known.length ? fc.constantFrom(...known) : fc.uuid();
      if (schema.format === 'date-time') return fc.constantFrom(new Date().toISOString(), '2026-01-01T00:00:00Z');
      return fc.string({ minLength: schema.minLength ?? 1, maxLength: 20 });
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

describe(`bad input at volume: ${REQUESTS.toLocaleString('en')} malformed requests on every route`, { timeout: 30 * 60_000 }, () => {
  let s: SeededServer;
  let adminId = '';
  const known: string[] = [];
  before(async () => {
    s = await startSeededServer({
      units: 2,
      // The inspector (loopback) lets the test run a full GC before it reads memory.
      env: { PINGAN_SERVER_NODE_ARGS: '--inspect=127.0.0.1:0' },
      prepare: async (database) => {
        const [node] = await rows<{ id: string }>(database.db, sql`select id from jurisdiction_node where code = '370523'`);
        const [admin] = await rows<{ id: string }>(
          database.db,
          sql`insert into app_user (username, display_name, password_hash, role, node_id) values ('fuzz.admin', '模糊测试管理员', ${await hashPassword(FAULTS_PASSWORD)}, 'admin', ${node!.id}) returning id`,
        );
        adminId = admin!.id;
      },
    });
  });
  after(async () => s?.close());

  it('answers every one with a 4xx or a 2xx, stays up, returns to its memory, and changes the database only by valid requests', async () => {
    let base = new URL(s.server.url);
    const login = async () => {
      const r = await fetch(`${base.origin}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'fuzz.admin', password: FAULTS_PASSWORD }) });
      assert.equal(r.status, 200, await r.clone().text());
      const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const { csrfToken } = (await r.json()) as { csrfToken: string };
      const t = await fetch(`${base.origin}/api/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'fuzz.admin', password: FAULTS_PASSWORD }) });
      return { cookie, csrfToken, token: ((await t.json()) as { token: string }).token };
    };
    let session = await login();
    // A call with an incident, so the audio upload and the incident routes have something real to act on.
    const made = await fetch(`${base.origin}/api/incidents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ content: '模糊测试的警情', category: 'public_order.fight', priority: 2, callerPhone: '13612345678', location: s.county.place }),
    });
    assert.equal(made.status, 201, await made.clone().text());
    const incident = (await made.json()) as { id: string; callId?: string; calls?: { id: string }[] };
    const doc = (await (await fetch(`${base.origin}/api/openapi.json`)).json()) as Parameters<typeof operationsOf>[0];
    const ops = operationsOf(doc);
    console.log(`figure: malformed-volume ${ops.length} operations from /api/openapi.json`);

    // Restart so the database snapshot and the memory baseline see only the fuzzing (sessions live in the database).
    await s.stopServer();
    const countsBefore = await tableCounts(await s.database());
    const idRows = await (await s.database()).query<{ id: string }>(
      `select id::text from jurisdiction_node union all select id::text from app_user where id <> $1 union all select id::text from unit
       union all select id::text from incident union all select id::text from incident_call union all select id::text from incident_assignment`,
      [adminId],
    );
    known.push(...idRows.map((r) => r.id));
    base = new URL((await s.restartServer()).url);
    const http = new RawHttp(base, CONNECTIONS);

    const auths: fc.Arbitrary<Auth> = fc.oneof(
      { arbitrary: fc.constant<Auth>('cookie'), weight: 55 },
      { arbitrary: fc.constant<Auth>('bearer'), weight: 15 },
      { arbitrary: fc.constant<Auth>('cookie-no-csrf'), weight: 10 },
      { arbitrary: fc.constant<Auth>('none'), weight: 15 },
      { arbitrary: fc.constant<Auth>('forged'), weight: 5 },
    );
    const pathJunk = fc.oneof(
      { arbitrary: fc.constant(''), weight: 20 },
      { arbitrary: fc.constantFrom('?a=%ZZ', '?&&==', '/', '//', '?since=-1&since=2', `?x=${'y'.repeat(9000)}`, '%2e%2e/%2e%2e/etc/passwd', ';jsessionid=1', '#frag', '?__proto__[admin]=1'), weight: 1 },
    );
    const caseFor = (op: Operation): fc.Arbitrary<Case> => {
      const hasBody = op.method !== 'GET' && op.method !== 'DELETE';
      const bodyKeys = Object.keys(op.body?.properties ?? {});
      const json = fc.oneof(
        { arbitrary: shapedBody(bodyKeys), weight: 3 },
        { arbitrary: nearValid(op.body ?? undefined, known), weight: 1 },
      ).map((v): RawBody => ({ what: 'json', contentType: 'application/json', body: Buffer.from(JSON.stringify(v) ?? 'null') }));
      const body: fc.Arbitrary<RawBody | null> = hasBody ? fc.oneof({ arbitrary: json, weight: 4 }, { arbitrary: rawBodies, weight: 1 }) : fc.oneof({ arbitrary: fc.constant(null), weight: 9 }, { arbitrary: rawBodies, weight: 1 });
      return fc.record({ params: paramsFor(op.params, known), query: fc.oneof({ arbitrary: fc.constant({}), weight: 1 }, { arbitrary: queryFor(op.query), weight: 4 }), body, auth: auths, junk: pathJunk }).map(({ params, query, body: b, auth, junk }) => {
        const url =
          op.path.replace(/:([a-zA-Z]+)/g, (_m, n: string) => encodeURIComponent(params[n] ?? 'x')) +
          (Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : '') +
          junk;
        const headers: Record<string, string> = {};
        if (auth === 'cookie' || auth === 'cookie-no-csrf') headers.cookie = session.cookie;
        if (auth === 'cookie') headers['x-csrf-token'] = session.csrfToken;
        if (auth === 'bearer') headers.authorization = `Bearer ${session.token}`;
        if (auth === 'forged') Object.assign(headers, { cookie: 'pingan_session=forged; other=1', authorization: 'Bearer ' + 'A'.repeat(40), 'x-csrf-token': 'nope' });
        if (b) headers['content-type'] = b.contentType;
        return { op, url, headers, body: b?.body, auth };
      });
    };
    // The session must outlive the run: logging out or revoking it would turn the rest into 401s.
    const fuzzable = ops.filter((o) => !(o.path === '/api/auth/logout'));
    const logout = ops.find((o) => o.path === '/api/auth/logout');
    const arbs = new Map(fuzzable.map((o) => [o, caseFor(o)]));
    // An operation without params, query or body has little to get wrong but its headers and body:
    // it comes round a quarter as often (its valid answers are the expensive full reads).
    const takesInput = (o: Operation) => o.params.length > 0 || o.query.length > 0 || o.body !== null;
    const schedule = fuzzable.flatMap((o) => (takesInput(o) ? [o, o, o, o] : [o]));
    const noAuth = logout ? caseFor(logout).map((c) => ({ ...c, headers: Object.fromEntries(Object.entries(c.headers).filter(([k]) => k !== 'cookie' && k !== 'authorization')) })) : null;

    const tally = { total: 0, s2xx: 0, s3xx: 0, s4xx: 0, s5xx: 0, hang: 0, refused: 0, closedOversized: 0, unsendable: 0 };
    const byStatus = new Map<number, number>();
    const timeByRoute = new Map<string, { n: number; ms: number }>();
    const fiveHundreds: string[] = [];
    const failedConnections: string[] = [];
    const valid: { method: string; path: string; status: number }[] = [];
    const run = async (count: number, seed: number) => {
      let next = 0;
      const batch = new Map<Operation, Case[]>();
      const take = (op: Operation): Case => {
        let list = batch.get(op);
        if (!list || list.length === 0) {
          list = fc.sample(arbs.get(op)!, { numRuns: 50, seed: seed + next });
          batch.set(op, list);
        }
        return list.pop()!;
      };
      const worker = async () => {
        for (;;) {
          const i = next++;
          if (i >= count) return;
          const c = i % 997 === 0 && noAuth ? fc.sample(noAuth, { numRuns: 1, seed: seed + i })[0]! : take(schedule[(i * 7919) % schedule.length]!);
          const a: RawAnswer = await http.send(c.op.method, c.url, c.headers, c.body);
          const key = `${c.op.method} ${c.op.path}`;
          const spent = timeByRoute.get(key) ?? { n: 0, ms: 0 };
          spent.n++;
          spent.ms += a.ms;
          timeByRoute.set(key, spent);
          tally.total++;
          byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
          if (a.status === -2) tally.unsendable++;
          else if (a.status === -1) tally.hang++;
          // A body over the limit is answered 413 with `Connection: close` before it is read (Fastify):
          // the client, still writing the rest of it, may see the socket close (EPIPE, ECONNRESET)
          // instead of the answer. That is the refusal, not the process going away.
          else if (a.status === 0 && (c.body?.length ?? 0) > BODY_LIMIT && /EPIPE|ECONNRESET/.test(a.error ?? '')) tally.closedOversized++;
          else if (a.status === 0) {
            tally.refused++;
            if (failedConnections.length < 10) failedConnections.push(`${c.op.method} ${c.url.slice(0, 200)} [${c.auth}, ${c.headers['content-type'] ?? '-'}, ${c.body?.length ?? 0} B] after ${a.ms} ms: ${a.error}`);
          }
          else if (a.status >= 500) {
            tally.s5xx++;
            if (fiveHundreds.length < 30) fiveHundreds.push(`${c.op.method} ${c.url.slice(0, 200)} [${c.auth}, ${c.headers['content-type'] ?? '-'}, ${c.body?.length ?? 0} B] → ${a.status} ${a.body.toString().slice(0, 200)}`);
          } else if (a.status >= 400) tally.s4xx++;
          else if (a.status >= 300) tally.s3xx++;
          else {
            tally.s2xx++;
            valid.push({ method: c.op.method, path: c.op.path, status: a.status });
          }
        }
      };
      await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    };
    const metrics = async () => {
      const m = parsePrometheus(await (await fetch(`${base.origin}/metrics`)).text());
      return { rss: gauge(m, 'process_resident_memory_bytes'), heap: gauge(m, 'nodejs_heap_size_used_bytes') };
    };
    /** Memory at rest: after a few seconds without requests and a full GC, the lowest of three readings. */
    const atRest = async () => {
      const samples: { rss: number; heap: number }[] = [];
      for (let i = 0; i < 3; i++) {
        await sleep(2000);
        await collectGarbage(s.server);
        samples.push(await metrics());
      }
      return { rss: Math.min(...samples.map((x) => x.rss)), heap: Math.min(...samples.map((x) => x.heap)) };
    };

    const cpu0 = process.cpuUsage();
    const start0 = await metrics();
    const t0 = Date.now();
    await run(WARMUP, 1);
    const warmupCount = tally.total;
    const baseline = await atRest();
    const t1 = Date.now();
    await run(REQUESTS, 1000);
    const seconds = (Date.now() - t1) / 1000;
    const end = await atRest();
    http.close();
    console.log(`figure: malformed-volume ${REQUESTS} requests (after a warm-up of ${warmupCount}) in ${seconds.toFixed(0)} s = ${(REQUESTS / seconds).toFixed(0)} req/s over ${CONNECTIONS} keep-alive connections`);
    const cpu = process.cpuUsage(cpu0);
    console.log(`figure: malformed-volume CPU of this test process (generation and client): ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`);
    console.log(`figure: malformed-volume answers of all ${tally.total}: 2xx ${tally.s2xx}, 3xx ${tally.s3xx}, 4xx ${tally.s4xx}, 5xx ${tally.s5xx}, no answer in 30 s ${tally.hang}, connection failed ${tally.refused}, closed while sending a body over the limit ${tally.closedOversized}, not sendable by Node ${tally.unsendable}`);
    console.log(`figure: malformed-volume slowest routes (total ms / requests): ${[...timeByRoute.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8).map(([k, v]) => `${k} ${v.ms}/${v.n}`).join('; ')}`);
    console.log(`figure: malformed-volume by status ${[...byStatus.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}:${v}`).join(' ')}`);
    console.log(`figure: malformed-volume memory: at start rss ${mb(start0.rss)} MB heap ${mb(start0.heap)} MB; after warm-up (at rest) rss ${mb(baseline.rss)} MB heap ${mb(baseline.heap)} MB; after the run (at rest) rss ${mb(end.rss)} MB heap ${mb(end.heap)} MB (tolerance +${HEAP_TOLERANCE * 100} % heap, +${RSS_TOLERANCE * 100} % rss); total ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    const server = parsePrometheus(await (await fetch(`${base.origin}/metrics`)).text()).filter((x) => x.name === 'pingan_http_request_duration_seconds_sum');
    const serverTime = new Map<string, number>();
    for (const x of server) serverTime.set(`${x.labels.method} ${x.labels.route}`, (serverTime.get(`${x.labels.method} ${x.labels.route}`) ?? 0) + x.value);
    console.log(`figure: malformed-volume server time by route (s): ${[...serverTime.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${v.toFixed(1)}`).join('; ')}; all ${[...serverTime.values()].reduce((a, b) => a + b, 0).toFixed(1)}`);

    // WebSocket: malformed handshakes and frames.
    const ws = await fuzzWebSocket(base, session);
    console.log(`figure: malformed-volume websocket: ${ws.handshakes} malformed handshakes (closed with ${[...ws.closeCodes.entries()].map(([k, v]) => `${k}×${v}`).join(', ')}; refused upgrades ${ws.refused}), ${ws.frames} malformed frames on open streams`);

    assert.deepEqual(fiveHundreds, [], 'no 5xx');
    assert.equal(tally.s5xx, 0);
    assert.equal(tally.hang, 0, 'every request answered within 30 s');
    assert.equal(tally.refused, 0, `no connection failed (the process never went away): ${failedConnections.join('; ')}`);
    assert.equal(s.server.child.exitCode, null, 'the server process is alive');
    assert.equal((await fetch(`${base.origin}/readyz`)).status, 200, 'and ready');
    assert.ok(tally.total - tally.unsendable >= REQUESTS, `at least ${REQUESTS} requests reached the server`);
    assert.ok(end.heap <= baseline.heap * (1 + HEAP_TOLERANCE), `heap at rest ${mb(end.heap)} MB within ${HEAP_TOLERANCE * 100} % of ${mb(baseline.heap)} MB`);
    assert.ok(end.rss <= baseline.rss * (1 + RSS_TOLERANCE), `rss at rest ${mb(end.rss)} MB within ${RSS_TOLERANCE * 100} % of ${mb(baseline.rss)} MB`);

    // The database: only requests answered 2xx may have changed it.
    await s.stopServer();
    const countsAfter = await tableCounts(await s.database());
    const changed = [...countsAfter.entries()].filter(([t, n]) => n !== (countsBefore.get(t) ?? 0)).map(([t, n]) => ({ table: t, before: countsBefore.get(t) ?? 0, after: n }));
    const writes = valid.filter((v) => v.method !== 'GET');
    const byRoute = new Map<string, number>();
    for (const v of valid) byRoute.set(`${v.method} ${v.path}`, (byRoute.get(`${v.method} ${v.path}`) ?? 0) + 1);
    console.log(`figure: malformed-volume 2xx by route: ${[...byRoute.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join('; ') || 'none'}`);
    console.log(`figure: malformed-volume tables changed: ${changed.map((c) => `${c.table} ${c.before}→${c.after}`).join(', ') || 'none'} (by ${writes.length} writes answered 2xx and ${valid.length - writes.length} reads answered 2xx)`);
    // A valid edit may replace rows (PATCH of a unit with its member list) or remove them (DELETE):
    // a table may shrink only when such a write was answered 2xx.
    const replacing = writes.filter((v) => v.method === 'PATCH' || v.method === 'PUT' || v.method === 'DELETE');
    for (const c of changed) {
      if (c.after < c.before) {
        assert.ok(replacing.length > 0, `${c.table}: rows removed (${c.before} → ${c.after}) although no PATCH, PUT or DELETE was answered 2xx`);
        assert.ok(c.before - c.after <= replacing.length * 20, `${c.table} lost ${c.before - c.after} rows with ${replacing.length} edits answered 2xx`);
        continue;
      }
      if (c.table === 'audit_log') {
        // Reads of personal data are audited, and so are writes: one row at most per 2xx answer.
        assert.ok(c.after - c.before <= valid.length, `audit_log grew by ${c.after - c.before} with ${valid.length} answers 2xx`);
      } else {
        assert.ok(writes.length > 0, `${c.table} changed (${c.before} → ${c.after}) although no write was answered 2xx`);
        assert.ok(c.after - c.before <= writes.length * 20, `${c.table} grew by ${c.after - c.before} with ${writes.length} writes answered 2xx`);
      }
    }
  });
});

async function tableCounts(database: Database): Promise<Map<string, number>> {
  const tables = await database.query<{ name: string }>(`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like '%drizzle%' and table_name <> 'spatial_ref_sys' order by 1`);
  const counts = new Map<string, number>();
  for (const { name } of tables) {
    const [r] = await database.query<{ n: number }>(`select count(*)::int as n from "${name}"`);
    counts.set(name, r!.n);
  }
  return counts;
}

/** Handshakes with bad query strings and tickets, and junk frames on open streams: each closes cleanly. */
async function fuzzWebSocket(base: URL, session: { cookie: string; token: string }) {
  const closeCodes = new Map<number, number>();
  let refused = 0;
  let frames = 0;
  const queries = ['since=-1', 'since=abc', 'since=1e400', 'since=99999999999999999999', 'mode=admin', 'mode=', 'ticket=' + 'x'.repeat(2001), 'ticket=%ZZ', 'ticket=a.b.c', 'since=1&since=2', `ticket=${encodeURIComponent(NASTY_STRINGS[24]!)}`, ''];
  const attempt = (path: string, headers: Record<string, string>, send?: (ws: WebSocket) => void) =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(`ws://${base.host}${path}`, { headers });
      const timer = setTimeout(() => ws.terminate(), 5000);
      ws.on('open', () => send?.(ws));
      ws.on('unexpected-response', (_req, res) => {
        refused++;
        res.resume();
        clearTimeout(timer);
        resolve();
      });
      ws.on('error', () => undefined);
      ws.on('close', (code) => {
        clearTimeout(timer);
        closeCodes.set(code, (closeCodes.get(code) ?? 0) + 1);
        resolve();
      });
    });
  let handshakes = 0;
  for (let round = 0; round < 20; round++) {
    await Promise.all(
      queries.map(async (q, i) => {
        handshakes++;
        await attempt(`/api/ws?${q}`, i % 2 ? { cookie: session.cookie } : {}, (ws) => setTimeout(() => ws.close(), 50));
      }),
    );
  }
  // An open stream that receives junk: text, binary, a frame over the 64 KiB limit.
  const junk: (string | Buffer)[] = ['{', 'null', JSON.stringify({ type: 'event', seq: -1 }), Buffer.from([0xff, 0xfe, 0x00]), 'x'.repeat(70 * 1024), JSON.stringify({ since: 'drop table' })];
  for (let round = 0; round < 10; round++) {
    await attempt('/api/ws?mode=command', { cookie: session.cookie }, (ws) => {
      for (const j of junk) {
        frames++;
        ws.send(j);
      }
      setTimeout(() => ws.close(), 100);
    });
  }
  return { handshakes, closeCodes, refused, frames };
}
