// COPY … FROM STDIN on a thread of its own (see copyIn in index.ts): the protocol's round trips
// (CopyInResponse, CommandComplete) and the socket writes are handled here, not behind the HTTP
// work queued on the main event loop. Plain JavaScript, so it needs no TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const pool = new pg.Pool({
  connectionString: workerData.url,
  max: workerData.max,
  connectionTimeoutMillis: 3000,
  idleTimeoutMillis: 30_000,
  statement_timeout: 30_000,
});
pool.on('error', () => undefined);
// A connection lost while handed out (database restart) fails its COPY; it must not end the thread.
pool.on('connect', (client) => client.on('error', () => undefined));

parentPort.on('message', async (m) => {
  if (m.type === 'close') {
    await pool.end().catch(() => undefined);
    parentPort.close();
    return;
  }
  let client;
  try {
    client = await pool.connect();
    await new Promise((resolve, reject) => {
      const stream = client.query(copyFrom(m.text));
      stream.once('finish', resolve);
      stream.once('error', reject);
      stream.end(Buffer.from(m.data, m.offset ?? 0, m.length ?? m.data.byteLength));
    });
    client.release();
    // The server has answered, so every byte has left: the memory goes back for the next body. After
    // a failure it is not sent back (a write may still be under way), and is collected.
    parentPort.postMessage({ id: m.id, ok: true, data: m.data }, [m.data]);
  } catch (err) {
    // A server error leaves the connection usable; anything else (socket) may not: drop it.
    const code = err && typeof err === 'object' ? err.code : undefined;
    client?.release(typeof code === 'string' ? undefined : err);
    parentPort.postMessage({ id: m.id, ok: false, message: String(err?.message ?? err), code, detail: err?.detail });
  }
});
