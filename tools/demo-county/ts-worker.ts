/** Start a worker thread on a TypeScript module (registers tsx inside the worker first). */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function tsWorker(url: URL, options: WorkerOptions = {}): Worker {
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
