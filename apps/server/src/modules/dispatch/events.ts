import { sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../../platform/access.js';
import { pendingAuditInsert, type AuditEntry } from '../../platform/audit/service.js';
import type { EventBus } from '../../platform/bus.js';
import { withCommit, type Database, type Executor } from '../../platform/db/index.js';
import { rows, uuidArray } from '../../platform/db/rows.js';

/** Bus topic carrying "incident events up to seq N are committed": receivers read them from the database. */
export const INCIDENT_EVENTS = 'incident.events';

export interface NewIncidentEvent {
  incidentId: string;
  type: string;
  actorId: string | null;
  nodePath: string;
  unitIds?: readonly string[];
  data?: Record<string, unknown>;
  at: Date;
}

export interface IncidentEventRow {
  seq: number;
  incidentId: string;
  at: Date;
  type: string;
  actorId: string | null;
  nodePath: string;
  unitIds: string[];
  data: Record<string, unknown>;
}

/**
 * The INSERT of incident events, to run in the caller's transaction (alone, or in one statement with
 * the command's audit records). They are inserted with placeholder seqs; a deferred trigger numbers
 * them from `incident_event_head` at commit, so seq order is commit order (a resuming client misses
 * nothing) and the head is locked only while the transaction commits (decision 012). After commit,
 * announce them with `announceEvents`.
 */
export function incidentEventInsert(events: readonly NewIncidentEvent[]): SQL {
  const list = events.map((e) => ({
    incidentId: e.incidentId,
    at: e.at.toISOString(),
    type: e.type,
    actorId: e.actorId,
    nodePath: e.nodePath,
    unitIds: uuidArray(e.unitIds ?? []),
    data: e.data ?? {},
  }));
  // Ordered by ordinality so placeholders (and so the final seqs) follow the order given.
  return sql`insert into incident_event (seq, incident_id, at, type, actor_id, node_path, unit_ids, data)
    select -nextval('incident_event_pending'), (e.x->>'incidentId')::uuid, (e.x->>'at')::timestamptz, e.x->>'type',
      (e.x->>'actorId')::uuid, e.x->>'nodePath', (e.x->>'unitIds')::uuid[], e.x->'data'
    from jsonb_array_elements(${JSON.stringify(list)}::jsonb) with ordinality as e(x, ord)
    order by e.ord`;
}

/** Append events inside the caller's transaction (see `incidentEventInsert`). */
export async function appendIncidentEvents(tx: Executor, events: readonly NewIncidentEvent[]): Promise<void> {
  if (events.length) await tx.execute(incidentEventInsert(events));
}

/**
 * A command's events and audit records in one statement (one round trip), with the bus's commit-time
 * announcement when it has one (PostgreSQL NOTIFY). Answers whether the announcement went with it:
 * then after commit only this instance's subscribers are told (`announceEvents(bus, true)`). The
 * events are inserted first, so at commit the event head is always taken before the audit head.
 */
export async function appendEventsAndAudit(
  tx: Executor,
  bus: EventBus,
  events: readonly NewIncidentEvent[],
  audits: readonly { actor: Actor | null; entry: AuditEntry }[],
): Promise<{ notified: boolean }> {
  // The statement goes out with the COMMIT (withCommit): nothing reads its result.
  if (!events.length) {
    if (audits.length) await withCommit(tx, tx.execute(pendingAuditInsert(audits)));
    return { notified: false };
  }
  const notify = bus.notifyOnCommit(INCIDENT_EVENTS, {});
  // The main query reads e before a, so e's rows (and their deferred links) are queued first.
  await withCommit(tx, tx.execute(sql`with e as (${incidentEventInsert(events)} returning 1)
    ${audits.length ? sql`, a as (${pendingAuditInsert(audits)} returning 1)` : sql``}
    select (select count(*) from e) as events ${audits.length ? sql`, (select count(*) from a) as audits` : sql``} ${notify ? sql`, ${notify} as announced` : sql``}`));
  return { notified: notify !== null };
}

export interface RawEvent {
  seq: number | string;
  incident_id: string;
  at: Date | string;
  type: string;
  actor_id: string | null;
  node_path: string;
  unit_ids: string[] | string;
  data: Record<string, unknown> | string;
}

const parseUuidArray = (v: string[] | string): string[] =>
  Array.isArray(v) ? v : v.replace(/^\{|\}$/g, '').split(',').filter(Boolean);

export function toEvent(r: RawEvent): IncidentEventRow {
  return {
    seq: Number(r.seq),
    incidentId: r.incident_id,
    at: new Date(r.at),
    type: r.type,
    actorId: r.actor_id,
    nodePath: r.node_path,
    unitIds: parseUuidArray(r.unit_ids),
    data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data,
  };
}

/** The events after `afterSeq`, in seq order, at most `limit`. */
export function eventsAfterQuery(afterSeq: number, limit: number): SQL {
  return sql`select seq, incident_id, at, type, actor_id, node_path, unit_ids, data from incident_event where seq > ${afterSeq} order by seq limit ${limit}`;
}

export async function eventsAfter(exec: Executor, afterSeq: number, limit = 1000): Promise<IncidentEventRow[]> {
  return (await rows<RawEvent>(exec, eventsAfterQuery(afterSeq, limit))).map(toEvent);
}

/**
 * Events read right after a commit, on the committing connection (see `afterCommit`): every event
 * after `after` that was committed by then, the commit's own included. This instance's hub pushes them
 * without a read of its own; `briefings` are terminal briefings of dispatched incidents, read after them.
 */
export interface PrefetchedEvents {
  after: number;
  events: IncidentEventRow[];
  briefings: Map<string, Record<string, unknown>>;
}

/** This instance's hub as commands see it: where it stands, and where reads behind commits go. */
export interface EventFeed {
  /** The seq after which a commit's read should start. */
  readonly currentSeq: number;
  /** Take a read behind a commit; it is pushed when the commit is announced. */
  offer(prefetched: PrefetchedEvents): void;
}

export function eventsOfRows(found: readonly RawEvent[]): IncidentEventRow[] {
  return found.map(toEvent);
}

export async function eventsOfIncident(exec: Executor, incidentId: string): Promise<IncidentEventRow[]> {
  const found = await rows<RawEvent>(
    exec,
    sql`select seq, incident_id, at, type, actor_id, node_path, unit_ids, data from incident_event where incident_id = ${incidentId} order by seq`,
  );
  return found.map(toEvent);
}

export async function lastEventSeq(database: Database): Promise<number> {
  const [r] = await database.query<{ seq: string | number | null }>('select max(seq) as seq from incident_event');
  return Number(r?.seq ?? 0);
}

/**
 * Tell every instance (through the bus) that new events are committed; each reads what it has not
 * seen. `notifiedInTransaction`: the other instances were told by the commit itself.
 */
export async function announceEvents(bus: EventBus, notifiedInTransaction = false): Promise<void> {
  if (notifiedInTransaction) bus.publishLocal(INCIDENT_EVENTS, {});
  else await bus.publish(INCIDENT_EVENTS, {});
}
