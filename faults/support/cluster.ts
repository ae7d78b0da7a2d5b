import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A private PostgreSQL cluster of one test, in a temp dir on a port of its own, that the test may stop
 * and start under load. The machine's PostgreSQL is never touched (other people's tests use it).
 * PostgreSQL refuses to run as root, so the cluster belongs to the `postgres` user.
 */
export interface PrivateCluster {
  url: string;
  port: number;
  dir: string;
  start(): Promise<void>;
  /** `fast`: clients are disconnected, a clean shutdown; `immediate`: a crash, recovery at the next start. */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  destroy(): Promise<void>;
}

const BIN = '/usr/lib/postgresql/15/bin';

/** Why a private cluster cannot be made here, or null when it can. */
export function privateClusterUnavailable(): string | null {
  if (!fs.existsSync(path.join(BIN, 'initdb')) || !fs.existsSync(path.join(BIN, 'pg_ctl'))) return `no PostgreSQL 15 binaries in ${BIN}`;
  if (process.getuid?.() !== 0) return 'needs root to run initdb as the postgres user (runuser)';
  if (!fs.existsSync('/usr/sbin/runuser') && !fs.existsSync('/sbin/runuser')) return 'no runuser';
  try {
    fs.accessSync('/usr/share/postgresql/15/extension/postgis.control');
  } catch {
    return 'PostGIS is not installed for PostgreSQL 15';
  }
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const asPostgres = (cmd: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', path.join(BIN, cmd), ...args], { timeout: 120_000 });

export async function createPrivateCluster(): Promise<PrivateCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pingan-pgcluster-'));
  fs.chmodSync(dir, 0o700);
  await run('chown', ['postgres:postgres', dir]);
  await asPostgres('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '--no-instructions', '-E', 'UTF8', '--locale=C.UTF-8']);
  const port = await freePort();
  const log = path.join(dir, 'server.log');
  // Small and durable: fsync and synchronous_commit stay on (the defaults); the socket goes to /tmp.
  const options = `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=60 -c shared_buffers=32MB`;
  const cluster: PrivateCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async start() {
      await asPostgres('pg_ctl', ['-D', dir, '-o', options, '-l', log, '-w', '-t', '60', 'start']);
    },
    async stop(mode) {
      await asPostgres('pg_ctl', ['-D', dir, '-m', mode, '-w', '-t', '60', 'stop']);
    },
    async destroy() {
      if (fs.existsSync(path.join(dir, 'postmaster.pid'))) await cluster.stop('immediate').catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
