import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db/index.js';
import { rows } from '../../platform/db/rows.js';
import type { LiveView, NearestHit } from '../units/positions.js';
import type { IncidentRow } from './service.js';
import { ACTIVE_ASSIGNMENT } from './model.js';

/** What the recommender needs of the live positions (the units module's PositionStore). */
export interface UnitLocator {
  nearest(lon: number, lat: number, k: number, filter?: (u: LiveView) => boolean, maxDistanceM?: number): NearestHit[];
}

/** Straight-line speeds (km/h) per unit type; an ETA model behind one function so a road-network ETA can replace it. */
export const DEFAULT_SPEEDS_KMH: Record<string, number> = {
  patrol_car: 40,
  motorbike: 35,
  bicycle: 15,
  foot_patrol: 5,
  service_station: 5,
  drone: 50,
  guard_team: 5,
  volunteer_team: 5,
};
export type EtaModel = (unit: { type: string }, distanceM: number) => number;
export const straightLineEta =
  (speeds: Record<string, number> = DEFAULT_SPEEDS_KMH): EtaModel =>
  (unit, distanceM) =>
    Math.round(distanceM / (((speeds[unit.type] ?? 5) * 1000) / 3600));

/** Helpers under joint arrangements (联防): recommended only for categories that allow them. */
const JOINT_FORCE_TYPES = new Set(['guard_team', 'volunteer_team']);

export interface Requirement {
  unitType: string;
  count: number;
}
export interface UnitPick {
  unitId: string;
  callSign: string;
  type: string;
  distanceM: number;
  etaSeconds: number;
  stale: boolean;
  positionAgeSeconds: number;
  reasons: string[];
  forRequirement: string | null;
}
export type Recommendation = {
  plan: { name: string; requirements: Requirement[] };
  picks: UnitPick[];
  missing: Requirement[];
  others: UnitPick[];
  located: boolean;
};

const DEFAULT_PLAN = { name: '默认：就近一组警力 (nearest police unit)', requirements: [{ unitType: 'any_police', count: 1 }] };
const POLICE_TYPES = new Set(['patrol_car', 'motorbike', 'foot_patrol', 'bicycle', 'service_station', 'drone']);

/**
 * The plan row for a place, category and priority, given as SQL expressions (parameters, or columns of
 * an incident in an enclosing query): the nearest ancestor's plan wins.
 */
export function planLookup(nodePath: SQL, category: SQL, priority: SQL): SQL {
  return sql`select p.name, p.requirements from response_plan p join jurisdiction_node n on n.id = p.node_id
    where p.node_id = any(string_to_array(trim(both '/' from ${nodePath}::text), '/')::uuid[]) and p.category = ${category} and p.max_priority >= ${priority}
    order by length(n.path) desc, p.max_priority limit 1`;
}

/** The plan a looked-up row stands for (the default plan when there is none). */
export function planOf(row: { name: string; requirements: Requirement[] | string } | null | undefined): { name: string; requirements: Requirement[] } {
  if (!row) return DEFAULT_PLAN;
  return { name: row.name, requirements: typeof row.requirements === 'string' ? (JSON.parse(row.requirements) as Requirement[]) : row.requirements };
}

/** The response plan for a category and priority at a place: the nearest ancestor's plan wins. */
export async function planFor(exec: Executor, incident: Pick<IncidentRow, 'category' | 'priority' | 'node_path'>): Promise<{ name: string; requirements: Requirement[] }> {
  if (!incident.node_path.split('/').some(Boolean)) return DEFAULT_PLAN;
  const [plan] = await rows<{ name: string; requirements: Requirement[] | string }>(
    exec,
    planLookup(sql`${incident.node_path}`, sql`${incident.category}`, sql`${incident.priority}::int`),
  );
  return planOf(plan);
}

/**
 * Rank available units by estimated arrival and fill the response plan. Stale positions are kept
 * but marked and ranked after fresh ones; busy units are left out; units of another station are
 * "cross-boundary support".
 */
export async function recommend(
  exec: Executor,
  locator: UnitLocator,
  incident: IncidentRow,
  opts: { eta?: EtaModel; candidates?: number } = {},
): Promise<Recommendation> {
  const plan = await planFor(exec, incident);
  if (incident.lon === null || incident.lat === null) {
    return { plan, picks: [], missing: plan.requirements, others: [], located: false };
  }
  const eta = opts.eta ?? straightLineEta();
  const [category] = await rows<{ joint_forces_allowed: boolean }>(
    exec,
    sql`select joint_forces_allowed from incident_category where code = ${incident.subcategory ?? incident.category}`,
  );
  const jointAllowed = category?.joint_forces_allowed ?? false;
  const busy = new Set(
    (await rows<{ unit_id: string }>(exec, sql`select unit_id from incident_assignment where status = any(${`{${ACTIVE_ASSIGNMENT.join(',')}}`}::text[])`)).map((r) => r.unit_id),
  );
  const stationPath = incident.station_id ? incident.node_path.slice(0, incident.node_path.indexOf(incident.station_id) + incident.station_id.length + 1) : null;
  const hits = locator.nearest(incident.lon, incident.lat, opts.candidates ?? 40, (u) => !busy.has(u.unitId) && (jointAllowed || !JOINT_FORCE_TYPES.has(u.type)));
  const ranked: UnitPick[] = hits
    .map((h) => {
      const reasons: string[] = [];
      const inZone = stationPath !== null && h.path.startsWith(stationPath);
      reasons.push(inZone ? 'in zone' : 'cross-boundary support');
      if (h.stale) reasons.push(`position ${Math.round(h.ageMs / 60000)} min old`);
      if (JOINT_FORCE_TYPES.has(h.type)) reasons.push('joint force (联防)');
      return {
        unitId: h.unitId,
        callSign: h.callSign,
        type: h.type,
        distanceM: Math.round(h.distanceM),
        etaSeconds: eta(h, h.distanceM),
        stale: h.stale,
        positionAgeSeconds: Math.round(h.ageMs / 1000),
        reasons,
        forRequirement: null as string | null,
      };
    })
    .sort((a, b) => Number(a.stale) - Number(b.stale) || a.etaSeconds - b.etaSeconds);
  if (ranked[0] && !ranked[0].stale) ranked[0].reasons.unshift('nearest');

  const picks: UnitPick[] = [];
  const missing: Requirement[] = [];
  const taken = new Set<string>();
  for (const req of plan.requirements) {
    const fits = (p: UnitPick) => !taken.has(p.unitId) && !p.stale && (req.unitType === 'any_police' ? POLICE_TYPES.has(p.type) : p.type === req.unitType);
    let got = 0;
    for (const p of ranked) {
      if (got >= req.count) break;
      if (!fits(p)) continue;
      taken.add(p.unitId);
      picks.push({ ...p, forRequirement: req.unitType, reasons: [...p.reasons, `required by plan (${req.unitType})`] });
      got++;
    }
    if (got < req.count) missing.push({ unitType: req.unitType, count: req.count - got });
  }
  return { plan, picks, missing, others: ranked.filter((p) => !taken.has(p.unitId)).slice(0, 10), located: true };
}
