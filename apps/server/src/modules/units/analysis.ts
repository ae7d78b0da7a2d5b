/**
 * Pure computations over tracks: simplification for replay, checkpoint detection for patrol runs,
 * and coverage arithmetic. No database here, so tests can hand-compute every case.
 */
import { distanceM } from './positions.js';
import type { Checkpoint } from './schema.js';

export interface TrackPoint {
  t: number;
  lon: number;
  lat: number;
  speed?: number | null;
  heading?: number | null;
  accuracy?: number | null;
}

/** Ramer–Douglas–Peucker on lon/lat (metres via a local equirectangular projection); keeps indices. */
function rdp(points: TrackPoint[], epsilonM: number): number[] {
  const n = points.length;
  if (n <= 2) return points.map((_, i) => i);
  const lat0 = (points[0]!.lat * Math.PI) / 180;
  const kx = 111_320 * Math.cos(lat0);
  const ky = 110_540;
  const xs = points.map((p) => p.lon * kx);
  const ys = points.map((p) => p.lat * ky);
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  const stack: [number, number][] = [[0, n - 1]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    const dx = xs[b]! - xs[a]!;
    const dy = ys[b]! - ys[a]!;
    const len2 = dx * dx + dy * dy;
    let best = -1;
    let bestD = epsilonM;
    for (let i = a + 1; i < b; i++) {
      let d: number;
      if (len2 === 0) d = Math.hypot(xs[i]! - xs[a]!, ys[i]! - ys[a]!);
      else {
        const u = Math.max(0, Math.min(1, ((xs[i]! - xs[a]!) * dx + (ys[i]! - ys[a]!) * dy) / len2));
        d = Math.hypot(xs[i]! - (xs[a]! + u * dx), ys[i]! - (ys[a]! + u * dy));
      }
      if (d > bestD) {
        bestD = d;
        best = i;
      }
    }
    if (best >= 0) {
      keep[best] = 1;
      stack.push([a, best], [best, b]);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(i);
  return out;
}

/**
 * At most `maxPoints` points of a track, shape preserved: RDP with a tolerance that doubles from
 * 1 m until the track fits (first and last points always kept); then an even thinning if needed.
 */
export function simplifyTrack<T extends TrackPoint>(points: T[], maxPoints: number): { points: T[]; toleranceM: number } {
  if (points.length <= maxPoints) return { points, toleranceM: 0 };
  let eps = 1;
  let idx = rdp(points, eps);
  while (idx.length > maxPoints && eps < 1e6) {
    eps *= 2;
    idx = rdp(points, eps);
  }
  if (idx.length > maxPoints) {
    const step = (idx.length - 1) / (maxPoints - 1);
    idx = Array.from({ length: maxPoints }, (_, i) => idx[Math.round(i * step)]!);
  }
  return { points: idx.map((i) => points[i]!), toleranceM: eps };
}

export interface CheckpointResult {
  index: number;
  name: string;
  reached: boolean;
  /** When the unit entered the circle on the visit that satisfied the dwell. */
  reachedAt: string | null;
  /** Longest continuous stay inside the circle, seconds. */
  dwellS: number;
}

export interface RunDetection {
  checkpoints: CheckpointResult[];
  reached: number;
  missed: number[];
  /** Checkpoints reached before an earlier one in an ordered plan. */
  outOfOrder: number[];
  distanceM: number;
  /** Minutes spent outside the plan's zone (null without a zone). */
  minutesOutsideZone: number | null;
  points: number;
}

/**
 * Which checkpoints a track reached. A visit is a run of consecutive points inside the circle
 * (distance ≤ radius); its dwell is the time from its first to its last point inside. A checkpoint
 * is reached by the first visit whose dwell ≥ the required dwell (a dwell of 0 needs one point).
 */
export function detectCheckpoints(
  track: TrackPoint[],
  checkpoints: Checkpoint[],
  opts: { ordered?: boolean; inZone?: (lon: number, lat: number) => boolean; maxGapMs?: number } = {},
): RunDetection {
  const results: CheckpointResult[] = checkpoints.map((c, index) => ({ index, name: c.name, reached: false, reachedAt: null, dwellS: 0 }));
  const enteredAt: (number | null)[] = checkpoints.map(() => null);
  const lastInside: (number | null)[] = checkpoints.map(() => null);
  const reachedT: (number | null)[] = checkpoints.map(() => null);
  let dist = 0;
  let outsideMs = 0;
  const maxGap = opts.maxGapMs ?? 5 * 60_000;
  for (let i = 0; i < track.length; i++) {
    const p = track[i]!;
    const prev = i > 0 ? track[i - 1]! : null;
    if (prev && p.t - prev.t <= maxGap) {
      dist += distanceM(prev.lon, prev.lat, p.lon, p.lat);
      if (opts.inZone && !opts.inZone(prev.lon, prev.lat)) outsideMs += p.t - prev.t;
    }
    for (let c = 0; c < checkpoints.length; c++) {
      const cp = checkpoints[c]!;
      const inside = distanceM(cp.lon, cp.lat, p.lon, p.lat) <= cp.radiusM;
      // A gap in the track ends a visit: we do not know where the unit was.
      const continuing = inside && enteredAt[c] !== null && prev !== null && p.t - prev.t <= maxGap && lastInside[c] === prev.t;
      if (inside) {
        if (!continuing) enteredAt[c] = p.t;
        lastInside[c] = p.t;
        const dwell = (p.t - enteredAt[c]!) / 1000;
        const r = results[c]!;
        if (dwell > r.dwellS) r.dwellS = dwell;
        if (!r.reached && dwell >= cp.dwellS) {
          r.reached = true;
          r.reachedAt = new Date(enteredAt[c]!).toISOString();
          reachedT[c] = enteredAt[c]!;
        }
      } else {
        enteredAt[c] = null;
      }
    }
  }
  const outOfOrder: number[] = [];
  if (opts.ordered) {
    // A reached checkpoint is out of order when a later-numbered one was reached before it.
    for (let c = 0; c < checkpoints.length; c++) {
      const t = reachedT[c];
      if (t === null || t === undefined) continue;
      for (let e = 0; e < c; e++) {
        const te = reachedT[e];
        if (te !== null && te !== undefined && te > t) {
          outOfOrder.push(c);
          break;
        }
      }
    }
  }
  return {
    checkpoints: results,
    reached: results.filter((r) => r.reached).length,
    missed: results.filter((r) => !r.reached).map((r) => r.index),
    outOfOrder,
    distanceM: Math.round(dist * 10) / 10,
    minutesOutsideZone: opts.inZone ? Math.round((outsideMs / 60_000) * 100) / 100 : null,
    points: track.length,
  };
}

/** One unit's track within a period, sorted by time. */
export interface UnitTrack {
  unitId: string;
  points: TrackPoint[];
}

export interface AreaCoverage {
  minutes: number;
  distanceM: number;
  /** Distinct hours of the day (0–23, local time) with patrol time in the area. */
  hours: Set<number>;
  units: Set<string>;
}

/**
 * Coverage arithmetic. Each segment between consecutive points of one unit no more than
 * `maxGapMs` apart is attributed, whole, to every area that contains its START point: its duration
 * to minutes, its length to distance, and the local hour of its start to the distinct hours.
 * `areasOf` answers the area ids holding a point (one for grids, possibly several for zones).
 */
export function coverage(
  tracks: UnitTrack[],
  areasOf: (lon: number, lat: number) => string[],
  opts: { maxGapMs: number; utcOffsetMinutes: number },
): Map<string, AreaCoverage> {
  const out = new Map<string, AreaCoverage>();
  for (const track of tracks) {
    const pts = track.points;
    for (let i = 0; i + 1 < pts.length; i++) {
      const a = pts[i]!;
      const b = pts[i + 1]!;
      const dt = b.t - a.t;
      if (dt <= 0 || dt > opts.maxGapMs) continue;
      const areas = areasOf(a.lon, a.lat);
      if (areas.length === 0) continue;
      const d = distanceM(a.lon, a.lat, b.lon, b.lat);
      const hour = new Date(a.t + opts.utcOffsetMinutes * 60_000).getUTCHours();
      for (const id of areas) {
        let c = out.get(id);
        if (!c) out.set(id, (c = { minutes: 0, distanceM: 0, hours: new Set(), units: new Set() }));
        c.minutes += dt / 60_000;
        c.distanceM += d;
        c.hours.add(hour);
        c.units.add(track.unitId);
      }
    }
  }
  return out;
}

/** A reach model: how far a unit gets in a number of minutes. Straight line now; roads later. */
export interface ReachModel {
  name: string;
  radiusM(minutes: number): number;
}

export const straightLine = (speedKmh: number): ReachModel => ({
  name: `straight_line_${speedKmh}kmh`,
  radiusM: (minutes) => (speedKmh * 1000 * minutes) / 60,
});
