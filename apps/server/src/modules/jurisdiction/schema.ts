import { bigserial, boolean, customType, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { geometry } from '../../platform/db/geometry.js';
import { jurisdictionNodes, users } from '../../platform/db/schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * Every state a node has had, for "which grid owned this point on date D". A row is valid on
 * [validFrom, validTo); the current state has validTo null. Written with each create, edit, move,
 * split, merge and retirement, in the same transaction.
 */
export const jurisdictionNodeVersions = pgTable(
  'jurisdiction_node_version',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    nodeId: uuid('node_id').notNull().references(() => jurisdictionNodes.id),
    code: text('code').notNull(),
    name: text('name').notNull(),
    level: text('level').notNull(),
    parentId: uuid('parent_id'),
    path: text('path').notNull(),
    geom: geometry('geom', 'MultiPolygon'),
    validFrom: ts('valid_from').notNull(),
    validTo: ts('valid_to'),
    change: text('change').notNull(),
    changedBy: uuid('changed_by').references(() => users.id),
  },
  (t) => [
    index('jnv_node_idx').on(t.nodeId, t.validFrom),
    index('jnv_geom_idx').using('gist', t.geom),
    index('jnv_valid_idx').on(t.validFrom, t.validTo),
  ],
);

/** A person on one or more grid teams (4+N+N); not necessarily an account holder. */
export const teamPeople = pgTable(
  'team_person',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    phone: text('phone'),
    /** Whether the phone is printed on the public contact card (grid police and grid head usually are). */
    phonePublic: boolean('phone_public').notNull().default(true),
    title: text('title'),
    photo: bytea('photo'),
    photoType: text('photo_type'),
    userId: uuid('user_id').references(() => users.id),
    /** Node the person is registered at, for access control. */
    nodeId: uuid('node_id').notNull().references(() => jurisdictionNodes.id),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('team_person_node_idx').on(t.nodeId)],
);

/** A person's duty on one grid's team. */
export const gridDuties = pgTable(
  'grid_duty',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    nodeId: uuid('node_id').notNull().references(() => jurisdictionNodes.id),
    personId: uuid('person_id').notNull().references(() => teamPeople.id),
    /** grid_head | grid_instructor | grid_police | grid_manager | info_collector | volunteer */
    duty: text('duty').notNull(),
    /** What the person does for residents, printed on the card. */
    description: text('description'),
    sort: integer('sort').notNull().default(0),
  },
  (t) => [index('grid_duty_node_idx').on(t.nodeId), index('grid_duty_person_idx').on(t.personId)],
);

/** The public contact card of a grid (群众吹哨、民警报到): reachable by QR slug without login. */
export const gridCards = pgTable('grid_card', {
  nodeId: uuid('node_id').primaryKey().references(() => jurisdictionNodes.id),
  /** Random slug printed as a QR code on the grid's notice board. */
  slug: text('slug').notNull().unique(),
  supervisionPhone: text('supervision_phone'),
  notice: text('notice'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** Grid imports: the validation report, progress and outcome (the tree changes in one transaction). */
export const gridImports = pgTable('grid_import', {
  id: uuid('id').primaryKey().defaultRandom(),
  actorId: uuid('actor_id').references(() => users.id),
  parentId: uuid('parent_id').notNull().references(() => jurisdictionNodes.id),
  fileName: text('file_name').notNull(),
  status: text('status').notNull(),
  features: integer('features').notNull().default(0),
  report: jsonb('report').$type<Record<string, unknown>>().notNull().default({}),
  createdAt: ts('created_at').notNull().defaultNow(),
  finishedAt: ts('finished_at'),
});
