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
 *   data) the smallest code wins.
 */
import Flatbush from 'flatbush';
import type { MultiPolygon, Polygon } from 'geojson';

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

interface Entry {
  hit: GridHit;
  /** x,y pairs of every ring, rings not closed (the last vertex connects back to the first) */
  coords: Float64Array;
  /** end offset (exclusive, in doubles) of each ring within coords */
  ringEnds: Uint32Array;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

function toEntry(p: GridPolygon): Entry | null {
  const polys = p.geometry.type === 'Polygon' ? [p.geometry.coordinates] : p.geometry.coordinates;
  let n = 0;
  for (const poly of polys) for (const ring of poly) n += ring.length;
  const coords = new Float64Array(2 * n);
  const ends: number[] = [];
  let k = 0;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const poly of polys) {
    for (const ring of poly) {
      const start = k;
      let len = ring.length;
      if (len > 1 && ring[0][0] === ring[len - 1][0] && ring[0][1] === ring[len - 1][1]) len--;
      if (len < 3) continue;
      for (let i = 0; i < len; i++) {
        const x = ring[i][0], y = ring[i][1];
        if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`grid ${p.code}: bad coordinate`);
        coords[k++] = x;
        coords[k++] = y;
        if (x < minX) minX = x;
        if (y < minY) minY = y;
        if (x > maxX) maxX = x;
        if (y > maxY) maxY = y;
      }
      if (k > start) ends.push(k);
    }
  }
  if (ends.length === 0) return null;
  return {
    hit: { id: p.id, code: p.code, level: p.level, depth: p.depth, parentId: p.parentId },
    coords: k === coords.length ? coords : coords.slice(0, k),
    ringEnds: Uint32Array.from(ends),
    minX, minY, maxX, maxY,
  };
}

/** Even-odd test with the (-ε, -ε²) perturbation described above. */
export function entryContains(coords: Float64Array, ringEnds: Uint32Array, x: number, y: number): boolean {
  let inside = false;
  let start = 0;
  for (let r = 0; r < ringEnds.length; r++) {
    const end = ringEnds[r];
    let jx = coords[end - 2];
    let jy = coords[end - 1];
    for (let i = start; i < end; i += 2) {
      const ix = coords[i];
      const iy = coords[i + 1];
      // the edge spans y half-open: lower.y < y <= upper.y
      if (iy < y !== jy < y) {
        // evaluate from the lower endpoint so both polygons sharing this edge agree bit for bit
        const cross = iy < jy
          ? (jx - ix) * (y - iy) - (jy - iy) * (x - ix)
          : (ix - jx) * (y - jy) - (iy - jy) * (x - jx);
        if (cross >= 0) inside = !inside;
      }
      jx = ix;
      jy = iy;
    }
    start = end;
  }
  return inside;
}

function segDist2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = ax + t * dx - px, ey = ay + t * dy - py;
  return ex * ex + ey * ey;
}

export class GridIndex {
  private byId = new Map<string, Entry>();
  private entries: Entry[] = [];
  private tree: Flatbush | null = null;
  private cand = new Int32Array(64);
  private stack = new Int32Array(256);

  constructor(polygons: Iterable<GridPolygon> = []) {
    for (const p of polygons) {
      const e = toEntry(p);
      if (e) this.byId.set(p.id, e);
    }
    this.rebuild();
  }

  get size(): number {
    return this.entries.length;
  }

  /** Insert or replace polygons (by id) and remove ids; the R-tree is rebuilt from the kept arrays. */
  patch(upserts: Iterable<GridPolygon>, deletes: Iterable<string> = []): void {
    for (const id of deletes) this.byId.delete(id);
    for (const p of upserts) {
      const e = toEntry(p);
      if (e) this.byId.set(p.id, e);
      else this.byId.delete(p.id);
    }
    this.rebuild();
  }

  private rebuild(): void {
    this.entries = [...this.byId.values()];
    if (this.entries.length === 0) {
      this.tree = null;
      return;
    }
    const tree = new Flatbush(this.entries.length);
    for (const e of this.entries) tree.add(e.minX, e.minY, e.maxX, e.maxY);
    tree.finish();
    this.tree = tree;
  }

  /** Indices of entries whose bbox contains (x, y), expanded by pad; into this.cand, returns count. */
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

  /** The deepest polygon containing the point, or null. */
  lookup(lon: number, lat: number): GridHit | null {
    const n = this.candidates(lon, lat, 0);
    const cand = this.cand;
    const entries = this.entries;
    let best: Entry | null = null;
    for (let k = 0; k < n; k++) {
      const e = entries[cand[k]];
      if (best !== null) {
        const d = e.hit.depth - best.hit.depth;
        if (d < 0 || (d === 0 && e.hit.code >= best.hit.code)) continue;
      }
      if (entryContains(e.coords, e.ringEnds, lon, lat)) best = e;
    }
    return best ? best.hit : null;
  }

  /** Every polygon containing the point, deepest first (ties by code). */
  containing(lon: number, lat: number): GridHit[] {
    const n = this.candidates(lon, lat, 0);
    const out: GridHit[] = [];
    for (let k = 0; k < n; k++) {
      const e = this.entries[this.cand[k]];
      if (entryContains(e.coords, e.ringEnds, lon, lat)) out.push(e.hit);
    }
    return out.sort((a, b) => b.depth - a.depth || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  }

  /** Whether the point lies within eps (degrees) of any polygon edge. */
  isNearEdge(lon: number, lat: number, eps: number): boolean {
    const n = this.candidates(lon, lat, eps);
    const eps2 = eps * eps;
    for (let k = 0; k < n; k++) {
      const { coords, ringEnds } = this.entries[this.cand[k]];
      let start = 0;
      for (let r = 0; r < ringEnds.length; r++) {
        const end = ringEnds[r];
        let jx = coords[end - 2], jy = coords[end - 1];
        for (let i = start; i < end; i += 2) {
          if (segDist2(lon, lat, jx, jy, coords[i], coords[i + 1]) <= eps2) return true;
          jx = coords[i];
          jy = coords[i + 1];
        }
        start = end;
      }
    }
    return false;
  }

  get(id: string): GridHit | null {
    return this.byId.get(id)?.hit ?? null;
  }

  /** Estimate of the bytes held by the index (typed arrays, R-tree and per-entry objects). */
  memoryBytes(): number {
    let bytes = this.tree ? this.tree.data.byteLength : 0;
    bytes += this.cand.byteLength + this.stack.byteLength;
    for (const e of this.entries) {
      bytes += e.coords.byteLength + e.ringEnds.byteLength;
      bytes += 2 * 96 + 64 + 4 * 8; // typed-array headers, entry + hit objects
      bytes += 2 * (e.hit.id.length + e.hit.code.length + e.hit.level.length) + 3 * 16;
      bytes += 48; // map slot and array slot
    }
    return bytes;
  }
}
