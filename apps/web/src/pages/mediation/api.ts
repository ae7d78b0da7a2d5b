/** Shapes of the mediation answers (server: apps/server/src/modules/mediation/) and small shared helpers. */
import type { Role } from '@pingan/contracts';

export const DISPUTE_TYPES = ['neighbours', 'noise', 'family', 'marriage', 'labour', 'land_housing', 'debt', 'traffic_accident', 'consumer', 'other'] as const;
export const DISPUTE_SOURCES = ['patrol_visit', 'village_stay', 'call', 'walk_in', 'partner'] as const;
export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export const RISK_FACTORS = ['threats', 'priorViolence', 'weapons', 'selfHarm', 'manyPeople', 'moneyAtStake', 'repeatedCalls'] as const;
export const MEDIATOR_BODIES = ['station', 'committee', 'justice_office', 'law_firm'] as const;
export const TRANSFER_TARGETS = ['court', 'labour_arbitration', 'justice_office', 'petition_office', 'other'] as const;

/** Mirrors the server's role groups (the server still decides). */
export const CASE_READERS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'mediator', 'inspector'];
export const REGISTRARS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker'];
export const CASE_MANAGERS: readonly Role[] = ['admin', 'station_leader', 'community_officer'];
export const CASE_WORKERS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'mediator'];
export const FIGURE_READERS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'inspector'];
export const TASK_HOLDERS: readonly Role[] = ['admin', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker', 'mediator'];
export const PARTY_REVEALERS: readonly Role[] = ['station_leader', 'community_officer', 'mediator'];
export const INCIDENT_READERS: readonly Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'inspector'];

export const RISK_COLOURS: Record<string, string> = { low: 'green', medium: 'gold', high: 'orange', critical: 'red' };
export const STATUS_COLOURS: Record<string, string> = {
  open: 'default', mediating: 'processing', agreed: 'cyan', resolved: 'success', transferred: 'purple', failed: 'error', withdrawn: 'default',
};

export interface DisputeListItem {
  id: string;
  number: string;
  type: string;
  source: string;
  status: string;
  title: string;
  riskLevel: string;
  gridName: string | null;
  stationName: string | null;
  parties: string[];
  mediators: string[];
  incidentId: string | null;
  registeredAt: string;
  lastReviewedAt: string;
  reviewOverdue: boolean;
  nextFollowUpAt: string | null;
  closedAt: string | null;
  outcome: string | null;
}

export interface Party {
  id: string;
  kind: string;
  side: string;
  name: string;
  phone: string | null;
  idNumber: string | null;
  address: string | null;
  demand: string | null;
}

export interface DisputeDetail {
  id: string;
  number: string;
  type: string;
  source: string;
  status: string;
  title: string;
  description: string;
  history: string | null;
  address: string | null;
  gridName: string | null;
  stationName: string | null;
  incidentId: string | null;
  incidentNumber: string | null;
  officerName: string | null;
  risk: { level: string; factors: Record<string, boolean>; note: string | null };
  registeredAt: string;
  lastReviewedAt: string;
  reviewOverdue: boolean;
  closedAt: string | null;
  outcome: string | null;
  transferredTo: string | null;
  closeNote: string | null;
  reopenCount: number;
  revealed: boolean;
  parties: Party[];
  mediators: { id: string; userId: string; name: string; body: string; organisation: string | null; status: string; proposedAt: string }[];
  myAssignment: { id: string; status: string } | null;
  sessions: { id: string; heldAt: string; place: string; attendees: string[]; notes: string; recordedBy: string | null }[];
  agreements: {
    id: string;
    status: string;
    summary: string | null;
    proposedAt: string;
    signedAt: string | null;
    file: { url: string; type: string; name: string | null; bytes: number | null } | null;
    terms: { id: string; seq: number; text: string; amount: number | null; deadline: string | null; status: string; fulfilledAt: string | null; note: string | null }[];
  }[];
  followUps: { id: string; afterDays: number; dueAt: string; due: boolean; status: string; doneAt: string | null; holds: boolean | null; recurred: boolean | null; note: string | null; doneBy: string | null }[];
  tasks: { id: string; kind: string; title: string; dueAt: string; status: string; assignee: string }[];
  timeline: { seq: number; at: string; type: string; actor: string | null; actorRole: string | null; data: Record<string, unknown> }[];
}

export interface TaskItem {
  kind: 'risk_urgent' | 'follow_up' | 'consent';
  id: string;
  disputeId: string;
  number: string;
  title: string;
  dueAt: string;
  riskLevel: string;
  overdue: boolean;
}

export interface FigureRow {
  screened: number;
  closed: number;
  resolved: number;
  transferred: number;
  failed: number;
  successRate: number | null;
  medianDays: number | null;
  followedUp: number;
  recurred: number;
  recurrenceRate: number | null;
}

export interface FiguresReport {
  node: { id: string; name: string; level: string };
  from: string;
  to: string;
  total: FigureRow;
  children: (FigureRow & { id: string; name: string; level: string })[];
  byType: (FigureRow & { type: string })[];
  byMonth: (FigureRow & { month: string })[];
}

export const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
export const when = (iso: string | null, lang: string) =>
  iso ? new Date(iso).toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }) : '—';
export const newKey = () => crypto.randomUUID();
