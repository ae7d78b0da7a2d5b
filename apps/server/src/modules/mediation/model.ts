import { z } from 'zod';
import type { Role } from '@pingan/contracts';
import { Crs } from '@pingan/contracts';

/** Kinds of dispute (labour covers work-injury compensation). */
export const DISPUTE_TYPES = ['neighbours', 'noise', 'family', 'marriage', 'labour', 'land_housing', 'debt', 'traffic_accident', 'consumer', 'other'] as const;
export type DisputeType = (typeof DISPUTE_TYPES)[number];
/** Where the dispute came from: a patrol visit, a village stay (驻村), a call (its incident), a walk-in, a partner department. */
export const DISPUTE_SOURCES = ['patrol_visit', 'village_stay', 'call', 'walk_in', 'partner'] as const;
export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];
export const RISK_FACTORS = ['threats', 'priorViolence', 'weapons', 'selfHarm', 'manyPeople', 'moneyAtStake', 'repeatedCalls'] as const;
export type RiskFactor = (typeof RISK_FACTORS)[number];
/** Mediating bodies (三所共建: station, justice office, law firm; plus the people's mediation committees). */
export const MEDIATOR_BODIES = ['station', 'committee', 'justice_office', 'law_firm'] as const;
export const TRANSFER_TARGETS = ['court', 'labour_arbitration', 'justice_office', 'petition_office', 'other'] as const;
export const DISPUTE_STATUSES = ['open', 'mediating', 'agreed', 'resolved', 'transferred', 'failed', 'withdrawn'] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];
export const ACTIVE_STATUSES: readonly DisputeStatus[] = ['open', 'mediating', 'agreed'];
export const CLOSED_STATUSES: readonly DisputeStatus[] = ['resolved', 'transferred', 'failed', 'withdrawn'];
export const OUTCOMES = ['agreement_held', 'transferred', 'failed', 'withdrawn'] as const;

/** Who reads cases of their jurisdiction (mediators: only cases assigned to them). */
export const CASE_READERS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'mediator', 'inspector'];
/** Who registers and screens disputes, and updates the risk. */
export const REGISTRARS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker'];
export const RISK_ASSESSORS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'mediator'];
/** Who assigns mediators, transfers, closes and reopens. */
export const CASE_MANAGERS: readonly Role[] = ['admin', 'station_leader', 'community_officer'];
/** Who records sessions, agreements, fulfilment and follow-ups (mediators: accepted assignments only). */
export const CASE_WORKERS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'mediator'];
export const FIGURE_READERS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'inspector'];
export const SETTING_EDITORS: readonly Role[] = ['admin', 'station_leader'];
export const TASK_HOLDERS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'mediator'];
/** Roles that can be asked to mediate. */
export const MEDIATOR_ROLES: readonly Role[] = ['mediator', 'community_officer', 'station_leader'];

const Phone = z.string().trim().regex(/^[0-9+\-\s]{3,20}$/, 'must be a phone number (digits, +, - and spaces)');
const IdNumber = z.string().trim().regex(/^[0-9A-Za-z]{6,20}$/, 'must be an ID number (6 to 20 letters or digits)');

export const PartyInput = z.object({
  kind: z.enum(['person', 'organisation']).default('person'),
  side: z.enum(['applicant', 'respondent', 'other']),
  name: z.string().trim().min(1, 'give the name').max(100),
  phone: Phone.optional(),
  idNumber: IdNumber.optional(),
  address: z.string().trim().max(200).optional(),
  demand: z.string().trim().max(2000).optional(),
});

export const RiskFactors = z.object(Object.fromEntries(RISK_FACTORS.map((f) => [f, z.boolean().default(false)])) as Record<RiskFactor, z.ZodDefault<z.ZodBoolean>>);
export type RiskFactors = z.infer<typeof RiskFactors>;

export const RiskInput = z.object({
  factors: RiskFactors,
  /** The officer's judgement; below the checklist's level only with a note. Default: the checklist's level. */
  level: z.enum(RISK_LEVELS).optional(),
  note: z.string().trim().max(1000).optional(),
});
export type RiskInput = z.infer<typeof RiskInput>;

export const RegisterBody = z
  .object({
    type: z.enum(DISPUTE_TYPES),
    source: z.enum(DISPUTE_SOURCES),
    incidentId: z.string().uuid().optional(),
    title: z.string().trim().min(2, 'give a short title').max(120),
    description: z.string().trim().min(2, 'describe the dispute').max(4000),
    history: z.string().trim().max(4000).optional(),
    location: z.object({ lon: z.number().min(-180).max(180), lat: z.number().min(-90).max(90), crs: Crs.default('WGS84') }).optional(),
    /** The grid (or any node of yours) when there are no coordinates. */
    nodeId: z.string().uuid().optional(),
    address: z.string().trim().min(2).max(200).optional(),
    parties: z.array(PartyInput).min(1, 'name at least one party').max(30),
    risk: RiskInput.optional(),
    officerId: z.string().uuid().optional(),
    registeredAt: z.coerce.date().optional(),
  })
  .refine((b) => b.location !== undefined || b.incidentId !== undefined || b.nodeId !== undefined, {
    message: 'give a location (lon, lat), the incident or the grid (nodeId)',
    path: ['location'],
  });
export type RegisterBody = z.infer<typeof RegisterBody>;

export const ListQuery = z.object({
  nodeId: z.string().uuid().optional(),
  state: z.enum(['active', 'closed', 'all']).default('active'),
  status: z.enum(DISPUTE_STATUSES).optional(),
  type: z.enum(DISPUTE_TYPES).optional(),
  risk: z.enum(RISK_LEVELS).optional(),
  /** Cases assigned to me (mediators) or in my charge (officers). */
  mine: z.enum(['true', 'false']).optional(),
  /** Only open cases not reviewed within the review interval. */
  overdue: z.enum(['true', 'false']).optional(),
  q: z.string().trim().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
export type ListQuery = z.infer<typeof ListQuery>;

export const ReviewBody = z.object({ note: z.string().trim().min(1, 'say what you found').max(2000) });
export const AssignBody = z.object({
  userId: z.string().uuid(),
  body: z.enum(MEDIATOR_BODIES),
  organisation: z.string().trim().max(100).optional(),
  note: z.string().trim().max(500).optional(),
});
export const RespondBody = z.object({ accept: z.boolean(), note: z.string().trim().max(500).optional() });
export const SessionBody = z.object({
  heldAt: z.coerce.date(),
  place: z.string().trim().min(1, 'where was it held').max(200),
  attendees: z.array(z.string().trim().min(1).max(60)).min(1, 'name who attended').max(50),
  notes: z.string().trim().min(1, 'write what was said and agreed').max(8000),
});
export const TermInput = z.object({
  text: z.string().trim().min(1, 'write the term').max(1000),
  amount: z.number().min(0).max(1e11).optional(),
  deadline: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD').optional(),
});
export const AgreementBody = z.object({
  summary: z.string().trim().max(4000).optional(),
  terms: z.array(TermInput).min(1, 'an agreement has at least one term').max(50),
});
export const SignBody = z.object({ signedAt: z.coerce.date().optional() });
export const TermBody = z.object({ status: z.enum(['pending', 'fulfilled', 'breached']), note: z.string().trim().max(1000).optional() });
export const FollowUpBody = z.object({
  holds: z.boolean(),
  recurred: z.boolean(),
  note: z.string().trim().min(1, 'write what the visit found').max(2000),
});
export const TransferBody = z.object({ to: z.enum(TRANSFER_TARGETS), note: z.string().trim().min(1, 'say why and to whom').max(2000) });
export const CloseBody = z.object({ outcome: z.enum(['failed', 'withdrawn']), note: z.string().trim().min(1, 'say why').max(2000) });
export const ReopenBody = z.object({ note: z.string().trim().min(1, 'say why').max(2000) });
export const TaskDoneBody = z.object({ note: z.string().trim().min(1, 'say what was done').max(2000) });
export const SettingsBody = z.object({
  followUpDays: z.array(z.number().int().min(0).max(365)).min(1).max(6),
  reviewIntervalDays: z.number().int().min(1).max(365),
});
export const FiguresQuery = z.object({
  nodeId: z.string().uuid().optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
});

export const AGREEMENT_FILE_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const;
export const AGREEMENT_FILE_MAX_BYTES = 10 * 1024 * 1024;

/** The checklist's level: weapons or self-harm signs are critical; threats or prior violence high. */
export function checklistLevel(f: Partial<RiskFactors>): RiskLevel {
  const score = (f.weapons ? 3 : 0) + (f.selfHarm ? 3 : 0) + (f.threats ? 2 : 0) + (f.priorViolence ? 2 : 0) + (f.manyPeople ? 1 : 0) + (f.moneyAtStake ? 1 : 0) + (f.repeatedCalls ? 1 : 0);
  if (f.weapons || f.selfHarm || score >= 5) return 'critical';
  if (f.threats || f.priorViolence || score >= 3) return 'high';
  if (score >= 1) return 'medium';
  return 'low';
}
export const riskRank = (l: string) => Math.max(0, RISK_LEVELS.indexOf(l as RiskLevel));
