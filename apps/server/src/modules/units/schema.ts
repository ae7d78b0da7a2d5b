import { sql } from 'drizzle-orm';
import { boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { geometry } from '../../platform/db/geometry.js';
import { jurisdictionNodes, users } from '../../platform/db/schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * A dispatchable unit: a patrol car, a foot patrol, a street police service station … Its home
 * node decides who sees and manages it (`path` is the home node's materialized path).
 * The position track lives in `unit_position`, a table partitioned by day that the migration
 * creates by hand (Drizzle cannot declare partitioning); see docs/decisions/010-avl-ingestion.md.
 */
export const units = pgTable(
  'unit',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    callSign: text('call_sign').notNull(),
    name: text('name').notNull(),
    /** patrol_car | foot_patrol | motorbike | bicycle | service_station | drone | guard_team | volunteer_team */
    type: text('type').notNull(),
    homeNodeId: uuid('home_node_id').notNull().references(() => jurisdictionNodes.id),
    path: text('path').notNull(),
    onDuty: boolean('on_duty').notNull().default(false),
    /** When the unit last went on or off duty. */
    dutyChangedAt: ts('duty_changed_at'),
    notes: text('notes'),
    retiredAt: ts('retired_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('unit_path_idx').using('btree', sql`${t.path} text_pattern_ops`),
    index('unit_home_idx').on(t.homeNodeId),
  ],
);

/** The people of a unit (accounts); a member's session or terminal ticket may send its positions. */
export const unitMembers = pgTable(
  'unit_member',
  {
    unitId: uuid('unit_id').notNull().references(() => units.id),
    userId: uuid('user_id').notNull().references(() => users.id),
    addedAt: ts('added_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.unitId, t.userId] }), index('unit_member_user_idx').on(t.userId)],
);

/** One on-duty period of a unit: opened by going on duty, closed by going off duty. */
export const unitShifts = pgTable(
  'unit_shift',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    unitId: uuid('unit_id').notNull().references(() => units.id),
    startedAt: ts('started_at').notNull(),
    endedAt: ts('ended_at'),
    startedBy: uuid('started_by').references(() => users.id),
    endedBy: uuid('ended_by').references(() => users.id),
    /** Members on this shift (user ids), copied when it starts. */
    memberIds: jsonb('member_ids').$type<string[]>().notNull().default([]),
  },
  (t) => [index('unit_shift_unit_idx').on(t.unitId, t.startedAt)],
);

/** A street police service station (警务服务站) as a place: the unit of type service_station behind it. */
export const serviceStations = pgTable(
  'service_station',
  {
    unitId: uuid('unit_id').primaryKey().references(() => units.id),
    address: text('address'),
    phone: text('phone'),
    lon: doublePrecision('lon').notNull(),
    lat: doublePrecision('lat').notNull(),
    /** Services offered (e.g. 'reception', 'first_aid', 'lost_and_found', 'mediation'). */
    functions: jsonb('functions').$type<string[]>().notNull().default([]),
    /** Staffing by time of day: [{from:'08:00', to:'20:00', staff:3}]. */
    staffing: jsonb('staffing').$type<{ from: string; to: string; staff: number }[]>().notNull().default([]),
  },
);

/** A patrol zone; neighbouring zones may overlap at their far edges. */
export const patrolZones = pgTable(
  'patrol_zone',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    nodeId: uuid('node_id').notNull().references(() => jurisdictionNodes.id),
    path: text('path').notNull(),
    geom: geometry('geom', 'MultiPolygon').notNull(),
    retiredAt: ts('retired_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('patrol_zone_path_idx').using('btree', sql`${t.path} text_pattern_ops`),
    index('patrol_zone_geom_idx').using('gist', t.geom),
  ],
);

export interface Checkpoint {
  name: string;
  lon: number;
  lat: number;
  radiusM: number;
  dwellS: number;
}
export interface ScheduleSlot {
  /** ISO weekdays 1 (Monday) … 7 (Sunday). */
  weekdays: number[];
  /** Local time (Asia/Shanghai) 'HH:MM'. */
  start: string;
  end: string;
}

/** A patrol plan: an ordered list of checkpoints, walked on a schedule, optionally in a zone. */
export const patrolPlans = pgTable(
  'patrol_plan',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    nodeId: uuid('node_id').notNull().references(() => jurisdictionNodes.id),
    path: text('path').notNull(),
    zoneId: uuid('zone_id').references(() => patrolZones.id),
    unitId: uuid('unit_id').references(() => units.id),
    checkpoints: jsonb('checkpoints').$type<Checkpoint[]>().notNull(),
    schedule: jsonb('schedule').$type<ScheduleSlot[]>().notNull().default([]),
    /** Checkpoints must be reached in order. */
    ordered: boolean('ordered').notNull().default(false),
    active: boolean('active').notNull().default(true),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('patrol_plan_path_idx').using('btree', sql`${t.path} text_pattern_ops`)],
);

/** One walk of a plan by a unit; checkpoint results are computed from the stored track. */
export const patrolRuns = pgTable(
  'patrol_run',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    planId: uuid('plan_id').notNull().references(() => patrolPlans.id),
    unitId: uuid('unit_id').notNull().references(() => units.id),
    path: text('path').notNull(),
    startedAt: ts('started_at').notNull(),
    endedAt: ts('ended_at'),
    /** Final detection, written when the run ends. */
    result: jsonb('result').$type<Record<string, unknown>>(),
    reachedCount: integer('reached_count'),
    createdBy: uuid('created_by').references(() => users.id),
  },
  (t) => [
    index('patrol_run_plan_idx').on(t.planId, t.startedAt),
    index('patrol_run_unit_idx').on(t.unitId, t.startedAt),
    index('patrol_run_path_idx').using('btree', sql`${t.path} text_pattern_ops`),
  ],
);
