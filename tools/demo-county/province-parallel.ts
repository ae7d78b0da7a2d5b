/** buildProvinceGrid on worker threads (same cells, same order): counties are shared out by area. */
import { availableParallelism } from 'node:os';
import { tsWorker } from './ts-worker.js';
import { provinceStep, readCounties, type ProvinceCell, type ProvinceGrid } from './province.js';
import type { PackedCounty } from './province-worker.js';

function unpack(m: PackedCounty): ProvinceCell[] {
  const out: ProvinceCell[] = [];
  let k = 0, s = 0;
  for (const code of m.codes) {
    const parts: number[][][][] = [];
    const np = m.shape[s++];
    for (let p = 0; p < np; p++) {
      const rings: number[][][] = [];
      const nr = m.shape[s++];
      for (let r = 0; r < nr; r++) {
        const nv = m.shape[s++];
        const ring: number[][] = new Array<number[]>(nv);
        for (let v = 0; v < nv; v++, k += 2) ring[v] = [m.coords[k], m.coords[k + 1]];
        rings.push(ring);
      }
      parts.push(rings);
    }
    out.push({ code, county: code.slice(0, 6), geometry: { type: 'MultiPolygon', coordinates: parts } });
  }
  return out;
}

export async function buildProvinceGridParallel(
  target = 1_000_000,
  seed = 370000,
  threads = Math.max(1, Math.min(4, availableParallelism())),
): Promise<ProvinceGrid> {
  const counties = readCounties();
  const step = provinceStep(counties, target);
  // largest counties first, each to the least loaded worker
  const weight = counties.map((c) => c.parts.reduce((a, r) => a + r.length, 0) + 1);
  const order = counties.map((_, i) => i).sort((a, b) => weight[b] - weight[a]);
  const load = new Array<number>(threads).fill(0);
  const share: number[][] = Array.from({ length: threads }, () => []);
  const area = counties.map((c) => {
    let a = 0;
    for (const r of c.parts) for (let i = 0, j = r.length - 1; i < r.length; j = i++) a += r[j][0] * r[i][1] - r[i][0] * r[j][1];
    return Math.abs(a);
  });
  for (const ci of order.sort((a, b) => area[b] - area[a])) {
    let w = 0;
    for (let t = 1; t < threads; t++) if (load[t] < load[w]) w = t;
    share[w].push(ci);
    load[w] += area[ci];
  }
  const results: ProvinceCell[][] = new Array<ProvinceCell[]>(counties.length);
  let sites = 0, dropped = 0;
  await Promise.all(share.map((todo) => new Promise<void>((resolve, reject) => {
    const worker = tsWorker(new URL('./province-worker.ts', import.meta.url), { workerData: { counties: todo, step, seed } });
    let got = 0;
    worker.on('message', (m: PackedCounty) => {
      results[m.county] = unpack(m);
      sites += m.sites;
      dropped += m.dropped;
      if (++got === todo.length) void worker.terminate().then(() => resolve());
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (got === todo.length ? resolve() : reject(new Error(`province worker exited with ${code}`))));
  })));
  const cells: ProvinceCell[] = [];
  for (const r of results) for (const c of r) cells.push(c);
  return { counties, cells, step, sites, dropped };
}
