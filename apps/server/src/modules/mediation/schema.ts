import { sql } from 'drizzle-orm';
import { bigserial, boolean, customType, date, doublePrecision, index, integer, jsonb, numeric, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { jurisdictionNodes, users } from '../../platform/db/schema.js';
import { incidents } from '../dispatch/schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * A dispute (矛盾纠纷): registered from a visit, a village stay, a call (its incident), a walk-in or a
 * partner department; screened on a rolling basis, mediated, followed up, closed.
 * status: open → mediating → agreed → resolved | transferred | failed | withdrawn (closed); a recurrence reopens.
 */
export const disputes = pgTable(
  'dispute',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Human number, e.g. 370523-TJ-20260312-0004. */
    number: text('number').notNull().unique(),
    type: text('type').notNull(),
    source: text('source').notNull(),
    incidentId: uuid('incident_id').references(() => incidents.id),
    status: text('status').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull(),
    /** Earlier events between the parties (prior calls, earlier mediations). */
    history: text('history'),
    address: text('address'),
    lon: doublePrecision('lon'),
    lat: doublePrecision('lat'),
    /** Deepest node holding the place, its grid and station, and the path (access by prefix). */
    nodeId: uuid('node_id').references(() => jurisdictionNodes.id),
    gridId: uuid('grid_id').references(() => jurisdictionNodes.id),
    stationId: uuid('station_id').references(() => jurisdictionNodes.id),
    nodePath: text('node_path').notNull(),
    riskLevel: text('risk_level').notNull().default('low'),
    /** The checklist: threats, priorViolence, weapons, selfHarm, manyPeople, moneyAtStake, repeatedCalls. */
    riskFactors: jsonb('risk_factors').notNull().default({}),
    riskNote: text('risk_note'),
    /** The officer responsible for the case (follow-ups appear on their list). */
    officerId: uuid('officer_id').references(() => users.id),
    registeredBy: uuid('registered_by').references(() => users.id),
    registeredAt: ts('registered_at').notNull(),
    lastReviewedAt: ts('last_reviewed_at').notNull(),
    /** Set when the case reaches a final state; cleared on reopen. */
    closedAt: ts('closed_at'),
    /** agreement_held | transferred | failed | withdrawn */
    outcome: text('outcome'),
    /** court | labour_arbitration | justice_office | petition_office | other */
    transferredTo: text('transferred_to'),
    closeNote: text('close_note'),
    reopenCount: integer('reopen_count').notNull().default(0),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('dispute_path_idx').using('btree', sql`${t.nodePath} text_pattern_ops`),
    index('dispute_status_idx').on(t.status, t.registeredAt),
    index('dispute_incident_idx').on(t.incidentId),
  ],
);

/** A party: a person or an organisation. Personal fields are masked on screen unless revealed (audited). */
export const disputeParties = pgTable(
  'dispute_party',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    disputeId: uuid('dispute_id').notNull().references(() => disputes.id),
    kind: text('kind').notNull(),
    /** applicant | respondent | other */
    side: text('side').notNull(),
    name: text('name').notNull(),
    phone: text('phone'),
    idNumber: text('id_number'),
    address: text('address'),
    /** What this side wants. */
    demand: text('demand'),
    sort: integer('sort').notNull().default(0),
  },
  (t) => [index('dispute_party_dispute_idx').on(t.disputeId)],
);

/** A mediator asked to work a case; only an accepted assignment lets them act (assigned with consent). */
export const disputeMediators = pgTable(
  'dispute_mediator',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    disputeId: uuid('dispute_id').notNull().references(() => disputes.id),
    userId: uuid('user_id').notNull().references(() => users.id),
    /** station | committee (人民调解委员会) | justice_office | law_firm */
    body: text('body').notNull(),
    organisation: text('organisation'),
    /** proposed | accepted | declined | withdrawn */
    status: text('status').notNull(),
    proposedBy: uuid('proposed_by').references(() => users.id),
    proposedAt: ts('proposed_at').notNull(),
    respondedAt: ts('responded_at'),
    note: text('note'),
  },
  (t) => [index('dispute_mediator_dispute_idx').on(t.disputeId), index('dispute_mediator_user_idx').on(t.userId, t.status)],
);

export const mediationSessions = pgTable(
  'mediation_session',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    disputeId: uuid('dispute_id').notNull().references(() => disputes.id),
    heldAt: ts('held_at').notNull(),
    place: text('place').notNull(),
    attendees: jsonb('attendees').notNull().default([]),
    notes: text('notes').notNull(),
    recordedBy: uuid('recorded_by').references(() => users.id),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('mediation_session_dispute_idx').on(t.disputeId)],
);

/** A proposed or signed agreement; the signed document is uploaded as a file. */
export const mediationAgreements = pgTable(
  'mediation_agreement',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    disputeId: uuid('dispute_id').notNull().references(() => disputes.id),
    /** proposed | signed | superseded */
    status: text('status').notNull(),
    summary: text('summary'),
    proposedAt: ts('proposed_at').notNull(),
    signedAt: ts('signed_at'),
    recordedBy: uuid('recorded_by').references(() => users.id),
    file: bytea('file'),
    fileType: text('file_type'),
    fileName: text('file_name'),
    fileBytes: integer('file_bytes'),
  },
  (t) => [index('mediation_agreement_dispute_idx').on(t.disputeId)],
);

/** One term of an agreement, tracked to fulfilment. */
export const agreementTerms = pgTable(
  'mediation_agreement_term',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agreementId: uuid('agreement_id').notNull().references(() => mediationAgreements.id),
    seq: integer('seq').notNull(),
    text: text('text').notNull(),
    amount: numeric('amount', { precision: 14, scale: 2 }),
    deadline: date('deadline'),
    /** pending | fulfilled | breached */
    status: text('status').notNull().default('pending'),
    fulfilledAt: ts('fulfilled_at'),
    note: text('note'),
  },
  (t) => [index('mediation_term_agreement_idx').on(t.agreementId)],
);

/** A follow-up visit (回访), scheduled after the agreement is signed; due ones appear as tasks. */
export const disputeFollowUps = pgTable(
  'dispute_follow_up',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    disputeId: uuid('dispute_id').notNull().references(() => disputes.id),
    agreementId: uuid('agreement_id').references(() => mediationAgreements.id),
    /** Days after signing (7, 30 … per the node's setting). */
    afterDays: integer('after_days').notNull(),
    dueAt: ts('due_at').notNull(),
    /** scheduled | done | cancelled */
    status: text('status').notNull(),
    doneAt: ts('done_at'),
    doneBy: uuid('done_by').references(() => users.id),
    holds: boolean('holds'),
    recurred: boolean('recurred'),
    note: text('note'),
  },
  (t) => [index('dispute_follow_up_due_idx').on(t.status, t.dueAt), index('dispute_follow_up_dispute_idx').on(t.disputeId)],
);

/** Urgent and other tasks of the mediation work (no general task module yet). */
export const mediationTasks = pgTable(
  'mediation_task',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    disputeId: uuid('dispute_id').notNull().references(() => disputes.id),
    /** risk_urgent */
    kind: text('kind').notNull(),
    assigneeId: uuid('assignee_id').notNull().references(() => users.id),
    nodePath: text('node_path').notNull(),
    title: text('title').notNull(),
    dueAt: ts('due_at').notNull(),
    /** open | done | cancelled */
    status: text('status').notNull(),
    createdAt: ts('created_at').notNull(),
    doneAt: ts('done_at'),
    note: text('note'),
  },
  (t) => [index('mediation_task_assignee_idx').on(t.assigneeId, t.status)],
);

/** The case's timeline: every change, in order. */
export const disputeEvents = pgTable(
  'dispute_event',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    disputeId: uuid('dispute_id').notNull().references(() => disputes.id),
    at: ts('at').notNull(),
    type: text('type').notNull(),
    actorId: uuid('actor_id').references(() => users.id),
    data: jsonb('data').notNull().default({}),
  },
  (t) => [index('dispute_event_dispute_idx').on(t.disputeId, t.seq)],
);

/** Per-node settings of the mediation work; the nearest ancestor's row (or the node's own) wins. */
export const mediationSettings = pgTable(
  'mediation_setting',
  {
    nodeId: uuid('node_id').primaryKey().references(() => jurisdictionNodes.id),
    /** Follow-up visits, in days after the agreement is signed (0 = due at once). */
    followUpDays: jsonb('follow_up_days').notNull(),
    /** Rolling screening: an open case not reviewed within this many days is flagged. */
    reviewIntervalDays: integer('review_interval_days').notNull(),
    updatedBy: uuid('updated_by').references(() => users.id),
    updatedAt: ts('updated_at').notNull(),
  },
);
