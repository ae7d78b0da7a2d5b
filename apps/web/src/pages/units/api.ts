/**
 * Shapes of the units, positions and patrol answers (server: apps/server/src/modules/units/{routes,patrol-routes,http}.ts)
 * and the small helpers the units pages share.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Role } from '@pingan/contracts';
import { api } from '../../api/client';

export const UNIT_TYPES = [
  'patrol_car', 'foot_patrol', 'motorbike', 'bicycle', 'service_station', 'drone', 'guard_team', 'volunteer_team',
] as const;
export type UnitType = (typeof UNIT_TYPES)[number];

/** Roles by what they may do (mirrors UNIT_ROLES of the server; the server still decides). */
export const UNIT_READERS: readonly Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'inspector'];
export const UNIT_MANAGERS: readonly Role[] = ['admin', 'station_leader'];
export const DUTY_ROLES: readonly Role[] = [
  'admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'volunteer', 'security_guard',
];
/** Who may read incidents (for the "current assignment" column); others simply don't see it. */
export const INCIDENT_READERS: readonly Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'inspector'];

/** Service functions the demo stations offer; any other text is shown as is. */
export const STATION_FUNCTIONS = ['reception', 'first_aid', 'lost_and_found', 'mediation', 'consultation', 'certificates', 'charging', 'water'] as const;

export interface LiveView {
  unitId: string;
  callSign: string;
  type: string;
  t: string;
  lon: number;
  lat: number;
  accuracy: number | null;
  speed: number | null;
  heading: number | null;
  stale: boolean;
  ageSeconds: number;
}

export interface StaffingSlot {
  from: string;
  to: string;
  staff: number;
}

export interface StationDetails {
  address: string | null;
  phone: string | null;
  lon: number;
  lat: number;
  functions: string[];
  staffing: StaffingSlot[];
  staffNow: number;
}

export interface UnitView {
  id: string;
  callSign: string;
  name: string;
  type: string;
  homeNodeId: string;
  onDuty: boolean;
  dutyChangedAt: string | null;
  notes: string | null;
  members: { id: string; displayName: string; role: string }[];
  station: StationDetails | null;
  currentShift: { id: string; startedAt: string; memberIds: string[] } | null;
  live: LiveView | null;
}

export interface ShiftView {
  id: string;
  startedAt: string;
  endedAt: string | null;
  memberIds: string[];
}

export interface TrackPoint {
  t: string;
  lon: number;
  lat: number;
  speed: number | null;
  heading: number | null;
}

export interface TrackAnswer {
  unitId: string;
  from: string;
  to: string;
  total: number;
  toleranceM: number;
  points: TrackPoint[];
}

export interface ZoneView {
  id: string;
  name: string;
  nodeId: string;
  geometry: { type: string; coordinates: unknown[] };
}

export interface Checkpoint {
  name: string;
  lon: number;
  lat: number;
  radiusM: number;
  dwellS: number;
}

export interface ScheduleSlot {
  weekdays: number[];
  start: string;
  end: string;
}

export interface PlanView {
  id: string;
  name: string;
  nodeId: string;
  zoneId: string | null;
  unitId: string | null;
  checkpoints: Checkpoint[];
  schedule: ScheduleSlot[];
  ordered: boolean;
  active: boolean;
}

export interface RunSummary {
  id: string;
  planId: string;
  unitId: string;
  startedAt: string;
  endedAt: string | null;
  reached: number | null;
}

export interface RunDetail {
  id: string;
  planId: string;
  unitId: string;
  startedAt: string;
  endedAt: string | null;
  lateStartMinutes: number | null;
  detection: {
    checkpoints: { index: number; name: string; reached: boolean; reachedAt: string | null; dwellS: number }[];
    reached: number;
    missed: number[];
    outOfOrder: number[];
    distanceM: number;
    minutesOutsideZone: number | null;
    points: number;
  };
}

export interface CoverageItem {
  id: string;
  code: string | null;
  name: string;
  minutes: number;
  distanceKm: number;
  distinctHours: number;
  hours: number[];
  units: number;
}

export interface CoverageAnswer {
  from: string;
  to: string;
  by: string;
  items: CoverageItem[];
}

export interface ReachAnswer {
  model: string;
  speedKmh: number;
  radiiM: Record<string, number>;
  sources: { unitId: string | null; callSign: string | null; lon: number; lat: number }[];
  grids: { id: string; code: string; name: string; core: boolean; areaKm2: number; shares: Record<string, number> }[];
  core: { areaKm2: number; shares: Record<string, number> };
  all: { areaKm2: number; shares: Record<string, number> };
}

/** Incident summary and the parts of its detail the unit board reads. */
export interface IncidentSummary {
  id: string;
  number: string;
  status: string;
  category: string;
  address: string | null;
}
export interface IncidentAssignment {
  id: string;
  unitId: string;
  status: string;
  role: string;
  dispatchedAt: string;
  clearedAt: string | null;
  cancelledAt: string | null;
}

export interface CurrentAssignment {
  incidentId: string;
  number: string;
  category: string;
  categoryEn: string;
  status: string;
}

/**
 * Which unit works which open incident. The incidents API has no per-unit query, so this reads the open
 * incidents of the jurisdiction and the assignments of the newest ones (at most `limit` detail reads).
 */
export async function loadCurrentAssignments(signal: AbortSignal, limit = 40): Promise<Map<string, CurrentAssignment>> {
  const out = new Map<string, CurrentAssignment>();
  const [open, cats] = await Promise.all([
    api.get<{ items: IncidentSummary[] }>('/api/incidents', { query: { state: 'open', limit }, signal }),
    api.get<{ items: { code: string; nameZh: string; nameEn: string }[] }>('/api/incident-categories', { signal }).catch(() => ({ items: [] })),
  ]);
  const names = new Map(cats.items.map((c) => [c.code, c]));
  const details = await Promise.all(
    open.items.slice(0, limit).map((i) =>
      api
        .get<IncidentSummary & { assignments: IncidentAssignment[] }>(`/api/incidents/${i.id}`, { signal })
        .catch(() => null),
    ),
  );
  for (const d of details) {
    if (!d) continue;
    for (const a of d.assignments ?? []) {
      if (a.clearedAt || a.cancelledAt) continue;
      const c = names.get(d.category);
      if (!out.has(a.unitId)) out.set(a.unitId, { incidentId: d.id, number: d.number, category: c?.nameZh ?? d.category, categoryEn: c?.nameEn ?? d.category, status: a.status });
    }
  }
  return out;
}

/** A fresh Idempotency-Key per distinct submission; a retry of the same content reuses its key. */
export function useIdempotencyKey(): (body: unknown) => string {
  const pending = useRef<{ key: string; body: string } | null>(null);
  return useCallback((body: unknown) => {
    const text = JSON.stringify(body);
    const key = pending.current?.body === text ? pending.current.key : crypto.randomUUID();
    pending.current = { key, body: text };
    return key;
  }, []);
}

/** Re-run `fn` every `ms` while the page is open (and once at once). */
export function usePolling(fn: (signal: AbortSignal) => Promise<void>, ms: number, deps: readonly unknown[]): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        await ref.current(ctrl.signal);
      } catch {
        // shown by the caller; keep polling
      }
      if (!ctrl.signal.aborted) timer = setTimeout(() => void tick(), ms);
    };
    void tick();
    return () => {
      ctrl.abort();
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names the dependencies
  }, [ms, ...deps]);
}

/** "3 分钟前" style age of a time, re-rendered by the caller. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

export function formatTime(iso: string | null | undefined, withDate = true): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return withDate ? `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}` : time;
}

/** Local calendar date YYYY-MM-DD (the coverage API counts days in China time). */
export function localDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** A circle around a point as a polygon ring (for radius and reach drawings; no glyphs or plugins needed). */
export function circleRing(lon: number, lat: number, radiusM: number, steps = 64): [number, number][] {
  const ring: [number, number][] = [];
  const dLat = radiusM / 111_320;
  const dLon = radiusM / (111_320 * Math.cos((lat * Math.PI) / 180));
  for (let i = 0; i <= steps; i++) {
    const a = (i / steps) * 2 * Math.PI;
    ring.push([lon + dLon * Math.cos(a), lat + dLat * Math.sin(a)]);
  }
  return ring;
}

export const typeColors: Record<string, string> = {
  patrol_car: '#1d4ed8',
  foot_patrol: '#16a34a',
  motorbike: '#d97706',
  bicycle: '#0891b2',
  service_station: '#9333ea',
  drone: '#4f46e5',
  guard_team: '#65a30d',
  volunteer_team: '#db2777',
};
