/**
 * Write the demo county as a GeoJSON FeatureCollection: `npx tsx tools/demo-county/generate.ts out.geojson`.
 * Each feature carries code, name, level, parentCode, core and its team (4+N+N).
 */
import { writeFileSync } from 'node:fs';
import { buildDemoCounty, type DemoTeamMember } from './county.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: tsx tools/demo-county/generate.ts <out.geojson>');
  process.exit(2);
}
const t0 = performance.now();
const county = buildDemoCounty();
const teams = new Map<string, DemoTeamMember[]>();
for (const m of county.team) (teams.get(m.gridCode) ?? teams.set(m.gridCode, []).get(m.gridCode)!).push(m);
const features = county.nodes.map((n) => ({
  type: 'Feature' as const,
  id: n.code,
  properties: {
    code: n.code,
    name: n.name,
    level: n.level,
    parentCode: n.parentCode,
    core: n.core,
    team: (teams.get(n.code) ?? []).map(({ duty, name, phone }) => ({ duty, name, phone })),
  },
  geometry: n.geometry,
}));
writeFileSync(out, JSON.stringify({ type: 'FeatureCollection', features }));
const counts: Record<string, number> = {};
for (const n of county.nodes) counts[n.level] = (counts[n.level] ?? 0) + 1;
const people = new Set(county.team.map((m) => m.phone)).size;
console.log(
  `demo county written to ${out}: ${Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ')} ` +
    `team_roles=${county.team.length} people=${people} (${((performance.now() - t0) / 1000).toFixed(2)} s)`,
);
