import { ApiError, api } from '../../api/client';

/**
 * The terminal's offline queue: status changes and positions wait in localStorage and are sent in the
 * order they were made. A status change is sent once: the server's transition rules refuse a repeat
 * (409), which the queue takes as "already there" and drops, so a change whose answer was lost on a bad
 * connection is never applied twice.
 */
export type OutboxItem =
  | { id: string; kind: 'status'; assignmentId: string; status: string; lon?: number; lat?: number; at: string }
  | { id: string; kind: 'position'; unitId: string; t: string; lon: number; lat: number; accuracy: number | null; speed: number | null; heading: number | null };

export class Outbox {
  private flushing: Promise<void> | null = null;
  private listeners = new Set<() => void>();

  constructor(private readonly key: string) {}

  items(): OutboxItem[] {
    try {
      const v = JSON.parse(localStorage.getItem(this.key) ?? '[]') as unknown;
      return Array.isArray(v) ? (v as OutboxItem[]) : [];
    } catch {
      return [];
    }
  }

  private save(items: OutboxItem[]) {
    localStorage.setItem(this.key, JSON.stringify(items));
    for (const l of this.listeners) l();
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  push(item: OutboxItem) {
    const items = this.items();
    // Keep at most the last 500 positions so a long outage cannot fill the storage.
    const positions = items.filter((i) => i.kind === 'position').length;
    const trimmed = positions >= 500 ? items.filter((i, n) => !(i.kind === 'position' && n === items.findIndex((x) => x.kind === 'position'))) : items;
    this.save([...trimmed, item]);
  }

  private drop(ids: Set<string>) {
    this.save(this.items().filter((i) => !ids.has(i.id)));
  }

  /** Send everything in order; stops at the first network failure (the rest waits for the next flush). */
  flush(onStatusSent?: (item: OutboxItem & { kind: 'status' }, ok: boolean) => void): Promise<void> {
    if (this.flushing) return this.flushing;
    // Start on a microtask so `flushing` is set before the loop can finish (and clear it).
    this.flushing = (async () => {
      await Promise.resolve();
      try {
        for (;;) {
          const items = this.items();
          const first = items[0];
          if (!first) return;
          if (first.kind === 'status') {
            try {
              await api.post(`/api/assignments/${first.assignmentId}/status`, {
                status: first.status,
                ...(first.lon !== undefined && first.lat !== undefined ? { lon: first.lon, lat: first.lat } : {}),
              });
              this.drop(new Set([first.id]));
              onStatusSent?.(first, true);
            } catch (err) {
              if (err instanceof ApiError && (err.status === 0 || err.status >= 500 || err.status === 401)) return;
              // 409 (already in that state or beyond), 403, 404: nothing to retry.
              this.drop(new Set([first.id]));
              onStatusSent?.(first, false);
            }
          } else {
            // Consecutive positions of one unit go in one batch.
            const batch: (OutboxItem & { kind: 'position' })[] = [];
            for (const i of items) {
              if (i.kind !== 'position' || i.unitId !== first.unitId || batch.length >= 200) break;
              batch.push(i);
            }
            try {
              await api.post('/api/units/positions', {
                unitId: first.unitId,
                points: batch.map((p) => ({ t: p.t, lon: p.lon, lat: p.lat, accuracy: p.accuracy, speed: p.speed, heading: p.heading })),
              });
              this.drop(new Set(batch.map((b) => b.id)));
            } catch (err) {
              if (err instanceof ApiError && (err.status === 0 || err.status >= 500 || err.status === 401)) return;
              this.drop(new Set(batch.map((b) => b.id)));
            }
          }
        }
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }
}
