import { sql, type SQL } from 'drizzle-orm';
import type { z } from 'zod';
import type { Role } from '@pingan/contracts';
import { type Actor, assertCoversPath, coversPath } from '../../platform/access.js';
import { type AuditEntry, appendAudit } from '../../platform/audit/service.js';
import type { EventBus } from '../../platform/bus.js';
import { afterCommit, type Database, type Executor, type Tx } from '../../platform/db/index.js';
import { rows, uuidArray } from '../../platform/db/rows.js';
import { conflict, DomainError, forbidden, notFound, unprocessable } from '../../platform/errors.js';
import { pgErrorCode } from '../../platform/http/errors.js';
import { toWgs84 } from '../jurisdiction/geo/coords.js';
import type { JurisdictionLookup } from '../jurisdiction/lookup.js';
import {
  announceEvents,
  appendEventsAndAudit,
  eventsAfterQuery,
  eventsOfRows,
  type EventFeed,
  type NewIncidentEvent,
  type PrefetchedEvents,
  type RawEvent,
} from './events.js';
import { presentBriefing, terminalBriefingQuery, type BriefingRow } from './presenter.js';
import {
  ACTIVE_ASSIGNMENT, type AssignmentStatus, type CloseBody, type DispatchBody, type IntakeBody, NEXT_STATUS, type StatusBody,
} from './model.js';

/** Roles that take calls and send units (the command room, the station leader, administrators). */
export const DISPATCH_ROLES: readonly Role[] = ['admin', 'dispatcher', 'station_leader'];
/** Roles that read incidents of their jurisdiction on a command screen. */
export const INCIDENT_READER_ROLES: readonly Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'inspector'];

export interface DispatchSettings {
  /** Radius and time window in which a new call is flagged as a likely duplicate. */
  duplicateRadiusM: number;
  duplicateWindowMinutes: number;
  /** Radius and days of "recent incidents at this place" shown at intake. */
  historyRadiusM: number;
  historyDays: number;
}
export const DEFAULT_DISPATCH_SETTINGS: DispatchSettings = {
  duplicateRadiusM: 300,
  duplicateWindowMinutes: 30,
  historyRadiusM: 200,
  historyDays: 30,
};

export interface Targets {
  acknowledgeSeconds: number;
  arriveCoreSeconds: number;
  arriveOtherSeconds: number;
  diversionAcceptSeconds: number;
  warnShare: number;
}
export const DEFAULT_TARGETS: Targets = {
  acknowledgeSeconds: 60,
  arriveCoreSeconds: 180,
  arriveOtherSeconds: 300,
  diversionAcceptSeconds: 900,
  warnShare: 0.8,
};

export interface IncidentRow {
  id: string;
  number: string;
  status: string;
  category: string;
  subcategory: string | null;
  priority: number;
  source: string;
  content: string;
  address: string | null;
  lon: number | null;
  lat: number | null;
  node_id: string | null;
  station_id: string | null;
  node_path: string;
  core: boolean;
  supervision: string;
  merged_into: string | null;
  disposition: string | null;
  result: string | null;
  created_by: string | null;
  created_at: Date;
  closed_at: Date | null;
  updated_at: Date;
}

export interface AssignmentRow {
  id: string;
  incident_id: string;
  unit_id: string;
  status: AssignmentStatus;
  role: string;
  reason: string | null;
  dispatched_at: Date;
  acknowledged_at: Date | null;
  en_route_at: Date | null;
  on_scene_at: Date | null;
  cleared_at: Date | null;
  cancelled_at: Date | null;
}

export async function loadIncident(exec: Executor, id: string): Promise<IncidentRow> {
  const [row] = await rows<IncidentRow>(exec, sql`select * from incident where id = ${id}`);
  if (!row) throw notFound('The incident');
  return incidentRowOf(row);
}

/** An incident row as read (timestamps may come as strings from a JSON or raw read). */
export function incidentRowOf(row: IncidentRow): IncidentRow {
  return { ...row, created_at: new Date(row.created_at), updated_at: new Date(row.updated_at), closed_at: row.closed_at ? new Date(row.closed_at) : null };
}

/** The dispatch_target row that applies at a path (an SQL expression): the nearest ancestor's, or itself. */
function targetLookup(nodePath: SQL): SQL {
  return sql`select t.* from dispatch_target t join jurisdiction_node n on n.id = t.node_id
    where t.node_id = any(string_to_array(trim(both '/' from ${nodePath}::text), '/')::uuid[]) order by length(n.path) desc limit 1`;
}

/** The 1-3-5 targets of a node: the nearest ancestor (or itself) with a row, else the defaults. */
export async function targetsFor(exec: Executor, nodePath: string): Promise<Targets> {
  if (!nodePath.split('/').some(Boolean)) return DEFAULT_TARGETS;
  const [t] = await rows<{ acknowledge_seconds: number; arrive_core_seconds: number; arrive_other_seconds: number; diversion_accept_seconds: number; warn_share: number }>(
    exec,
    targetLookup(sql`${nodePath}`),
  );
  if (!t) return DEFAULT_TARGETS;
  return {
    acknowledgeSeconds: t.acknowledge_seconds,
    arriveCoreSeconds: t.arrive_core_seconds,
    arriveOtherSeconds: t.arrive_other_seconds,
    diversionAcceptSeconds: t.diversion_accept_seconds,
    warnShare: Number(t.warn_share),
  };
}

async function insertTimer(tx: Executor, t: { incidentId: string; assignmentId?: string; diversionId?: string; kind: string; start: Date; seconds: number; warnShare: number }) {
  const due = new Date(t.start.getTime() + t.seconds * 1000);
  const warn = new Date(t.start.getTime() + t.seconds * t.warnShare * 1000);
  await tx.execute(sql`insert into incident_timer (incident_id, assignment_id, diversion_id, kind, started_at, warn_at, due_at)
    values (${t.incidentId}, ${t.assignmentId ?? null}, ${t.diversionId ?? null}, ${t.kind}, ${t.start}, ${warn}, ${due})`);
}

/**
 * Incident numbers of a county and day (Beijing time): 370523-20261122-0007, from a sequence of that day
 * (`incident_number_370523_20261122`) that the intake's INSERT draws from itself. nextval() keeps no
 * lock for the transaction, never repeats, and follows the order of calls across instances, so the
 * insert goes out behind the intake's read without waiting for a number; a failed intake leaves a gap.
 * The sequence is made on the day's first intake, starting after what that day's counter row (the
 * numbering before sequences) or its incidents already hold.
 */
interface NumberSequence {
  prefix: string;
  sequence: string;
}

export function numberSequenceOf(countyCode: string, at: Date): NumberSequence {
  const day = new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '');
  return { prefix: `${countyCode}-${day}-`, sequence: `incident_number_${countyCode.replace(/[^0-9A-Za-z]/g, '_')}_${day}` };
}

export async function createNumberSequence(exec: Executor, { prefix, sequence }: NumberSequence): Promise<void> {
  // After the last number handed out: by the counter row, or by an incident already numbered that day
  // (the sequence made again after it was lost). Once per county and day, so a scan is acceptable.
  const [taken] = await rows<{ last: number }>(
    exec,
    sql`select greatest(
          coalesce((select last from incident_number_counter where prefix = ${prefix}), 0),
          coalesce((select max(case when substring(number from ${prefix.length + 1}::int) ~ '^[0-9]{1,9}$' then substring(number from ${prefix.length + 1}::int)::int end)
                    from incident where number like ${`${prefix}%`}), 0))::int as last`,
  );
  try {
    await exec.execute(sql.raw(`create sequence if not exists ${sequence} start with ${(taken?.last ?? 0) + 1}`));
  } catch (err) {
    // Another instance made it between the check and the statement.
    const code = pgErrorCode(err);
    if (code !== '42P07' && code !== '23505') throw err;
  }
}

/**
 * Drop the number sequences of a county's days before yesterday (Beijing time): their numbers are
 * given, and only an intake that began just before midnight may still draw from yesterday's. Run with
 * the day's first intake; another instance doing the same at once changes nothing.
 */
export async function dropPastNumberSequences(exec: Executor, countyCode: string, at: Date): Promise<string[]> {
  const { sequence: yesterday } = numberSequenceOf(countyCode, new Date(at.getTime() - 86400_000));
  const stem = yesterday.slice(0, -8);
  const found = await rows<{ name: string }>(
    exec,
    sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind = 'S' and n.nspname = current_schema() and starts_with(c.relname, ${stem})`,
  );
  // Names end in the day, yyyymmdd: they sort as the days do.
  const past = found.map((f) => f.name).filter((name) => /^[0-9]{8}$/.test(name.slice(stem.length)) && name < yesterday);
  for (const name of past) await exec.execute(sql.raw(`drop sequence if exists ${name}`));
  return past;
}

/** The number an INSERT takes from its day's sequence: prefix and at least four digits. */
export function nextNumber({ prefix, sequence }: NumberSequence): SQL {
  return sql`(select ${prefix} || lpad(n::text, greatest(4, length(n::text)), '0') from nextval(${sequence}::regclass) as n)`;
}

/**
 * Incidents within `radiusM` metres of a point: a box on the geometry index first (the geography cast
 * alone cannot use it), then the exact distance on the spheroid.
 */
function near(point: { lon: number; lat: number }, radiusM: number) {
  const dLat = (radiusM / 111_000) * 1.01;
  const dLon = dLat / Math.max(0.01, Math.cos((point.lat * Math.PI) / 180));
  const at = sql`ST_SetSRID(ST_MakePoint(${point.lon}, ${point.lat}), 4326)`;
  return sql`location && ST_Expand(${at}, ${dLon}::float8, ${dLat}::float8)
    and ST_DWithin(location::geography, ${at}::geography, ${radiusM})`;
}

/**
 * The incident categories (a small configuration table read by every intake), kept for 30 s. A code
 * not found re-reads at once, so a category added since is accepted without waiting.
 */
class CategoryCache {
  private byCode = new Map<string, { code: string; police: boolean }>();
  private readAt = 0;

  async get(exec: Executor, code: string): Promise<{ code: string; police: boolean } | undefined> {
    const fresh = Date.now() - this.readAt < 30_000;
    if (!fresh || !this.byCode.has(code)) {
      const list = await rows<{ code: string; police: boolean }>(exec, sql`select code, police from incident_category`);
      this.byCode = new Map(list.map((c) => [c.code, c]));
      this.readAt = Date.now();
    }
    return this.byCode.get(code);
  }
}

type Emit = (e: Omit<NewIncidentEvent, 'at'>) => void;
type Audit = (actor: Actor, entry: AuditEntry) => void;

/** A command's events, appended in a transaction: how to announce them once it has committed. */
export interface AppendedEvents {
  /** The announcement to other instances left with the commit (PostgreSQL NOTIFY). */
  notified: boolean;
  /** The events (and briefings) read right behind the commit, for this instance's hub; null: none. */
  prefetched: Promise<PrefetchedEvents> | null;
}

/** Events read behind a commit at most; the hub reads on from there itself. */
const PREFETCH_LIMIT = 500;

export function createDispatchService(deps: {
  database: Database;
  bus: EventBus;
  lookup: JurisdictionLookup;
  now: () => Date;
  settings?: Partial<DispatchSettings>;
}) {
  const { database, bus, lookup, now } = deps;
  const settings = { ...DEFAULT_DISPATCH_SETTINGS, ...deps.settings };
  const { db } = database;
  const categories = new CategoryCache();
  /**
   * Caller transactions in which a command appended events, and whether their announcement went with
   * the commit: the caller announces them after its commit.
   */
  const appendedIn = new WeakMap<Tx, AppendedEvents>();
  /** Days whose number sequence this service has set up and whose past sequences it dropped (see `numberSequenceOf`). */
  const numberSequences = new Set<string>();
  /** This instance's hub, once it runs: commits read their events for it (see `prefetch`). */
  let feed: EventFeed | null = null;

  /**
   * Read the events after the hub's position, and the terminal briefing of each incident dispatched,
   * right behind the commit (same write, on the committing connection; `afterCommit`): the hub can push
   * them at once, without a read of its own after hearing of the commit, and a terminal gets its
   * dispatch two round trips sooner. The briefing is read after the events, so it is at least as new.
   */
  function prefetch(tx: Tx, events: readonly NewIncidentEvent[]): Promise<PrefetchedEvents> | null {
    if (!feed) return null;
    const after = feed.currentSeq;
    const read = afterCommit<RawEvent>(tx, eventsAfterQuery(after, PREFETCH_LIMIT));
    if (!read) return null;
    const dispatched = [...new Set(events.filter((e) => e.type === 'dispatch').map((e) => e.incidentId))];
    const briefs = dispatched.map((id) => afterCommit<BriefingRow>(tx, terminalBriefingQuery(id))!);
    const prefetched = (async () => {
      const rowsRead = await read;
      const briefings = new Map<string, Record<string, unknown>>();
      for (let i = 0; i < dispatched.length; i++) {
        const [row] = await briefs[i]!;
        if (row) briefings.set(dispatched[i]!, presentBriefing(row));
      }
      return { after, events: eventsOfRows(rowsRead), briefings };
    })();
    // When the transaction fails (or a caller's outer one rolls back) nobody announces, so nobody awaits
    // this: its rejection must not go unhandled (that ends the process).
    prefetched.catch(() => undefined);
    return prefetched;
  }

  /** Tell subscribers of committed events; the hub first takes what was read behind the commit (if it came). */
  async function announce(appended: AppendedEvents): Promise<void> {
    const prefetched = appended.prefetched ? await appended.prefetched.catch(() => null) : null;
    if (prefetched) feed?.offer(prefetched);
    await announceEvents(bus, appended.notified);
  }

  /**
   * Run a command in one transaction that appends incident events; announce them after commit so
   * command screens and terminals only ever see committed state. The work emits events and audit
   * records; both are appended when the work is done, events first, so the two serialization points
   * (event head, audit head) are held only for the last statements and always taken in one order.
   */
  async function command<T>(
    work: (tx: Tx, at: Date, emit: Emit, audit: Audit) => Promise<T>,
    /** The caller's transaction (an idempotent route); the caller announces the events after its commit. */
    outer?: Tx,
  ): Promise<T> {
    const at = now();
    let appended = null as AppendedEvents | null;
    const run = async (tx: Tx) => {
      const pending: NewIncidentEvent[] = [];
      const audits: { actor: Actor; entry: AuditEntry }[] = [];
      const value = await work(tx, at, (e) => pending.push({ ...e, at }), (actor, entry) => audits.push({ actor, entry }));
      const { notified } = await appendEventsAndAudit(tx, bus, pending, audits);
      appended = pending.length > 0 ? { notified, prefetched: prefetch(tx, pending) } : null;
      return value;
    };
    if (outer) {
      const value = await run(outer);
      if (appended) appendedIn.set(outer, appended);
      return value;
    }
    const result = await db.transaction(run);
    if (appended) await announce(appended);
    return result;
  }

  async function loadCovered(exec: Executor, actor: Actor, id: string) {
    const incident = await loadIncident(exec, id);
    assertCoversPath(actor, incident.node_path);
    return incident;
  }

  /** Where a call is: coordinates (any system) or an address matched against grid names. */
  function locate(input: z.infer<typeof IntakeBody>): { lon: number; lat: number } | null {
    if (input.location) {
      const [lon, lat] = toWgs84(input.location.lon, input.location.lat, input.location.crs);
      return { lon, lat };
    }
    return null;
  }

  async function geocodeAddress(exec: Executor, actor: Actor, address: string): Promise<{ lon: number; lat: number } | null> {
    const [hit] = await rows<{ lon: number; lat: number }>(
      exec,
      sql`select ST_X(ST_PointOnSurface(geom)) as lon, ST_Y(ST_PointOnSurface(geom)) as lat from jurisdiction_node
          where retired_at is null and geom is not null and level in ('grid', 'micro_grid', 'station')
            and path like ${`${actor.nodePath}%`} and length(name) >= 2
            and strpos(${address}, regexp_replace(name, '(村民委员会|居民委员会|村委会|居委会|网格|派出所)$', '')) > 0
          order by length(name) desc, length(path) desc limit 1`,
    );
    return hit ? { lon: Number(hit.lon), lat: Number(hit.lat) } : null;
  }

  async function statusAfterAssignments(tx: Executor, incidentId: string): Promise<string> {
    const list = await rows<{ status: AssignmentStatus }>(tx, sql`select status from incident_assignment where incident_id = ${incidentId}`);
    if (list.some((a) => a.status === 'on_scene' || a.status === 'returning')) return 'on_scene';
    if (list.some((a) => ACTIVE_ASSIGNMENT.includes(a.status))) return 'dispatched';
    return 'new';
  }

  /** Each unit to send with the incident it is already out on, if any, in one read. */
  function readUnitsToSend(tx: Tx, body: z.infer<typeof DispatchBody>) {
    const unitIds = body.units.map((u) => u.unitId);
    if (new Set(unitIds).size !== unitIds.length) throw unprocessable('A unit is listed twice.', [{ field: 'body.units', message: 'lists a unit twice' }]);
    const read = rows<{ id: string; call_sign: string; path: string; on_duty: boolean; retired_at: Date | null; busy_on: string | null }>(
      tx,
      sql`select u.id, u.call_sign, u.path, u.on_duty, u.retired_at,
            (select i.number from incident_assignment a join incident i on i.id = a.incident_id
              where a.unit_id = u.id and a.status = any(${`{${ACTIVE_ASSIGNMENT.join(',')}}`}::text[]) limit 1) as busy_on
          from unit u where u.id = any(${uuidArray(unitIds)}::uuid[])`,
    );
    read.catch(() => undefined); // awaited by sendUnits; a refusal before that must not leave it unhandled
    return read;
  }

  /**
   * The assignments of the units sent, their two 1-3-5 timers each (targets of the incident's place:
   * `targetLookup` in SQL) and the incident's status, in one statement that reads the incident itself.
   * Units are out now: the incident is on scene if one already is there (support sent later), else
   * dispatched (the statement's snapshot does not see the new assignments, which are 'dispatched' anyway).
   * It may be written before the checks have their answers (see `dispatch`): when a check refuses, the
   * command throws and the transaction rolls it back, so nothing of it stays and nothing was acknowledged.
   */
  function writeAssignments(tx: Tx, at: Date, actor: Actor, incidentId: string, body: z.infer<typeof DispatchBody>) {
    const history = JSON.stringify([{ status: 'dispatched', at: at.toISOString(), actorId: actor.userId, lon: null, lat: null }]);
    const write = rows<{ id: string; unit_id: string }>(
      tx,
      sql`with inc as (select node_path, core from incident where id = ${incidentId}::uuid),
          tg as (
            select coalesce(t.acknowledge_seconds, ${DEFAULT_TARGETS.acknowledgeSeconds})::float8 as ack,
              (case when (select core from inc) then coalesce(t.arrive_core_seconds, ${DEFAULT_TARGETS.arriveCoreSeconds})
                else coalesce(t.arrive_other_seconds, ${DEFAULT_TARGETS.arriveOtherSeconds}) end)::float8 as arrive,
              coalesce(t.warn_share, ${DEFAULT_TARGETS.warnShare})::float8 as warn_share
            from (select 1) as one left join lateral (${targetLookup(sql`(select node_path from inc)`)}) t on true),
          a as (
            insert into incident_assignment (incident_id, unit_id, status, role, reason, dispatched_at, history)
            select ${incidentId}::uuid, (u->>'unitId')::uuid, 'dispatched', u->>'role', u->>'reason', ${at}::timestamptz, ${history}::jsonb
            from jsonb_array_elements(${JSON.stringify(body.units.map((u) => ({ unitId: u.unitId, role: u.role, reason: u.reason ?? null })))}::jsonb) as u
            returning id, unit_id),
          t as (
            insert into incident_timer (incident_id, assignment_id, kind, started_at, warn_at, due_at)
            select ${incidentId}::uuid, a.id, k.kind, ${at}::timestamptz,
              ${at}::timestamptz + make_interval(secs => k.seconds * tg.warn_share), ${at}::timestamptz + make_interval(secs => k.seconds)
            from a cross join tg cross join lateral (values ('acknowledge', tg.ack), ('arrive', tg.arrive)) as k(kind, seconds)),
          i as (
            update incident set updated_at = ${at}::timestamptz, status = case when exists (
              select 1 from incident_assignment where incident_id = ${incidentId}::uuid and status in ('on_scene', 'returning')) then 'on_scene' else 'dispatched' end
            where id = ${incidentId}::uuid)
          select id, unit_id from a`,
    );
    write.catch(() => undefined); // awaited by sendUnits once the checks pass; a refusal before that rolls it back
    return write;
  }

  /** Send units to an incident inside a command: checks, assignments, 1-3-5 timers, the event and the audit. */
  async function sendUnits(
    tx: Tx,
    at: Date,
    emit: Emit,
    audit: Audit,
    actor: Actor,
    incident: IncidentRow,
    body: z.infer<typeof DispatchBody>,
    /** The units' read and the write, when the caller started them beside its own read (pipelined on PostgreSQL). */
    started?: { unitsRead: ReturnType<typeof readUnitsToSend>; writing: ReturnType<typeof writeAssignments> },
  ) {
    const incidentId = incident.id;
    const unitIds = body.units.map((u) => u.unitId);
    const found = await (started?.unitsRead ?? readUnitsToSend(tx, body));
    const problems: { field: string; message: string }[] = [];
    for (const [i, u] of body.units.entries()) {
      const unit = found.find((f) => f.id === u.unitId);
      if (!unit || unit.retired_at) problems.push({ field: `body.units.${i}.unitId`, message: 'is not a known unit' });
      else if (!unit.on_duty) problems.push({ field: `body.units.${i}.unitId`, message: `${unit.call_sign} is off duty` });
    }
    if (problems.length) throw unprocessable(`These units cannot be sent: ${problems.map((p) => p.message).join('; ')}.`, problems);
    const busy = found.filter((f) => f.busy_on);
    if (busy.length) {
      const names = busy.map((b) => `${b.call_sign} (on ${b.busy_on})`);
      throw conflict(`Already assigned: ${names.join(', ')}. Cancel or clear that assignment first.`);
    }
    const inserted = await (started?.writing ?? writeAssignments(tx, at, actor, incidentId, body));
    const created = body.units.map((u) => ({ assignmentId: inserted.find((r) => r.unit_id === u.unitId)!.id, unitId: u.unitId }));
    emit({ incidentId, type: 'dispatch', actorId: actor.userId, nodePath: incident.node_path, unitIds, data: { assignments: created, reasons: body.units.map((u) => u.reason ?? null) } });
    // The terminals receive the caller's phone and content so the officer need not call back: a disclosure of personal data.
    audit(actor, {
      action: 'incident.dispatch',
      entityType: 'incident',
      entityId: incidentId,
      nodePath: incident.node_path,
      details: { units: unitIds, disclosedToTerminals: ['callerPhone', 'callerName', 'content', 'audio'] },
    });
    return created;
  }

  return {
    settings,
    /** Events appended in a caller's transaction (null: none), to announce after its commit. */
    appendedEvents: (tx: Tx) => appendedIn.get(tx) ?? null,
    /** Announce events appended in a caller's transaction, after its commit. */
    announce,
    /** The hub of this instance: from now on commits read their events for it (see `prefetch`). */
    feedHub(hub: EventFeed) {
      feed = hub;
    },

    /** Intake of a call: locate, route to the owning station, flag duplicates, show the place's history. */
    async intake(actor: Actor, input: IntakeBody, outer?: Tx) {
      const category = await categories.get(outer ?? db, input.category);
      if (!category) throw unprocessable(`Unknown category ${input.category}; choose one from GET /api/incident-categories.`, [{ field: 'body.category', message: 'is not a known category' }]);
      const point = locate(input) ?? (input.address ? await geocodeAddress(outer ?? db, actor, input.address) : null);
      const chain = point ? lookup.resolve(point.lon, point.lat) : null;
      const deepest = chain?.[0];
      const station = chain?.find((n) => n.level === 'station');
      const county = chain?.find((n) => n.level === 'county');
      const nodePath = deepest?.path ?? actor.nodePath;
      if (!coversPath(actor, nodePath)) {
        throw forbidden(`The location lies in ${station?.name ?? deepest?.name ?? 'another jurisdiction'}, outside yours: transfer the call to its command centre.`);
      }
      const core = chain?.some((n) => n.core) ?? false;
      const result = await command(async (tx, at, emit, audit) => {
        const receivedAt = input.receivedAt && input.receivedAt <= at ? input.receivedAt : at;
        const top = input.category.split('.')[0]!;
        // The day's number sequence exists once it was made on the independent pool (committed at once);
        // PGlite has one connection and makes it in this transaction, every time (a rollback undoes it).
        const countyCode = county?.code ?? '000000';
        const numbering = numberSequenceOf(countyCode, at);
        const firstToday = !numberSequences.has(numbering.sequence);
        if (!database.independent) await createNumberSequence(tx, numbering);
        else if (firstToday) await createNumberSequence(database.independent, numbering);
        if (firstToday) {
          await dropPastNumberSequences(database.independent ?? tx, countyCode, at);
          numberSequences.add(numbering.sequence);
        }
        // The place's open incidents of the same category nearby (likely duplicates) and its recent history, in one read.
        type Nearby = { kind: 'duplicate' | 'history'; id: string; number: string; category: string; content: string; created_at: Date; status: string; distance_m: number };
        const reading = point
          ? rows<Nearby>(
              tx,
              sql`(select 'duplicate' as kind, id, number, category, content, created_at, status,
                    ST_Distance(location::geography, ST_SetSRID(ST_MakePoint(${point.lon}, ${point.lat}), 4326)::geography) as distance_m
                  from incident
                  where status not in ('closed', 'merged') and category = ${top}
                    and created_at >= ${new Date(at.getTime() - settings.duplicateWindowMinutes * 60_000)}
                    and ${near(point, settings.duplicateRadiusM)}
                  order by distance_m limit 5)
                  union all
                  (select 'history' as kind, id, number, category, content, created_at, status, 0 as distance_m from incident
                  where created_at >= ${new Date(at.getTime() - settings.historyDays * 86400_000)}
                    and ${near(point, settings.historyRadiusM)}
                  order by created_at desc limit 20)`,
            )
          : Promise.resolve([] as Nearby[]);
        // On PostgreSQL the insert is written behind the read without waiting for its answer (pipelined).
        reading.catch(() => undefined);
        const inserting = rows<{ id: string; number: string }>(
          tx,
          sql`with i as (
                insert into incident (number, status, category, subcategory, priority, source, content, address, lon, lat, location,
                  node_id, station_id, node_path, core, created_by, created_at, updated_at)
                values (${nextNumber(numbering)}, 'new', ${top}, ${input.category.includes('.') ? input.category : null}, ${input.priority}, ${input.source},
                  ${input.content}, ${input.address ?? null}, ${point?.lon ?? null}, ${point?.lat ?? null},
                  ${point ? sql`ST_SetSRID(ST_MakePoint(${point.lon}, ${point.lat}), 4326)` : null},
                  ${deepest?.id ?? null}, ${station?.id ?? null}, ${nodePath}, ${core}, ${actor.userId}, ${receivedAt}, ${at})
                returning id, number),
              c as (
                insert into incident_call (incident_id, origin_incident_id, caller_phone, caller_name, content, source, received_at)
                select i.id, i.id, ${input.callerPhone ?? null}, ${input.callerName ?? null}, ${input.content}, ${input.source}, ${receivedAt}::timestamptz from i)
              select id, number from i`,
        );
        const [nearby, [created]] = await Promise.all([
          reading,
          inserting.catch((err: unknown) => {
            // The day's sequence is gone (a restored backup, a reset database): made again on the next try.
            if (pgErrorCode(err) !== '42P01' || !numberSequences.delete(numbering.sequence)) throw err;
            throw new DomainError(503, 'numbering_reset', 'The day\'s incident numbering had to be set up again: send the call again (nothing was stored).');
          }),
        ]);
        const number = created!.number;
        const duplicates = nearby.filter((n) => n.kind === 'duplicate');
        const history = nearby.filter((n) => n.kind === 'history');
        const id = created!.id;
        emit({
          incidentId: id,
          type: 'intake',
          actorId: actor.userId,
          nodePath,
          data: { number, category: input.category, priority: input.priority, source: input.source, stationId: station?.id ?? null, possibleDuplicates: duplicates.map((d) => d.id) },
        });
        audit(actor, { action: 'incident.create', entityType: 'incident', entityId: id, nodePath, details: { number, category: input.category } });
        return {
          id,
          number,
          nonPolice: !category.police,
          routing: {
            located: !!point,
            point,
            chain: (chain ?? []).map((n) => ({ id: n.id, code: n.code, name: n.name, level: n.level, core: n.core })),
            stationId: station?.id ?? null,
            stationName: station?.name ?? null,
          },
          possibleDuplicates: duplicates.map((d) => ({ id: d.id, number: d.number, category: d.category, content: d.content, createdAt: new Date(d.created_at).toISOString(), distanceM: Math.round(Number(d.distance_m)) })),
          placeHistory: history.map((h) => ({ id: h.id, number: h.number, category: h.category, content: h.content, status: h.status, createdAt: new Date(h.created_at).toISOString() })),
        };
      }, outer);
      return result;
    },

    /** Merge a duplicate into another incident: its calls (and audio) move over; reversible. */
    async merge(actor: Actor, duplicateId: string, intoId: string) {
      if (duplicateId === intoId) throw unprocessable('An incident cannot be merged into itself.');
      return command(async (tx, _at, emit, audit) => {
        const dup = await loadCovered(tx, actor, duplicateId);
        const into = await loadCovered(tx, actor, intoId);
        if (dup.status === 'closed' || dup.status === 'merged') throw conflict(`Incident ${dup.number} is ${dup.status} and cannot be merged.`);
        if (into.status === 'closed' || into.status === 'merged') throw conflict(`Incident ${into.number} is ${into.status}: merge into an open incident.`);
        const [active] = await rows<{ n: number }>(tx, sql`select count(*)::int as n from incident_assignment where incident_id = ${duplicateId} and status = any(${`{${ACTIVE_ASSIGNMENT.join(',')}}`}::text[])`);
        if (active!.n > 0) throw conflict(`Incident ${dup.number} has units out: move or cancel them before merging.`);
        const moved = await rows<{ id: string }>(tx, sql`update incident_call set incident_id = ${intoId} where incident_id = ${duplicateId} returning id`);
        await tx.execute(sql`update incident set status = 'merged', merged_into = ${intoId}, updated_at = now() where id = ${duplicateId}`);
        await tx.execute(sql`update incident_timer set cancelled_at = now() where incident_id = ${duplicateId} and met_at is null and cancelled_at is null and breached_at is null`);
        emit({ incidentId: duplicateId, type: 'merged', actorId: actor.userId, nodePath: dup.node_path, data: { into: intoId, intoNumber: into.number } });
        emit({ incidentId: intoId, type: 'merge_received', actorId: actor.userId, nodePath: into.node_path, data: { from: duplicateId, fromNumber: dup.number, calls: moved.length } });
        audit(actor, { action: 'incident.merge', entityType: 'incident', entityId: duplicateId, nodePath: dup.node_path, details: { into: intoId } });
        return { id: duplicateId, mergedInto: intoId, callsMoved: moved.length };
      });
    },

    /** Undo a merge: the calls that came from this incident return to it and it reopens. */
    async unmerge(actor: Actor, id: string) {
      return command(async (tx, _at, emit, audit) => {
        const dup = await loadCovered(tx, actor, id);
        if (dup.status !== 'merged' || !dup.merged_into) throw conflict(`Incident ${dup.number} is not merged.`);
        const into = await loadIncident(tx, dup.merged_into);
        const moved = await rows<{ id: string }>(tx, sql`update incident_call set incident_id = ${id} where origin_incident_id = ${id} returning id`);
        await tx.execute(sql`update incident set status = 'new', merged_into = null, updated_at = now() where id = ${id}`);
        emit({ incidentId: id, type: 'unmerged', actorId: actor.userId, nodePath: dup.node_path, data: { from: into.id, calls: moved.length } });
        emit({ incidentId: into.id, type: 'merge_undone', actorId: actor.userId, nodePath: into.node_path, data: { incident: id } });
        audit(actor, { action: 'incident.unmerge', entityType: 'incident', entityId: id, nodePath: dup.node_path, details: { from: into.id } });
        return { id, callsReturned: moved.length };
      });
    },

    /** Dispatch one or many units in one action; each gets 1-3-5 timers. */
    async dispatch(actor: Actor, incidentId: string, body: z.infer<typeof DispatchBody>, outer?: Tx) {
      return command(async (tx, at, emit, audit) => {
        // The units, the incident and the assignments' write in one round trip on PostgreSQL (pipelined);
        // the checks follow on the reads' answers, and a refusal rolls the write back (nothing was acknowledged).
        const unitsRead = readUnitsToSend(tx, body);
        const loading = loadIncident(tx, incidentId);
        loading.catch(() => undefined);
        const writing = writeAssignments(tx, at, actor, incidentId, body);
        const incident = await loading;
        assertCoversPath(actor, incident.node_path);
        if (['closed', 'merged', 'diverted'].includes(incident.status)) throw conflict(`Incident ${incident.number} is ${incident.status}; units cannot be sent.`);
        const created = await sendUnits(tx, at, emit, audit, actor, incident, body, { unitsRead, writing });
        return { incidentId, assignments: created };
      }, outer);
    },

    /** Reassign: cancel a unit that has not arrived and send another in its place, in one step. */
    async reassign(actor: Actor, assignmentId: string, unitId: string, reason: string | undefined) {
      return command(async (tx, at, emit, audit) => {
        const [a] = await rows<AssignmentRow>(tx, sql`select * from incident_assignment where id = ${assignmentId} for update`);
        if (!a) throw notFound('The assignment');
        const incident = await loadCovered(tx, actor, a.incident_id);
        if (!['dispatched', 'acknowledged', 'en_route'].includes(a.status)) throw conflict(`A unit that is ${a.status} cannot be reassigned; only units not yet on scene can.`);
        if (a.unit_id === unitId) throw unprocessable('Choose another unit.', [{ field: 'body.unitId', message: 'is the unit already assigned' }]);
        await tx.execute(sql`update incident_assignment set status = 'cancelled', cancelled_at = ${at},
          history = history || ${JSON.stringify([{ status: 'cancelled', at: at.toISOString(), actorId: actor.userId, lon: null, lat: null, note: 'reassigned' }])}::jsonb
          where id = ${assignmentId}`);
        await tx.execute(sql`update incident_timer set cancelled_at = ${at} where assignment_id = ${assignmentId} and met_at is null and cancelled_at is null`);
        emit({ incidentId: a.incident_id, type: 'unit_status', actorId: actor.userId, nodePath: incident.node_path, unitIds: [a.unit_id], data: { assignmentId, unitId: a.unit_id, from: a.status, status: 'cancelled', note: 'reassigned' } });
        const created = await sendUnits(tx, at, emit, audit, actor, incident, { units: [{ unitId, reason: reason ?? `reassigned from ${assignmentId}`, role: a.role === 'support' ? 'support' : 'primary' }] });
        return { incidentId: a.incident_id, cancelled: assignmentId, assignments: created };
      });
    },

    /** A unit's status: from its terminal (a member of the unit) or from a dispatcher covering the incident. */
    async setStatus(actor: Actor, assignmentId: string, body: z.infer<typeof StatusBody>, memberOf: (exec: Executor, unitId: string) => Promise<boolean>, outer?: Tx) {
      return command(async (tx, at, emit, audit) => {
        const [a] = await rows<AssignmentRow & { history: unknown }>(tx, sql`select * from incident_assignment where id = ${assignmentId} for update`);
        if (!a) throw notFound('The assignment');
        const incident = await loadIncident(tx, a.incident_id);
        const dispatcherHere = DISPATCH_ROLES.includes(actor.role) && coversPath(actor, incident.node_path);
        if (!dispatcherHere && !(await memberOf(tx, a.unit_id))) throw forbidden('Only a member of the unit or a dispatcher of this jurisdiction may change this status.');
        const next = body.status;
        if (!NEXT_STATUS[a.status].includes(next)) {
          throw conflict(`A unit that is ${a.status} cannot become ${next}; allowed next: ${NEXT_STATUS[a.status].join(', ') || 'none (finished)'}.`);
        }
        const point = body.lon !== undefined && body.lat !== undefined ? toWgs84(body.lon, body.lat, body.crs) : null;
        const history = [...(typeof a.history === 'string' ? (JSON.parse(a.history) as unknown[]) : (a.history as unknown[])),
          { status: next, at: at.toISOString(), actorId: actor.userId, lon: point?.[0] ?? null, lat: point?.[1] ?? null, note: body.note ?? null }];
        const column = { acknowledged: 'acknowledged_at', en_route: 'en_route_at', on_scene: 'on_scene_at', cleared: 'cleared_at', cancelled: 'cancelled_at' } as Record<string, string>;
        // Skipping ahead fills the steps skipped (en route implies acknowledged) with the same time.
        const order: AssignmentStatus[] = ['acknowledged', 'en_route', 'on_scene'];
        const fill = order.slice(0, order.indexOf(next) + 1).filter((s) => order.includes(next));
        const sets = new Set<string>([...fill.map((s) => column[s]!), ...(column[next] ? [column[next]!] : [])]);
        await tx.execute(sql`update incident_assignment set status = ${next}, history = ${JSON.stringify(history)}::jsonb
          ${sets.has('acknowledged_at') ? sql`, acknowledged_at = coalesce(acknowledged_at, ${at})` : sql``}
          ${sets.has('en_route_at') ? sql`, en_route_at = coalesce(en_route_at, ${at})` : sql``}
          ${sets.has('on_scene_at') ? sql`, on_scene_at = coalesce(on_scene_at, ${at})` : sql``}
          ${sets.has('cleared_at') ? sql`, cleared_at = ${at}` : sql``}
          ${sets.has('cancelled_at') ? sql`, cancelled_at = ${at}` : sql``}
          where id = ${assignmentId}`);
        if (sets.has('acknowledged_at')) await tx.execute(sql`update incident_timer set met_at = ${at} where assignment_id = ${assignmentId} and kind = 'acknowledge' and met_at is null and cancelled_at is null`);
        if (sets.has('on_scene_at')) await tx.execute(sql`update incident_timer set met_at = ${at} where assignment_id = ${assignmentId} and kind = 'arrive' and met_at is null and cancelled_at is null`);
        if (next === 'cancelled' || next === 'unavailable') {
          await tx.execute(sql`update incident_timer set cancelled_at = ${at} where assignment_id = ${assignmentId} and met_at is null and cancelled_at is null`);
        }
        const status = await statusAfterAssignments(tx, a.incident_id);
        if (incident.status !== 'closed') await tx.execute(sql`update incident set status = ${status}, updated_at = ${at} where id = ${a.incident_id}`);
        emit({
          incidentId: a.incident_id,
          type: 'unit_status',
          actorId: actor.userId,
          nodePath: incident.node_path,
          unitIds: [a.unit_id],
          data: { assignmentId, unitId: a.unit_id, from: a.status, status: next, lon: point?.[0] ?? null, lat: point?.[1] ?? null, note: body.note ?? null },
        });
        audit(actor, { action: 'incident.unit_status', entityType: 'incident_assignment', entityId: assignmentId, nodePath: incident.node_path, details: { status: next } });
        return { assignmentId, status: next, incidentStatus: status };
      }, outer);
    },

    async close(actor: Actor, incidentId: string, body: z.infer<typeof CloseBody>) {
      return command(async (tx, at, emit, audit) => {
        const incident = await loadCovered(tx, actor, incidentId);
        if (incident.status === 'closed' || incident.status === 'merged') throw conflict(`Incident ${incident.number} is already ${incident.status}.`);
        // Release the units, stop the timers and close, in one statement.
        const open = await rows<{ id: string; unit_id: string; status: AssignmentStatus }>(
          tx,
          sql`with a as (
                update incident_assignment set status = case when status in ('on_scene', 'returning') then 'cleared' else 'cancelled' end,
                  cleared_at = case when status in ('on_scene', 'returning') then ${at}::timestamptz else cleared_at end,
                  cancelled_at = case when status in ('on_scene', 'returning') then cancelled_at else ${at}::timestamptz end
                where incident_id = ${incidentId} and status = any(${`{${ACTIVE_ASSIGNMENT.join(',')}}`}::text[]) returning id, unit_id, status),
              t as (
                update incident_timer set cancelled_at = ${at}::timestamptz
                where incident_id = ${incidentId} and met_at is null and cancelled_at is null and breached_at is null),
              i as (
                update incident set status = 'closed', disposition = ${body.disposition}, result = ${body.result}, closed_at = ${at}::timestamptz, updated_at = ${at}::timestamptz
                where id = ${incidentId})
              select id, unit_id, status from a`,
        );
        emit({ incidentId, type: 'closed', actorId: actor.userId, nodePath: incident.node_path, unitIds: open.map((o) => o.unit_id), data: { disposition: body.disposition, result: body.result, released: open.length } });
        audit(actor, { action: 'incident.close', entityType: 'incident', entityId: incidentId, nodePath: incident.node_path, details: { disposition: body.disposition } });
        return { id: incidentId, status: 'closed' as const };
      });
    },

    /** Hand a non-police incident to a partner department of the jurisdiction (联调联处). */
    async divert(actor: Actor, incidentId: string, departmentId: string, note: string | undefined) {
      return command(async (tx, at, emit, audit) => {
        const incident = await loadCovered(tx, actor, incidentId);
        if (['closed', 'merged', 'diverted'].includes(incident.status)) throw conflict(`Incident ${incident.number} is ${incident.status}.`);
        const [dept] = await rows<{ id: string; name: string; path: string }>(
          tx,
          sql`select d.id, d.name, n.path from partner_department d join jurisdiction_node n on n.id = d.node_id where d.id = ${departmentId}`,
        );
        if (!dept) throw notFound('The partner department');
        // The department must serve the incident's place: configured at the place or above it.
        if (!incident.node_path.startsWith(dept.path)) throw unprocessable(`${dept.name} does not serve this incident's area.`, [{ field: 'body.departmentId', message: 'does not serve this area' }]);
        const [active] = await rows<{ n: number }>(tx, sql`select count(*)::int as n from incident_assignment where incident_id = ${incidentId} and status = any(${`{${ACTIVE_ASSIGNMENT.join(',')}}`}::text[])`);
        if (active!.n > 0) throw conflict('Units are still out on this incident: clear them before diverting it.');
        const [d] = await rows<{ id: string }>(tx, sql`insert into incident_diversion (incident_id, department_id, status, note, created_at) values (${incidentId}, ${departmentId}, 'pending', ${note ?? null}, ${at}) returning id`);
        const targets = await targetsFor(tx, incident.node_path);
        await insertTimer(tx, { incidentId, diversionId: d!.id, kind: 'diversion_accept', start: at, seconds: targets.diversionAcceptSeconds, warnShare: targets.warnShare });
        await tx.execute(sql`update incident set status = 'diverted', updated_at = ${at} where id = ${incidentId}`);
        emit({ incidentId, type: 'diverted', actorId: actor.userId, nodePath: incident.node_path, data: { diversionId: d!.id, departmentId, department: dept.name, note: note ?? null } });
        audit(actor, { action: 'incident.divert', entityType: 'incident', entityId: incidentId, nodePath: incident.node_path, details: { departmentId } });
        return { diversionId: d!.id };
      });
    },

    /** Partner staff accept or report back on a diversion of their department. */
    async diversionStep(actor: Actor, diversionId: string, step: 'accept' | 'report', report?: string) {
      return command(async (tx, at, emit, audit) => {
        const [d] = await rows<{ id: string; incident_id: string; department_id: string; status: string }>(tx, sql`select * from incident_diversion where id = ${diversionId} for update`);
        if (!d) throw notFound('The diversion');
        const [member] = await rows<{ n: number }>(tx, sql`select count(*)::int as n from partner_member where user_id = ${actor.userId} and department_id = ${d.department_id}`);
        const incident = await loadIncident(tx, d.incident_id);
        if (!member!.n && !(actor.role === 'admin' && coversPath(actor, incident.node_path))) throw forbidden('Only staff of the department this was diverted to may answer it.');
        if (step === 'accept') {
          if (d.status !== 'pending') throw conflict(`This diversion is ${d.status}.`);
          await tx.execute(sql`update incident_diversion set status = 'accepted', accepted_at = ${at} where id = ${diversionId}`);
          await tx.execute(sql`update incident_timer set met_at = ${at} where diversion_id = ${diversionId} and met_at is null and cancelled_at is null`);
        } else {
          if (d.status === 'handled') throw conflict('This diversion has already been reported back.');
          await tx.execute(sql`update incident_diversion set status = 'handled', handled_at = ${at}, report = ${report ?? ''}, accepted_at = coalesce(accepted_at, ${at}) where id = ${diversionId}`);
          await tx.execute(sql`update incident_timer set met_at = ${at} where diversion_id = ${diversionId} and met_at is null and cancelled_at is null`);
          await tx.execute(sql`update incident set status = 'closed', disposition = 'referred', result = ${report ?? ''}, closed_at = ${at}, updated_at = ${at} where id = ${d.incident_id}`);
        }
        emit({ incidentId: d.incident_id, type: step === 'accept' ? 'diversion_accepted' : 'diversion_reported', actorId: actor.userId, nodePath: incident.node_path, data: { diversionId, report: report ?? null } });
        audit(actor, { action: `incident.diversion_${step}`, entityType: 'incident_diversion', entityId: diversionId, nodePath: incident.node_path });
        return { diversionId, status: step === 'accept' ? ('accepted' as const) : ('handled' as const) };
      });
    },

    /** Leaders above attach instructions and mark the incident supervised; the station is notified. */
    async instruct(actor: Actor, incidentId: string, text: string | undefined, supervision: string | undefined) {
      return command(async (tx, at, emit, audit) => {
        const incident = await loadCovered(tx, actor, incidentId);
        if (supervision) await tx.execute(sql`update incident set supervision = ${supervision}, updated_at = ${at} where id = ${incidentId}`);
        emit({ incidentId, type: 'instruction', actorId: actor.userId, nodePath: incident.node_path, data: { text: text ?? null, supervision: supervision ?? null, by: actor.displayName, role: actor.role } });
        audit(actor, { action: 'incident.instruct', entityType: 'incident', entityId: incidentId, nodePath: incident.node_path, details: { supervision: supervision ?? null } });
        return { incidentId, supervision: supervision ?? incident.supervision };
      });
    },

    /** Store a call's audio (bounded type and size) with an audit record. */
    async setCallAudio(actor: Actor, callId: string, audio: Buffer, type: string) {
      return db.transaction(async (tx) => {
        const [c] = await rows<{ incident_id: string }>(tx, sql`select incident_id from incident_call where id = ${callId}`);
        if (!c) throw notFound('The call');
        const incident = await loadIncident(tx, c.incident_id);
        assertCoversPath(actor, incident.node_path);
        await tx.execute(sql`update incident_call set audio = ${audio}, audio_type = ${type}, audio_bytes = ${audio.length} where id = ${callId}`);
        await appendAudit(tx, actor, { action: 'incident.call_audio', entityType: 'incident_call', entityId: callId, nodePath: incident.node_path, details: { bytes: audio.length, type } });
      });
    },

    async loadIncident(id: string) {
      return loadIncident(db, id);
    },
    loadCovered: (actor: Actor, id: string) => loadCovered(db, actor, id),
  };
}

export type DispatchService = ReturnType<typeof createDispatchService>;
