import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import client from 'prom-client';
import { RouteTable, gauge, histogramByRoute, median, parsePrometheus, quantile } from './soak-measure.js';

describe('soak measuring tools', () => {
  it('reads what prom-client writes: gauges and a per-route histogram with its p99 bucket', async () => {
    const registry = new client.Registry();
    new client.Gauge({ name: 'rss_bytes', help: 'x', registers: [registry] }).set(123456789);
    const h = new client.Histogram({ name: 'req_seconds', help: 'x', labelNames: ['method', 'route', 'status'] as const, buckets: [0.01, 0.1, 1], registers: [registry] });
    for (let i = 0; i < 98; i++) h.observe({ method: 'GET', route: '/api/incidents/:id', status: '200' }, 0.005);
    h.observe({ method: 'GET', route: '/api/incidents/:id', status: '404' }, 0.05);
    h.observe({ method: 'GET', route: '/api/incidents/:id', status: '503' }, 0.5);
    h.observe({ method: 'POST', route: '/api/incidents', status: '201' }, 0.05);
    const samples = parsePrometheus(await registry.metrics());
    assert.equal(gauge(samples, 'rss_bytes'), 123456789);
    assert.throws(() => gauge(samples, 'absent'), /absent is missing/);
    const byRoute = histogramByRoute(samples, 'req_seconds', 0.99);
    // 99 of 100 within 0.1 s: p99 falls in the 0.1 bucket; p99.5 would not.
    assert.deepEqual(byRoute.get('GET /api/incidents/:id'), { count: 100, bound: 0.1, fiveHundreds: 1 });
    assert.deepEqual(byRoute.get('POST /api/incidents'), { count: 1, bound: 0.1, fiveHundreds: 0 });
    assert.equal(histogramByRoute(samples, 'req_seconds', 0.995).get('GET /api/incidents/:id')!.bound, 1);
  });

  it('names a request path by its route pattern, the most literal first', () => {
    const t = RouteTable.fromOpenApi({ paths: { '/api/incidents/{id}': {}, '/api/incidents/{id}/close': {}, '/api/units/live': {}, '/api/units/{id}': {} } });
    assert.equal(t.match('/api/incidents/0b6f-42'), '/api/incidents/:id');
    assert.equal(t.match('/api/incidents/0b6f-42/close'), '/api/incidents/:id/close');
    assert.equal(t.match('/api/units/live'), '/api/units/live');
    assert.equal(t.match('/api/units/u1'), '/api/units/:id');
    assert.equal(t.match('/api/nothing'), 'unmatched');
  });

  it('takes nearest-rank quantiles and medians', () => {
    const v = Array.from({ length: 200 }, (_, i) => i + 1);
    assert.equal(quantile(v, 0.99), 198);
    assert.equal(quantile(v, 0.5), 100);
    assert.equal(median([5, 1, 3]), 3);
    assert.ok(Number.isNaN(median([])));
  });
});
