/**
 * Lookup worker for bench/grid.ts: answers points from the GridIndex's shared cell lookup (no copy of
 * the polygons). Message { points, out, from, to, rounds } → answers out[from..to) `rounds` times and
 * replies with the elapsed milliseconds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CellLookup, type SharedCellLookup } from '../../apps/server/src/modules/jurisdiction/geo/cell-grid.js';

const lookup = new CellLookup(workerData as SharedCellLookup);

export interface LookupJob {
  points: Float64Array;
  out: Int32Array;
  from: number;
  to: number;
  rounds: number;
}

parentPort!.on('message', (job: LookupJob) => {
  const t = performance.now();
  for (let r = 0; r < job.rounds; r++) lookup.lookupMany(job.points, job.out, job.from, job.to);
  parentPort!.postMessage(performance.now() - t);
});
parentPort!.postMessage('ready');
