/**
 * Measuring tools of the soak (faults/soak.test.ts): client-side latency per route pattern, a reader
 * of the server's Prometheus text, percentiles and medians.
 */

/** Route patterns of the server (Fastify form, `/api/incidents/:id`), matched against request paths. */
export class RouteTable {
  private readonly patterns: { route: string; re: RegExp; literal: number }[];

  constructor(readonly routes: string[]) {
    this.patterns = routes
      .map((route) => {
        const re = new RegExp(`^${route.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);
        // Prefer the most literal pattern (`/api/incidents/stats` over `/api/incidents/:id`).
        const literal = route.split('/').filter((s) => s && !s.startsWith(':')).length;
        return { route, re, literal };
      })
      .sort((a, b) => b.literal - a.literal);
  }

  /** The routes of an OpenAPI document, in Fastify's form (what the server's histogram labels carry). */
  static fromOpenApi(doc: { paths: Record<string, unknown> }): RouteTable {
    return new RouteTable(Object.keys(doc.paths).map((p) => p.replace(/\{([^}]+)\}/g, ':$1')));
  }

  match(pathname: string): string {
    return this.patterns.find((p) => p.re.test(pathname))?.route ?? 'unmatched';
  }
}

export interface Answer {
  key: string;
  status: number;
  ms: number;
  /** `error` field of an error body (4xx/5xx), when there is one. */
  error?: string;
  message?: string;
}

/**
 * Wraps the process's fetch: every request to `base` is timed until its body is read and recorded
 * under `METHOD route-pattern` with its status. Throws are recorded as status 0.
 */
export class FetchRecorder {
  readonly answers: Answer[] = [];
  private readonly original = globalThis.fetch;

  constructor(private readonly base: string, private readonly routes: RouteTable) {}

  install(): void {
    const original = this.original;
    const record = (a: Answer) => this.answers.push(a);
    const base = this.base;
    const routes = this.routes;
    globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      if (!url.href.startsWith(base)) return original(input, init);
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      const key = `${method} ${routes.match(url.pathname)}`;
      const t0 = performance.now();
      let res: Response;
      let body: ArrayBuffer;
      try {
        res = await original(input, init);
        body = await res.arrayBuffer();
      } catch (err) {
        record({ key, status: 0, ms: performance.now() - t0, error: 'network', message: String(err) });
        throw err;
      }
      const answer: Answer = { key, status: res.status, ms: performance.now() - t0 };
      if (res.status >= 400) {
        try {
          const parsed = JSON.parse(new TextDecoder().decode(body)) as { error?: unknown; message?: unknown };
          if (typeof parsed.error === 'string') answer.error = parsed.error;
          if (typeof parsed.message === 'string') answer.message = parsed.message;
        } catch {
          // Not JSON: the status alone classifies it.
        }
      }
      record(answer);
      return new Response(res.status === 204 || res.status === 304 ? null : body, { status: res.status, statusText: res.statusText, headers: res.headers });
    };
  }

  uninstall(): void {
    globalThis.fetch = this.original;
  }
}

/** The value at quantile q (0–1) of ascending values (nearest rank). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition (what prom-client's registry.metrics() writes). */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export function gauge(samples: Sample[], name: string): number {
  const s = samples.find((x) => x.name === name);
  if (!s) throw new Error(`metric ${name} is missing`);
  return s.value;
}

/**
 * Per route (summed over statuses) the count and the bucket bound under which quantile q of the
 * server's request durations falls: what `histogram_quantile` gives, without interpolation.
 */
export function histogramByRoute(samples: Sample[], name: string, q: number): Map<string, { count: number; bound: number; fiveHundreds: number }> {
  const buckets = new Map<string, Map<number, number>>();
  const counts = new Map<string, { count: number; fiveHundreds: number }>();
  for (const s of samples) {
    const key = `${s.labels.method} ${s.labels.route}`;
    if (s.name === `${name}_bucket`) {
      const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
      const m = buckets.get(key) ?? new Map<number, number>();
      m.set(le, (m.get(le) ?? 0) + s.value);
      buckets.set(key, m);
    } else if (s.name === `${name}_count`) {
      const c = counts.get(key) ?? { count: 0, fiveHundreds: 0 };
      c.count += s.value;
      if (Number(s.labels.status) >= 500) c.fiveHundreds += s.value;
      counts.set(key, c);
    }
  }
  const out = new Map<string, { count: number; bound: number; fiveHundreds: number }>();
  for (const [key, m] of buckets) {
    const c = counts.get(key) ?? { count: 0, fiveHundreds: 0 };
    const sorted = [...m.entries()].sort((a, b) => a[0] - b[0]);
    const target = q * c.count;
    const hit = sorted.find(([, cum]) => cum >= target);
    out.set(key, { ...c, bound: hit ? hit[0] : Number.POSITIVE_INFINITY });
  }
  return out;
}
