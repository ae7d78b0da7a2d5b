import WebSocket from 'ws';

/** A message of /api/ws as tests read it. */
export interface StreamMessage {
  type: string;
  seq?: number;
  since?: number | null;
  reason?: string;
  event?: string;
  incidentId?: string;
  data?: Record<string, unknown>;
  briefing?: { calls: { callerPhone: string }[]; incident: { number: string; id: string }; plan: { name: string } };
  snapshot?: {
    incidents?: { id: string; number: string; status: string }[];
    truncated?: boolean;
    tasks?: { assignmentId: string; unitId: string; incidentId: string; status: string; briefing: { incident: { id: string; number: string } } | null; instructions: string[] }[];
  };
}

export interface StreamClient {
  ws: WebSocket;
  messages: StreamMessage[];
  /** The first message (already received or still to come) that matches. */
  waitFor(pred: (m: StreamMessage) => boolean, ms?: number): Promise<StreamMessage>;
  /** Resolves with the close code once the socket is closed. */
  closed: Promise<number>;
  close(): void;
}

/** A real WebSocket client of /api/ws that collects every message it receives. */
export async function connectStream(url: string, headers: Record<string, string> = {}): Promise<StreamClient> {
  const ws = new WebSocket(url, { headers });
  const messages: StreamMessage[] = [];
  const waiters: { pred: (m: StreamMessage) => boolean; resolve: (m: StreamMessage) => void }[] = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw)) as StreamMessage;
    messages.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waitFor = (pred: (m: StreamMessage) => boolean, ms = 10_000) => {
    const found = messages.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<StreamMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(messages.slice(-20).map((m) => `${m.type}:${m.event ?? ''}:${m.seq ?? ''}`))}`)),
        ms,
      );
      waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  };
  return { ws, messages, waitFor, closed, close: () => ws.close() };
}
