import fc from 'fast-check';

/**
 * Generators of malformed input, shared by the property test on every route
 * (platform/http/malformed-input.test.ts) and the faults suite's 100,000-request run
 * (faults/malformed-volume.test.ts): wrong types, huge strings, deep JSON, invalid coordinates and
 * polygons, bad Unicode, SQL and script payloads, and raw bodies no parser should choke on.
 */

/** Strings a careless handler would trip over. */
export const NASTY_STRINGS = [
  '', ' ', 'null', 'undefined', '-1', '0', '1e309', 'NaN', 'Infinity', 'a'.repeat(5000), '🚓', '\u0000', '\u202e', '\ufeff',
  '\ud800', '\udfff', 'a\ud83d', '../../etc/passwd', '%00', '%', '\\', '"', '{}', '[]',
  "'; drop table app_user; --", "' or '1'='1", '1; select pg_sleep(5)', '$1', '\\x00', 'E\'\\\\\'',
  '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', 'javascript:alert(1)', '{{7*7}}', '${7*7}',
  '2026-02-30T25:61:00Z', '9999-99-99', '0000-00-00', '-0', '0x10', '１２３',
] as const;

/** Points and shapes that are not places: out of range, not numbers, unclosed or degenerate rings. */
export const BAD_GEOMETRY: readonly unknown[] = [
  { lon: 999, lat: 999 },
  { lon: -181, lat: 0 },
  { lon: 0, lat: 91 },
  { lon: 'east', lat: 'north' },
  { lon: null, lat: null },
  { lon: 1e308, lat: -1e308 },
  [181, 91],
  [118.5],
  { type: 'Point', coordinates: [500, 500] },
  { type: 'Polygon', coordinates: [[[118.5, 36.9], [118.6, 36.9], [118.6, 37.0]]] },
  { type: 'Polygon', coordinates: [[[118.5, 36.9], [118.6, 37.0], [118.6, 36.9], [118.5, 37.0], [118.5, 36.9]]] },
  { type: 'Polygon', coordinates: [[[0, 0], [0, 0], [0, 0], [0, 0]]] },
  { type: 'MultiPolygon', coordinates: [[[[118.5, 36.9], [118.6, 36.9]]]] },
  { type: 'MultiPolygon', coordinates: 'not an array' },
  { type: 'GeometryCollection', geometries: [] },
  { type: 'Feature', geometry: null, properties: null },
  { type: 'Polygon', coordinates: [[[Number.MAX_VALUE, 0], [0, Number.MAX_VALUE], [0, 0], [Number.MAX_VALUE, 0]]] },
];

/** JSON nested `depth` levels deep. */
export function deepJson(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** A value of a field: any JSON, or one chosen to be wrong in an interesting way. */
export const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 4 },
  { arbitrary: fc.string({ maxLength: 300 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 2 },
  { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 4 },
  { arbitrary: fc.constantFrom(...BAD_GEOMETRY), weight: 2 },
  { arbitrary: fc.integer(), weight: 2 },
  { arbitrary: fc.double(), weight: 2 },
  { arbitrary: fc.uuid(), weight: 2 },
  { arbitrary: fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, true, false, null), weight: 2 },
  { arbitrary: fc.integer({ min: 10, max: 400 }).map(deepJson), weight: 1 },
  { arbitrary: fc.integer({ min: 20_000, max: 120_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
);

/** An object with some of `keys`, each holding a wrong or odd value, or no object at all. */
export function shapedBody(keys: readonly string[]): fc.Arbitrary<unknown> {
  const wild = fc.jsonValue({ maxDepth: 3 });
  if (keys.length === 0) return wild;
  const shaped = fc.dictionary(fc.constantFrom(...keys), fieldValue, { maxKeys: keys.length });
  return fc.oneof(wild, shaped, shaped);
}

/** A string with an unpaired surrogate cannot be put in a URL at all (encodeURIComponent throws). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const urlSafe = (v: string) => !LONE_SURROGATE.test(v);

/** Values for `:name` path parameters. '.' and '..' are path segments, not values: the URL resolves elsewhere. */
export function paramValues(known: readonly string[] = []): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.string({ minLength: 1, maxLength: 60 }),
      fc.uuid(),
      fc.constantFrom('0', '-1', 'null', '%', '%00', ...NASTY_STRINGS.filter((s) => s.length > 0 && s.length < 100)),
      ...(known.length ? [fc.constantFrom(...known)] : []),
    )
    .filter((v) => v !== '.' && v !== '..' && urlSafe(v));
}

export function paramsFor(names: readonly string[], known: readonly string[] = []): fc.Arbitrary<Record<string, string>> {
  const value = paramValues(known);
  return fc.record(Object.fromEntries(names.map((n) => [n, value])) as Record<string, fc.Arbitrary<string>>);
}

export function queryFor(keys: readonly string[]): fc.Arbitrary<Record<string, string>> {
  if (keys.length === 0) return fc.constant({});
  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('-1', '0', '1e9', 'abc', '', '9999999999999', 'true', '[]', '2026-13-45', ...NASTY_STRINGS.filter((s) => s.length < 100 && urlSafe(s))),
    fc.uuid(),
  ).filter(urlSafe);
  return fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: keys.length });
}

/** A raw request body and the content type it claims: what no parser should turn into a 5xx. */
export interface RawBody {
  contentType: string;
  body: Buffer;
  what: string;
}

const boundary = '----pingan-fuzz-7MA4YWxkTrZu0gW';
const raw = (what: string, contentType: string, body: string | Buffer): RawBody => ({ what, contentType, body: typeof body === 'string' ? Buffer.from(body) : body });

export const rawBodies: fc.Arbitrary<RawBody> = fc.oneof(
  fc.constantFrom(
    raw('truncated JSON', 'application/json', '{"username": '),
    raw('JSON with a trailing comma', 'application/json', '{"a": 1,}'),
    raw('a bare JSON string', 'application/json', '"just a string"'),
    raw('JSON null', 'application/json', 'null'),
    raw('an empty JSON body', 'application/json', ''),
    raw('prototype pollution', 'application/json', '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}'),
    raw('invalid UTF-8 in JSON', 'application/json', Buffer.concat([Buffer.from('{"content": "'), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from('"}')])),
    raw('a NUL escape in JSON', 'application/json', '{"content": "a\\u0000b", "username": "\\u0000"}'),
    raw('a lone surrogate escape in JSON', 'application/json', '{"content": "\\ud800", "name": "\\udfff"}'),
    raw('JSON as latin-1', 'application/json; charset=latin1', '{"a": "\xe9"}'),
    raw('deep JSON array', 'application/json', `${'['.repeat(100_000)}${']'.repeat(100_000)}`),
    raw('deep JSON object', 'application/json', `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`),
    raw('a body over the limit', 'application/json', `{"content": "${'x'.repeat(1024 * 1024 + 10)}"}`),
    raw('multipart without a boundary', 'multipart/form-data', '--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc'),
    raw('truncated multipart', `multipart/form-data; boundary=${boundary}`, `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.shp"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\x02`),
    raw('multipart with a bad header', `multipart/form-data; boundary=${boundary}`, `--${boundary}\r\nContent-Disposition: nonsense\r\n\r\nx\r\n--${boundary}--\r\n`),
    raw('multipart with an HTML file', `multipart/form-data; boundary=${boundary}`, `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.html"\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--${boundary}--\r\n`),
    raw('HTML as audio', 'audio/mpeg', '<!doctype html><script>alert(document.cookie)</script>'),
    raw('an empty audio body', 'audio/wav', ''),
    raw('a truncated WAV header', 'audio/wav', Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ')),
    raw('XML', 'text/xml', '<user/>'),
    raw('a form', 'application/x-www-form-urlencoded', 'username=admin&password=%ZZ'),
    raw('plain text', 'text/plain', "'; drop table incident; --"),
    raw('an unknown content type', 'application/x-pingan-unknown', 'x'),
    raw('a content type with odd parameters', 'application/json; charset=utf-16; boundary=""', '{}'),
  ),
  fc.uint8Array({ maxLength: 2000 }).map((b) => raw('random bytes as JSON', 'application/json', Buffer.from(b))),
  fc.uint8Array({ maxLength: 2000 }).map((b) => raw('random bytes as audio', 'audio/ogg', Buffer.from(b))),
);
