import net from 'node:net';
import WebSocket from 'ws';

/** A message of /api/ws as the faults suite reads it. */
export interface StreamMessage {
  type: string;
  seq?: number;
  event?: string;
  incidentId?: string;
}

/** A real WebSocket client of /api/ws (command screen or terminal) that keeps every message in order. */
export interface Stream {
  messages: StreamMessage[];
  /** Resolves with the close code once the socket is closed (1006 when the server died). */
  closed: Promise<number>;
  /** Last event seq received. */
  lastSeq(): number;
  /** Resolves once a `live` message came (the replay is done). */
  live: Promise<StreamMessage>;
  close(): void;
}

export async function openStream(url: string): Promise<Stream> {
  const ws = new WebSocket(url);
  const messages: StreamMessage[] = [];
  let onLive: (m: StreamMessage) => void = () => undefined;
  const live = new Promise<StreamMessage>((resolve) => (onLive = resolve));
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw)) as StreamMessage;
    messages.push(m);
    if (m.type === 'live') onLive(m);
  });
  ws.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket refused: ${res.statusCode}`)));
    ws.once('close', (code, reason) => reject(new Error(`WebSocket closed before it opened: ${code} ${String(reason)}`)));
  });
  return {
    messages,
    closed,
    live,
    lastSeq: () => messages.reduce((s, m) => (m.type === 'event' && typeof m.seq === 'number' ? m.seq : s), 0),
    close: () => ws.close(),
  };
}

/** Whether something accepts TCP connections at host:port (e.g. Redis), within a second. */
export function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
