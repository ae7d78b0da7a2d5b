import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { createTestApp, type TestApp } from '../../testing/app.js';
import { paramsFor, queryFor, shapedBody } from '../../testing/malformed.js';

/**
 * Property: whatever arrives in the body, params or query of any route, the answer is never a 5xx;
 * input the route's own schema rejects gets a 400 whose message names a field.
 */
const RUNS = Number(process.env.PINGAN_FUZZ_RUNS ?? 300);

type ZodObj = z.ZodObject<z.ZodRawShape>;
const isZodObject = (s: unknown): s is ZodObj => s instanceof z.ZodObject;
const isZod = (s: unknown): s is z.ZodType => s instanceof z.ZodType;

const keysOf = (schema: unknown) => (isZodObject(schema) ? Object.keys(schema.shape) : []);
const bodyFor = (schema: unknown) => shapedBody(keysOf(schema));
const paramNames = (url: string) => [...url.matchAll(/:([a-zA-Z]+)/g)].map((m) => m[1]!);

describe('malformed input on every route (property-based)', () => {
  let t: TestApp;
  let headers: Record<string, string>;
  before(async () => {
    t = await createTestApp();
    headers = await t.session('admin', 'above');
  });
  after(async () => t?.close());

  it('covers at least the routes that take input', () => {
    const withInput = t.app.routeCatalog.filter((r) => r.schema.body || r.schema.params || r.schema.querystring);
    assert.ok(withInput.length >= 9, `found ${withInput.length}`);
  });

  it('never answers 5xx, and rejected input gets a 400 naming the field', async () => {
    let cases = 0;
    for (const route of t.app.routeCatalog) {
      const { body, params, querystring } = route.schema;
      if (!body && !params && !querystring) continue;
      if (route.url === '/api/auth/logout') continue;
      // WebSocket routes answer plain HTTP with an empty 404; their input is fuzzed in the faults suite.
      if (route.url === '/api/ws') continue;
      await fc.assert(
        fc.asyncProperty(
          body ? bodyFor(body) : fc.constant(undefined),
          params ? paramsFor(paramNames(route.url)) : fc.constant({} as Record<string, string>),
          querystring ? queryFor(keysOf(querystring)) : fc.constant({} as Record<string, string>),
          async (payload, p, q) => {
            cases++;
            const url =
              route.url.replace(/:([a-zA-Z]+)/g, (_m, n: string) => encodeURIComponent(p[n] ?? 'x')) +
              (Object.keys(q).length ? `?${new URLSearchParams(q).toString()}` : '');
            const res = await t.app.inject({
              method: route.method as 'GET',
              url,
              headers,
              ...(body && payload !== undefined
                ? { payload: JSON.stringify(payload), headers: { ...headers, 'content-type': 'application/json' } }
                : {}),
            });
            assert.ok(res.statusCode < 500, `${route.method} ${url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
            // Some routes answer files (xlsx, audio, svg) when the input is valid: only errors must be JSON.
            const isJson = String(res.headers['content-type'] ?? '').includes('application/json');
            if (res.statusCode >= 400) assert.ok(isJson, `${route.method} ${url}: an error is JSON`);
            const answer = (isJson ? res.json() : {}) as { message?: string; issues?: { field: string; message: string }[] };
            if (res.statusCode >= 400) {
              assert.ok(answer.message && answer.message.length > 3, `${route.method} ${url}: a message a person can read`);
            }
            const rejects =
              (isZod(body) && payload !== undefined && !body.safeParse(payload).success) ||
              (isZod(params) && !params.safeParse(p).success) ||
              (isZod(querystring) && !querystring.safeParse(q).success);
            if (rejects) {
              assert.equal(res.statusCode, 400, `${route.method} ${url} with ${JSON.stringify(payload)?.slice(0, 100)}: ${res.body.slice(0, 200)}`);
              assert.ok(answer.issues && answer.issues.length > 0);
              assert.match(answer.issues[0]!.field, /^(body|params|querystring)/);
              assert.ok(answer.message!.startsWith(answer.issues[0]!.field), answer.message);
            }
          },
        ),
        { numRuns: RUNS, seed: Number(process.env.PINGAN_FUZZ_SEED ?? 20261122) },
      );
    }
    assert.ok(cases >= RUNS * 9);
  });

  it('answers text with NUL (which PostgreSQL cannot store) with a 400, in a query and in a JSON body', async () => {
    const search = await t.app.inject({ url: '/api/jurisdictions/search?q=a%00b', headers });
    assert.equal(search.statusCode, 400, search.body);
    assert.match(search.json().message, /NUL/);
    const intake = await t.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: JSON.stringify({ content: '有人\u0000打架', category: 'public_order.fight', priority: 2, location: { lon: 118.55, lat: 36.95 } }),
    });
    assert.equal(intake.statusCode, 400, intake.body);
  });

  it('answers malformed JSON and wrong content types with 4xx', async () => {
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/users',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"username": ',
    });
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.json().message);
    const wrongType = await t.app.inject({
      method: 'POST',
      url: '/api/users',
      headers: { ...headers, 'content-type': 'text/xml' },
      payload: '<user/>',
    });
    assert.equal(wrongType.statusCode, 415);
  });
});
