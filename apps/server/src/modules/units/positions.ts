
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
  /**
   * The unit's number in the process's registry of unit ids (unit-ids.ts), -1 or absent when the
   * scanner did not find it there; the ingest path sets it once it has found the unit.
   */
  unitNo?: number;
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
  /** The unit's row in the store's per-unit typed arrays (stable while it is in the store). */
  slot = -1;
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

/**
 * The view `nearest` hands its filter for a unit of the grid: it reads the grid's packed copies of the
 * units' facts (in cell order) as the filter asks for them, so a query never reads the units' records —
 * scattered over the heap, a cache miss each, they were most of a query's time — and a filter that
 * looks at the id and type touches one row of strings. Valid during the filter's call only.
 */
class GridView implements LiveView {
  pos = 0;
  nums = new Float64Array(0);
  strs: string[] = [];
  now = 0;
  staleMs = 0;
  get unitId(): string {
    return this.strs[STRS * this.pos]!;
  }
  get callSign(): string {
    return this.strs[STRS * this.pos + 1]!;
  }
  get type(): string {
    return this.strs[STRS * this.pos + 2]!;
  }
  get path(): string {
    return this.strs[STRS * this.pos + 3]!;
  }
  get t(): number {
    return this.nums[GRID_NUMS * this.pos]!;
  }
  get lon(): number {
    return this.nums[GRID_NUMS * this.pos + 1]!;
  }
  get lat(): number {
    return this.nums[GRID_NUMS * this.pos + 2]!;
  }
  get accuracy(): number | null {
    return orNull(this.nums[GRID_NUMS * this.pos + 3]!);
  }
  get speed(): number | null {
    return orNull(this.nums[GRID_NUMS * this.pos + 4]!);
  }
  get heading(): number | null {
    return orNull(this.nums[GRID_NUMS * this.pos + 5]!);
  }
  get ageMs(): number {
    return Math.max(0, this.now - this.t);
  }
  get stale(): boolean {
    return this.ageMs > this.staleMs;
  }
}

/** Per unit, in the packed copies: t, accuracy, speed, heading (NaN for none) by slot; t, lon, lat, accuracy, speed, heading by grid position. */
const SLOT_NUMS = 4;
const GRID_NUMS = 6;
/** Per unit, in the packed copies: unitId, callSign, type, path. */
const STRS = 4;
const orNaN = (v: number | null) => (v === null ? Number.NaN : v);
const orNull = (v: number) => (v === v ? v : null);

const RAD = Math.PI / 180;
const EARTH_R = 6_371_008.8;
/** A unit that moved further than this from where the index saw it is searched linearly until the next build. */
const DRIFT_LIMIT_M = 250;
/** Without a query for this long, positions stop triggering index rebuilds (the next query restarts them). */
const QUERY_IDLE_MS = 10_000;
/** Units per cell of the grid index, on average (a k-nearest query then reads a few dozen points). */
const UNITS_PER_CELL = 2;
/** Above this many units the grid covers the 0.5–99.5 % range of positions (plus a margin), so one far outlier cannot stretch it. */
const TRIM_ABOVE = 1024;

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
 * outgrew a quarter of the units): the index — a uniform grid of about UNITS_PER_CELL units per cell,
 * the units stored cell by cell (a counting sort, O(n)) — is rebuilt by a timer at most every
 * `indexMaxAgeMs` while positions change. A query reads rings of cells around the point until nothing
 * outside the rings can be nearer than the k-th answer (decision 018). Between builds answers stay
 * exact: candidates are ranked by their current positions, the ring bound is lowered by the largest
 * movement of an indexed unit since the build (tracked on `set`), units that moved more than
 * DRIFT_LIMIT_M, appeared since the build or lie far outside the others are checked linearly, removed
 * ones are skipped.
 */
export class PositionStore {
  private byUnit = new Map<string, LiveEntry>();
  // Per unit, by its slot (freed slots are reused): the record, where it is now (lon, lat and unit
  // vector), its grid position (-1 when not in the grid) and whether it is on the linear list. Typed
  // arrays, so a build reads packed memory and never the records themselves (50,000 scattered objects
  // cost a cache miss each: a build that touched them took 10–30 ms of the event loop).
  private owner: (LiveEntry | null)[] = [];
  private uLon = new Float64Array(64);
  private uLat = new Float64Array(64);
  private uXyz = new Float64Array(3 * 64);
  private uPos = new Int32Array(64).fill(-1);
  private uLoose = new Uint8Array(64);
  /** By slot: t, accuracy, speed, heading (SLOT_NUMS each) and the unit's strings (STRS each), for a build to copy in cell order. */
  private uNums = new Float64Array(SLOT_NUMS * 64);
  private uStrs: string[] = [];
  private slotCount = 0;
  private freeSlots: number[] = [];
  /** Whether a grid was built (positions are then answered from it and the linear list). */
  private built = false;
  /** By grid position (cell by cell): the record, the indexed lon, lat, the current unit vector. */
  private slotEntries: LiveEntry[] = [];
  private slotCoords = new Float64Array(0);
  /**
   * Current position by grid position (for units still within the drift limit) as a unit vector (x, y, z):
   * the haversine term is a quarter of the squared chord, so ranking a point needs no trigonometry.
   * x is NaN for a unit the grid no longer answers for (removed, or moved too far: it is on the linear
   * list): its term is NaN and never ranks, so the scan needs no flag of its own (one cache miss less a cell).
   */
  private slotXyz = new Float64Array(0);
  /** By grid position: the unit's current t, lon, lat, accuracy, speed, heading (GRID_NUMS each) and strings (STRS each). */
  private slotNums = new Float64Array(0);
  private slotStrs: string[] = [];
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
  // The grid: origin, cell size in degrees, columns and rows; the units of cell c are at grid positions
  // cellStart[c] … cellStart[c + 1] − 1; gCosMin is the least cosine of latitude over the grid.
  private gLon0 = 0;
  private gLat0 = 0;
  private gCellLon = 1;
  private gCellLat = 1;
  private gCols = 1;
  private gRows = 1;
  private gCosMin = 1;
  private cellStart = new Int32Array(2);
  private qNow = 0;
  private qFilter: ((u: LiveView) => boolean) | undefined = undefined;
  private topH = new Float64Array(16);
  /** The answer so far: a grid position (≥ 0), or −1 − i for the linear list's unit i. */
  private topRef = new Int32Array(16);
  private gridView = new GridView();

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
      const s = this.takeSlot(e);
      this.uLon[s] = e.lon;
      this.uLat[s] = e.lat;
      this.packSlot(s, e);
      setUnitVector(this.uXyz, s, e.lon, e.lat);
      this.uLoose[s] = 1;
      this.loose.push(e);
      this.changed();
      return true;
    }
    if (cur.t >= p.t) return false;
    const moved = cur.lon !== p.lon || cur.lat !== p.lat;
    if (cur.callSign !== p.callSign || cur.type !== p.type || cur.path !== p.path) {
      cur.callSign = p.callSign;
      cur.type = p.type;
      cur.path = p.path;
      this.packStrings(cur);
    }
    cur.t = p.t;
    cur.lon = p.lon;
    cur.lat = p.lat;
    cur.accuracy = p.accuracy;
    cur.speed = p.speed;
    cur.heading = p.heading;
    const us = cur.slot;
    const un = this.uNums;
    un[SLOT_NUMS * us] = p.t;
    un[SLOT_NUMS * us + 1] = orNaN(p.accuracy);
    un[SLOT_NUMS * us + 2] = orNaN(p.speed);
    un[SLOT_NUMS * us + 3] = orNaN(p.heading);
    const at = this.uPos[us]!;
    if (at >= 0) {
      const g = this.slotNums;
      g[GRID_NUMS * at] = p.t;
      g[GRID_NUMS * at + 1] = p.lon;
      g[GRID_NUMS * at + 2] = p.lat;
      g[GRID_NUMS * at + 3] = orNaN(p.accuracy);
      g[GRID_NUMS * at + 4] = orNaN(p.speed);
      g[GRID_NUMS * at + 5] = orNaN(p.heading);
    }
    if (moved) {
      const s = us;
      this.uLon[s] = cur.lon;
      this.uLat[s] = cur.lat;
      const u = this.uXyz;
      setUnitVector(u, s, cur.lon, cur.lat);
      const pos = this.uPos[s]!;
      if (pos >= 0) {
        const coords = this.slotCoords;
        const drift = distanceM(coords[2 * pos]!, coords[2 * pos + 1]!, cur.lon, cur.lat);
        if (drift > DRIFT_LIMIT_M) {
          this.uPos[s] = -1;
          this.slotXyz[3 * pos] = Number.NaN; // out of the grid's answers (the linear list has it)
          this.uLoose[s] = 1;
          this.loose.push(cur);
        } else {
          const v = this.slotXyz;
          v[3 * pos] = u[3 * s]!;
          v[3 * pos + 1] = u[3 * s + 1]!;
          v[3 * pos + 2] = u[3 * s + 2]!;
          if (drift > this.maxDriftM) this.maxDriftM = drift;
        }
      }
      this.changed();
    }
    return true;
  }

  /** A free row of the per-unit arrays for a new record (the arrays grow by half when full). */
  private takeSlot(e: LiveEntry): number {
    let s = this.freeSlots.pop();
    if (s === undefined) {
      s = this.slotCount++;
      if (s >= this.uLon.length) {
        const cap = Math.ceil(this.uLon.length * 1.5) + 16;
        const grow = <T extends Float64Array | Int32Array | Uint8Array>(a: T, size: number, make: (n: number) => T): T => {
          const b = make(size);
          b.set(a);
          return b;
        };
        this.uLon = grow(this.uLon, cap, (n) => new Float64Array(n));
        this.uLat = grow(this.uLat, cap, (n) => new Float64Array(n));
        this.uXyz = grow(this.uXyz, 3 * cap, (n) => new Float64Array(n));
        this.uPos = grow(this.uPos, cap, (n) => new Int32Array(n).fill(-1));
        this.uLoose = grow(this.uLoose, cap, (n) => new Uint8Array(n));
        this.uNums = grow(this.uNums, SLOT_NUMS * cap, (n) => new Float64Array(n));
      }
    }
    this.owner[s] = e;
    this.uPos[s] = -1;
    e.slot = s;
    return s;
  }

  /** The unit's facts into the packed copies of its slot (and of its grid position, when indexed). */
  private packSlot(s: number, e: LiveEntry): void {
    const un = this.uNums;
    un[SLOT_NUMS * s] = e.t;
    un[SLOT_NUMS * s + 1] = orNaN(e.accuracy);
    un[SLOT_NUMS * s + 2] = orNaN(e.speed);
    un[SLOT_NUMS * s + 3] = orNaN(e.heading);
    this.uStrs[STRS * s] = e.unitId;
    this.packStrings(e);
  }

  private packStrings(e: LiveEntry): void {
    const s = e.slot;
    const us = this.uStrs;
    us[STRS * s + 1] = e.callSign;
    us[STRS * s + 2] = e.type;
    us[STRS * s + 3] = e.path;
    const at = this.uPos[s]!;
    if (at >= 0) {
      const gs = this.slotStrs;
      gs[STRS * at + 1] = e.callSign;
      gs[STRS * at + 2] = e.type;
      gs[STRS * at + 3] = e.path;
    }
  }

  /** Update unit facts (call sign, type, home) without touching the position. */
  updateMeta(unitId: string, meta: UnitMeta): void {
    const cur = this.byUnit.get(unitId);
    if (!cur) return;
    cur.callSign = meta.callSign;
    cur.type = meta.type;
    cur.path = meta.path;
    this.packStrings(cur);
  }

  remove(unitId: string): void {
    const cur = this.byUnit.get(unitId);
    if (!cur) return;
    this.byUnit.delete(unitId);
    cur.alive = false;
    const s = cur.slot;
    const pos = this.uPos[s]!;
    if (pos >= 0) this.slotXyz[3 * pos] = Number.NaN;
    this.uPos[s] = -1;
    this.uLoose[s] = 0;
    this.owner[s] = null;
    this.uStrs.fill('', STRS * s, STRS * s + STRS);
    this.freeSlots.push(s);
    cur.slot = -1;
    this.changed();
  }

  private changed(): void {
    // Already dirty: a timer is set, or it was idle then and the next query schedules one (per ping, so no clock read).
    if (this.dirty) return;
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

  /** Build the grid index from the current positions (normally by the timer, off the query path). */
  rebuild(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const n = this.byUnit.size;
    const slots = this.slotCount;
    const owner = this.owner;
    const uLon = this.uLon, uLat = this.uLat;
    // The box the grid covers: all units, or (many units) the 0.5–99.5 % range of a sample widened by a
    // tenth on each side; units outside it go on the linear list.
    let boxLonMin = -Infinity, boxLonMax = Infinity, boxLatMin = -Infinity, boxLatMax = Infinity;
    if (n > TRIM_ABOVE) {
      const lons = new Float64Array(TRIM_ABOVE);
      const lats = new Float64Array(TRIM_ABOVE);
      let m = 0;
      const step = slots / TRIM_ABOVE;
      for (let j = 0; j < TRIM_ABOVE; j++) {
        const s = Math.floor(j * step);
        if (owner[s] === null) continue;
        lons[m] = uLon[s]!;
        lats[m++] = uLat[s]!;
      }
      const sl = lons.subarray(0, m).sort();
      const st = lats.subarray(0, m).sort();
      const lo = Math.floor(m * 0.005), hi = m - 1 - lo;
      const padLon = (sl[hi]! - sl[lo]!) / 10, padLat = (st[hi]! - st[lo]!) / 10;
      boxLonMin = sl[lo]! - padLon;
      boxLonMax = sl[hi]! + padLon;
      boxLatMin = st[lo]! - padLat;
      boxLatMax = st[hi]! + padLat;
    }
    let lonMin = Infinity, lonMax = -Infinity, latMin = Infinity, latMax = -Infinity;
    for (let s = 0; s < slots; s++) {
      if (owner[s] === null) continue;
      const lon = uLon[s]!, lat = uLat[s]!;
      if (lon < boxLonMin || lon > boxLonMax || lat < boxLatMin || lat > boxLatMax) continue;
      if (lon < lonMin) lonMin = lon;
      if (lon > lonMax) lonMax = lon;
      if (lat < latMin) latMin = lat;
      if (lat > latMax) latMax = lat;
    }
    if (!(lonMin <= lonMax)) lonMin = lonMax = latMin = latMax = 0; // no units
    // Square cells (in metres, at the middle latitude) for about UNITS_PER_CELL units each.
    const midCos = Math.max(1e-6, Math.cos(((latMin + latMax) / 2) * RAD));
    const w = (lonMax - lonMin) * midCos;
    const h = latMax - latMin;
    const cells = Math.max(1, Math.ceil(n / UNITS_PER_CELL));
    // At least max(w, h) / cells, so a thin box (units along one road) is at most cells + 1 long.
    let side = Math.max(Math.sqrt((w * h) / cells), Math.max(w, h) / cells);
    if (!(side > 0)) side = 1e-3;
    const cellLat = side;
    const cellLon = side / midCos;
    const cols = Math.floor((lonMax - lonMin) / cellLon) + 1;
    const rows = Math.floor((latMax - latMin) / cellLat) + 1;
    this.gLon0 = lonMin;
    this.gLat0 = latMin;
    this.gCellLon = cellLon;
    this.gCellLat = cellLat;
    this.gCols = cols;
    this.gRows = rows;
    this.gCosMin = Math.min(Math.cos(latMin * RAD), Math.cos(latMax * RAD));

    // Counting sort of the units by cell (the units outside the box go on the linear list).
    const nCells = cols * rows;
    const cellOf = new Int32Array(slots);
    const cellStart = new Int32Array(nCells + 1);
    const loose: LiveEntry[] = [];
    const uPos = this.uPos, uLoose = this.uLoose;
    for (let s = 0; s < slots; s++) {
      const e = owner[s];
      if (e === null) {
        cellOf[s] = -1;
        continue;
      }
      const lon = uLon[s]!, lat = uLat[s]!;
      if (lon < lonMin || lon > lonMax || lat < latMin || lat > latMax) {
        cellOf[s] = -1;
        uPos[s] = -1;
        uLoose[s] = 1;
        loose.push(e);
        continue;
      }
      const cx = Math.min(cols - 1, Math.floor((lon - lonMin) / cellLon));
      const cy = Math.min(rows - 1, Math.floor((lat - latMin) / cellLat));
      const c = cy * cols + cx;
      cellOf[s] = c;
      cellStart[c + 1]!++;
    }
    for (let c = 0; c < nCells; c++) cellStart[c + 1]! += cellStart[c]!;
    const indexed = n - loose.length;
    const fill = cellStart.slice(0, nCells);
    const slotEntries = new Array<LiveEntry>(indexed);
    const slotCoords = new Float64Array(2 * indexed);
    const slotXyz = new Float64Array(3 * indexed);
    // The packed copies are rewritten in place when they are large enough (a build every 250 ms while
    // positions change would otherwise leave megabytes of garbage each time).
    let slotNums = this.slotNums;
    if (slotNums.length < GRID_NUMS * indexed) slotNums = new Float64Array(GRID_NUMS * Math.ceil(indexed * 1.25));
    let slotStrs = this.slotStrs;
    if (slotStrs.length < STRS * indexed) slotStrs = new Array<string>(STRS * Math.ceil(indexed * 1.25)).fill('');
    else slotStrs.fill('', STRS * indexed); // no references to units that left
    const uNums = this.uNums, uStrs = this.uStrs;
    const uXyz = this.uXyz;
    for (let s = 0; s < slots; s++) {
      const c = cellOf[s]!;
      if (c < 0) continue;
      const pos = fill[c]!++;
      uPos[s] = pos;
      uLoose[s] = 0;
      slotEntries[pos] = owner[s]!;
      slotCoords[2 * pos] = uLon[s]!;
      slotCoords[2 * pos + 1] = uLat[s]!;
      slotXyz[3 * pos] = uXyz[3 * s]!;
      slotXyz[3 * pos + 1] = uXyz[3 * s + 1]!;
      slotXyz[3 * pos + 2] = uXyz[3 * s + 2]!;
      const gn = GRID_NUMS * pos, sn = SLOT_NUMS * s;
      slotNums[gn] = uNums[sn]!;
      slotNums[gn + 1] = uLon[s]!;
      slotNums[gn + 2] = uLat[s]!;
      slotNums[gn + 3] = uNums[sn + 1]!;
      slotNums[gn + 4] = uNums[sn + 2]!;
      slotNums[gn + 5] = uNums[sn + 3]!;
      const gs = STRS * pos, ss = STRS * s;
      slotStrs[gs] = uStrs[ss]!;
      slotStrs[gs + 1] = uStrs[ss + 1]!;
      slotStrs[gs + 2] = uStrs[ss + 2]!;
      slotStrs[gs + 3] = uStrs[ss + 3]!;
    }
    this.cellStart = cellStart;
    this.slotEntries = slotEntries;
    this.slotCoords = slotCoords;
    this.slotXyz = slotXyz;
    this.slotNums = slotNums;
    this.slotStrs = slotStrs;
    this.loose = loose;
    this.built = true;
    this.maxDriftM = 0;
    this.dirty = false;
    this.builtAt = Date.now();
    this.builds++;
  }

  /**
   * The k nearest units to a point, nearest first, that pass `filter` (stale units included unless
   * the filter drops them). `maxDistanceM` bounds the search. The filter is called on indexed units
   * in order of distance until k passed, then on the few units of the linear list (new or moved far
   * since the last build) that are nearer than the k-th; its view is valid during the call only.
   */
  nearest(lon: number, lat: number, k: number, filter?: (u: LiveView) => boolean, maxDistanceM = Infinity): NearestHit[] {
    if (k <= 0 || this.byUnit.size === 0) return [];
    this.lastQueryAt = Date.now();
    if (this.loose.length > 64 && (!this.built || this.loose.length > this.byUnit.size >> 2)) this.rebuild();
    else if (this.dirty && !this.timer) this.schedule();
    if (this.topH.length < k) {
      this.topH = new Float64Array(k);
      this.topRef = new Int32Array(k);
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
    const view = this.gridView;
    view.nums = this.slotNums;
    view.strs = this.slotStrs;
    view.now = this.qNow;
    view.staleMs = this.opts.staleMs;
    try {
      if (this.built) this.searchGrid();
      // Units the index cannot answer for (new, far outliers, or moved too far since the build), checked exactly.
      const loose = this.loose;
      for (let i = 0; i < loose.length; i++) {
        const e = loose[i]!;
        if (!e.alive || this.uLoose[e.slot] === 0) continue;
        const limit = this.qCount === k ? this.topH[k - 1]! : this.qMaxH;
        const sLat = Math.sin(((e.lat - lat) * RAD) / 2);
        if (sLat * sLat > limit) continue;
        const h = hav(lon, lat, this.qCos, e.lon, e.lat, Math.cos(e.lat * RAD));
        if (h > this.qMaxH || (this.qCount === k && h >= this.topH[k - 1]!)) continue;
        if (this.passes(e)) this.insert(-1 - i, h);
      }
      const hits = new Array<NearestHit>(this.qCount);
      const staleMs = this.opts.staleMs;
      // An answer from the grid is read through the view (the packed copies), one from the linear list from its record.
      const gridView = this.gridView;
      for (let i = 0; i < this.qCount; i++) {
        const ref = this.topRef[i]!;
        let p: LivePosition;
        if (ref >= 0) {
          gridView.pos = ref;
          p = gridView;
        } else p = loose[-1 - ref]!;
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
    }
  }

  /** The filter's verdict on the grid's unit at `pos`, from the packed copies (see GridView). */
  private passesAt(pos: number): boolean {
    const f = this.qFilter;
    if (!f) return true;
    const v = this.gridView;
    v.pos = pos;
    return f(v);
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
  private insert(ref: number, h: number): void {
    const topH = this.topH;
    const topRef = this.topRef;
    let n = this.qCount;
    if (n === this.qK) n--;
    let i = n;
    while (i > 0 && topH[i - 1]! > h) {
      topH[i] = topH[i - 1]!;
      topRef[i] = topRef[i - 1]!;
      i--;
    }
    topH[i] = h;
    topRef[i] = ref;
    this.qCount = n + 1;
  }

  // Candidates of the grid search: a binary min-heap of (haversine term, grid position), reused across queries.
  private heapKey = new Float64Array(256);
  private heapVal = new Int32Array(256);
  private heapSize = 0;

  /**
   * Rings of cells around the query's cell, nearest ring first. Every indexed unit read goes on a heap
   * (ranked where it is now); after each ring, the least haversine term of any indexed unit outside the
   * rings (by its indexed place, lowered by the largest movement since the build) is a bound: the heap
   * yields its units below the bound, nearest first, to the filter until k passed. So the filter runs
   * in order of distance and only as often as needed — it reads the unit's record, scattered in memory,
   * which costs more than ranking a few dozen points from the grid's packed arrays.
   */
  private searchGrid(): void {
    const cols = this.gCols, rows = this.gRows;
    const qx = Math.floor((this.qLon - this.gLon0) / this.gCellLon);
    const qy = Math.floor((this.qLat - this.gLat0) / this.gCellLat);
    const k = this.qK;
    const maxH = this.qMaxH;
    const cellStart = this.cellStart;
    this.heapSize = 0;
    // Rings before the first that touches the grid are empty.
    let r = Math.max(0, -qx, qx - (cols - 1), -qy, qy - (rows - 1));
    for (;; r++) {
      const x0 = qx - r, x1 = qx + r, y0 = qy - r, y1 = qy + r;
      const ya = Math.max(0, y0), yb = Math.min(rows - 1, y1);
      const xa = Math.max(0, x0), xb = Math.min(cols - 1, x1);
      for (let y = ya; y <= yb; y++) {
        const row = y * cols;
        if (y === y0 || y === y1) {
          this.scanCells(cellStart[row + xa]!, cellStart[row + xb + 1]!);
        } else {
          if (x0 >= 0) this.scanCells(cellStart[row + x0]!, cellStart[row + x0 + 1]!);
          if (x1 < cols) this.scanCells(cellStart[row + x1]!, cellStart[row + x1 + 1]!);
        }
      }
      // The distance (degrees) from the point to each side of the rings, Infinity where no cell lies beyond.
      const west = x0 <= 0 ? Infinity : this.qLon - (this.gLon0 + x0 * this.gCellLon);
      const east = x1 >= cols - 1 ? Infinity : this.gLon0 + (x1 + 1) * this.gCellLon - this.qLon;
      const south = y0 <= 0 ? Infinity : this.qLat - (this.gLat0 + y0 * this.gCellLat);
      const north = y1 >= rows - 1 ? Infinity : this.gLat0 + (y1 + 1) * this.gCellLat - this.qLat;
      const dLon = Math.min(west, east), dLat = Math.min(south, north);
      let bound = Infinity;
      if (dLat !== Infinity) {
        const sLat = Math.sin((dLat * RAD) / 2);
        bound = sLat * sLat;
      }
      if (dLon !== Infinity) {
        const sLon = Math.sin((Math.min(dLon, 180) * RAD) / 2);
        bound = Math.min(bound, this.qCos * this.gCosMin * sLon * sLon);
      }
      if (this.maxDriftM > 0 && bound > 0 && bound !== Infinity) bound = havOfMetres(Math.max(0, metresOfHav(bound) - this.maxDriftM));
      // Beyond maxDistanceM nothing outside the rings counts: the heap is all there is.
      if (bound > maxH) bound = Infinity;
      while (this.heapSize > 0 && this.heapKey[0]! <= bound) {
        const h = this.heapKey[0]!;
        const pos = this.pop();
        if (this.passesAt(pos)) {
          this.topRef[this.qCount] = pos;
          this.topH[this.qCount] = h;
          if (++this.qCount === k) return;
        }
      }
      if (bound === Infinity) return; // every cell read, or nothing further within maxDistanceM
    }
  }

  /** The indexed units at grid positions from … to − 1 (whole cells), ranked where they are now, onto the heap. */
  private scanCells(from: number, to: number): void {
    const v = this.slotXyz;
    const qX = this.qX, qY = this.qY, qZ = this.qZ, maxH = this.qMaxH;
    for (let pos = from; pos < to; pos++) {
      const dx = v[3 * pos]! - qX;
      const dy = v[3 * pos + 1]! - qY;
      const dz = v[3 * pos + 2]! - qZ;
      const h = (dx * dx + dy * dy + dz * dz) / 4;
      if (h <= maxH) this.push(h, pos);
    }
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
