/** Shapes of the dispatch answers the command, terminal and big-screen pages read (server: modules/dispatch). */

export interface Category {
  code: string;
  parentCode: string | null;
  nameZh: string;
  nameEn: string;
  police: boolean;
  jointForcesAllowed: boolean;
}

export interface IncidentSummary {
  id: string;
  number: string;
  status: 'new' | 'dispatched' | 'on_scene' | 'diverted' | 'merged' | 'closed';
  category: string;
  priority: number;
  source: string;
  content: string;
  address: string | null;
  lon: number | null;
  lat: number | null;
  nodeId: string | null;
  stationId: string | null;
  core: boolean;
  supervision: string | null;
  mergedInto: string | null;
  disposition: string | null;
  result: string | null;
  createdAt: string;
  closedAt: string | null;
}

export interface Call {
  id: string;
  callerPhone: string | null;
  callerName: string | null;
  content: string;
  source: string;
  receivedAt: string;
  audioUrl: string | null;
}

export type AssignmentStatus = 'dispatched' | 'acknowledged' | 'en_route' | 'on_scene' | 'returning' | 'cleared' | 'unavailable' | 'cancelled';

export interface Assignment {
  id: string;
  unitId: string;
  callSign: string | null;
  unitType: string | null;
  status: AssignmentStatus;
  role: string;
  reason: string | null;
  dispatchedAt: string;
  acknowledgedAt: string | null;
  enRouteAt: string | null;
  onSceneAt: string | null;
  clearedAt: string | null;
}

export interface Timer {
  id: string;
  kind: 'acknowledge' | 'arrive' | 'diversion_accept';
  assignmentId: string | null;
  startedAt: string;
  warnAt: string;
  dueAt: string;
  state: 'running' | 'warning' | 'breached' | 'met' | 'cancelled';
  metAt: string | null;
}

export interface IncidentEvent {
  seq: number;
  type: string;
  at: string;
  actorId: string | null;
  data: Record<string, unknown>;
}

export interface IncidentDetail extends IncidentSummary {
  calls: Call[];
  assignments: Assignment[];
  timers: Timer[];
  events: IncidentEvent[];
}

export interface PlaceHistoryItem {
  id?: string;
  number: string;
  category: string;
  content: string;
  status: string;
  createdAt: string;
}

export interface IntakeAnswer {
  id: string;
  number: string;
  nonPolice: boolean;
  routing: { located: boolean; point: [number, number] | { lon: number; lat: number } | null; stationId: string | null; stationName: string | null; chain: { id: string; name: string; level: string }[] };
  possibleDuplicates: { id: string; number: string; content: string; distanceM: number; createdAt: string }[];
  placeHistory: PlaceHistoryItem[];
}

export interface UnitPick {
  unitId: string;
  callSign: string;
  type: string;
  distanceM: number;
  etaSeconds: number;
  stale: boolean;
  reasons: string[];
  forRequirement: string | null;
}

export interface Recommendation {
  plan: { name: string; requirements: { unitType: string; count: number }[] };
  picks: UnitPick[];
  missing: { unitType: string; count: number }[];
  others: UnitPick[];
  located: boolean;
}

export interface LivePosition {
  unitId: string;
  callSign: string;
  type: string;
  t: string;
  lon: number;
  lat: number;
  stale: boolean;
  ageSeconds: number;
}

export interface UnitView {
  id: string;
  callSign: string;
  name: string;
  type: string;
  homeNodeId: string;
  onDuty: boolean;
  members: { id: string; displayName: string; role: string }[];
  live: LivePosition | null;
}

export interface Briefing {
  incident: IncidentSummary;
  calls: Call[];
  placeHistory: PlaceHistoryItem[];
  plan: { name: string; requirements: { unitType: string; count: number }[] };
}

/** A message of /api/ws. */
export interface StreamMessage {
  type: 'hello' | 'live' | 'event' | 'resync' | 'positions';
  seq?: number;
  incidentId?: string;
  event?: string;
  at?: string;
  data?: Record<string, unknown>;
  briefing?: Briefing;
  /** hello: the units a terminal stream covers. */
  units?: string[];
  /** resync: why the gap was not replayed. */
  reason?: 'too_far_behind' | 'unknown_seq';
  /** resync: the present state — a command screen's open incidents, or a terminal's open tasks. */
  snapshot?: { incidents?: IncidentSummary[]; truncated?: boolean; tasks?: SnapshotTask[] };
}

/**
 * Live unit positions pushed to a command screen (server: dispatch/realtime-positions.ts): `full` is the
 * whole jurisdiction (on every connection), otherwise the units that changed and those that left duty.
 */
export interface PositionsMessage {
  type: 'positions';
  full?: boolean;
  items: LivePosition[];
  removed: string[];
}

/** Apply a positions message to a list of live positions (a full one replaces it). */
export function applyPositions<T extends LivePosition>(current: T[], m: PositionsMessage, upgrade: (p: LivePosition, old: T | undefined) => T): T[] {
  const byId = new Map<string, T>(m.full ? [] : current.map((p) => [p.unitId, p]));
  for (const id of m.removed) byId.delete(id);
  for (const p of m.items) byId.set(p.unitId, upgrade(p, byId.get(p.unitId)));
  return [...byId.values()];
}

/** An open task of a terminal's unit, as a resync snapshot carries it. */
export interface SnapshotTask {
  assignmentId: string;
  unitId: string;
  incidentId: string;
  status: string;
  dispatchedAt: string;
  briefing: Briefing | null;
  instructions: string[];
}

export interface DispatchStats {
  callsToday: number;
  byCategory: { category: string; count: number }[];
  acknowledgedWithin30s: { met: number; total: number; share: number | null };
  unitsOutWithin1m: { met: number; total: number; share: number | null };
  onSceneInTime: { met: number; total: number; share: number | null };
  onSceneCoreWithin3m: { met: number; total: number; share: number | null };
  onSceneOtherWithin5m: { met: number; total: number; share: number | null };
  openIncidents: number;
  unitsOnDuty: number;
  hourly: { hour: string; calls: number; dispatched: number; avgOnSceneSeconds: number | null }[];
}

/** Roles that may ask for callers in full (server: platform/masking.ts revealRoles.callerPhone). */
export const CALLER_REVEAL_ROLES = ['dispatcher', 'station_leader', 'community_officer', 'auxiliary'];
