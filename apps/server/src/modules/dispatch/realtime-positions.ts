import type { WebSocket } from 'ws';
import { z } from 'zod';
import { coversPath, type Actor } from '../../platform/access.js';
import type { AppContext, ZodApp } from '../../platform/context.js';
import { presentLive } from '../units/routes.js';
import { UNIT_ROLES } from '../units/service.js';
import { unitsRuntime, type UnitsRuntime } from '../units/runtime.js';

const Settings = z.object({
  /** At most one positions message per command screen per this many ms (changes in between coalesce). */
  PINGAN_POSITION_PUSH_MS: z.coerce.number().int().min(50).default(1000),
});

/** A socket whose send buffer holds more than this is behind: it gets a full snapshot once it drains. */
const BEHIND_BYTES = 1 << 20;

interface Viewer {
  socket: WebSocket;
  /** The viewer's jurisdiction: only units whose home is at or below it are sent (access by place). */
  nodePath: string;
  /** Skipped a message while its buffer was full: next time it gets everything in its jurisdiction. */
  behind: boolean;
}

/**
 * Live unit positions pushed to command screens over /api/ws (issue 6): the units runtime tells which
 * units changed (its own fan-out tick, or another instance's via the bus / Redis); every
 * PINGAN_POSITION_PUSH_MS at most, each screen gets one `{type:'positions', items, removed}` message
 * with the changes inside its jurisdiction. Screens with the same jurisdiction share one serialized
 * message. On connect a screen gets `{type:'positions', full:true, items}`: a reconnect resyncs.
 */
export class PositionPush {
  private viewers = new Set<Viewer>();
  private pending = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private stopListening: (() => void) | null = null;
  readonly intervalMs: number;
  /** Counters for tests and /metrics-style inspection. */
  stats = { messages: 0, flushes: 0, snapshots: 0 };

  constructor(private readonly runtime: UnitsRuntime) {
    const parsed = Settings.safeParse(process.env);
    this.intervalMs = (parsed.success ? parsed.data : Settings.parse({})).PINGAN_POSITION_PUSH_MS;
  }

  start(): void {
    this.stopListening ??= this.runtime.onPositions((units) => {
      // No screen open: nothing to send (a screen that opens gets the whole picture first).
      if (this.viewers.size === 0) return;
      for (const u of units) this.pending.set(u.id, u.path);
      this.schedule();
    });
  }

  stop(): void {
    this.stopListening?.();
    this.stopListening = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.viewers.clear();
  }

  /** A command screen: only roles that may read units get positions. */
  add(socket: WebSocket, actor: Actor): void {
    if (!(UNIT_ROLES.readers as readonly string[]).includes(actor.role)) return;
    const viewer: Viewer = { socket, nodePath: actor.nodePath, behind: false };
    this.viewers.add(viewer);
    socket.on('close', () => this.viewers.delete(viewer));
    this.snapshot(viewer);
  }

  private snapshot(v: Viewer): void {
    if (v.socket.readyState !== v.socket.OPEN) return;
    const items = this.runtime.positions.all(v.nodePath).map(presentLive);
    v.socket.send(JSON.stringify({ type: 'positions', full: true, items, removed: [] }));
    v.behind = false;
    this.stats.snapshots++;
  }

  private schedule(): void {
    if (this.timer || this.pending.size === 0) return;
    const wait = Math.max(0, this.intervalMs - (Date.now() - this.lastFlush));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
    this.timer.unref();
  }

  private flush(): void {
    this.lastFlush = Date.now();
    if (this.pending.size === 0 || this.viewers.size === 0) {
      this.pending.clear();
      return;
    }
    const changed = [...this.pending];
    this.pending.clear();
    this.stats.flushes++;
    const byPath = new Map<string, string | null>();
    for (const v of this.viewers) {
      if (v.socket.readyState !== v.socket.OPEN) continue;
      if (v.socket.bufferedAmount > BEHIND_BYTES) {
        v.behind = true;
        continue;
      }
      if (v.behind) {
        this.snapshot(v);
        continue;
      }
      let message = byPath.get(v.nodePath);
      if (message === undefined) {
        message = this.messageFor(v.nodePath, changed);
        byPath.set(v.nodePath, message);
      }
      if (message === null) continue;
      v.socket.send(message);
      this.stats.messages++;
    }
  }

  /** The changes inside one jurisdiction, serialized once for every screen of it (null: none). */
  private messageFor(nodePath: string, changed: [string, string][]): string | null {
    const items: ReturnType<typeof presentLive>[] = [];
    const removed: string[] = [];
    const viewer = { nodePath };
    for (const [id, path] of changed) {
      if (!coversPath(viewer, path)) continue;
      const live = this.runtime.positions.latest(id);
      // The unit moved out of this jurisdiction since (a new home): it is gone from this screen.
      if (live && coversPath(viewer, live.path)) items.push(presentLive(live));
      else removed.push(id);
    }
    return items.length || removed.length ? JSON.stringify({ type: 'positions', items, removed }) : null;
  }
}

/** The app's position push, started and stopped with it; /api/ws adds command screens to it. */
export function installPositionPush(app: ZodApp, ctx: AppContext): PositionPush {
  const push = new PositionPush(unitsRuntime(ctx));
  app.addHook('onReady', async () => push.start());
  app.addHook('onClose', async () => push.stop());
  return push;
}
