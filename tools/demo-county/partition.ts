/**
 * Exact-topology Voronoi partition of a polygon.
 *
 * The Voronoi diagram of the sites and the boundary ring are put into one planar graph on an integer
 * grid of 1e-6 degrees (the coordinate precision we publish). Every crossing of a Voronoi edge with the
 * boundary is computed once and shared, so neighbouring cells share exactly the same vertices and the
 * cells tile the polygon with neither gaps nor overlaps. Any grouping of cells (village = union of its
 * micro-grid cells, town = union of its villages …) is traced from the same half-edge graph, so a
 * parent's boundary is exactly the union of its children's boundaries. See docs/decisions/006.
 */
import * as turf from '@turf/turf';
import Flatbush from 'flatbush';

export type Pt = [number, number];
export type MultiPolygonCoords = number[][][][];

const SCALE = 1e6;
const KEY_Y = 1e7;

export interface PartitionStats {
  vertices: number;
  edges: number;
  faces: number;
  crossings: number;
  labelConflicts: number;
}

export interface PlanarPartition {
  readonly siteCount: number;
  readonly stats: PartitionStats;
  /** Union of the cells of all sites with the same key; sites whose key is null are left out. */
  group<K>(keyOf: (site: number) => K | null): Map<K, MultiPolygonCoords>;
}

function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const v = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

function ringArea2(xs: number[], ys: number[], ids: number[]): number {
  let s = 0;
  for (let i = 0, n = ids.length; i < n; i++) {
    const a = ids[i];
    const b = ids[(i + 1) % n];
    s += xs[a] * ys[b] - xs[b] * ys[a];
  }
  return s;
}

function pointInIds(px: number, py: number, xs: number[], ys: number[], ids: number[]): boolean {
  let inside = false;
  for (let i = 0, j = ids.length - 1; i < ids.length; j = i++) {
    const xi = xs[ids[i]];
    const yi = ys[ids[i]];
    const xj = xs[ids[j]];
    const yj = ys[ids[j]];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Split a closed vertex walk at repeated vertices into simple cycles. */
function splitCycle(walk: number[]): number[][] {
  const out: number[][] = [];
  const stack: number[] = [];
  const at = new Map<number, number>();
  for (const v of walk) {
    const p = at.get(v);
    if (p !== undefined) {
      const sub = stack.splice(p + 1);
      for (const w of sub) at.delete(w);
      if (sub.length >= 2) out.push([v, ...sub]);
    } else {
      at.set(v, stack.length);
      stack.push(v);
    }
  }
  if (stack.length >= 3) out.push(stack);
  return out;
}

export function partitionPolygon(boundaryDeg: Pt[], sitesDeg: Pt[]): PlanarPartition {
  // ---- integer frame -------------------------------------------------------------------------
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [x, y] of boundaryDeg) {
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  const marginDeg = Math.max(maxX - minX, maxY - minY) * 0.05 + 0.001;
  const ox = Math.round((minX - 2 * marginDeg) * SCALE);
  const oy = Math.round((minY - 2 * marginDeg) * SCALE);
  const toIX = (x: number) => Math.round(x * SCALE) - ox;
  const toIY = (y: number) => Math.round(y * SCALE) - oy;

  const vx: number[] = [];
  const vy: number[] = [];
  const vmap = new Map<number, number>();
  const vertex = (X: number, Y: number): number => {
    if (Y < 0 || Y >= KEY_Y || X < 0) throw new Error('partition: coordinate outside frame');
    const key = X * KEY_Y + Y;
    let id = vmap.get(key);
    if (id === undefined) {
      id = vx.length;
      vx.push(X);
      vy.push(Y);
      vmap.set(key, id);
    }
    return id;
  };

  /** Voronoi vertices: the same vertex may come out 1e-6 apart in two cells; snap to an existing one. */
  const snapVertex = (X: number, Y: number): number => {
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const id = vmap.get((X + dx) * KEY_Y + Y + dy);
        if (id !== undefined) return id;
      }
    }
    return vertex(X, Y);
  };

  // ---- segments (undirected, attributes relative to a→b) ---------------------------------------
  const segA: number[] = [];
  const segB: number[] = [];
  const segL: number[] = [];
  const segR: number[] = [];
  const segC: number[] = []; // net number of times the boundary ring runs a→b (minus b→a)
  const segMap = new Map<number, number>();
  let labelConflicts = 0;
  const addSeg = (
    A: number[], B: number[], M: Map<number, number>,
    a: number, b: number, left: number, right: number, county: number,
    Ls: number[], Rs: number[], Cs: number[],
  ): void => {
    if (a === b) return;
    const key = a < b ? a * 2097152 + b : b * 2097152 + a;
    const idx = M.get(key);
    if (idx === undefined) {
      M.set(key, A.length);
      A.push(a);
      B.push(b);
      Ls.push(left);
      Rs.push(right);
      Cs.push(county);
      return;
    }
    if (A[idx] === a) mergeIntoArrays(Ls, Rs, Cs, idx, left, right, county);
    else mergeIntoArrays(Ls, Rs, Cs, idx, right, left, -county);
  };
  const mergeIntoArrays = (Ls: number[], Rs: number[], Cs: number[], idx: number, left: number, right: number, county: number) => {
    if (left >= 0) {
      if (Ls[idx] >= 0 && Ls[idx] !== left) { labelConflicts++; if (process.env.PDEBUG) console.log("conflictL", idx, Ls[idx], left, Rs[idx], right); }
      Ls[idx] = left;
    }
    if (right >= 0) {
      if (Rs[idx] >= 0 && Rs[idx] !== right) labelConflicts++;
      Rs[idx] = right;
    }
    Cs[idx] += county;
  };

  // Voronoi cells (convex, clipped to an enlarged bbox)
  const vor = turf.voronoi(turf.featureCollection(sitesDeg.map((p) => turf.point(p))), {
    bbox: [minX - marginDeg, minY - marginDeg, maxX + marginDeg, maxY + marginDeg],
  });
  for (let i = 0; i < sitesDeg.length; i++) {
    const f = vor.features[i];
    if (!f) throw new Error(`partition: site ${i} has no Voronoi cell (duplicate site?)`);
    const ring = f.geometry.coordinates[0];
    const ids: number[] = [];
    for (const [x, y] of ring) {
      const id = snapVertex(toIX(x), toIY(y));
      if (ids.length === 0 || ids[ids.length - 1] !== id) ids.push(id);
    }
    if (ids.length > 1 && ids[0] === ids[ids.length - 1]) ids.pop();
    if (ringArea2(vx, vy, ids) < 0) ids.reverse();
    for (let k = 0; k < ids.length; k++) {
      addSeg(segA, segB, segMap, ids[k], ids[(k + 1) % ids.length], i, -1, 0, segL, segR, segC);
    }
  }
  // boundary ring, counter-clockwise
  const bIds: number[] = [];
  for (const [x, y] of boundaryDeg) {
    const id = vertex(toIX(x), toIY(y));
    if (bIds.length === 0 || bIds[bIds.length - 1] !== id) bIds.push(id);
  }
  if (bIds.length > 1 && bIds[0] === bIds[bIds.length - 1]) bIds.pop();
  if (ringArea2(vx, vy, bIds) < 0) bIds.reverse();
  for (let k = 0; k < bIds.length; k++) {
    addSeg(segA, segB, segMap, bIds[k], bIds[(k + 1) % bIds.length], -1, -1, 1, segL, segR, segC);
  }

  // ---- node the boundary against the Voronoi edges ---------------------------------------------
  const nSeg = segA.length;
  const splits: (number[] | undefined)[] = new Array(nSeg);
  const addSplit = (s: number, v: number) => {
    if (v === segA[s] || v === segB[s]) return;
    (splits[s] ??= []).push(v);
  };
  const boundarySegs: number[] = [];
  for (let s = 0; s < nSeg; s++) if (segC[s] !== 0) boundarySegs.push(s);
  const fb = new Flatbush(boundarySegs.length);
  for (const s of boundarySegs) {
    const a = segA[s], b = segB[s];
    fb.add(Math.min(vx[a], vx[b]), Math.min(vy[a], vy[b]), Math.max(vx[a], vx[b]), Math.max(vy[a], vy[b]));
  }
  fb.finish();
  let crossings = 0;
  const strictlyInside = (p: number, a: number, b: number) =>
    (vx[p] - vx[a]) * (vx[b] - vx[a]) + (vy[p] - vy[a]) * (vy[b] - vy[a]) > 0 &&
    (vx[p] - vx[b]) * (vx[a] - vx[b]) + (vy[p] - vy[b]) * (vy[a] - vy[b]) > 0;
  for (let s = 0; s < nSeg; s++) {
    const sIsBoundary = segC[s] !== 0;
    if (!sIsBoundary && segL[s] < 0 && segR[s] < 0) continue; // net-zero spike
    const a = segA[s], b = segB[s];
    const ax = vx[a], ay = vy[a], bx = vx[b], by = vy[b];
    const hits = fb.search(Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by));
    for (const hi of hits) {
      const c = boundarySegs[hi];
      if (c === s || (sIsBoundary && c < s)) continue; // boundary pairs once
      const cI = segA[c], dI = segB[c];
      const cx = vx[cI], cy = vy[cI], dx = vx[dI], dy = vy[dI];
      const o1 = orient(ax, ay, bx, by, cx, cy);
      const o2 = orient(ax, ay, bx, by, dx, dy);
      const o3 = orient(cx, cy, dx, dy, ax, ay);
      const o4 = orient(cx, cy, dx, dy, bx, by);
      if (o1 * o2 < 0 && o3 * o4 < 0) {
        const den = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx);
        const t = ((cx - ax) * (dy - cy) - (cy - ay) * (dx - cx)) / den;
        const p = vertex(Math.round(ax + t * (bx - ax)), Math.round(ay + t * (by - ay)));
        addSplit(s, p);
        addSplit(c, p);
        crossings++;
        continue;
      }
      if (o1 === 0 && strictlyInside(cI, a, b)) addSplit(s, cI);
      if (o2 === 0 && strictlyInside(dI, a, b)) addSplit(s, dI);
      if (o3 === 0 && strictlyInside(a, cI, dI)) addSplit(c, a);
      if (o4 === 0 && strictlyInside(b, cI, dI)) addSplit(c, b);
    }
  }

  // ---- edges ----------------------------------------------------------------------------------
  const eA: number[] = [];
  const eB: number[] = [];
  const eL: number[] = [];
  const eR: number[] = [];
  const eC: number[] = [];
  const eMap = new Map<number, number>();
  for (let s = 0; s < nSeg; s++) {
    if (segC[s] === 0 && segL[s] < 0 && segR[s] < 0) continue;
    const a = segA[s], b = segB[s];
    const sp = splits[s];
    if (!sp) {
      addSeg(eA, eB, eMap, a, b, segL[s], segR[s], segC[s], eL, eR, eC);
      continue;
    }
    const dx = vx[b] - vx[a], dy = vy[b] - vy[a];
    const proj = (v: number) => (vx[v] - vx[a]) * dx + (vy[v] - vy[a]) * dy;
    const chain = [...new Set(sp)].sort((p, q) => proj(p) - proj(q));
    let prev = a;
    for (const v of [...chain, b]) {
      addSeg(eA, eB, eMap, prev, v, segL[s], segR[s], segC[s], eL, eR, eC);
      prev = v;
    }
  }

  // ---- half-edges, sorted around each vertex -------------------------------------------------
  const nE = eA.length;
  const nH = 2 * nE;
  const origin = new Int32Array(nH);
  const leftCell = new Int32Array(nH);
  const countyLeft = new Int8Array(nH);
  const angle = new Float64Array(nH);
  for (let e = 0; e < nE; e++) {
    const a = eA[e], b = eB[e];
    origin[2 * e] = a;
    origin[2 * e + 1] = b;
    leftCell[2 * e] = eL[e];
    leftCell[2 * e + 1] = eR[e];
    countyLeft[2 * e] = eC[e];
    countyLeft[2 * e + 1] = -eC[e];
    angle[2 * e] = Math.atan2(vy[b] - vy[a], vx[b] - vx[a]);
    angle[2 * e + 1] = Math.atan2(vy[a] - vy[b], vx[a] - vx[b]);
  }
  const nV = vx.length;
  const off = new Int32Array(nV + 1);
  for (let h = 0; h < nH; h++) off[origin[h] + 1]++;
  for (let v = 0; v < nV; v++) off[v + 1] += off[v];
  const out = new Int32Array(nH);
  const fill = off.slice(0, nV);
  for (let h = 0; h < nH; h++) out[fill[origin[h]]++] = h;
  const pos = new Int32Array(nH);
  for (let v = 0; v < nV; v++) {
    const lo = off[v], hi = off[v + 1];
    for (let i = lo + 1; i < hi; i++) {
      const h = out[i];
      let j = i - 1;
      while (j >= lo && angle[out[j]] > angle[h]) {
        out[j + 1] = out[j];
        j--;
      }
      out[j + 1] = h;
    }
    for (let i = lo; i < hi; i++) pos[out[i]] = i;
  }
  /** Next half-edge around the face on the left of h: the first outgoing edge clockwise from twin(h). */
  const next = (h: number): number => {
    const t = h ^ 1;
    const v = origin[t];
    const lo = off[v], hi = off[v + 1];
    let i = pos[t] - 1;
    if (i < lo) i = hi - 1;
    return out[i];
  };

  // ---- faces ---------------------------------------------------------------------------------
  const faceOf = new Int32Array(nH).fill(-1);
  const faceCell: number[] = [];
  const faceArea: number[] = [];
  const faceStart: number[] = [];
  for (let h0 = 0; h0 < nH; h0++) {
    if (faceOf[h0] !== -1) continue;
    const f = faceCell.length;
    let cell = -1;
    let area = 0;
    let h = h0;
    let guard = 0;
    do {
      faceOf[h] = f;
      if (leftCell[h] >= 0) {
        if (cell >= 0 && cell !== leftCell[h]) { labelConflicts++; if (process.env.PDEBUG) console.log("faceconf", f, cell, leftCell[h], vx[origin[h]] + ox, vy[origin[h]] + oy); }
        cell = leftCell[h];
      }
      const a = origin[h], b = origin[h ^ 1];
      area += vx[a] * vy[b] - vx[b] * vy[a];
      h = next(h);
      if (++guard > nH) throw new Error('partition: face walk did not close');
    } while (h !== h0);
    faceCell.push(cell);
    faceArea.push(area);
    faceStart.push(h0);
  }
  const nF = faceCell.length;
  const faceEdges = (f: number, visit: (h: number) => void) => {
    const h0 = faceStart[f];
    let h = h0;
    do {
      visit(h);
      h = next(h);
    } while (h !== h0);
  };
  // Faces bounded only by boundary edges take the Voronoi cell of a neighbour across a boundary edge.
  for (let changed = true; changed; ) {
    changed = false;
    for (let f = 0; f < nF; f++) {
      if (faceCell[f] >= 0) continue;
      faceEdges(f, (h) => {
        if (faceCell[f] < 0 && leftCell[h] < 0 && leftCell[h ^ 1] < 0) {
          const c = faceCell[faceOf[h ^ 1]];
          if (c >= 0) {
            faceCell[f] = c;
            changed = true;
          }
        }
      });
    }
  }
  // Winding number of the boundary ring for every face (non-zero rule), from the unbounded face.
  let unbounded = 0;
  for (let f = 1; f < nF; f++) if (faceArea[f] < faceArea[unbounded]) unbounded = f;
  const winding = new Int32Array(nF);
  const known = new Uint8Array(nF);
  known[unbounded] = 1;
  const queue = [unbounded];
  for (let qi = 0; qi < queue.length; qi++) {
    const f = queue[qi];
    faceEdges(f, (h) => {
      const g = faceOf[h ^ 1];
      if (known[g]) return;
      known[g] = 1;
      // w(left of twin) = w(left of h) + net traversals in the twin's direction
      winding[g] = winding[f] + countyLeft[h ^ 1];
      queue.push(g);
    });
  }
  const faceInside: boolean[] = [];
  for (let f = 0; f < nF; f++) faceInside.push(faceCell[f] >= 0 && faceArea[f] > 0 && winding[f] !== 0);

  const group = <K>(keyOf: (site: number) => K | null): Map<K, MultiPolygonCoords> => {
    const keyIds = new Map<K, number>();
    const keys: K[] = [];
    const gidOfFace = new Int32Array(faceCell.length).fill(-1);
    for (let f = 0; f < faceCell.length; f++) {
      if (!faceInside[f]) continue;
      const k = keyOf(faceCell[f]);
      if (k === null) continue;
      let g = keyIds.get(k);
      if (g === undefined) {
        g = keys.length;
        keys.push(k);
        keyIds.set(k, g);
      }
      gidOfFace[f] = g;
    }
    const gidOf = (h: number) => gidOfFace[faceOf[h]];
    const isBoundary = (h: number) => {
      const g = gidOf(h);
      return g >= 0 && gidOf(h ^ 1) !== g;
    };
    const nextBoundary = (h: number): number => {
      const t = h ^ 1;
      const v = origin[t];
      const lo = off[v], hi = off[v + 1];
      let i = pos[t];
      for (let k = lo; k < hi; k++) {
        i = i - 1 < lo ? hi - 1 : i - 1;
        if (isBoundary(out[i])) return out[i];
      }
      throw new Error('partition: open boundary');
    };
    const cycles: number[][][] = keys.map(() => []);
    const seen = new Uint8Array(nH);
    for (let h0 = 0; h0 < nH; h0++) {
      if (seen[h0] || !isBoundary(h0)) continue;
      const walk: number[] = [];
      let h = h0;
      let guard = 0;
      do {
        seen[h] = 1;
        walk.push(origin[h]);
        h = nextBoundary(h);
        if (++guard > nH) throw new Error('partition: boundary walk did not close');
      } while (h !== h0);
      for (const c of splitCycle(walk)) cycles[gidOf(h0)].push(c);
    }
    const result = new Map<K, MultiPolygonCoords>();
    const toDeg = (ids: number[]): number[][] => {
      const ring = ids.map((v) => [(vx[v] + ox) / SCALE, (vy[v] + oy) / SCALE]);
      ring.push([ring[0][0], ring[0][1]]);
      return ring;
    };
    for (let g = 0; g < keys.length; g++) {
      const outers: { ids: number[]; area: number; holes: number[][] }[] = [];
      const holes: number[][] = [];
      for (const c of cycles[g]) {
        const a = ringArea2(vx, vy, c);
        if (a > 0) outers.push({ ids: c, area: a, holes: [] });
        else if (a < 0) holes.push(c);
      }
      outers.sort((p, q) => p.area - q.area);
      for (const hole of holes) {
        const a = hole[0], b = hole[1];
        const len = Math.hypot(vx[b] - vx[a], vy[b] - vy[a]);
        const qx = (vx[a] + vx[b]) / 2 - ((vy[b] - vy[a]) / len) * 0.01;
        const qy = (vy[a] + vy[b]) / 2 + ((vx[b] - vx[a]) / len) * 0.01;
        const owner = outers.find((o) => pointInIds(qx, qy, vx, vy, o.ids));
        if (owner) owner.holes.push(hole);
      }
      outers.sort((p, q) => q.area - p.area);
      result.set(
        keys[g],
        outers.map((o) => [toDeg(o.ids), ...o.holes.map(toDeg)]),
      );
    }
    return result;
  };

  return {
    siteCount: sitesDeg.length,
    stats: { vertices: nV, edges: nE, faces: nF, crossings, labelConflicts },
    group,
  };
}
