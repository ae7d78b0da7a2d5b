import KDBush from 'kdbush';
import { around } from 'geokdbush';

/** Great-circle distance in metres (haversine, mean earth radius). */
export function distanceM(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const R = 6_371_008.8;
  const toRad = Math.PI / 180;
  const dLat = (lat2 - lat1) * toRad;
  const dLon = (lon2 - lon1) * toRad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * toRad) * Math.cos(lat2 * toRad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** One position report of a unit, already in WGS-84, time in epoch milliseconds. */
export interface Ping {
  unitId: string;
  t: number;
  lon: number;
  lat: number;
  accuracy: number | null;
  speed: number | null;
  heading: number | null;
}

/**
 * What happened to one point. `accepted`, `out_of_order` and `reanchored` are stored; the rest are
 * dropped. The rules are written down in docs/decisions/010-avl-ingestion.md.
 */
export const OUTCOMES = [
  'accepted', 'out_of_order', 'reanchored',
  'duplicate', 'future', 'expired', 'jump', 'off_duty', 'invalid', 'unknown_unit', 'forbidden',
] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const STORED: ReadonlySet<Outcome> = new Set<Outcome>(['accepted', 'out_of_order', 'reanchored']);

export interface IngestRules {
  /** Faster than this between two points is an impossible jump. */
  maxSpeedKmh: number;
  /** Slack for GPS noise over short intervals, metres (the larger of this and the points' accuracy). */
  jumpToleranceM: number;
  /** A point more than this ahead of the server clock is future-dated. */
  futureToleranceMs: number;
  /** A point older than the retention window would land in a dropped partition. */
  retentionDays: number;
  /** Past this age the last accepted point no longer anchors the jump check. */
  anchorMaxAgeMs: number;
}

export const DEFAULT_RULES: IngestRules = {
  maxSpeedKmh: 250,
  jumpToleranceM: 100,
  futureToleranceMs: 120_000,
  retentionDays: 90,
  anchorMaxAgeMs: 10 * 60_000,
};

export interface DutyInfo {
  onDuty: boolean;
  /** Epoch ms the current shift started (points before it are off duty). */
  dutySince: number | null;
}

interface Fix {
  t: number;
  lon: number;
  lat: number;
  accuracy: number | null;
}

interface UnitState {
  last: Fix;
  /** Recently accepted timestamps, for duplicates that are not the latest point. */
  recent: Set<number>;
  recentOrder: number[];
  /** The last point rejected as a jump: if the next one agrees with it, the unit really moved. */
  candidate: Fix | null;
}

const RECENT = 256;

/**
 * Per-unit ingestion rules, applied in time order within a batch. State is per instance; the
 * primary key (unit_id, t) of the track makes duplicates across instances harmless.
 */
export class IngestFilter {
  private states = new Map<string, UnitState>();

  constructor(public rules: IngestRules = { ...DEFAULT_RULES }) {}

  /** Forget a unit's state (after a failed write, or when it goes off duty). */
  reset(unitId: string, from?: Fix | null): void {
    if (from) this.states.set(unitId, { last: from, recent: new Set([from.t]), recentOrder: [from.t], candidate: null });
    else this.states.delete(unitId);
  }

  hasState(unitId: string): boolean {
    return this.states.has(unitId);
  }

  private implausible(a: Fix, b: Fix): boolean {
    const dt = Math.abs(b.t - a.t) / 1000;
    const d = distanceM(a.lon, a.lat, b.lon, b.lat);
    const slack = Math.max(this.rules.jumpToleranceM, a.accuracy ?? 0, b.accuracy ?? 0);
    return d > (this.rules.maxSpeedKmh / 3.6) * dt + slack;
  }

  private remember(s: UnitState, t: number) {
    s.recent.add(t);
    s.recentOrder.push(t);
    if (s.recentOrder.length > RECENT) s.recent.delete(s.recentOrder.shift()!);
  }

  classify(p: Ping, duty: DutyInfo, now: number): Outcome {
    if (!Number.isFinite(p.t) || !Number.isFinite(p.lon) || !Number.isFinite(p.lat) || p.lon < -180 || p.lon > 180 || p.lat < -90 || p.lat > 90) {
      return 'invalid';
    }
    if (!duty.onDuty || (duty.dutySince !== null && p.t < duty.dutySince)) return 'off_duty';
    if (p.t > now + this.rules.futureToleranceMs) return 'future';
    if (p.t < now - this.rules.retentionDays * 86_400_000) return 'expired';
    const fix: Fix = { t: p.t, lon: p.lon, lat: p.lat, accuracy: p.accuracy };
    const s = this.states.get(p.unitId);
    if (!s) {
      this.reset(p.unitId, fix);
      return 'accepted';
    }
    if (s.recent.has(p.t) || p.t === s.last.t) return 'duplicate';
    const anchored = Math.abs(p.t - s.last.t) <= this.rules.anchorMaxAgeMs;
    if (anchored && this.implausible(s.last, fix)) {
      // Two consecutive rejected points that agree with each other: the unit really is there
      // (the anchor was the bad fix, or it was carried). Re-anchor on the new point.
      if (p.t > s.last.t && s.candidate && p.t > s.candidate.t && !this.implausible(s.candidate, fix)) {
        s.last = fix;
        s.candidate = null;
        this.remember(s, p.t);
        return 'reanchored';
      }
      if (p.t > s.last.t) s.candidate = fix;
      return 'jump';
    }
    this.remember(s, p.t);
    if (p.t < s.last.t) return 'out_of_order';
    s.last = fix;
    s.candidate = null;
    return 'accepted';
  }
}

/** Unit facts the live map and the recommender filter on. */
export interface UnitMeta {
  callSign: string;
  type: string;
  path: string;
}

export interface LivePosition extends UnitMeta {
  unitId: string;
  t: number;
  lon: number;
  lat: number;
  accuracy: number | null;
  speed: number | null;
  heading: number | null;
}

export interface LiveView extends LivePosition {
  stale: boolean;
  ageMs: number;
}

export interface NearestHit extends LiveView {
  distanceM: number;
}

/**
 * The latest position of every on-duty unit, in memory. Read by the live map and by dispatch's
 * recommender (`nearest`). The k-d index is rebuilt lazily when positions changed and the index
 * is older than `indexMaxAgeMs`; results are always re-ranked with the current positions.
 */
export class PositionStore {
  private byUnit = new Map<string, LivePosition>();
  private index: KDBush | null = null;
  private indexIds: string[] = [];
  private indexed = new Set<string>();
  private indexBuiltAt = 0;
  private dirty = false;

  constructor(
    public opts: { staleMs: number; indexMaxAgeMs: number; now: () => number } = {
      staleMs: 5 * 60_000,
      indexMaxAgeMs: 500,
      now: () => Date.now(),
    },
  ) {}

  get size(): number {
    return this.byUnit.size;
  }

  /** Keep the newer of the stored and the given position; answers whether it changed. */
  set(p: LivePosition): boolean {
    const cur = this.byUnit.get(p.unitId);
    if (cur && cur.t >= p.t) return false;
    const moved = !cur || cur.lon !== p.lon || cur.lat !== p.lat;
    this.byUnit.set(p.unitId, p);
    if (moved) this.dirty = true;
    return true;
  }

  /** Update unit facts (call sign, type, home) without touching the position. */
  updateMeta(unitId: string, meta: UnitMeta): void {
    const cur = this.byUnit.get(unitId);
    if (cur) this.byUnit.set(unitId, { ...cur, ...meta });
  }

  remove(unitId: string): void {
    if (this.byUnit.delete(unitId)) this.dirty = true;
  }

  private view(p: LivePosition, now: number): LiveView {
    const ageMs = Math.max(0, now - p.t);
    return { ...p, ageMs, stale: ageMs > this.opts.staleMs };
  }

  latest(unitId: string): LiveView | null {
    const p = this.byUnit.get(unitId);
    return p ? this.view(p, this.opts.now()) : null;
  }

  /** Every unit whose home path starts with `pathPrefix`. */
  all(pathPrefix = '/'): LiveView[] {
    const now = this.opts.now();
    const out: LiveView[] = [];
    for (const p of this.byUnit.values()) if (p.path.startsWith(pathPrefix)) out.push(this.view(p, now));
    return out;
  }

  private ensureIndex(): void {
    const now = Date.now();
    if (this.index && (!this.dirty || now - this.indexBuiltAt < this.opts.indexMaxAgeMs)) return;
    const ids = [...this.byUnit.keys()];
    const index = new KDBush(Math.max(1, ids.length));
    for (const id of ids) {
      const p = this.byUnit.get(id)!;
      index.add(p.lon, p.lat);
    }
    if (ids.length === 0) index.add(0, 0);
    index.finish();
    this.index = index;
    this.indexIds = ids;
    this.indexed = new Set(ids);
    this.indexBuiltAt = now;
    this.dirty = false;
  }

  /**
   * The k nearest units to a point, nearest first, that pass `filter` (stale units included unless
   * the filter drops them). `maxDistanceM` bounds the search.
   */
  nearest(lon: number, lat: number, k: number, filter?: (u: LiveView) => boolean, maxDistanceM = Infinity): NearestHit[] {
    if (k <= 0 || this.byUnit.size === 0) return [];
    this.ensureIndex();
    const now = this.opts.now();
    const ids = this.indexIds;
    // Over-fetch: the index may be up to indexMaxAgeMs old, so re-rank with current positions.
    const fetch = Math.min(ids.length, k * 2 + 8);
    const candidates = around(
      this.index!,
      lon,
      lat,
      fetch,
      Number.isFinite(maxDistanceM) ? maxDistanceM / 1000 + 5 : undefined,
      (i: number) => {
        const id = ids[i];
        if (id === undefined) return false;
        const p = this.byUnit.get(id);
        return p !== undefined && (!filter || filter(this.view(p, now)));
      },
    );
    const seen = new Set<string>();
    const hits: NearestHit[] = [];
    for (const i of candidates) {
      const id = ids[i]!;
      const p = this.byUnit.get(id);
      if (!p || seen.has(id)) continue;
      seen.add(id);
      const d = distanceM(lon, lat, p.lon, p.lat);
      if (d <= maxDistanceM) hits.push({ ...this.view(p, now), distanceM: d });
    }
    // Units that arrived after the index was built.
    if (this.dirty || this.indexed.size !== this.byUnit.size) {
      for (const [id, p] of this.byUnit) {
        if (seen.has(id) || this.indexed.has(id)) continue;
        const v = this.view(p, now);
        if (filter && !filter(v)) continue;
        const d = distanceM(lon, lat, p.lon, p.lat);
        if (d <= maxDistanceM) hits.push({ ...v, distanceM: d });
      }
    }
    hits.sort((a, b) => a.distanceM - b.distanceM);
    return hits.slice(0, k);
  }
}
