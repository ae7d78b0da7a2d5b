import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './db/index.js';

/**
 * Cross-instance domain events. Payloads are small (ids and sequence numbers); receivers read
 * what they need from the database, which stays the source of truth.
 */
/** The most a message's payload may take as JSON: a PostgreSQL NOTIFY carries under 8,000 bytes (the envelope takes the rest). */
export const MAX_PAYLOAD_BYTES = 7_800;

export interface EventBus {
  publish(topic: string, payload: Record<string, unknown>): Promise<void>;
  /** Several messages of one topic at once (PostgreSQL: one statement); each payload within MAX_PAYLOAD_BYTES. */
  publishAll(topic: string, payloads: readonly Record<string, unknown>[]): Promise<void>;
  /**
   * An announcement that leaves with a transaction's commit, for a writer that already sends a
   * statement in it: an SQL expression to select in that transaction (PostgreSQL NOTIFY is delivered
   * at commit, never on rollback), or null when this bus cannot (then `publish` after commit). After
   * the commit, `publishLocal` tells this instance's own subscribers.
   */
  notifyOnCommit(topic: string, payload: Record<string, unknown>): SQL | null;
  publishLocal(topic: string, payload: Record<string, unknown>): void;
  /**
   * Whether another instance was heard from lately (every instance says hello when it starts and
   * every HELLO_MS). Publishers of high-volume, best-effort news (which units moved) may hold it back
   * while no one else listens; commands' events always go.
   */
  hasPeers(): boolean;
  subscribe(topic: string, handler: (payload: Record<string, unknown>) => void): () => void;
  close(): Promise<void>;
}

/** In one process (embedded engine): a plain emitter. */
export function createLocalBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(topic, payload) {
      emitter.emit(topic, payload);
    },
    async publishAll(topic, payloads) {
      for (const payload of payloads) emitter.emit(topic, payload);
    },
    hasPeers: () => false,
    notifyOnCommit: () => null,
    publishLocal(topic, payload) {
      emitter.emit(topic, payload);
    },
    subscribe(topic, handler) {
      emitter.on(topic, handler);
      return () => emitter.off(topic, handler);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/**
 * Across instances on one PostgreSQL: LISTEN/NOTIFY on one channel. The sender's own subscribers get
 * an event at once (not after a round trip through the database); other instances get it through
 * NOTIFY, and each instance ignores the echo of its own events.
 */
/** How often an instance on PostgreSQL says hello on the bus; a peer not heard from for 3× this is gone. */
export const HELLO_MS = 10_000;
const HELLO_TOPIC = 'bus.hello';

export async function createPostgresBus(database: Database, channel = 'pingan_events'): Promise<EventBus> {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const instance = randomUUID();
  // The sender's id leads the message, so the echo of our own (thousands of unit ids a second from
  // the live positions) is dropped without parsing it.
  const envelope = (topic: string, payload: Record<string, unknown>) => `{"from":"${instance}","topic":${JSON.stringify(topic)},"payload":${JSON.stringify(payload)}}`;
  const own = `{"from":"${instance}"`;
  let peerHeardAt = Number.NEGATIVE_INFINITY;
  const hello = (reply: boolean) => database.notify(channel, envelope(HELLO_TOPIC, { reply })).catch(() => undefined);
  const stop = await database.listen(channel, (raw) => {
    if (raw.startsWith(own)) return;
    try {
      const { topic, payload, from } = JSON.parse(raw) as { topic: string; payload: Record<string, unknown>; from?: string };
      if (from === instance) return;
      peerHeardAt = Date.now();
      if (topic === HELLO_TOPIC) {
        // A newcomer asks who is there; answering at once lets it count us without waiting for our next hello.
        if (payload.reply === true) void hello(false);
        return;
      }
      emitter.emit(topic, payload);
    } catch {
      // A foreign or malformed notification on our channel is ignored, never fatal.
    }
  });
  void hello(true);
  const helloTimer = setInterval(() => void hello(false), HELLO_MS);
  helloTimer.unref();
  return {
    async publish(topic, payload) {
      emitter.emit(topic, payload);
      await database.notify(channel, envelope(topic, payload));
    },
    async publishAll(topic, payloads) {
      for (const payload of payloads) emitter.emit(topic, payload);
      await database.notify(channel, payloads.map((payload) => envelope(topic, payload)));
    },
    notifyOnCommit(topic, payload) {
      return sql`pg_notify(${channel}, ${envelope(topic, payload)})`;
    },
    hasPeers: () => Date.now() - peerHeardAt < 3 * HELLO_MS,
    publishLocal(topic, payload) {
      emitter.emit(topic, payload);
    },
    subscribe(topic, handler) {
      emitter.on(topic, handler);
      return () => emitter.off(topic, handler);
    },
    async close() {
      clearInterval(helloTimer);
      await stop();
      emitter.removeAllListeners();
    },
  };
}
