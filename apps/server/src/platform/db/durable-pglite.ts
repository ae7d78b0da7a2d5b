import fs from 'node:fs';
import path from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/**
 * Durable embedded PostgreSQL: PGlite 0.5.8 whose commits reach the disk before they are acknowledged.
 *
 * PGlite on Node starts PostgreSQL with `-F` (fsync off), and even with fsync on its Emscripten NODEFS
 * has no `stream_ops.fsync`, so the WASI `fd_sync` import that PostgreSQL's `fsync()` lands in returns 0
 * without touching the disk. Two changes make it durable (docs/decisions/013-durable-pglite.md):
 *  - start parameters: PGlite's defaults without `-F`, plus `fsync=on`, `synchronous_commit=on` and
 *    `wal_sync_method=fsync` — the build's `fdatasync()` (`__syscall_fdatasync`) is a no-op that never
 *    reaches the filesystem, its `fsync()` (`fd_sync`) does;
 *  - a NodeFS subclass (PGlite's supported `fs` option) that gives NODEFS a `stream_ops.fsync` calling
 *    `fs.fsyncSync` on the real file descriptor (or on the directory), so PostgreSQL's own WAL flush at
 *    commit, its checkpoint syncs and its directory syncs become real fsync(2) calls.
 * The hook is the one piece that leans on Emscripten internals (the NODEFS object, its stream_ops and
 * realPath): `installFsyncHook` checks their shape and fails loudly, and `openDurablePglite` verifies
 * after start-up that a commit really synced. durability.test.ts proves the order with strace.
 */

/** The parts of Emscripten's NODEFS / FS that the hook uses (not in PGlite's public types). */
interface EmscriptenStream {
  path: string;
  nfd?: number;
  node: unknown;
}
interface NodeFsInternals {
  stream_ops: Record<string, unknown> & { fsync?: (stream: EmscriptenStream) => number };
  realPath(node: unknown): string;
}
interface EmscriptenFsInternals {
  filesystems: { NODEFS?: NodeFsInternals };
  ErrnoError: new (errno: number) => Error;
}

const EIO = 29; // Emscripten's errno numbering (ERRNO_CODES.EIO)

export interface SyncCounter {
  /** fsync(2) calls made on PostgreSQL's behalf since the database opened. */
  syncs: number;
  /** of which on WAL segments (pg_wal/…). */
  walSyncs: number;
}

/** NodeFS whose NODEFS mount syncs to the disk when PostgreSQL calls fsync(). */
export class DurableNodeFS extends NodeFS {
  readonly counter: SyncCounter = { syncs: 0, walSyncs: 0 };

  override async init(pg: PGlite, opts: Parameters<NodeFS['init']>[1]): ReturnType<NodeFS['init']> {
    const result = await super.init(pg, opts);
    const preRun = result.emscriptenOpts.preRun ?? [];
    // Before NodeFS's own preRun mounts NODEFS, so every node of the mount gets the hook.
    result.emscriptenOpts.preRun = [(mod) => installFsyncHook(mod.FS as unknown as EmscriptenFsInternals, this.counter), ...preRun];
    return result;
  }
}

export function installFsyncHook(FS: EmscriptenFsInternals, counter: SyncCounter): void {
  const nodefs = FS.filesystems?.NODEFS;
  if (!nodefs || typeof nodefs.stream_ops !== 'object' || typeof nodefs.realPath !== 'function' || typeof FS.ErrnoError !== 'function') {
    throw new Error('PGlite internals changed: Emscripten NODEFS (stream_ops, realPath) not found; the durable embedded mode cannot sync. See docs/decisions/013-durable-pglite.md.');
  }
  if (nodefs.stream_ops.fsync !== undefined) {
    throw new Error('PGlite internals changed: NODEFS already has stream_ops.fsync; re-check docs/decisions/013-durable-pglite.md before relying on it.');
  }
  nodefs.stream_ops.fsync = (stream) => {
    try {
      if (typeof stream.nfd === 'number') {
        fs.fsyncSync(stream.nfd);
      } else {
        // Directories have no host descriptor in NODEFS (it opens only files): open one to sync it.
        const fd = fs.openSync(nodefs.realPath(stream.node), 'r');
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      }
    } catch {
      // PostgreSQL treats a failed fsync as fatal (PANIC) — exactly what must happen.
      throw new FS.ErrnoError(EIO);
    }
    counter.syncs++;
    if (stream.path.includes('/pg_wal/')) counter.walSyncs++;
    return 0;
  };
}

/** PGlite's start parameters with fsync on: its defaults minus `-F`, plus the durable settings. */
export function durableStartParams(): string[] {
  const defaults: readonly string[] | undefined = PGlite.defaultStartParams;
  if (!Array.isArray(defaults) || !defaults.includes('--single')) {
    throw new Error('PGlite internals changed: PGlite.defaultStartParams is missing; the durable embedded mode cannot start. See docs/decisions/013-durable-pglite.md.');
  }
  return [
    ...defaults.filter((p) => p !== '-F'),
    '-c', 'fsync=on',
    '-c', 'synchronous_commit=on',
    '-c', 'wal_sync_method=fsync',
  ];
}

/** Syncs every file and directory of a tree (a freshly created data directory was written unsynced). */
export function fsyncTree(root: string): void {
  const syncPath = (p: string) => {
    const fd = fs.openSync(p, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  };
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) syncPath(p);
    }
    syncPath(dir);
  };
  walk(root);
  syncPath(path.dirname(root));
}

export interface DurablePglite {
  client: PGlite;
  counter: SyncCounter;
}

/**
 * Opens (creating if needed) a data directory with fsync on. Throws if the engine does not report
 * fsync=on / synchronous_commit=on, or if a commit does not reach the fsync hook.
 */
export async function openDurablePglite(dataDir: string, options: Omit<PGliteOptions, 'fs' | 'dataDir' | 'startParams'> = {}): Promise<DurablePglite> {
  fs.mkdirSync(dataDir, { recursive: true });
  const fresh = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  const nodeFs = new DurableNodeFS(dataDir);
  const client = await PGlite.create({ ...options, fs: nodeFs, startParams: durableStartParams() });
  try {
    // PGlite writes a new cluster by unpacking initdb's output, not through PostgreSQL: sync it once.
    if (fresh) fsyncTree(path.resolve(dataDir));
    const settings = await client.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'wal_sync_method')`,
    );
    const setting = (name: string) => settings.rows.find((r) => r.name === name)?.setting;
    if (setting('fsync') !== 'on' || setting('synchronous_commit') !== 'on' || setting('wal_sync_method') !== 'fsync') {
      throw new Error(`durable PGlite did not start durable: ${JSON.stringify(settings.rows)}`);
    }
    // A commit that writes WAL (an xid is assigned) must flush it through the hook before returning.
    const before = nodeFs.counter.walSyncs;
    await client.query(`select pg_logical_emit_message(true, 'pingan', 'durability check')`);
    if (nodeFs.counter.walSyncs === before) {
      throw new Error('durable PGlite: a commit returned without syncing the WAL (PGlite internals changed?). See docs/decisions/013-durable-pglite.md.');
    }
    return { client, counter: nodeFs.counter };
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
}
