/**
 * Deterministic demo county: 广饶县 (370523), 东营市, 山东省, derived from the real county polygon and
 * the real town/village list. Towns, village grids and 李鹊镇's micro-grids are a seeded Voronoi
 * partition of the real county outline; every grid gets a fictional "4+N+N" team.
 * See docs/decisions/006-demo-county.md.
 */
import { readFileSync } from 'node:fs';
import type { MultiPolygon } from 'geojson';
import { partitionPolygon, type Pt } from './partition.js';
import { createRng, type Rng } from './prng.js';
import { createPeople, type Person } from './names.js';

export type DemoLevel = 'province' | 'city' | 'county' | 'station' | 'grid' | 'micro_grid';
export interface DemoNode {
  code: string;
  name: string;
  level: DemoLevel;
  parentCode: string | null;
  geometry: MultiPolygon | null;
  core: boolean;
}
export type DemoDuty =
  | 'grid_head'
  | 'grid_instructor'
  | 'grid_police'
  | 'grid_manager'
  | 'info_collector'
  | 'volunteer';
export interface DemoTeamMember {
  gridCode: string;
  duty: DemoDuty;
  name: string;
  phone: string;
}
export interface DemoCounty {
  nodes: DemoNode[];
  team: DemoTeamMember[];
}

export const DEMO_SEED = 370523;
export const DEMO_PROVINCE = { code: '37', name: '山东省' } as const;
export const DEMO_CITY = { code: '3705', name: '东营市' } as const;
export const DEMO_COUNTY_CODE = '370523';
export const MICRO_TOWN_CODE = '370523106'; // 李鹊镇
export const MICRO_TARGET = 1337; // 59 village grids → 1,337 micro-grids (seed article)
/** Approximate location of the county seat (城区); the 街道 are drawn around it. */
const SEAT: Pt = [118.407, 37.053];

const dataDir = new URL('../../data/shandong/', import.meta.url);

export interface Division {
  level: string;
  code: string;
  name: string;
  parentCode: string;
}

export function readDivisions(): Division[] {
  const text = readFileSync(new URL('shandong-divisions.csv', dataDir), 'utf8');
  const out: Division[] = [];
  for (const raw of text.split('\n').slice(1)) {
    const line = raw.trim();
    if (!line) continue;
    const [level, code, name, parentCode] = line.split(',');
    out.push({ level, code, name, parentCode });
  }
  return out;
}

/** Outer ring of the real county polygon (largest part). */
export function readCountyRing(code = DEMO_COUNTY_CODE): Pt[] {
  interface Feature {
    properties: { code: string; name: string };
    geometry: { type: 'Polygon'; coordinates: Pt[][] } | { type: 'MultiPolygon'; coordinates: Pt[][][] };
  }
  const fc = JSON.parse(readFileSync(new URL('shandong-counties.geojson', dataDir), 'utf8')) as {
    features: Feature[];
  };
  const f = fc.features.find((x) => String(x.properties.code) === code);
  if (!f) throw new Error(`county ${code} not in shandong-counties.geojson`);
  if (f.geometry.type === 'Polygon') return f.geometry.coordinates[0];
  let best: Pt[] = [];
  for (const poly of f.geometry.coordinates) if (poly[0].length > best.length) best = poly[0];
  return best;
}

export function pointInRing(x: number, y: number, ring: readonly Pt[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Even-odd point-in-ring test with edges bucketed into horizontal bands (fast for big rings). */
export function ringTester(ring: readonly Pt[], bands = 512): (x: number, y: number) => boolean {
  const n = ring.length;
  const xs = new Float64Array(n), ys = new Float64Array(n);
  let y0 = Infinity, y1 = -Infinity;
  ring.forEach(([x, y], i) => {
    xs[i] = x;
    ys[i] = y;
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  });
  const h = (y1 - y0) / bands || 1;
  const lists: number[][] = Array.from({ length: bands }, () => []);
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const lo = Math.max(0, Math.floor((Math.min(ys[i], ys[j]) - y0) / h));
    const hi = Math.min(bands - 1, Math.floor((Math.max(ys[i], ys[j]) - y0) / h));
    for (let b = lo; b <= hi; b++) lists[b].push(i);
  }
  const bandEdges = lists.map((l) => Int32Array.from(l));
  return (x, y) => {
    if (y < y0 || y > y1) return false;
    const b = Math.min(bands - 1, Math.floor((y - y0) / h));
    const edges = bandEdges[b];
    let inside = false;
    for (let k = 0; k < edges.length; k++) {
      const i = edges[k];
      const j = i === 0 ? n - 1 : i - 1;
      const yi = ys[i], yj = ys[j];
      if (yi > y !== yj > y && x < ((xs[j] - xs[i]) * (y - yi)) / (yj - yi) + xs[i]) inside = !inside;
    }
    return inside;
  };
}

export function ringBbox(ring: readonly Pt[]): [number, number, number, number] {
  let a = Infinity, b = Infinity, c = -Infinity, d = -Infinity;
  for (const [x, y] of ring) {
    a = Math.min(a, x);
    b = Math.min(b, y);
    c = Math.max(c, x);
    d = Math.max(d, y);
  }
  return [a, b, c, d];
}

function nearest(x: number, y: number, sites: readonly Pt[]): number {
  let best = 0;
  let bd = Infinity;
  for (let i = 0; i < sites.length; i++) {
    const dx = sites[i][0] - x;
    const dy = (sites[i][1] - y) * 1.25; // ~1/cos(37°): distances closer to metric
    const d = dx * dx + dy * dy;
    if (d < bd) {
      bd = d;
      best = i;
    }
  }
  return best;
}

/** Lloyd/k-means over a point pool; returns k sites, each snapped to a member of its cluster. */
function kmeans(points: readonly Pt[], k: number, rng: Rng, iterations = 10): Pt[] {
  if (k <= 0) return [];
  const sites: Pt[] = [];
  const used = new Set<number>();
  while (sites.length < k) {
    const i = Math.floor(rng.next() * points.length);
    if (used.has(i) && used.size < points.length) continue;
    used.add(i);
    sites.push([points[i][0], points[i][1]]);
  }
  const assign = new Int32Array(points.length);
  for (let it = 0; it <= iterations; it++) {
    const sx = new Float64Array(k), sy = new Float64Array(k), n = new Int32Array(k);
    for (let p = 0; p < points.length; p++) {
      const c = nearest(points[p][0], points[p][1], sites);
      assign[p] = c;
      sx[c] += points[p][0];
      sy[c] += points[p][1];
      n[c]++;
    }
    if (it === iterations) break;
    for (let c = 0; c < k; c++) {
      if (n[c] > 0) sites[c] = [sx[c] / n[c], sy[c] / n[c]];
      else {
        const p = points[Math.floor(rng.next() * points.length)];
        sites[c] = [p[0], p[1]];
      }
    }
  }
  // snap each site to the member of its cluster closest to the mean (keeps sites inside the region)
  return sites.map((s, c) => {
    let best: Pt | null = null;
    let bd = Infinity;
    for (let p = 0; p < points.length; p++) {
      if (assign[p] !== c) continue;
      const d = (points[p][0] - s[0]) ** 2 + (points[p][1] - s[1]) ** 2;
      if (d < bd) {
        bd = d;
        best = points[p];
      }
    }
    return best ? [best[0], best[1]] : s;
  });
}

/** Split `total` into integer shares proportional to weights (largest remainder), each ≥ min. */
function apportion(total: number, weights: readonly number[], min: number): number[] {
  const free = total - min * weights.length;
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const raw = weights.map((w) => (free * w) / sum);
  const out = raw.map((r) => min + Math.floor(r));
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  let left = total - out.reduce((a, b) => a + b, 0);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i]++;
    left--;
  }
  return out;
}

export function stationName(townName: string): string {
  return townName.replace(/(街道办事处|街道|镇|乡)$/, '') + '派出所';
}

export function gridShortName(villageName: string): string {
  const village = villageName.match(/^(.*?)(村民委员会|村委会)$/);
  if (village) return village[1].endsWith('村') ? village[1] : village[1] + '村';
  const community = villageName.match(/^(.*?)(居民委员会|社区居委会|居委会)$/);
  if (community) return community[1].endsWith('社区') ? community[1] : community[1] + '社区';
  return villageName;
}

const toMulti = (coordinates: number[][][][] | undefined): MultiPolygon | null =>
  coordinates && coordinates.length > 0 ? { type: 'MultiPolygon', coordinates } : null;

export function buildDemoCounty(): DemoCounty {
  const rng = createRng(DEMO_SEED);
  const divisions = readDivisions();
  const county = divisions.find((d) => d.code === DEMO_COUNTY_CODE);
  if (!county) throw new Error('county 370523 missing from divisions');
  const towns = divisions.filter((d) => d.level === 'town' && d.parentCode === DEMO_COUNTY_CODE);
  towns.sort((a, b) => a.code.localeCompare(b.code));
  const villagesOf = new Map<string, Division[]>();
  for (const t of towns) {
    villagesOf.set(
      t.code,
      divisions.filter((d) => d.level === 'village' && d.parentCode === t.code).sort((a, b) => a.code.localeCompare(b.code)),
    );
  }
  const ring = readCountyRing();
  const [minX, minY, maxX, maxY] = ringBbox(ring);
  const inCounty = ringTester(ring);

  // ---- point pool: uniform over the county plus a denser cluster around the county seat ----------
  const pool: Pt[] = [];
  while (pool.length < 60_000) {
    const x = minX + rng.next() * (maxX - minX);
    const y = minY + rng.next() * (maxY - minY);
    if (inCounty(x, y)) pool.push([x, y]);
  }
  for (let n = 0; n < 24_000; ) {
    const x = SEAT[0] + rng.normal() * 0.035;
    const y = SEAT[1] + rng.normal() * 0.028;
    if (inCounty(x, y)) {
      pool.push([x, y]);
      n++;
    }
  }

  // ---- towns ----------------------------------------------------------------------------------
  const townSites = kmeans(pool, towns.length, rng, 12);
  const bySeat = townSites
    .map((s, i) => ({ i, d: (s[0] - SEAT[0]) ** 2 + (s[1] - SEAT[1]) ** 2, a: Math.atan2(s[1] - SEAT[1], s[0] - SEAT[0]) }))
    .sort((p, q) => p.d - q.d);
  const subdistricts = towns.filter((t) => t.name.endsWith('街道'));
  const others = towns.filter((t) => !t.name.endsWith('街道'));
  const near = bySeat.slice(0, subdistricts.length);
  const far = bySeat.slice(subdistricts.length).sort((p, q) => p.a - q.a);
  const townOfSite: Division[] = new Array(towns.length);
  near.forEach((s, k) => (townOfSite[s.i] = subdistricts[k]));
  far.forEach((s, k) => (townOfSite[s.i] = others[k]));
  const siteOfTown = new Map(townOfSite.map((t, i) => [t.code, i]));
  const poolOfTown = new Map<string, Pt[]>(towns.map((t) => [t.code, []]));
  for (const p of pool) poolOfTown.get(townOfSite[nearest(p[0], p[1], townSites)].code)!.push(p);

  // ---- villages -------------------------------------------------------------------------------
  const villageSite = new Map<string, Pt>();
  for (const t of towns) {
    const villages = villagesOf.get(t.code)!;
    const tp = poolOfTown.get(t.code)!;
    const sites = kmeans(tp, villages.length, rng, 8);
    // communities (居委会, codes 0xx) nearest the town's centre, villages (村委会) further out
    const c = townSites[siteOfTown.get(t.code)!];
    sites.sort((p, q) => (p[0] - c[0]) ** 2 + (p[1] - c[1]) ** 2 - ((q[0] - c[0]) ** 2 + (q[1] - c[1]) ** 2));
    villages.forEach((v, k) => villageSite.set(v.code, sites[k]));
  }

  // ---- 李鹊镇 micro-grids ------------------------------------------------------------------------
  const microVillages = villagesOf.get(MICRO_TOWN_CODE) ?? [];
  const microSites = new Map<string, Pt[]>();
  if (microVillages.length > 0) {
    const tp = poolOfTown.get(MICRO_TOWN_CODE)!;
    const [tx0, ty0, tx1, ty1] = ringBbox(tp);
    const dense: Pt[] = [...tp];
    while (dense.length < 24_000) {
      const x = tx0 + rng.next() * (tx1 - tx0);
      const y = ty0 + rng.next() * (ty1 - ty0);
      if (!inCounty(x, y)) continue;
      if (townOfSite[nearest(x, y, townSites)].code !== MICRO_TOWN_CODE) continue;
      dense.push([x, y]);
    }
    const vSites = microVillages.map((v) => villageSite.get(v.code)!);
    const perVillage: Pt[][] = microVillages.map(() => []);
    for (const p of dense) perVillage[nearest(p[0], p[1], vSites)].push(p);
    const counts = apportion(MICRO_TARGET, perVillage.map((p) => p.length), 6);
    microVillages.forEach((v, k) => {
      const sites = kmeans(perVillage[k], counts[k], rng, 6);
      sites.sort((p, q) => q[1] - p[1] || p[0] - q[0]); // numbered north to south
      microSites.set(v.code, sites);
    });
  }

  // ---- one planar partition of the county by all leaf sites ------------------------------------
  interface Leaf { villageCode: string; townCode: string; microCode: string | null }
  const leafSites: Pt[] = [];
  const leaves: Leaf[] = [];
  for (const t of towns) {
    for (const v of villagesOf.get(t.code)!) {
      const ms = microSites.get(v.code);
      if (ms) {
        ms.forEach((s, k) => {
          leafSites.push(s);
          leaves.push({ villageCode: v.code, townCode: t.code, microCode: `${v.code}-${String(k + 1).padStart(2, '0')}` });
        });
      } else {
        leafSites.push(villageSite.get(v.code)!);
        leaves.push({ villageCode: v.code, townCode: t.code, microCode: null });
      }
    }
  }
  const part = partitionPolygon(ring, leafSites);
  if (part.stats.labelConflicts > 0) throw new Error('demo county: inconsistent partition');
  const countyGeom = part.group(() => DEMO_COUNTY_CODE).get(DEMO_COUNTY_CODE);
  const townGeom = part.group((i) => leaves[i].townCode);
  const villageGeom = part.group((i) => leaves[i].villageCode);
  const microGeom = part.group((i) => leaves[i].microCode);

  // ---- nodes, parents first ---------------------------------------------------------------------
  const nodes: DemoNode[] = [
    { code: DEMO_PROVINCE.code, name: DEMO_PROVINCE.name, level: 'province', parentCode: null, geometry: null, core: false },
    { code: DEMO_CITY.code, name: DEMO_CITY.name, level: 'city', parentCode: DEMO_PROVINCE.code, geometry: null, core: false },
    { code: DEMO_COUNTY_CODE, name: county.name, level: 'county', parentCode: DEMO_CITY.code, geometry: toMulti(countyGeom), core: false },
  ];
  const isCore = (t: Division) => t.name.endsWith('街道');
  for (const t of towns) {
    nodes.push({ code: t.code, name: stationName(t.name), level: 'station', parentCode: DEMO_COUNTY_CODE, geometry: toMulti(townGeom.get(t.code)), core: isCore(t) });
  }
  for (const t of towns) {
    for (const v of villagesOf.get(t.code)!) {
      nodes.push({ code: v.code, name: gridShortName(v.name) + '网格', level: 'grid', parentCode: t.code, geometry: toMulti(villageGeom.get(v.code)), core: isCore(t) });
    }
  }
  for (const t of towns) {
    for (const v of villagesOf.get(t.code)!) {
      const ms = microSites.get(v.code);
      if (!ms) continue;
      ms.forEach((_, k) => {
        const code = `${v.code}-${String(k + 1).padStart(2, '0')}`;
        nodes.push({ code, name: `${gridShortName(v.name)}第${k + 1}微网格`, level: 'micro_grid', parentCode: v.code, geometry: toMulti(microGeom.get(code)), core: isCore(t) });
      });
    }
  }

  return { nodes, team: buildTeams(towns, villagesOf, microSites, createRng(DEMO_SEED + 1)) };
}

function buildTeams(
  towns: Division[],
  villagesOf: Map<string, Division[]>,
  microSites: Map<string, Pt[]>,
  rng: Rng,
): DemoTeamMember[] {
  const person = createPeople(rng);
  const team: DemoTeamMember[] = [];
  const add = (gridCode: string, duty: DemoDuty, p: Person) => team.push({ gridCode, duty, name: p.name, phone: p.phone });
  const addN = (gridCode: string, duty: DemoDuty) => {
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) add(gridCode, duty, person());
  };
  for (const t of towns) {
    const villages = villagesOf.get(t.code)!;
    // community police officers (社区民警) of the station: one for about five villages
    const officers = Array.from({ length: Math.max(1, Math.ceil(villages.length / 5)) }, person);
    // town cadres acting as grid instructors: one for about four villages
    const instructors = Array.from({ length: Math.max(1, Math.ceil(villages.length / 4)) }, person);
    villages.forEach((v, k) => {
      const officer = officers[Math.floor((k * officers.length) / villages.length)];
      const instructor = instructors[Math.floor((k * instructors.length) / villages.length)];
      const manager = person(); // full-time grid manager of the village
      add(v.code, 'grid_head', person()); // village secretary / community director
      add(v.code, 'grid_instructor', instructor);
      add(v.code, 'grid_police', officer);
      add(v.code, 'grid_manager', manager);
      addN(v.code, 'info_collector');
      addN(v.code, 'volunteer');
      const ms = microSites.get(v.code);
      if (!ms) return;
      ms.forEach((_, i) => {
        const code = `${v.code}-${String(i + 1).padStart(2, '0')}`;
        add(code, 'grid_head', person()); // micro-grid head, a resident
        add(code, 'grid_instructor', instructor);
        add(code, 'grid_police', officer);
        add(code, 'grid_manager', manager);
        addN(code, 'info_collector');
        addN(code, 'volunteer');
      });
    });
  }
  return team;
}
