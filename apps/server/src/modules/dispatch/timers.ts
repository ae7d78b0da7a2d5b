import { sql } from 'drizzle-orm';
import type { EventBus } from '../../platform/bus.js';
import type { Database } from '../../platform/db/index.js';
import { rows } from '../../platform/db/rows.js';
import { announceEvents, appendIncidentEvents, type NewIncidentEvent } from './events.js';

interface DueTimer {
  id: string;
  incident_id: string;
  assignment_id: string | null;
  diversion_id: string | null;
  kind: string;
  due_at: Date;
  warn_at: Date;
  warned_at: Date | null;
  node_path: string;
  number: string;
  station_id: string | null;
  unit_id: string | null;
}

/**
 * The 1-3-5 timers run on the server from rows in `incident_timer`, so they survive a restart and
 * several instances can share them: each tick claims due rows with FOR UPDATE SKIP LOCKED, raises a
 * warning at the warn share of the target and escalates at breach to the station leader and the
 * command centre above (an `escalation` event they receive on their screens).
 */
export class TimerScheduler {
  private handle: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly database: Database,
    private readonly bus: EventBus,
    private readonly now: () => Date,
    private readonly intervalMs = 1000,
  ) {}

  start() {
    if (this.handle) return;
    this.handle = setInterval(() => void this.tick(), this.intervalMs);
    this.handle.unref();
  }

  async stop() {
    if (this.handle) clearInterval(this.handle);
    this.handle = null;
    await this.running;
  }

  /** One pass over the due timers; answers how many warnings and breaches it raised. */
  async tick(): Promise<{ warnings: number; breaches: number }> {
    if (this.running) {
      await this.running;
    }
    let out = { warnings: 0, breaches: 0 };
    const run = (async () => {
      try {
        out = await this.pass();
      } catch (err) {
        // A failed pass (database restarting) is retried at the next tick.
        if (process.env.NODE_ENV !== 'test') console.warn('timer pass failed:', (err as Error).message);
      }
    })();
    this.running = run;
    await run;
    this.running = null;
    return out;
  }

  private async pass() {
    const at = this.now();
    let appended = false;
    const result = await this.database.db.transaction(async (tx) => {
      const due = await rows<DueTimer>(
        tx,
        sql`select t.id, t.incident_id, t.assignment_id, t.diversion_id, t.kind, t.due_at, t.warn_at, t.warned_at,
              i.node_path, i.number, i.station_id, a.unit_id
            from incident_timer t join incident i on i.id = t.incident_id
            left join incident_assignment a on a.id = t.assignment_id
            where t.met_at is null and t.cancelled_at is null and t.breached_at is null
              and (t.due_at <= ${at} or (t.warned_at is null and t.warn_at <= ${at}))
            order by t.due_at limit 200
            for update of t skip locked`,
      );
      const events: NewIncidentEvent[] = [];
      let warnings = 0;
      let breaches = 0;
      for (const t of due) {
        const dueAt = new Date(t.due_at);
        const unitIds = t.unit_id ? [t.unit_id] : [];
        if (dueAt <= at) {
          breaches++;
          await tx.execute(sql`update incident_timer set breached_at = ${at}, warned_at = coalesce(warned_at, ${at}) where id = ${t.id}`);
          events.push({
            incidentId: t.incident_id,
            type: 'escalation',
            actorId: null,
            nodePath: t.node_path,
            unitIds,
            at,
            data: {
              timerId: t.id,
              kind: t.kind,
              assignmentId: t.assignment_id,
              diversionId: t.diversion_id,
              dueAt: dueAt.toISOString(),
              number: t.number,
              // Who must act: the leader of the owning station and the command centre above it.
              notify: ['station_leader', 'dispatcher'],
              stationId: t.station_id,
            },
          });
        } else {
          warnings++;
          await tx.execute(sql`update incident_timer set warned_at = ${at} where id = ${t.id}`);
          events.push({
            incidentId: t.incident_id,
            type: 'timer_warning',
            actorId: null,
            nodePath: t.node_path,
            unitIds,
            at,
            data: { timerId: t.id, kind: t.kind, assignmentId: t.assignment_id, diversionId: t.diversion_id, dueAt: dueAt.toISOString(), secondsLeft: Math.round((dueAt.getTime() - at.getTime()) / 1000) },
          });
        }
      }
      if (breaches) {
        await tx.execute(sql`update incident_diversion d set status = 'overdue' from incident_timer t
          where t.diversion_id = d.id and t.breached_at = ${at} and d.status = 'pending'`);
      }
      // Last: the event head is locked from this statement to commit.
      if (events.length) {
        await appendIncidentEvents(tx, events);
        appended = true;
      }
      return { warnings, breaches };
    });
    if (appended) await announceEvents(this.bus);
    return result;
  }
}
