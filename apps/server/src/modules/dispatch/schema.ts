import { sql } from 'drizzle-orm';
import { bigint, boolean, customType, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { geometry } from '../../platform/db/geometry.js';
import { jurisdictionNodes, users } from '../../platform/db/schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** Categories of calls (configurable list; `police = false` marks non-police matters to divert). */
export const incidentCategories = pgTable('incident_category', {
  code: text('code').primaryKey(),
  parentCode: text('parent_code'),
  nameZh: text('name_zh').notNull(),
  nameEn: text('name_en').notNull(),
  police: boolean('police').notNull().default(true),
  /** Joint-force helpers (guards, volunteers) may be recommended for these. */
  jointForcesAllowed: boolean('joint_forces_allowed').notNull().default(false),
  sort: integer('sort').notNull().default(0),
});

/** An incident (警情): one event, possibly reported by several callers. */
export const incidents = pgTable(
  'incident',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Human number, e.g. 370523-20261122-0007. */
    number: text('number').notNull().unique(),
    status: text('status').notNull(),
    category: text('category').notNull(),
    subcategory: text('subcategory'),
    /** 1 (most urgent) … 4. */
    priority: integer('priority').notNull(),
    source: text('source').notNull(),
    content: text('content').notNull(),
    address: text('address'),
    lon: doublePrecision('lon'),
    lat: doublePrecision('lat'),
    location: geometry('location', 'Point'),
    /** Deepest node holding the location (micro-grid or grid), the owning station, and its path (access). */
    nodeId: uuid('node_id').references(() => jurisdictionNodes.id),
    stationId: uuid('station_id').references(() => jurisdictionNodes.id),
    nodePath: text('node_path').notNull(),
    core: boolean('core').notNull().default(false),
    supervision: text('supervision').notNull().default('normal'),
    mergedInto: uuid('merged_into'),
    disposition: text('disposition'),
    result: text('result'),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: ts('created_at').notNull(),
    closedAt: ts('closed_at'),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('incident_path_idx').using('btree', sql`${t.nodePath} text_pattern_ops`),
    index('incident_status_idx').on(t.status, t.createdAt),
    index('incident_location_idx').using('gist', t.location),
  ],
);

/** Each call about an incident: caller, words, audio. Merges move calls; unmerging moves them back. */
export const incidentCalls = pgTable(
  'incident_call',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    incidentId: uuid('incident_id').notNull().references(() => incidents.id),
    /** The incident this call first created, so a merge can be undone. */
    originIncidentId: uuid('origin_incident_id').notNull(),
    callerPhone: text('caller_phone'),
    callerName: text('caller_name'),
    content: text('content').notNull(),
    source: text('source').notNull(),
    receivedAt: ts('received_at').notNull(),
    audio: bytea('audio'),
    audioType: text('audio_type'),
    audioBytes: integer('audio_bytes'),
  },
  (t) => [index('incident_call_incident_idx').on(t.incidentId)],
);

/**
 * The append-only event log of every incident, and the realtime stream: `seq` is gapless and
 * assigned in commit order (under the lock of `incident_event_head`), so a client resuming from its last seq misses nothing.
 */
export const incidentEvents = pgTable(
  'incident_event',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    incidentId: uuid('incident_id').notNull(),
    at: ts('at').notNull(),
    type: text('type').notNull(),
    actorId: uuid('actor_id'),
    /** Path of the incident's node: command screens of that node and every level above receive it. */
    nodePath: text('node_path').notNull(),
    /** Units whose terminals receive it. */
    unitIds: uuid('unit_ids').array().notNull().default(sql`'{}'::uuid[]`),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('incident_event_incident_idx').on(t.incidentId, t.seq)],
);

/** The last seq of `incident_event`: appends take it in one update, so seq order is commit order (decision 012). */
export const incidentEventHead = pgTable('incident_event_head', {
  id: integer('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
});

/** The last incident number per county and day (`370523-20261122-`), counted under the row's lock. */
export const incidentNumberCounters = pgTable('incident_number_counter', {
  prefix: text('prefix').primaryKey(),
  last: integer('last').notNull(),
});

/** A unit sent to an incident, with the time, actor and position of each status. */
export const assignments = pgTable(
  'incident_assignment',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    incidentId: uuid('incident_id').notNull().references(() => incidents.id),
    unitId: uuid('unit_id').notNull(),
    status: text('status').notNull(),
    role: text('role').notNull().default('primary'),
    reason: text('reason'),
    dispatchedAt: ts('dispatched_at').notNull(),
    acknowledgedAt: ts('acknowledged_at'),
    enRouteAt: ts('en_route_at'),
    onSceneAt: ts('on_scene_at'),
    clearedAt: ts('cleared_at'),
    cancelledAt: ts('cancelled_at'),
    /** status → {at, actorId, lon, lat} */
    history: jsonb('history').$type<{ status: string; at: string; actorId: string | null; lon: number | null; lat: number | null }[]>().notNull().default([]),
  },
  (t) => [index('assignment_incident_idx').on(t.incidentId), index('assignment_unit_idx').on(t.unitId, t.status)],
);

/** Response plans: category + priority → unit types and counts (per jurisdiction; nearest ancestor wins). */
export const responsePlans = pgTable(
  'response_plan',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    nodeId: uuid('node_id').notNull().references(() => jurisdictionNodes.id),
    category: text('category').notNull(),
    /** Applies to this priority and more urgent ones (smaller numbers). */
    maxPriority: integer('max_priority').notNull().default(4),
    requirements: jsonb('requirements').$type<{ unitType: string; count: number }[]>().notNull(),
    name: text('name').notNull(),
  },
  (t) => [index('response_plan_node_idx').on(t.nodeId, t.category)],
);

/** 1-3-5 targets per jurisdiction (nearest ancestor with a row wins; defaults 60/180/300 s). */
export const dispatchTargets = pgTable('dispatch_target', {
  nodeId: uuid('node_id').primaryKey().references(() => jurisdictionNodes.id),
  acknowledgeSeconds: integer('acknowledge_seconds').notNull(),
  arriveCoreSeconds: integer('arrive_core_seconds').notNull(),
  arriveOtherSeconds: integer('arrive_other_seconds').notNull(),
  diversionAcceptSeconds: integer('diversion_accept_seconds').notNull().default(900),
  warnShare: doublePrecision('warn_share').notNull().default(0.8),
});

/** Server-side timers (acknowledge, arrive, diversion): rows, so they survive a restart. */
export const incidentTimers = pgTable(
  'incident_timer',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    incidentId: uuid('incident_id').notNull().references(() => incidents.id),
    assignmentId: uuid('assignment_id'),
    diversionId: uuid('diversion_id'),
    kind: text('kind').notNull(),
    startedAt: ts('started_at').notNull(),
    warnAt: ts('warn_at').notNull(),
    dueAt: ts('due_at').notNull(),
    warnedAt: ts('warned_at'),
    breachedAt: ts('breached_at'),
    metAt: ts('met_at'),
    cancelledAt: ts('cancelled_at'),
  },
  (t) => [index('incident_timer_open_idx').on(t.dueAt).where(sql`met_at is null and cancelled_at is null and breached_at is null`)],
);

/** Partner departments (城管, 交警, 消防, 民政 …) configured per jurisdiction, and their staff accounts. */
export const partnerDepartments = pgTable(
  'partner_department',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    nodeId: uuid('node_id').notNull().references(() => jurisdictionNodes.id),
    code: text('code').notNull(),
    name: text('name').notNull(),
    /** Categories this department handles. */
    categories: text('categories').array().notNull().default(sql`'{}'::text[]`),
    phone: text('phone'),
  },
  (t) => [uniqueIndex('partner_department_code_idx').on(t.nodeId, t.code)],
);
export const partnerMembers = pgTable(
  'partner_member',
  {
    userId: uuid('user_id').notNull().references(() => users.id),
    departmentId: uuid('department_id').notNull().references(() => partnerDepartments.id),
  },
  (t) => [primaryKey({ columns: [t.userId, t.departmentId] })],
);

/** A non-police incident handed to a partner department, who accept, handle and report back (联调联处). */
export const diversions = pgTable(
  'incident_diversion',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    incidentId: uuid('incident_id').notNull().references(() => incidents.id),
    departmentId: uuid('department_id').notNull().references(() => partnerDepartments.id),
    status: text('status').notNull(),
    note: text('note'),
    createdAt: ts('created_at').notNull(),
    acceptedAt: ts('accepted_at'),
    handledAt: ts('handled_at'),
    report: text('report'),
  },
  (t) => [index('diversion_department_idx').on(t.departmentId, t.status)],
);
