/** Small helpers for benchmarks: forced GC, memory snapshots, formatting. */
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gcFn = vm.runInNewContext('gc') as () => void;

export function gc(): void {
  gcFn();
  gcFn();
}

export interface MemSnapshot {
  heap: number;
  external: number;
  rss: number;
}

export function memSnapshot(): MemSnapshot {
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external /* includes ArrayBuffers */, rss: m.rss };
}

export const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

export function fmt(n: number, digits = 0): string {
  return n.toFixed(digits);
}
