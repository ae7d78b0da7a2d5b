/** Worker for province-parallel.ts: builds the cells of the counties it is given, packed for transfer. */
import { parentPort, workerData } from 'node:worker_threads';
import { buildCountyCells, readCounties } from './province.js';

export interface PackedCounty {
  county: number;
  codes: string[];
  /** closed rings, x,y pairs */
  coords: Float64Array;
  /** per cell: parts, then per part: rings, then per ring: vertices */
  shape: Uint32Array;
  sites: number;
  dropped: number;
}

const { counties: todo, step, seed } = workerData as { counties: number[]; step: number; seed: number };
const counties = readCounties();
for (const ci of todo) {
  const { cells, sites, dropped } = buildCountyCells(counties[ci], step, seed);
  let doubles = 0, shapeLen = 0;
  for (const c of cells) {
    shapeLen++;
    for (const part of c.geometry.coordinates) {
      shapeLen++;
      for (const ring of part) {
        shapeLen++;
        doubles += 2 * ring.length;
      }
    }
  }
  const coords = new Float64Array(doubles);
  const shape = new Uint32Array(shapeLen);
  let k = 0, s = 0;
  for (const c of cells) {
    shape[s++] = c.geometry.coordinates.length;
    for (const part of c.geometry.coordinates) {
      shape[s++] = part.length;
      for (const ring of part) {
        shape[s++] = ring.length;
        for (const [x, y] of ring) {
          coords[k++] = x;
          coords[k++] = y;
        }
      }
    }
  }
  const msg: PackedCounty = { county: ci, codes: cells.map((c) => c.code), coords, shape, sites, dropped };
  parentPort!.postMessage(msg, [coords.buffer, shape.buffer]);
}
