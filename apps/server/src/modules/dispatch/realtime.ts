import type { WebSocket } from 'ws';
import type { Actor } from '../../platform/access.js';
import type { EventBus } from '../../platform/bus.js';
import type { Database } from '../../platform/db/index.js';
import { INCIDENT_EVENTS, eventsAfter, lastEventSeq, type IncidentEventRow, type PrefetchedEvents } from './events.js';

/** A connected command screen (sees its node and below) or terminal (sees its units' events). */
export interface Subscriber {
  socket: WebSocket;
  actor: Actor;
  mode: 'command' | 'terminal';
  unitIds: Set<string>;
  /** Last seq sent to this subscriber. */
  lastSeq: number;
  live: boolean;
}

export type EventPresenter = (event: IncidentEventRow, sub: Subscriber) => Promise<Record<string, unknown> | null>;

/** The bounded replay of a reconnecting client (see RealtimeHub.replay). */
export interface ReplayWindow {
  maxEvents: number;
  maxAgeMs: number;
  /** What a resynced client may see now: its open incidents or its units' tasks. */
  snapshot: (sub: Subscriber) => Promise<Record<string, unknown>>;
  now: () => Date;
}

const RING_SIZE = 20_000;
const CATCH_UP_BATCH = 2000;
const MAX_PREFETCHED = 100;

/**
 * Pushes committed incident events to WebSocket subscribers of this instance. Every instance hears
 * "events up to N are committed" on the bus (PostgreSQL NOTIFY across instances), reads the new
 * events once from the database and fans them out, so a dispatch made on instance A reaches a
 * terminal connected to instance B. A subscriber that reconnects with `since` gets everything after
 * it, from a ring of recent events or from the database, before it goes live: nothing is missed.
 */
export class RealtimeHub {
  private subscribers = new Set<Subscriber>();
  private ring: IncidentEventRow[] = [];
  private lastSeq = 0;
  /** The catch-up loop (reads of committed events; see `catchUp`). */
  private catchingUp: Promise<void> = Promise.resolve();
  private catchUpRunning = false;
  /**
   * Everything that moves the hub forward or replays to a subscriber runs here, one step at a time:
   * taking events into the ring and pushing them, and a new subscriber's replay. Reads of the database
   * by the catch-up loop are not steps, so a commit's prefetched events are pushed at once instead of
   * waiting for a read that is under way.
   */
  private serial: Promise<void> = Promise.resolve();
  /** Count of announcements heard, to tell whether one arrived during a read. */
  private announced = 0;
  /** Prefetched reads offered and not yet taken (see `offer`). */
  private offered = 0;
  private unsubscribe: (() => void) | null = null;
  /** Called with the new events of a prefetched read before they are pushed (the routes keep its briefings). */
  onPrefetched: ((events: readonly IncidentEventRow[], prefetched: PrefetchedEvents) => void) | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  /** Counters for /metrics and tests. */
  stats = { delivered: 0, subscribers: 0, presentFailed: 0, resyncs: 0, prefetched: 0 };

  constructor(
    private readonly database: Database,
    private readonly present: EventPresenter,
  ) {}

  async start(bus: EventBus) {
    this.lastSeq = await lastEventSeq(this.database);
    this.unsubscribe = bus.subscribe(INCIDENT_EVENTS, () => this.catchUp());
    this.heartbeat = setInterval(() => {
      for (const s of this.subscribers) {
        if (s.socket.readyState === s.socket.OPEN) s.socket.ping();
      }
    }, 20_000);
    this.heartbeat.unref();
  }

  stop() {
    this.unsubscribe?.();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const s of this.subscribers) s.socket.close(1001, 'server shutting down');
    this.subscribers.clear();
  }

  get currentSeq() {
    return this.lastSeq;
  }

  /** Resolves once every announced event has been read and pushed. */
  async settled() {
    await this.catchingUp;
    await this.serial;
  }

  /** Run a step after the steps before it (a failed step does not stop the ones after it). */
  private step<T>(work: () => Promise<T>): Promise<T> {
    const done = this.serial.then(work);
    this.serial = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  /**
   * A read made right behind a commit of this instance: its events new to the hub are pushed as the
   * next step, before the commit is even announced. One that starts past the hub's position would
   * leave a gap: it is let go, and the catch-up read that the announcement starts brings those events.
   */
  offer(prefetched: PrefetchedEvents) {
    if (!this.unsubscribe) return;
    // Only an optimisation: while steps are stuck (a presenter waits on the database), too many are let go.
    if (this.offered >= MAX_PREFETCHED) return;
    this.offered++;
    void this.step(async () => {
      this.offered--;
      if (prefetched.after > this.lastSeq) return;
      const fresh = prefetched.events.filter((e) => e.seq > this.lastSeq);
      if (fresh.length === 0) return;
      this.onPrefetched?.(fresh, prefetched);
      this.stats.prefetched += fresh.length;
      await this.accept(fresh);
    });
  }

  /**
   * Read and push every committed event not seen yet. Announcements coalesce: while a catch-up runs,
   * later ones only ask for one more read, so a burst of commits costs one read per round, not one per
   * commit; a read that finds nothing while no announcement came in the meantime ends the round.
   * A commit of this instance offers the events read right behind it (everything after `after`, as of
   * just after that commit) before it is announced (`offer`): those are pushed without waiting for this
   * loop. They never end a round: a read of the hub's own still follows, as another commit may have
   * been announced before and seen after that one's read. What a read brings that a prefetched read
   * pushed meanwhile is dropped by seq when its step runs.
   */
  private catchUp() {
    this.announced++;
    if (this.catchUpRunning) return;
    this.catchUpRunning = true;
    this.catchingUp = this.catchingUp.then(async () => {
      try {
        for (;;) {
          const heard = this.announced;
          const batch = await eventsAfter(this.database.db, this.lastSeq, CATCH_UP_BATCH).catch(() => []);
          if (batch.length === 0) {
            // An announcement heard during the read may be of a commit the read did not see: read again.
            if (heard !== this.announced) continue;
            break;
          }
          await this.step(async () => {
            const fresh = batch.filter((e) => e.seq > this.lastSeq);
            if (fresh.length > 0) await this.accept(fresh);
          });
          // A short batch read after the last announcement holds everything committed before it: done,
          // without one more (empty) read. Seqs are assigned at commit under the head's lock, so a
          // visible seq means every lower one is visible too.
          if (batch.length < CATCH_UP_BATCH && heard === this.announced) break;
        }
      } finally {
        this.catchUpRunning = false;
      }
    });
  }

  /** Take events in seq order (the next after lastSeq) into the ring and push them to live subscribers (a step). */
  private async accept(batch: readonly IncidentEventRow[]) {
    for (const e of batch) {
      this.ring.push(e);
      this.lastSeq = e.seq;
    }
    if (this.ring.length > RING_SIZE) this.ring.splice(0, this.ring.length - RING_SIZE);
    await this.deliverAll([...this.subscribers].filter((sub) => sub.live), batch);
  }

  /**
   * Push a batch to several subscribers: every message is prepared at once (briefings are read in
   * parallel, not one after another), then each subscriber gets its own in seq order.
   */
  private async deliverAll(subs: readonly Subscriber[], events: readonly IncidentEventRow[]) {
    const plans = subs.map((sub) => {
      const prepared: { seq: number; message: Promise<Record<string, unknown> | null> }[] = [];
      for (const e of events) {
        if (e.seq <= sub.lastSeq || !this.matches(e, sub)) continue;
        // A presenter that fails (the database is away) must not stop the stream: the event goes without it.
        prepared.push({ seq: e.seq, message: this.present(e, sub).catch(() => ((this.stats.presentFailed++), { type: 'event', seq: e.seq, incidentId: e.incidentId, event: e.type, at: e.at.toISOString(), data: e.data, incomplete: true })) });
      }
      return { sub, prepared };
    });
    for (const { sub, prepared } of plans) {
      for (const p of prepared) {
        const message = await p.message;
        if (p.seq <= sub.lastSeq) continue;
        sub.lastSeq = p.seq;
        if (message && sub.socket.readyState === sub.socket.OPEN) {
          sub.socket.send(JSON.stringify(message));
          this.stats.delivered++;
        }
      }
      const last = events.at(-1)?.seq ?? 0;
      if (last > sub.lastSeq) sub.lastSeq = last;
    }
  }

  private matches(e: IncidentEventRow, sub: Subscriber) {
    if (sub.mode === 'terminal') return e.unitIds.some((u) => sub.unitIds.has(u));
    return e.nodePath.startsWith(sub.actor.nodePath);
  }

  /**
   * How far back a reconnecting client may resume. Beyond it (more events missed than `maxEvents`, or
   * the first missed one older than `maxAgeMs`) a replay would flood a screen that only needs the
   * present, so it gets `{type:'resync'}` with a snapshot of what it may see instead (set by the routes).
   */
  replay: ReplayWindow = { maxEvents: 10_000, maxAgeMs: 30 * 60_000, snapshot: async () => ({}), now: () => new Date() };

  /** Why `since` cannot be resumed by replay, or null when it can. */
  private async resyncReason(since: number): Promise<'too_far_behind' | 'unknown_seq' | null> {
    if (since > this.lastSeq) {
      // Ahead of this instance is fine when another instance saw it first; ahead of the database is not.
      return since > (await lastEventSeq(this.database)) ? 'unknown_seq' : null;
    }
    if (since === this.lastSeq) return null;
    if (this.lastSeq - since > this.replay.maxEvents) return 'too_far_behind';
    const inRing = this.ring.length > 0 && this.ring[0]!.seq <= since + 1 ? this.ring.find((e) => e.seq > since) : undefined;
    const first = inRing ?? (await eventsAfter(this.database.db, since, 1))[0];
    if (first && this.replay.now().getTime() - first.at.getTime() > this.replay.maxAgeMs) return 'too_far_behind';
    return null;
  }

  /** Add a subscriber; replay everything after `since` (in its scope), or resync it, then go live. */
  async add(sub: Subscriber, since: number | null) {
    this.subscribers.add(sub);
    this.stats.subscribers = this.subscribers.size;
    sub.socket.on('close', () => {
      this.subscribers.delete(sub);
      this.stats.subscribers = this.subscribers.size;
    });
    // A step of its own, so the replay and the live stream cannot interleave.
    const step = this.step(async () => {
      const reason = since === null ? null : await this.resyncReason(since);
      if (since === null) {
        sub.lastSeq = this.lastSeq;
      } else if (reason) {
        // The snapshot is read after every event up to lastSeq was seen: it reflects at least those.
        const seq = this.lastSeq;
        const snapshot = await this.replay.snapshot(sub);
        sub.lastSeq = seq;
        this.stats.resyncs++;
        if (sub.socket.readyState === sub.socket.OPEN) sub.socket.send(JSON.stringify({ type: 'resync', reason, since, seq, snapshot }));
      } else {
        sub.lastSeq = since;
        const first = this.ring[0]?.seq ?? this.lastSeq + 1;
        if (since + 1 < first) {
          let from = since;
          while (from < this.lastSeq) {
            const batch = await eventsAfter(this.database.db, from, 2000);
            if (batch.length === 0) break;
            await this.deliverAll([sub], batch.filter((e) => e.seq <= this.lastSeq));
            from = batch.at(-1)!.seq;
          }
        }
        await this.deliverAll([sub], this.ring.filter((e) => e.seq > sub.lastSeq));
      }
      sub.live = true;
      if (sub.socket.readyState === sub.socket.OPEN) sub.socket.send(JSON.stringify({ type: 'live', seq: this.lastSeq }));
    });
    // A failed replay (the database is away) ends this connection, never the hub's steps.
    try {
      await step;
    } catch {
      this.subscribers.delete(sub);
      this.stats.subscribers = this.subscribers.size;
      sub.socket.close(1011, 'could not replay the missed events; reconnect');
    }
  }
}
