import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { geometry } from './geometry.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * The jurisdiction tree (province → city → county → station → grid → micro-grid). It lives in the
 * platform because access control is decided on it; the jurisdiction module owns its editing.
 * `path` is the chain of ids from the root, '/a/b/c/', so "X is at or below Y" is a prefix test.
 */
export const jurisdictionNodes = pgTable(
  'jurisdiction_node',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    code: text('code').notNull().unique(),
    name: text('name').notNull(),
    level: text('level').notNull(),
    parentId: uuid('parent_id'),
    path: text('path').notNull(),
    geom: geometry('geom', 'MultiPolygon'),
    /** Core area (核心区): the 3-minute arrival target applies instead of 5. */
    core: boolean('core').notNull().default(false),
    /** Split, merged or removed: kept for history and references, gone from the live tree. */
    retiredAt: ts('retired_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('jurisdiction_node_parent_idx').on(t.parentId),
    index('jurisdiction_node_path_idx').using('btree', sql`${t.path} text_pattern_ops`),
    index('jurisdiction_node_geom_idx').using('gist', t.geom),
  ],
);

export const users = pgTable(
  'app_user',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: text('username').notNull().unique(),
    displayName: text('display_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role').notNull(),
    nodeId: uuid('node_id')
      .notNull()
      .references(() => jurisdictionNodes.id),
    phone: text('phone'),
    disabled: boolean('disabled').notNull().default(false),
    failedLogins: integer('failed_logins').notNull().default(0),
    lockedUntil: ts('locked_until'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('app_user_node_idx').on(t.nodeId)],
);

/** Opaque sessions: only the SHA-256 of the token is stored, so a database leak yields no sessions. */
export const sessions = pgTable(
  'session',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tokenHash: text('token_hash').notNull().unique(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [index('session_user_idx').on(t.userId)],
);

/** Hash-chained audit trail; see docs/decisions/003-audit-chain.md. */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull(),
    actorId: uuid('actor_id'),
    actorRole: text('actor_role'),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    nodePath: text('node_path'),
    ip: text('ip'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_log_node_idx').using('btree', sql`${t.nodePath} text_pattern_ops`),
    index('audit_log_entity_idx').on(t.entityType, t.entityId),
  ],
);

/**
 * The head of the audit chain: one row whose update is the chain's only point of serialization. An
 * append is one statement (update the head, insert the record) and the row lock it takes is held only
 * from that statement to commit (decision 012).
 */
export const auditHead = pgTable('audit_head', {
  id: integer('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});

/** Stored first answers of POSTs sent with an Idempotency-Key, written in the same transaction. */
export const idempotencyKeys = pgTable(
  'idempotency_key',
  {
    actorKey: text('actor_key').notNull(),
    key: text('key').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    requestHash: text('request_hash').notNull(),
    statusCode: integer('status_code').notNull(),
    body: jsonb('body').$type<unknown>(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.actorKey, t.key] })],
);

/** Secrets shared by every instance on one database (ticket signing, CSRF), made at first start. */
export const platformSecrets = pgTable('platform_secret', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});
