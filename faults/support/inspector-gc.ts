import WebSocket from 'ws';
import type { ServerProcess } from '../../apps/server/src/testing/server-process.js';

/**
 * Runs a full garbage collection in a server process started with `--inspect=127.0.0.1:0`
 * (PINGAN_SERVER_NODE_ARGS), through the inspector protocol on loopback: memory read afterwards is
 * what is still referenced, not what the collector has not got round to yet. No debug route needed.
 */
export async function collectGarbage(server: ServerProcess): Promise<void> {
  const m = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(server.output());
  if (!m) throw new Error('the server was not started with --inspect=127.0.0.1:0');
  const ws = new WebSocket(m[1]!);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to HeapProfiler.collectGarbage within 60 s')), 60_000);
      ws.on('message', (raw) => {
        const msg = JSON.parse(String(raw)) as { id?: number; error?: { message: string } };
        if (msg.id !== 1) return;
        clearTimeout(timer);
        if (msg.error) reject(new Error(msg.error.message));
        else resolve();
      });
      ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    });
  } finally {
    ws.close();
  }
}
