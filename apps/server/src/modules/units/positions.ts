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

/**
 * A unit's rule state, kept flat (no object per point): the last accepted fix, the last rejected
 * jump (candidate) and a FIFO ring of the last `RECENT` accepted timestamps.
 */
class UnitState {
  lastT: number;
  lastLon: number;
  lastLat: number;
  lastAcc: number | null;
  hasCandidate = false;
  candT = 0;
  candLon = 0;
  candLat = 0;
  candAcc: number | null = null;
  /** Ring of recently accepted timestamps (grows to RECENT), oldest at `head` once full. */
  ring: Float64Array;
  head = 0;
  count = 0;
  /** Set when the filter forgot this state (reset): a caller's handle to it must look again. */
  dropped = false;

  constructor(from: Fix) {
    this.lastT = from.t;
    this.lastLon = from.lon;
    this.lastLat = from.lat;
    this.lastAcc = from.accuracy;
    this.ring = new Float64Array(8);
    this.ring[0] = from.t;
    this.count = 1;
  }

  /** Every remembered timestamp is ≤ lastT, so only older points need the scan. */
  seen(t: number): boolean {
    if (t === this.lastT) return true;
    if (t > this.lastT) return false;
    const ring = this.ring;
    for (let i = 0; i < this.count; i++) if (ring[i] === t) return true;
    return false;
  }

  remember(t: number): void {
    if (this.count < this.ring.length) {
      this.ring[this.count++] = t;
      return;
    }
    if (this.ring.length < RECENT) {
      const grown = new Float64Array(Math.min(RECENT, this.ring.length * 2));
      grown.set(this.ring);
      this.ring = grown;
      this.ring[this.count++] = t;
      return;
    }
    // Full: overwrite the oldest (first in, first out, as before with a Set and an order list).
    this.ring[this.head] = t;
    this.head = (this.head + 1) % RECENT;
  }
}

const RECENT = 256;

/** A unit's rule state, opaque outside this module (callers only hold it, to skip a lookup). */
export type RuleState = UnitState;
/** Where a caller keeps its handle to a unit's rule state (the runtime's per-unit record). */
export interface RuleSlot {
  rules: RuleState | null;
}

/**
 * Per-unit ingestion rules, applied in time order within a batch. State is per instance; the
 * primary key (unit_id, t) of the track makes duplicates across instances harmless.
 */
export class IngestFilter {
  private states = new Map<string, UnitState>();
  /**
   * Where a unit without rule state starts from (the runtime answers its live position, so a
   * restart or a reset does not accept a jump as a first point); null: the point itself.
   */
  seedFrom: ((unitId: string) => Fix | null) | null = null;

  constructor(public rules: IngestRules = { ...DEFAULT_RULES }) {}

  /** Forget a unit's state (after a failed write, or when it goes off duty). */
  reset(unitId: string, from?: Fix | null): void {
    const old = this.states.get(unitId);
    if (old) old.dropped = true;
    if (from) this.states.set(unitId, new UnitState(from));
    else this.states.delete(unitId);
  }

  hasState(unitId: string): boolean {
    return this.states.has(unitId);
  }

  private implausible(at: number, alon: number, alat: number, aacc: number | null, bt: number, blon: number, blat: number, bacc: number | null): boolean {
    const dt = Math.abs(bt - at) / 1000;
    const d = distanceM(alon, alat, blon, blat);
    const slack = Math.max(this.rules.jumpToleranceM, aacc ?? 0, bacc ?? 0);
    return d > (this.rules.maxSpeedKmh / 3.6) * dt + slack;
  }

  /**
   * The outcome of one point (and the state updated by it). `slot` keeps the unit's state at hand
   * for the next call, so a caller that holds a per-unit record pays no lookup.
   */
  classify(p: Ping, duty: DutyInfo, now: number, slot?: RuleSlot): Outcome {
    if (!Number.isFinite(p.t) || !Number.isFinite(p.lon) || !Number.isFinite(p.lat) || p.lon < -180 || p.lon > 180 || p.lat < -90 || p.lat > 90) {
      return 'invalid';
    }
    if (!duty.onDuty || (duty.dutySince !== null && p.t < duty.dutySince)) return 'off_duty';
    if (p.t > now + this.rules.futureToleranceMs) return 'future';
    if (p.t < now - this.rules.retentionDays * 86_400_000) return 'expired';
    let s = slot?.rules;
    if (!s || s.dropped) {
      s = this.states.get(p.unitId);
      if (!s) {
        const seed = this.seedFrom?.(p.unitId) ?? null;
        s = new UnitState(seed ?? p);
        this.states.set(p.unitId, s);
        if (slot) slot.rules = s;
        if (!seed) return 'accepted';
      } else if (slot) {
        slot.rules = s;
      }
    }
    if (s.seen(p.t)) return 'duplicate';
    const anchored = Math.abs(p.t - s.lastT) <= this.rules.anchorMaxAgeMs;
    if (anchored && this.implausible(s.lastT, s.lastLon, s.lastLat, s.lastAcc, p.t, p.lon, p.lat, p.accuracy)) {
      // Two consecutive rejected points that agree with each other: the unit really is there
      // (the anchor was the bad fix, or it was carried). Re-anchor on the new point.
      if (
        p.t > s.lastT && s.hasCandidate && p.t > s.candT &&
        !this.implausible(s.candT, s.candLon, s.candLat, s.candAcc, p.t, p.lon, p.lat, p.accuracy)
      ) {
        s.lastT = p.t;
        s.lastLon = p.lon;
        s.lastLat = p.lat;
        s.lastAcc = p.accuracy;
        s.hasCandidate = false;
        s.remember(p.t);
        return 'reanchored';
      }
      if (p.t > s.lastT) {
        s.hasCandidate = true;
        s.candT = p.t;
        s.candLon = p.lon;
        s.candLat = p.lat;
        s.candAcc = p.accuracy;
      }
      return 'jump';
    }
    s.remember(p.t);
    if (p.t < s.lastT) return 'out_of_order';
    s.lastT = p.t;
    s.lastLon = p.lon;
    s.lastLat = p.lat;
    s.lastAcc = p.accuracy;
    s.hasCandidate = false;
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

/** A unit's live record: the view handed to `nearest`'s filter, plus where the index saw it. */
class LiveEntry implements LiveView {
  unitId: string;
  callSign: string;
  type: string;
  path: string;
  t: number;
  lon: number;
  lat: number;
  accuracy: number | null;
  speed: number | null;
  heading: number | null;
  stale = false;
  ageMs = 0;
  /** Position in the current k-d index, -1 when not in it (new, removed, or moved too far since the build). */
  pos = -1;
  /** On the linear list of units the index cannot answer for (new, or moved too far). */
  loose = false;
  alive = true;

  constructor(p: LivePosition) {
    this.unitId = p.unitId;
    this.callSign = p.callSign;
    this.type = p.type;
    this.path = p.path;
    this.t = p.t;
    this.lon = p.lon;
    this.lat = p.lat;
    this.accuracy = p.accuracy;
    this.speed = p.speed;
    this.heading = p.heading;
  }
}

/** A unit's live record, opaque outside this module (callers only hold it, to skip a lookup). */
export type LiveHandle = LiveEntry;
/** Where a caller keeps its handle to a unit's live record (the runtime's per-unit record). */
export interface LiveSlot {
  live: LiveHandle | null;
}

/** Fills freed answer slots, so the store keeps no reference to removed units. */
const PLACEHOLDER = new LiveEntry({ unitId: '', callSign: '', type: '', path: '', t: 0, lon: 0, lat: 0, accuracy: null, speed: null, heading: null });

const RAD = Math.PI / 180;
const EARTH_R = 6_371_008.8;
/** A unit that moved further than this from where the index saw it is searched linearly until the next build. */
const DRIFT_LIMIT_M = 250;
/** Without a query for this long, positions stop triggering index rebuilds (the next query restarts them). */
const QUERY_IDLE_MS = 10_000;
/** Leaf size of the k-d tree (small leaves suit k-nearest queries). */
const NODE_SIZE = 8;

/** Haversine term (monotonic in the great-circle distance): sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2). */
function hav(lon1: number, lat1: number, cosLat1: number, lon2: number, lat2: number, cosLat2: number): number {
  const sLat = Math.sin(((lat2 - lat1) * RAD) / 2);
  const sLon = Math.sin(((lon2 - lon1) * RAD) / 2);
  // The same expression as distanceM, so metresOfHav(hav(…)) === distanceM(…).
  return sLat ** 2 + cosLat1 * cosLat2 * sLon ** 2;
}
/** The unit vector of a point on the sphere, written at `3 * pos` (sin²(θ/2) = |a − b|² / 4 for unit vectors a, b). */
function setUnitVector(out: Float64Array, pos: number, lon: number, lat: number): void {
  const c = Math.cos(lat * RAD);
  out[3 * pos] = c * Math.cos(lon * RAD);
  out[3 * pos + 1] = c * Math.sin(lon * RAD);
  out[3 * pos + 2] = Math.sin(lat * RAD);
}
const metresOfHav = (h: number) => 2 * EARTH_R * Math.asin(Math.min(1, Math.sqrt(h)));
function havOfMetres(m: number): number {
  if (!(m < Math.PI * EARTH_R)) return Infinity;
  const s = Math.sin(m / (2 * EARTH_R));
  return s * s;
}
/**
 * The latest position of every on-duty unit, in memory. Read by the live map and by dispatch's
 * recommender (`nearest`).
 *
 * `nearest` never builds on the query path (except the very first index, or when the linear list
 * outgrew a quarter of the units): the k-d index (kdbush layout, our own allocation-free k-nearest
 * search) is rebuilt by a timer at most every `indexMaxAgeMs` while positions change. Between builds
 * answers stay exact: candidates are ranked by their current positions, the search bound is padded by
 * the largest movement of an indexed unit since the build (tracked on `set`), units that moved more
 * than DRIFT_LIMIT_M or appeared since the build are checked linearly, removed ones are skipped.
 */
export class PositionStore {
  private byUnit = new Map<string, LiveEntry>();
  private index: KDBush | null = null;
  /** kd position → entry, and the cosine of the indexed latitude by kd position. */
  private slotEntries: LiveEntry[] = [];
  private slotCos = new Float64Array(0);
  /**
   * Current position by kd position (for units still within the drift limit) as a unit vector (x, y, z):
   * the haversine term is a quarter of the squared chord, so ranking a point needs no trigonometry.
   */
  private slotXyz = new Float64Array(0);
  private slotLive = new Uint8Array(0);
  private loose: LiveEntry[] = [];
  private maxDriftM = 0;
  private dirty = false;
  private builtAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastQueryAt = 0;
  /** How many times the index was built (tests and metrics). */
  builds = 0;

  // Query state (one query at a time: the store is used from one thread, synchronously).
  private qLon = 0;
  private qLat = 0;
  private qCos = 1;
  private qX = 0;
  private qY = 0;
  private qZ = 0;
  private qK = 0;
  private qCount = 0;
  private qMaxH = Infinity;
  /** Bounding box of the indexed points: min lon, max lon, min lat, max lat. */
  private bbox = new Float64Array(4);
  private qNow = 0;
  private qFilter: ((u: LiveView) => boolean) | undefined = undefined;
  private topH = new Float64Array(16);
  private topE: LiveEntry[] = new Array<LiveEntry>(16).fill(PLACEHOLDER);

  constructor(
    public opts: { staleMs: number; indexMaxAgeMs: number; now: () => number } = {
      staleMs: 5 * 60_000,
      indexMaxAgeMs: 250,
      now: () => Date.now(),
    },
  ) {}

  get size(): number {
    return this.byUnit.size;
  }

  /**
   * Keep the newer of the stored and the given position (its fields are copied); answers whether it
   * changed. `slot` keeps the unit's live record at hand for the next call (no lookup while it lives).
   */
  set(p: LivePosition, slot?: LiveSlot): boolean {
    let cur = slot?.live;
    if (!cur || !cur.alive) {
      cur = this.byUnit.get(p.unitId);
      if (slot) slot.live = cur ?? null;
    }
    if (!cur) {
      const e = new LiveEntry(p);
      this.byUnit.set(p.unitId, e);
      if (slot) slot.live = e;
      e.loose = true;
      this.loose.push(e);
      this.changed();
      return true;
    }
    if (cur.t >= p.t) return false;
    const moved = cur.lon !== p.lon || cur.lat !== p.lat;
    cur.callSign = p.callSign;
    cur.type = p.type;
    cur.path = p.path;
    cur.t = p.t;
    cur.lon = p.lon;
    cur.lat = p.lat;
    cur.accuracy = p.accuracy;
    cur.speed = p.speed;
    cur.heading = p.heading;
    if (moved) {
      const pos = cur.pos;
      if (pos >= 0) {
        const coords = this.index!.coords;
        const drift = distanceM(coords[2 * pos]!, coords[2 * pos + 1]!, cur.lon, cur.lat);
        if (drift > DRIFT_LIMIT_M) {
          cur.pos = -1;
          this.slotLive[pos] = 0;
          cur.loose = true;
          this.loose.push(cur);
        } else {
          setUnitVector(this.slotXyz, pos, cur.lon, cur.lat);
          if (drift > this.maxDriftM) this.maxDriftM = drift;
        }
      }
      this.changed();
    }
    return true;
  }

  /** Update unit facts (call sign, type, home) without touching the position. */
  updateMeta(unitId: string, meta: UnitMeta): void {
    const cur = this.byUnit.get(unitId);
    if (!cur) return;
    cur.callSign = meta.callSign;
    cur.type = meta.type;
    cur.path = meta.path;
  }

  remove(unitId: string): void {
    const cur = this.byUnit.get(unitId);
    if (!cur) return;
    this.byUnit.delete(unitId);
    cur.alive = false;
    if (cur.pos >= 0) this.slotLive[cur.pos] = 0;
    cur.pos = -1;
    this.changed();
  }

  private changed(): void {
    this.dirty = true;
    // Nobody asked for a while (a server without dispatch traffic): no rebuilds until someone does.
    if (this.timer || Date.now() - this.lastQueryAt > QUERY_IDLE_MS) return;
    this.schedule();
  }

  private schedule(): void {
    const wait = Math.max(0, this.opts.indexMaxAgeMs - (Date.now() - this.builtAt));
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.dirty) this.rebuild();
    }, wait);
    this.timer.unref();
  }

  private view(p: LiveEntry, now: number): LiveView {
    const ageMs = Math.max(0, now - p.t);
    return {
      unitId: p.unitId,
      callSign: p.callSign,
      type: p.type,
      path: p.path,
      t: p.t,
      lon: p.lon,
      lat: p.lat,
      accuracy: p.accuracy,
      speed: p.speed,
      heading: p.heading,
      ageMs,
      stale: ageMs > this.opts.staleMs,
    };
  }

  /** The latest fix of a unit (no view object), for seeding the ingestion rules. */
  latestFix(unitId: string): { t: number; lon: number; lat: number; accuracy: number | null } | null {
    const p = this.byUnit.get(unitId);
    return p ? { t: p.t, lon: p.lon, lat: p.lat, accuracy: p.accuracy } : null;
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

  /** Build the k-d index from the current positions (normally by the timer, off the query path). */
  rebuild(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const n = this.byUnit.size;
    const entries = new Array<LiveEntry>(n);
    const index = new KDBush(Math.max(1, n), NODE_SIZE);
    let i = 0;
    for (const e of this.byUnit.values()) {
      entries[i++] = e;
      index.add(e.lon, e.lat);
      e.loose = false;
    }
    if (n === 0) index.add(0, 0);
    index.finish();
    const slotEntries = new Array<LiveEntry>(n);
    const slotCos = new Float64Array(n);
    const slotXyz = new Float64Array(3 * n);
    const slotLive = new Uint8Array(n);
    const bbox = new Float64Array([Infinity, -Infinity, Infinity, -Infinity]);
    for (let pos = 0; pos < n; pos++) {
      const e = entries[index.ids[pos]!]!;
      e.pos = pos;
      slotEntries[pos] = e;
      const x = index.coords[2 * pos]!;
      const y = index.coords[2 * pos + 1]!;
      setUnitVector(slotXyz, pos, x, y);
      slotLive[pos] = 1;
      const c = Math.cos(y * RAD);
      slotCos[pos] = c;
      if (x < bbox[0]!) bbox[0] = x;
      if (x > bbox[1]!) bbox[1] = x;
      if (y < bbox[2]!) bbox[2] = y;
      if (y > bbox[3]!) bbox[3] = y;
    }
    this.bbox = bbox;
    this.index = n === 0 ? null : index;
    this.slotEntries = slotEntries;
    this.slotCos = slotCos;
    this.slotXyz = slotXyz;
    this.slotLive = slotLive;
    this.loose = [];
    this.maxDriftM = 0;
    this.dirty = false;
    this.builtAt = Date.now();
    this.builds++;
  }

  /**
   * The k nearest units to a point, nearest first, that pass `filter` (stale units included unless
   * the filter drops them). `maxDistanceM` bounds the search. The filter is called in order of
   * distance until k units passed, with a view that is valid during the call only (do not keep it).
   */
  nearest(lon: number, lat: number, k: number, filter?: (u: LiveView) => boolean, maxDistanceM = Infinity): NearestHit[] {
    if (k <= 0 || this.byUnit.size === 0) return [];
    this.lastQueryAt = Date.now();
    if (this.loose.length > 64 && (this.index === null || this.loose.length > this.byUnit.size >> 2)) this.rebuild();
    else if (this.dirty && !this.timer) this.schedule();
    if (this.topH.length < k) {
      this.topH = new Float64Array(k);
      this.topE = new Array<LiveEntry>(k).fill(PLACEHOLDER);
    }
    this.qLon = lon;
    this.qLat = lat;
    this.qCos = Math.cos(lat * RAD);
    this.qX = this.qCos * Math.cos(lon * RAD);
    this.qY = this.qCos * Math.sin(lon * RAD);
    this.qZ = Math.sin(lat * RAD);
    this.qK = k;
    this.qCount = 0;
    this.qMaxH = havOfMetres(maxDistanceM);
    this.qNow = this.opts.now();
    this.qFilter = filter;
    try {
      if (this.index) this.bestFirst(this.index.coords, this.index.nodeSize);
      // Units the index cannot answer for (new, or moved too far since the build), checked exactly.
      const loose = this.loose;
      for (let i = 0; i < loose.length; i++) {
        const e = loose[i]!;
        if (!e.alive || !e.loose) continue;
        const limit = this.qCount === k ? this.topH[k - 1]! : this.qMaxH;
        const sLat = Math.sin(((e.lat - lat) * RAD) / 2);
        if (sLat * sLat > limit) continue;
        const h = hav(lon, lat, this.qCos, e.lon, e.lat, Math.cos(e.lat * RAD));
        if (h > this.qMaxH || (this.qCount === k && h >= this.topH[k - 1]!)) continue;
        if (this.passes(e)) this.insert(e, h);
      }
      const hits = new Array<NearestHit>(this.qCount);
      const staleMs = this.opts.staleMs;
      for (let i = 0; i < this.qCount; i++) {
        const p = this.topE[i]!;
        const ageMs = Math.max(0, this.qNow - p.t);
        hits[i] = {
          unitId: p.unitId,
          callSign: p.callSign,
          type: p.type,
          path: p.path,
          t: p.t,
          lon: p.lon,
          lat: p.lat,
          accuracy: p.accuracy,
          speed: p.speed,
          heading: p.heading,
          ageMs,
          stale: ageMs > staleMs,
          // Ranked by the chord (no trigonometry); the metres given are the haversine's, as distanceM says.
          distanceM: distanceM(lon, lat, p.lon, p.lat),
        };
      }
      return hits;
    } finally {
      this.qFilter = undefined;
      for (let i = 0; i < this.qCount; i++) this.topE[i] = PLACEHOLDER;
    }
  }

  private passes(e: LiveEntry): boolean {
    const f = this.qFilter;
    if (!f) return true;
    const ageMs = Math.max(0, this.qNow - e.t);
    e.ageMs = ageMs;
    e.stale = ageMs > this.opts.staleMs;
    return f(e);
  }

  /** Sorted insert into the answer (the k-th falls out when full). */
  private insert(e: LiveEntry, h: number): void {
    const topH = this.topH;
    const topE = this.topE;
    let n = this.qCount;
    if (n === this.qK) n--;
    let i = n;
    while (i > 0 && topH[i - 1]! > h) {
      topH[i] = topH[i - 1]!;
      topE[i] = topE[i - 1]!;
      i--;
    }
    topH[i] = h;
    topE[i] = e;
    this.qCount = n + 1;
  }

  // Best-first search state: a binary min-heap of (key, item) where item ≥ 0 is a node of the pool
  // and item < 0 is the kd position -(pos + 1) of a point; typed arrays reused across queries.
  private heapKey = new Float64Array(256);
  private heapVal = new Int32Array(256);
  private heapSize = 0;
  private nodeInt = new Int32Array(3 * 128); // left, right, axis
  private nodeBox = new Float64Array(8 * 128); // minLon, maxLon, minLat, maxLat, cos minLat, cos maxLat, lbLat, lbLon
  private nodeCount = 0;

  /**
   * Best-first k-d search: points come off the heap in order of their current distance, so the filter
   * runs only on the units nearer than the k-th answer. A node's key is a lower bound of the haversine
   * term over its box — the latitude part hav(Δφ) plus the longitude part cos φq · min cos φ(box) ·
   * hav(Δλ), kept separately and tightened only for the far child of a split (one sine) — lowered by
   * the largest movement of an indexed unit since the build, since points are ranked where they are now.
   */
  private bestFirst(coords: Float64Array | ArrayLike<number>, nodeSize: number): void {
    this.heapSize = 0;
    this.nodeCount = 0;
    const b = this.bbox;
    const n = this.slotEntries.length;
    this.pushNode(0, n - 1, 0, b[0]!, b[1]!, b[2]!, b[3]!, Math.cos(b[2]! * RAD), Math.cos(b[3]! * RAD), 0, 0);
    const k = this.qK;
    const maxH = this.qMaxH;
    while (this.heapSize > 0) {
      const key = this.heapKey[0]!;
      if (key > maxH) break;
      const item = this.pop();
      if (item < 0) {
        const e = this.slotEntries[-item - 1]!;
        if (this.passes(e)) {
          this.topE[this.qCount] = e;
          this.topH[this.qCount] = key;
          if (++this.qCount === k) break;
        }
        continue;
      }
      const ni = this.nodeInt;
      const nb = this.nodeBox;
      const left = ni[3 * item]!;
      const right = ni[3 * item + 1]!;
      const axis = ni[3 * item + 2]!;
      if (right - left <= nodeSize) {
        for (let i = left; i <= right; i++) this.pushPoint(coords, i);
        continue;
      }
      const o = 8 * item;
      const minLon = nb[o]!, maxLon = nb[o + 1]!, minLat = nb[o + 2]!, maxLat = nb[o + 3]!;
      const cMinLat = nb[o + 4]!, cMaxLat = nb[o + 5]!, lbLat = nb[o + 6]!, lbLon = nb[o + 7]!;
      const m = (left + right) >> 1;
      this.pushPoint(coords, m);
      if (axis === 0) {
        const mLon = coords[2 * m]!;
        const sLon = Math.sin(((mLon - this.qLon) * RAD) / 2);
        const far = Math.max(lbLon, this.qCos * Math.min(cMinLat, cMaxLat) * sLon * sLon);
        const nearLeft = this.qLon < mLon;
        this.pushNode(left, m - 1, 1, minLon, mLon, minLat, maxLat, cMinLat, cMaxLat, lbLat, nearLeft ? lbLon : far);
        this.pushNode(m + 1, right, 1, mLon, maxLon, minLat, maxLat, cMinLat, cMaxLat, lbLat, nearLeft ? far : lbLon);
      } else {
        const mLat = coords[2 * m + 1]!;
        const cM = this.slotCos[m]!;
        const sLat = Math.sin(((mLat - this.qLat) * RAD) / 2);
        const far = Math.max(lbLat, sLat * sLat);
        const nearLeft = this.qLat < mLat;
        this.pushNode(left, m - 1, 0, minLon, maxLon, minLat, mLat, cMinLat, cM, nearLeft ? lbLat : far, lbLon);
        this.pushNode(m + 1, right, 0, minLon, maxLon, mLat, maxLat, cM, cMaxLat, nearLeft ? far : lbLat, lbLon);
      }
    }
  }

  private pushNode(
    left: number, right: number, axis: number, minLon: number, maxLon: number, minLat: number, maxLat: number,
    cMinLat: number, cMaxLat: number, lbLat: number, lbLon: number,
  ): void {
    if (left > right) return;
    let key = lbLat + lbLon;
    if (this.maxDriftM > 0 && key > 0) key = havOfMetres(Math.max(0, metresOfHav(key) - this.maxDriftM));
    if (key > this.qMaxH) return;
    const id = this.nodeCount++;
    if (3 * this.nodeCount > this.nodeInt.length) {
      const ni = new Int32Array(this.nodeInt.length * 2);
      ni.set(this.nodeInt);
      this.nodeInt = ni;
      const nb = new Float64Array(this.nodeBox.length * 2);
      nb.set(this.nodeBox);
      this.nodeBox = nb;
    }
    const ni = this.nodeInt;
    ni[3 * id] = left;
    ni[3 * id + 1] = right;
    ni[3 * id + 2] = axis;
    const nb = this.nodeBox;
    const o = 8 * id;
    nb[o] = minLon;
    nb[o + 1] = maxLon;
    nb[o + 2] = minLat;
    nb[o + 3] = maxLat;
    nb[o + 4] = cMinLat;
    nb[o + 5] = cMaxLat;
    nb[o + 6] = lbLat;
    nb[o + 7] = lbLon;
    this.push(key, id);
  }

  /** An indexed point, keyed by where the unit is now (it may have moved a little since the build). */
  private pushPoint(coords: Float64Array | ArrayLike<number>, pos: number): void {
    if (this.slotLive[pos] === 0) return; // removed, or moved too far (then it is on the linear list)
    const v = this.slotXyz;
    const dx = v[3 * pos]! - this.qX;
    const dy = v[3 * pos + 1]! - this.qY;
    const dz = v[3 * pos + 2]! - this.qZ;
    const h = (dx * dx + dy * dy + dz * dz) / 4;
    if (h > this.qMaxH) return;
    this.push(h, -pos - 1);
  }

  private push(key: number, val: number): void {
    let i = this.heapSize++;
    if (i >= this.heapKey.length) {
      const hk = new Float64Array(this.heapKey.length * 2);
      hk.set(this.heapKey);
      this.heapKey = hk;
      const hv = new Int32Array(this.heapVal.length * 2);
      hv.set(this.heapVal);
      this.heapVal = hv;
    }
    const hk = this.heapKey;
    const hv = this.heapVal;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = hk[parent]!;
      if (pk <= key) break;
      hk[i] = pk;
      hv[i] = hv[parent]!;
      i = parent;
    }
    hk[i] = key;
    hv[i] = val;
  }

  private pop(): number {
    const hk = this.heapKey;
    const hv = this.heapVal;
    const top = hv[0]!;
    const n = --this.heapSize;
    if (n > 0) {
      const key = hk[n]!;
      const val = hv[n]!;
      let i = 0;
      const half = n >> 1;
      while (i < half) {
        let c = 2 * i + 1;
        if (c + 1 < n && hk[c + 1]! < hk[c]!) c++;
        if (hk[c]! >= key) break;
        hk[i] = hk[c]!;
        hv[i] = hv[c]!;
        i = c;
      }
      hk[i] = key;
      hv[i] = val;
    }
    return top;
  }
}
