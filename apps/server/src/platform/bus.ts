import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './db/index.js';

/**
 * Cross-instance domain events. Payloads are small (ids and sequence numbers); receivers read
 * what they need from the database, which stays the source of truth.
 */
export interface EventBus {
  publish(topic: string, payload: Record<string, unknown>): Promise<void>;
  /**
   * An announcement that leaves with a transaction's commit, for a writer that already sends a
   * statement in it: an SQL expression to select in that transaction (PostgreSQL NOTIFY is delivered
   * at commit, never on rollback), or null when this bus cannot (then `publish` after commit). After
   * the commit, `publishLocal` tells this instance's own subscribers.
   */
  notifyOnCommit(topic: string, payload: Record<string, unknown>): SQL | null;
  publishLocal(topic: string, payload: Record<string, unknown>): void;
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
export async function createPostgresBus(database: Database, channel = 'pingan_events'): Promise<EventBus> {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const instance = randomUUID();
  const stop = await database.listen(channel, (raw) => {
    try {
      const { topic, payload, from } = JSON.parse(raw) as { topic: string; payload: Record<string, unknown>; from?: string };
      if (from === instance) return;
      emitter.emit(topic, payload);
    } catch {
      // A foreign or malformed notification on our channel is ignored, never fatal.
    }
  });
  return {
    async publish(topic, payload) {
      emitter.emit(topic, payload);
      await database.notify(channel, JSON.stringify({ topic, payload, from: instance }));
    },
    notifyOnCommit(topic, payload) {
      return sql`pg_notify(${channel}, ${JSON.stringify({ topic, payload, from: instance })})`;
    },
    publishLocal(topic, payload) {
      emitter.emit(topic, payload);
    },
    subscribe(topic, handler) {
      emitter.on(topic, handler);
      return () => emitter.off(topic, handler);
    },
    async close() {
      await stop();
      emitter.removeAllListeners();
    },
  };
}
