/**
 * Precomputed cell lookup for GridIndex (docs/decisions/005-boundary-rule.md, "Cell lookup").
 *
 * All polygons live in flat typed arrays (`PackedPolygons`), allocated on SharedArrayBuffers so worker
 * threads can answer lookups on the same memory without copying. A uniform grid of cells over the
 * bounding box of all polygons stores, per cell, one Int32:
 *
 *   v >= 0   the whole (closed, slightly enlarged) cell lies inside polygon v, and no edge of any
 *            polygon that could beat v touches it: answer v without any point-in-polygon test;
 *   v == -1  outside every polygon;
 *   v <= -2  node at `nodes[-v - 2]`:
 *              header n >= 0: a candidate list [n, fallback, (c, start, end) × n] of the polygons whose edges
 *                touch the cell, best first (deepest, then smallest code, then smallest index);
 *                the first one whose exact test contains the point wins, else `fallback`
 *                (the best polygon covering the whole cell, or -1); start, end is the coordinate
 *                range of c's only ring (-1 if c has several rings), to skip the ring tables;
 *              header n < 0: a sub-grid of k×k cells (k = -n) over this cell, followed by k×k values
 *                with the same encoding (cells with long candidate lists are refined).
 *
 * A cell counts as "touched" by an edge when the segment meets the cell's closed rectangle enlarged by
 * `margin` (far larger than the rounding of the cell index computation), so for every point that can
 * map to an untouched cell — and for its (-ε, -ε²) perturbation — containment is the same as for the
 * cell centre. The answers are therefore identical to the exact test, boundary rule included.
 */

export interface PackedPolygons {
  count: number;
  /** x,y pairs of every ring, rings not closed */
  coords: Float64Array;
  /** end offset (exclusive, in doubles) of each ring; ring r starts at ringEnds[r - 1] (or 0) */
  ringEnds: Uint32Array;
  /** rings of polygon i are [polyRings[i], polyRings[i + 1]) */
  polyRings: Uint32Array;
  /** minX, minY, maxX, maxY per polygon */
  bbox: Float64Array;
}

export interface CellGridState {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  nx: number;
  ny: number;
  cw: number;
  ch: number;
  cells: Int32Array;
  nodes: Int32Array;
}

/** Everything a worker needs to answer lookups: plain numbers and typed arrays on SharedArrayBuffers. */
export interface SharedCellLookup {
  polygons: PackedPolygons;
  grid: CellGridState;
}

export function sharedArray<T extends Float64Array | Int32Array | Uint32Array>(
  Type: { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Type(new SharedArrayBuffer(Math.max(1, length) * Type.BYTES_PER_ELEMENT));
}

/**
 * Even-odd test of polygon i with the (-ε, -ε²) perturbation of decision 005: an edge counts when
 * lower.y < y <= upper.y and the point is on or west of it, the cross product always evaluated from
 * the edge's lower endpoint so two polygons sharing an edge compute bit-identical values.
 */
export function polyContains(p: PackedPolygons, i: number, x: number, y: number): boolean {
  const coords = p.coords;
  const ringEnds = p.ringEnds;
  const r1 = p.polyRings[i + 1];
  let r = p.polyRings[i];
  let start = r === 0 ? 0 : ringEnds[r - 1];
  let inside = false;
  for (; r < r1; r++) {
    const end = ringEnds[r];
    let jx = coords[end - 2];
    let jy = coords[end - 1];
    for (let k = start; k < end; k += 2) {
      const ix = coords[k];
      const iy = coords[k + 1];
      if (iy < y !== jy < y) {
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

/** polyContains for a polygon of one ring, coords[start, end). */
export function ringContains(coords: Float64Array, start: number, end: number, x: number, y: number): boolean {
  let inside = false;
  let jx = coords[end - 2];
  let jy = coords[end - 1];
  for (let k = start; k < end; k += 2) {
    const ix = coords[k];
    const iy = coords[k + 1];
    if (iy < y !== jy < y) {
      const cross = iy < jy
        ? (jx - ix) * (y - iy) - (jy - iy) * (x - ix)
        : (ix - jx) * (y - jy) - (iy - jy) * (x - jx);
      if (cross >= 0) inside = !inside;
    }
    jx = ix;
    jy = iy;
  }
  return inside;
}

/** Lookups on the cell grid; usable on the main thread and in workers (from a SharedCellLookup). */
export class CellLookup {
  readonly polygons: PackedPolygons;
  readonly grid: CellGridState;
  private readonly x0: number;
  private readonly y0: number;
  private readonly x1: number;
  private readonly y1: number;
  private readonly nx: number;
  private readonly ny: number;
  private readonly icw: number;
  private readonly ich: number;
  private readonly cells: Int32Array;
  private readonly nodes: Int32Array;
  private readonly coords: Float64Array;

  constructor(shared: SharedCellLookup) {
    this.polygons = shared.polygons;
    this.grid = shared.grid;
    const g = shared.grid;
    this.x0 = g.x0;
    this.y0 = g.y0;
    this.x1 = g.x1;
    this.y1 = g.y1;
    this.nx = g.nx;
    this.ny = g.ny;
    this.icw = 1 / g.cw;
    this.ich = 1 / g.ch;
    this.cells = g.cells;
    this.nodes = g.nodes;
    this.coords = shared.polygons.coords;
  }

  /** Index of the polygon that owns the point (deepest, boundary rule), or -1. */
  lookupIndex(x: number, y: number): number {
    // also rejects NaN; the closed bbox is kept because east/north edges belong to their polygon
    if (!(x >= this.x0 && x <= this.x1 && y >= this.y0 && y <= this.y1) || this.nx === 0) return -1;
    let cx = ((x - this.x0) * this.icw) | 0;
    let cy = ((y - this.y0) * this.ich) | 0;
    if (cx >= this.nx) cx = this.nx - 1;
    if (cy >= this.ny) cy = this.ny - 1;
    let v = this.cells[cy * this.nx + cx];
    if (v >= -1) return v;
    const nodes = this.nodes;
    let cellX0 = this.x0 + cx * this.grid.cw;
    let cellY0 = this.y0 + cy * this.grid.ch;
    let cw = this.grid.cw;
    let ch = this.grid.ch;
    for (;;) {
      const at = -v - 2;
      const n = nodes[at];
      if (n >= 0) {
        for (let j = at + 2, end = at + 2 + 3 * n; j < end; j += 3) {
          const p = nodes[j];
          const s = nodes[j + 1];
          if (s >= 0 ? ringContains(this.coords, s, nodes[j + 2], x, y) : polyContains(this.polygons, p, x, y)) return p;
        }
        return nodes[at + 1];
      }
      // sub-grid of k×k
      const k = -n;
      cw /= k;
      ch /= k;
      let sx = Math.floor((x - cellX0) / cw);
      let sy = Math.floor((y - cellY0) / ch);
      sx = sx < 0 ? 0 : sx >= k ? k - 1 : sx;
      sy = sy < 0 ? 0 : sy >= k ? k - 1 : sy;
      cellX0 += sx * cw;
      cellY0 += sy * ch;
      v = nodes[at + 1 + sy * k + sx];
      if (v >= -1) return v;
    }
  }

  /** Answers points[2i], points[2i+1] for i in [from, to) into out[i]. */
  lookupMany(points: Float64Array, out: Int32Array, from = 0, to = points.length >> 1): void {
    for (let i = from; i < to; i++) out[i] = this.lookupIndex(points[2 * i], points[2 * i + 1]);
  }
}

export interface CellGridOptions {
  /** cells of the top grid per polygon (default 8) */
  cellsPerPolygon?: number;
  /** cap on top-level cells (default 2^25) */
  maxCells?: number;
  /** candidate lists longer than this are refined into sub-grids (default 8) */
  maxList?: number;
}

/** Growable Int32 buffer. */
class IntBuf {
  data: Int32Array;
  length = 0;
  constructor(initial: Int32Array) {
    this.data = initial;
  }
  reserve(n: number): number {
    if (this.length + n > this.data.length) {
      let size = this.data.length * 2;
      while (size < this.length + n) size *= 2;
      const bigger = new Int32Array(size);
      bigger.set(this.data.subarray(0, this.length));
      this.data = bigger;
    }
    const at = this.length;
    this.length += n;
    return at;
  }
}

/**
 * Build the cell grid. `better(a, b)` is the strict priority order of the lookup (true when polygon a
 * beats polygon b: deeper, then smaller code, then smaller index).
 */
export function buildCellGrid(
  p: PackedPolygons,
  better: (a: number, b: number) => boolean,
  options: CellGridOptions = {},
): CellGridState {
  const n = p.count;
  const empty: CellGridState = {
    x0: 0, y0: 0, x1: -1, y1: -1, nx: 0, ny: 0, cw: 1, ch: 1,
    cells: sharedArray(Int32Array, 0), nodes: sharedArray(Int32Array, 0),
  };
  if (n === 0) return empty;
  const bbox = p.bbox;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    if (bbox[4 * i] < x0) x0 = bbox[4 * i];
    if (bbox[4 * i + 1] < y0) y0 = bbox[4 * i + 1];
    if (bbox[4 * i + 2] > x1) x1 = bbox[4 * i + 2];
    if (bbox[4 * i + 3] > y1) y1 = bbox[4 * i + 3];
  }
  const maxCells = options.maxCells ?? 1 << 25;
  const target = Math.min(maxCells, Math.max(64, Math.round((options.cellsPerPolygon ?? 8) * n)));
  const w = Math.max(x1 - x0, 1e-9);
  const h = Math.max(y1 - y0, 1e-9);
  let cs = Math.sqrt((w * h) / target);
  let nx = Math.max(1, Math.ceil(w / cs));
  let ny = Math.max(1, Math.ceil(h / cs));
  if (nx * ny > maxCells * 2) {
    cs = Math.max(w, h) / Math.sqrt(maxCells);
    nx = Math.max(1, Math.ceil(w / cs));
    ny = Math.max(1, Math.ceil(h / cs));
  }
  // cells are cw × ch; the grid covers exactly [x0, x1] × [y0, y1]
  const cw = w / nx;
  const ch = h / ny;
  const G = nx * ny;
  // "touched" = the segment meets the cell enlarged by margin (≫ rounding of the index computation)
  const margin = Math.max(cw, ch) * 1e-6 + (Math.abs(x0) + Math.abs(x1) + Math.abs(y0) + Math.abs(y1)) * 1e-12;
  const coords = p.coords;
  const ringEnds = p.ringEnds;
  const polyRings = p.polyRings;

  // ---- 1. rasterise every edge: CSR of (cell → polygons whose edges touch it) ---------------------
  // few large allocations: each one can trigger a full GC of the (possibly large) JS heap
  const temp = new ArrayBuffer(4 * (2 * G + 1));
  const lastMark = new Int32Array(temp, 0, G).fill(-1);
  const off = new Uint32Array(temp, 4 * G, G + 1);
  const frame: Frame = { x0, y0, cw, ch, nx, ny, margin };
  rasterEdges(p, frame, lastMark, off, null);
  for (let c = 0; c < G; c++) off[c + 1] += off[c];
  const touch = new Int32Array(off[G]);
  lastMark.fill(-1);
  rasterEdges(p, frame, lastMark, off, touch);
  // off[c] now holds the end of cell c; shift back to starts
  for (let c = G; c > 0; c--) off[c] = off[c - 1];
  off[0] = 0;

  const touches = (cell: number, poly: number): boolean => {
    for (let k = off[cell], e = off[cell + 1]; k < e; k++) if (touch[k] === poly) return true;
    return false;
  };

  // ---- 2. scan-convert every polygon at cell centres: best polygon covering each whole cell -------
  const cover = lastMark.fill(-1); // reused; becomes the encoded cells in step 3
  let xs = new Float64Array(64);
  for (let i = 0; i < n; i++) {
    const by0 = bbox[4 * i + 1], by1 = bbox[4 * i + 3];
    let q0 = Math.ceil((by0 - y0) / ch - 0.5);
    let q1 = Math.floor((by1 - y0) / ch - 0.5);
    if (q0 < 0) q0 = 0;
    if (q1 >= ny) q1 = ny - 1;
    const r0 = polyRings[i], r1 = polyRings[i + 1];
    for (let q = q0; q <= q1; q++) {
      const yc = y0 + (q + 0.5) * ch;
      let m = 0;
      let start = r0 === 0 ? 0 : ringEnds[r0 - 1];
      for (let r = r0; r < r1; r++) {
        const end = ringEnds[r];
        let jx = coords[end - 2];
        let jy = coords[end - 1];
        for (let k = start; k < end; k += 2) {
          const ix = coords[k];
          const iy = coords[k + 1];
          if (iy < yc !== jy < yc) {
            if (m === xs.length) {
              const bigger = new Float64Array(m * 2);
              bigger.set(xs);
              xs = bigger;
            }
            xs[m++] = ix + ((yc - iy) * (jx - ix)) / (jy - iy);
          }
          jx = ix;
          jy = iy;
        }
        start = end;
      }
      if (m < 2) continue;
      for (let a = 1; a < m; a++) {
        const v = xs[a];
        let b = a - 1;
        while (b >= 0 && xs[b] > v) {
          xs[b + 1] = xs[b];
          b--;
        }
        xs[b + 1] = v;
      }
      const sorted = xs;
      for (let s = 0; s + 1 < m; s += 2) {
        let ca = Math.ceil((sorted[s] - x0) / cw - 0.5);
        let cb = Math.floor((sorted[s + 1] - x0) / cw - 0.5);
        if (ca < 0) ca = 0;
        if (cb >= nx) cb = nx - 1;
        for (let c = ca; c <= cb; c++) {
          const cell = q * nx + c;
          const cur = cover[cell];
          if (cur !== -1 && !better(i, cur)) continue;
          if (off[cell] !== off[cell + 1] && touches(cell, i)) continue;
          cover[cell] = i;
        }
      }
    }
  }

  // ---- 3. encode ------------------------------------------------------------------------------------
  const maxList = options.maxList ?? 8;
  const cells = cover; // written in place: cell c is read before it is written
  let touchedCells = 0;
  for (let c = 0; c < G; c++) if (off[c] !== off[c + 1]) touchedCells++;
  // nodes go straight into the shared buffer after the cells (grown separately only if refinement overflows)
  const bound = 2 * touchedCells + 3 * touch.length + 1024;
  const shared = new SharedArrayBuffer(4 * (G + bound));
  const nodes = new IntBuf(new Int32Array(shared, 4 * G, bound));
  const cand: number[] = [];
  for (let cell = 0; cell < G; cell++) {
    const cov = cover[cell];
    const s = off[cell], e = off[cell + 1];
    if (s === e) {
      cells[cell] = cov;
      continue;
    }
    cand.length = 0;
    for (let k = s; k < e; k++) {
      const c = touch[k];
      if (cov !== -1 && !better(c, cov)) continue;
      // insertion sort, best first (lists are short)
      let j = cand.length;
      cand.push(c);
      while (j > 0 && better(c, cand[j - 1])) {
        cand[j] = cand[j - 1];
        j--;
      }
      cand[j] = c;
    }
    if (cand.length === 0) {
      cells[cell] = cov;
      continue;
    }
    const cx = cell % nx, cy = (cell - cx) / nx;
    cells[cell] = encode(x0 + cx * cw, y0 + cy * ch, cw, ch, cand, cov, 0);
  }

  /** Node for a rectangle with candidates (sorted best first) and a fallback; refines long lists. */
  function encode(rx: number, ry: number, rw: number, rh: number, list: number[], fallback: number, depth: number): number {
    if (list.length <= maxList || depth >= 3) {
      const at = nodes.reserve(2 + 3 * list.length);
      const d = nodes.data;
      d[at] = list.length;
      d[at + 1] = fallback;
      for (let j = 0; j < list.length; j++) {
        // (polygon, coordinate range of its only ring | -1): one ring needs no ring-table lookups
        const c = list[j];
        const r0 = polyRings[c];
        const single = polyRings[c + 1] - r0 === 1;
        d[at + 2 + 3 * j] = c;
        d[at + 3 + 3 * j] = single ? (r0 === 0 ? 0 : ringEnds[r0 - 1]) : -1;
        d[at + 4 + 3 * j] = single ? ringEnds[r0] : 0;
      }
      return -at - 2;
    }
    const k = 4;
    const at = nodes.reserve(1 + k * k);
    nodes.data[at] = -k;
    const sw = rw / k, sh = rh / k;
    for (let sy = 0; sy < k; sy++) {
      for (let sx = 0; sx < k; sx++) {
        const ax = rx + sx * sw, ay = ry + sy * sh;
        const sub: number[] = [];
        let fb = fallback;
        for (const c of list) {
          if (polyTouchesRect(p, c, ax - margin, ay - margin, ax + sw + margin, ay + sh + margin)) sub.push(c);
          else if ((fb === -1 || better(c, fb)) && polyContains(p, c, ax + sw / 2, ay + sh / 2)) fb = c;
        }
        const kept = sub.filter((c) => fb === -1 || better(c, fb));
        const v = kept.length === 0 ? fb : encode(ax, ay, sw, sh, kept, fb, depth + 1);
        nodes.data[at + 1 + sy * k + sx] = v;
      }
    }
    return -at - 2;
  }

  const sharedCells = new Int32Array(shared, 0, G);
  sharedCells.set(cells);
  let sharedNodes: Int32Array;
  if (nodes.data.buffer === shared) sharedNodes = new Int32Array(shared, 4 * G, nodes.length);
  else {
    sharedNodes = sharedArray(Int32Array, nodes.length);
    sharedNodes.set(nodes.data.subarray(0, nodes.length));
  }
  return { x0, y0, x1, y1, nx, ny, cw, ch, cells: sharedCells, nodes: sharedNodes };
}

/** Whether any edge of polygon i meets the closed rectangle [ax, bx] × [ay, by]. */
function polyTouchesRect(p: PackedPolygons, i: number, ax: number, ay: number, bx: number, by: number): boolean {
  if (p.bbox[4 * i] > bx || p.bbox[4 * i + 2] < ax || p.bbox[4 * i + 1] > by || p.bbox[4 * i + 3] < ay) return false;
  const coords = p.coords;
  const ringEnds = p.ringEnds;
  const r1 = p.polyRings[i + 1];
  let r = p.polyRings[i];
  let start = r === 0 ? 0 : ringEnds[r - 1];
  for (; r < r1; r++) {
    const end = ringEnds[r];
    let jx = coords[end - 2];
    let jy = coords[end - 1];
    for (let k = start; k < end; k += 2) {
      if (segmentMeetsRect(jx, jy, coords[k], coords[k + 1], ax, ay, bx, by)) return true;
      jx = coords[k];
      jy = coords[k + 1];
    }
    start = end;
  }
  return false;
}

/** Liang–Barsky: does segment (x0,y0)-(x1,y1) meet the closed rectangle? (conservative at ties) */
function segmentMeetsRect(x0: number, y0: number, x1: number, y1: number, ax: number, ay: number, bx: number, by: number): boolean {
  let t0 = 0, t1 = 1;
  const dx = x1 - x0, dy = y1 - y0;
  const clip = (pp: number, q: number): boolean => {
    if (pp === 0) return q >= 0;
    const t = q / pp;
    if (pp < 0) {
      if (t > t1) return false;
      if (t > t0) t0 = t;
    } else {
      if (t < t0) return false;
      if (t < t1) t1 = t;
    }
    return true;
  };
  return clip(-dx, x0 - ax) && clip(dx, bx - x0) && clip(-dy, y0 - ay) && clip(dy, by - y0);
}

interface Frame {
  x0: number;
  y0: number;
  cw: number;
  ch: number;
  nx: number;
  ny: number;
  margin: number;
}

/**
 * Visit the cells (enlarged by margin) met by every edge of every polygon, once per polygon and cell:
 * counting into off[cell + 1] when touch is null, else writing touch[off[cell]++] = polygon.
 */
function rasterEdges(p: PackedPolygons, f: Frame, lastMark: Int32Array, off: Uint32Array, touch: Int32Array | null): void {
  const { x0, y0, cw, ch, nx, ny, margin } = f;
  const coords = p.coords;
  const ringEnds = p.ringEnds;
  const polyRings = p.polyRings;
  const n = p.count;
  for (let i = 0; i < n; i++) {
    const r1 = polyRings[i + 1];
    let r = polyRings[i];
    let start = r === 0 ? 0 : ringEnds[r - 1];
    for (; r < r1; r++) {
      const end = ringEnds[r];
      let jx = coords[end - 2];
      let jy = coords[end - 1];
      for (let k = start; k < end; k += 2) {
        const ix = coords[k];
        const iy = coords[k + 1];
        const sx0 = ix < jx ? ix : jx, sx1 = ix < jx ? jx : ix;
        const sy0 = iy < jy ? iy : jy, sy1 = iy < jy ? jy : iy;
        let c0 = Math.floor((sx0 - margin - x0) / cw);
        let c1 = Math.floor((sx1 + margin - x0) / cw);
        if (c0 < 0) c0 = 0;
        if (c1 >= nx) c1 = nx - 1;
        const dx = ix - jx, dy = iy - jy;
        for (let c = c0; c <= c1; c++) {
          let ylo = sy0, yhi = sy1;
          if (dx !== 0 && c0 !== c1) {
            const lo = Math.max(x0 + c * cw - margin, sx0);
            const hi = Math.min(x0 + (c + 1) * cw + margin, sx1);
            const ya = jy + ((lo - jx) * dy) / dx;
            const yb = jy + ((hi - jx) * dy) / dx;
            ylo = ya < yb ? ya : yb;
            yhi = ya < yb ? yb : ya;
            if (ylo < sy0) ylo = sy0;
            if (yhi > sy1) yhi = sy1;
          }
          let q0 = Math.floor((ylo - margin - y0) / ch);
          let q1 = Math.floor((yhi + margin - y0) / ch);
          if (q0 < 0) q0 = 0;
          if (q1 >= ny) q1 = ny - 1;
          for (let q = q0; q <= q1; q++) {
            const cell = q * nx + c;
            if (lastMark[cell] === i) continue;
            lastMark[cell] = i;
            if (touch !== null) touch[off[cell]++] = i;
            else off[cell + 1]++;
          }
        }
        jx = ix;
        jy = iy;
      }
      start = end;
    }
  }
}
