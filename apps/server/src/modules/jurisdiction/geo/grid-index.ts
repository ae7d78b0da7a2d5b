/**
 * In-memory point → grid index. PostGIS stays the source of truth; this answers "which grid is this
 * point in" in about a microsecond.
 *
 * - Candidates come from a Flatbush R-tree over polygon bounding boxes (walked without allocation).
 * - The exact test is even-odd ray casting over all rings of a (Multi)Polygon, on Float64Arrays.
 * - Boundary rule (docs/decisions/005-boundary-rule.md): a point is evaluated as if it were moved by
 *   an infinitesimal (-ε, -ε²), i.e. a point on an edge belongs to the polygon on the edge's west side
 *   (south side for an east–west edge). Each edge is evaluated from its lower endpoint, so two
 *   polygons sharing an edge compute bit-identical answers and exactly one of them claims the point.
 * - The deepest polygon wins; among equally deep candidates that both claim a point (overlapping
 *   data) the smallest code wins (then the earliest inserted, for duplicate codes).
 * - `lookup` answers from a precomputed cell grid (cell-grid.ts): cells entirely inside one polygon
 *   answer without any point-in-polygon test, the others test a short candidate list. It gives the
 *   same answers as `lookupExact` (R-tree + exact test). All polygon data is packed into typed arrays
 *   on SharedArrayBuffers; `shared()` hands them to worker threads without copying.
 */
import Flatbush from 'flatbush';
import type { MultiPolygon, Polygon } from 'geojson';
import {
  buildCellGrid, CellLookup, polyContains, sharedArray,
  type CellGridOptions, type PackedPolygons, type SharedCellLookup,
} from './cell-grid.js';

export { CellLookup, type SharedCellLookup } from './cell-grid.js';

export interface GridPolygon {
  id: string;
  code: string;
  level: string;
  depth: number;
  parentId: string | null;
  geometry: MultiPolygon | Polygon;
}

export interface GridHit {
  id: string;
  code: string;
  level: string;
  depth: number;
  parentId: string | null;
}

/** Calls visit(ring) for every ring of a (Multi)Polygon, without allocating. */
function forEachRing(p: GridPolygon, visit: (ring: number[][]) => void): void {
  const g = p.geometry;
  if (g.type === 'Polygon') for (const ring of g.coordinates) visit(ring);
  else for (const poly of g.coordinates) for (const ring of poly) visit(ring);
}

/** Ring length without the closing vertex, or 0 when the ring is degenerate (< 3 vertices). */
function openLength(ring: number[][]): number {
  let len = ring.length;
  if (len > 1 && ring[0][0] === ring[len - 1][0] && ring[0][1] === ring[len - 1][1]) len--;
  return len < 3 ? 0 : len;
}

const CODE_KEYS = 4;

/**
 * Order-preserving numbers for a code: key k holds UTF-16 units 3k..3k+2, each as unit + 1 (0 = past
 * the end, so a prefix sorts first, as in JS string comparison). Codes equal in all keys fall back to
 * comparing the strings.
 */
function codeKey(code: string, out: Float64Array, at: number): void {
  for (let k = 0; k < CODE_KEYS; k++) {
    let v = 0;
    for (let u = 3 * k; u < 3 * k + 3; u++) v = v * 65537 + (u < code.length ? code.charCodeAt(u) + 1 : 0);
    out[at + k] = v;
  }
}

/** Keep the last polygon of each id (in the position of its first occurrence). */
function lastOfEachId(polys: GridPolygon[]): GridPolygon[] {
  const latest = new Map<string, GridPolygon>();
  for (const p of polys) latest.set(p.id, p);
  return [...latest.values()];
}

/** Even-odd test on a single polygon's own arrays (kept for callers of the old API). */
export function entryContains(coords: Float64Array, ringEnds: Uint32Array, x: number, y: number): boolean {
  return polyContains({ count: 1, coords, ringEnds, polyRings: Uint32Array.of(0, ringEnds.length), bbox: new Float64Array(4) }, 0, x, y);
}

function segDist2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = ax + t * dx - px, ey = ay + t * dy - py;
  return ex * ex + ey * ey;
}

const emptyPacked = (): PackedPolygons => ({
  count: 0,
  coords: sharedArray(Float64Array, 0),
  ringEnds: sharedArray(Uint32Array, 0),
  polyRings: sharedArray(Uint32Array, 1),
  bbox: sharedArray(Float64Array, 0),
});

export class GridIndex {
  private byId = new Map<string, number>();
  private hits: GridHit[] = [];
  private depth: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private codeKeys: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private packed: PackedPolygons = emptyPacked();
  private tree: Flatbush | null = null;
  private cells: CellLookup | null = null;
  private readonly cellOptions: CellGridOptions;
  private cand = new Int32Array(64);
  private stack = new Int32Array(256);

  /** Seconds spent in the last (re)build: packing, R-tree, cell grid. */
  buildTimings = { packS: 0, treeS: 0, cellsS: 0 };

  constructor(polygons: Iterable<GridPolygon> = [], options: CellGridOptions = {}) {
    this.cellOptions = options;
    const list = Array.isArray(polygons) ? (polygons as GridPolygon[]) : [...polygons];
    // a repeated id counts once (its last version); checked while packing, deduplicated only if needed
    if (!this.rebuild([], list)) this.rebuild([], lastOfEachId(list));
  }

  get size(): number {
    return this.hits.length;
  }

  /** Insert or replace polygons (by id) and remove ids; arrays, R-tree and cell grid are rebuilt. */
  patch(upserts: Iterable<GridPolygon>, deletes: Iterable<string> = []): void {
    const dropped = new Set<string>(deletes);
    const fresh = new Map<string, GridPolygon>();
    for (const p of upserts) {
      fresh.delete(p.id);
      fresh.set(p.id, p);
      dropped.delete(p.id);
    }
    const kept: number[] = [];
    for (let i = 0; i < this.hits.length; i++) {
      const id = this.hits[i].id;
      if (!dropped.has(id) && !fresh.has(id)) kept.push(i);
    }
    this.rebuild(kept, [...fresh.values()]);
  }

  /**
   * Pack the kept slots of the current arrays followed by the new polygons, then rebuild the R-tree
   * and the cell grid. Returns false (and changes nothing) if the new polygons repeat an id.
   */
  private rebuild(kept: number[], fresh: GridPolygon[]): boolean {
    const t0 = performance.now();
    const old = this.packed;
    const oldHits = this.hits;
    const oldDepth = this.depth;
    // pass 1: sizes (degenerate polygons are left out)
    let nCoords = 0, nRings = 0, count = kept.length;
    for (const o of kept) {
      const r0 = old.polyRings[o], r1 = old.polyRings[o + 1];
      nRings += r1 - r0;
      nCoords += old.ringEnds[r1 - 1] - (r0 === 0 ? 0 : old.ringEnds[r0 - 1]);
    }
    const freshRings = new Uint32Array(fresh.length);
    let rings = 0, doubles = 0;
    const sizeRing = (ring: number[][]) => {
      const len = openLength(ring);
      if (len === 0) return;
      rings++;
      doubles += 2 * len;
    };
    for (let f = 0; f < fresh.length; f++) {
      rings = 0;
      doubles = 0;
      forEachRing(fresh[f], sizeRing);
      freshRings[f] = rings;
      if (rings === 0) continue;
      count++;
      nRings += rings;
      nCoords += doubles;
    }
    // pass 2: fill
    // one shared allocation for all per-polygon arrays (each large allocation can trigger a full GC)
    const nDoubles = nCoords + 4 * count + CODE_KEYS * count;
    const arena = new SharedArrayBuffer(8 * nDoubles + 4 * (nRings + 2 * count + 1));
    const coords = new Float64Array(arena, 0, nCoords);
    const bbox = new Float64Array(arena, 8 * nCoords, 4 * count);
    const codeKeys = new Float64Array(arena, 8 * (nCoords + 4 * count), CODE_KEYS * count);
    const ringEnds = new Uint32Array(arena, 8 * nDoubles, nRings);
    const polyRings = new Uint32Array(arena, 8 * nDoubles + 4 * nRings, count + 1);
    const depth = new Int32Array(arena, 8 * nDoubles + 4 * (nRings + count + 1), count);
    const hits: GridHit[] = new Array<GridHit>(count);
    const byId = new Map<string, number>();
    let k = 0, r = 0, i = 0;
    for (const o of kept) {
      polyRings[i] = r;
      const r0 = old.polyRings[o], r1 = old.polyRings[o + 1];
      const c0 = r0 === 0 ? 0 : old.ringEnds[r0 - 1];
      const shift = k - c0;
      coords.set(old.coords.subarray(c0, old.ringEnds[r1 - 1]), k);
      for (let q = r0; q < r1; q++) ringEnds[r++] = old.ringEnds[q] + shift;
      k = ringEnds[r - 1];
      bbox.set(old.bbox.subarray(4 * o, 4 * o + 4), 4 * i);
      hits[i] = oldHits[o];
      depth[i] = oldDepth[o];
      byId.set(hits[i].id, i);
      i++;
    }
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    let code = '';
    const fillRing = (ring: number[][]) => {
      const len = openLength(ring);
      if (len === 0) return;
      for (let v = 0; v < len; v++) {
        const x = ring[v][0], y = ring[v][1];
        if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`grid ${code}: bad coordinate`);
        coords[k++] = x;
        coords[k++] = y;
        if (x < minX) minX = x;
        if (y < minY) minY = y;
        if (x > maxX) maxX = x;
        if (y > maxY) maxY = y;
      }
      ringEnds[r++] = k;
    };
    for (let f = 0; f < fresh.length; f++) {
      if (freshRings[f] === 0) continue;
      const p = fresh[f];
      if (byId.has(p.id)) return false;
      polyRings[i] = r;
      minX = minY = Infinity;
      maxX = maxY = -Infinity;
      code = p.code;
      forEachRing(p, fillRing);
      bbox[4 * i] = minX;
      bbox[4 * i + 1] = minY;
      bbox[4 * i + 2] = maxX;
      bbox[4 * i + 3] = maxY;
      hits[i] = { id: p.id, code: p.code, level: p.level, depth: p.depth, parentId: p.parentId };
      depth[i] = p.depth;
      byId.set(p.id, i);
      i++;
    }
    polyRings[count] = r;
    for (let j = 0; j < count; j++) codeKey(hits[j].code, codeKeys, j * CODE_KEYS);
    this.codeKeys = codeKeys;
    this.packed = { count, coords, ringEnds, polyRings, bbox };
    this.hits = hits;
    this.depth = depth;
    this.byId = byId;
    const t1 = performance.now();
    if (count === 0) {
      this.tree = null;
      this.cells = null;
      this.buildTimings = { packS: (t1 - t0) / 1000, treeS: 0, cellsS: 0 };
      return true;
    }
    const tree = new Flatbush(count);
    for (let j = 0; j < count; j++) tree.add(bbox[4 * j], bbox[4 * j + 1], bbox[4 * j + 2], bbox[4 * j + 3]);
    tree.finish();
    this.tree = tree;
    const t2 = performance.now();
    const grid = buildCellGrid(this.packed, (a, b) => this.better(a, b), this.cellOptions);
    this.cells = new CellLookup({ polygons: this.packed, grid });
    this.buildTimings = { packS: (t1 - t0) / 1000, treeS: (t2 - t1) / 1000, cellsS: (performance.now() - t2) / 1000 };
    return true;
  }

  /** Strict priority: deeper, then smaller code (JS string order), then earlier. */
  private better(a: number, b: number): boolean {
    const d = this.depth[a] - this.depth[b];
    if (d !== 0) return d > 0;
    // the first CODE_KEYS × 3 UTF-16 units of each code as exact numbers: no string access (or cache miss)
    const keys = this.codeKeys;
    for (let k = 0; k < CODE_KEYS; k++) {
      const ka = keys[a * CODE_KEYS + k], kb = keys[b * CODE_KEYS + k];
      if (ka !== kb) return ka < kb;
    }
    const ca = this.hits[a].code, cb = this.hits[b].code;
    if (ca !== cb) return ca < cb;
    return a < b;
  }

  /** Indices of polygons whose bbox contains (x, y), expanded by pad; into this.cand, returns count. */
  private candidates(x: number, y: number, pad: number): number {
    const tree = this.tree;
    if (!tree) return 0;
    const boxes = tree._boxes;
    const indices = tree._indices;
    const levelBounds = tree._levelBounds;
    const nodeSize = tree.nodeSize;
    const numItems4 = tree.numItems * 4;
    const x0q = x - pad, x1q = x + pad, y0q = y - pad, y1q = y + pad;
    let stack = this.stack;
    let sp = 0;
    let count = 0;
    let nodeIndex = boxes.length - 4;
    let level = levelBounds.length - 1;
    for (;;) {
      const end = Math.min(nodeIndex + nodeSize * 4, levelBounds[level]);
      const isNode = nodeIndex >= numItems4;
      for (let pos = nodeIndex; pos < end; pos += 4) {
        if (x1q < boxes[pos] || y1q < boxes[pos + 1] || x0q > boxes[pos + 2] || y0q > boxes[pos + 3]) continue;
        const index = indices[pos >> 2] | 0;
        if (isNode) {
          if (sp + 2 > stack.length) {
            const bigger = new Int32Array(stack.length * 2);
            bigger.set(stack);
            stack = this.stack = bigger;
          }
          stack[sp++] = index;
          stack[sp++] = level - 1;
        } else {
          if (count === this.cand.length) {
            const bigger = new Int32Array(count * 2);
            bigger.set(this.cand);
            this.cand = bigger;
          }
          this.cand[count++] = index;
        }
      }
      if (sp === 0) break;
      level = stack[--sp];
      nodeIndex = stack[--sp];
    }
    return count;
  }

  /** The deepest polygon containing the point, or null (from the cell grid). */
  lookup(lon: number, lat: number): GridHit | null {
    const i = this.cells ? this.cells.lookupIndex(lon, lat) : -1;
    return i >= 0 ? this.hits[i] : null;
  }

  /** Index form of lookup (for bulk work); see hitAt. */
  lookupIndex(lon: number, lat: number): number {
    return this.cells ? this.cells.lookupIndex(lon, lat) : -1;
  }

  hitAt(index: number): GridHit | null {
    return index >= 0 && index < this.hits.length ? this.hits[index] : null;
  }

  /** Same answer as lookup, without the cell grid: R-tree candidates and the exact test. */
  lookupExact(lon: number, lat: number): GridHit | null {
    const i = this.lookupExactIndex(lon, lat);
    return i >= 0 ? this.hits[i] : null;
  }

  lookupExactIndex(lon: number, lat: number): number {
    const n = this.candidates(lon, lat, 0);
    const cand = this.cand;
    let best = -1;
    for (let k = 0; k < n; k++) {
      const i = cand[k];
      if (best !== -1 && !this.better(i, best)) continue;
      if (polyContains(this.packed, i, lon, lat)) best = i;
    }
    return best;
  }

  /** Every polygon containing the point, deepest first (ties by code). */
  containing(lon: number, lat: number): GridHit[] {
    const n = this.candidates(lon, lat, 0);
    const found: number[] = [];
    for (let k = 0; k < n; k++) {
      const i = this.cand[k];
      if (polyContains(this.packed, i, lon, lat)) found.push(i);
    }
    return found.sort((a, b) => (this.better(a, b) ? -1 : 1)).map((i) => this.hits[i]);
  }

  /** Whether the point lies within eps (degrees) of any polygon edge. */
  isNearEdge(lon: number, lat: number, eps: number): boolean {
    const n = this.candidates(lon, lat, eps);
    const eps2 = eps * eps;
    const { coords, ringEnds, polyRings } = this.packed;
    for (let q = 0; q < n; q++) {
      const i = this.cand[q];
      const r1 = polyRings[i + 1];
      let r = polyRings[i];
      let start = r === 0 ? 0 : ringEnds[r - 1];
      for (; r < r1; r++) {
        const end = ringEnds[r];
        let jx = coords[end - 2], jy = coords[end - 1];
        for (let k = start; k < end; k += 2) {
          if (segDist2(lon, lat, jx, jy, coords[k], coords[k + 1]) <= eps2) return true;
          jx = coords[k];
          jy = coords[k + 1];
        }
        start = end;
      }
    }
    return false;
  }

  get(id: string): GridHit | null {
    const i = this.byId.get(id);
    return i === undefined ? null : this.hits[i];
  }

  /** Packed polygons and cell grid on SharedArrayBuffers, for `new CellLookup(shared)` in a worker. */
  shared(): SharedCellLookup | null {
    return this.cells ? { polygons: this.packed, grid: this.cells.grid } : null;
  }

  /** Cell grid figures (for benchmarks and diagnostics). */
  cellStats(): { nx: number; ny: number; cells: number; direct: number; nodes: number } {
    const g = this.cells?.grid;
    if (!g) return { nx: 0, ny: 0, cells: 0, direct: 0, nodes: 0 };
    let direct = 0;
    for (let c = 0; c < g.cells.length; c++) if (g.cells[c] >= -1) direct++;
    return { nx: g.nx, ny: g.ny, cells: g.cells.length, direct, nodes: g.nodes.length };
  }

  /** Estimate of the bytes held by the index (typed arrays, R-tree, cell grid and per-polygon objects). */
  memoryBytes(): number {
    const p = this.packed;
    let bytes = this.tree ? this.tree.data.byteLength : 0;
    bytes += this.cand.byteLength + this.stack.byteLength + this.depth.byteLength + this.codeKeys.byteLength;
    bytes += p.coords.byteLength + p.ringEnds.byteLength + p.polyRings.byteLength + p.bbox.byteLength;
    if (this.cells) bytes += this.cells.grid.cells.byteLength + this.cells.grid.nodes.byteLength;
    for (const h of this.hits) {
      bytes += 64; // hit object
      bytes += 2 * (h.id.length + h.code.length + h.level.length) + 3 * 16;
      bytes += 48; // map slot and array slot
    }
    return bytes;
  }
}
