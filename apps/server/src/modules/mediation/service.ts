import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import { type Actor, assertCoversNode, assertCoversPath, coversPath } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import type { Executor, Tx } from '../../platform/db/index.js';
import { rows, uuidArray } from '../../platform/db/rows.js';
import { conflict, forbidden, notFound, unprocessable } from '../../platform/errors.js';
import { toWgs84 } from '../jurisdiction/geo/coords.js';
import type { JurisdictionLookup } from '../jurisdiction/lookup.js';
import { loadIncident } from '../dispatch/service.js';
import {
  ACTIVE_STATUSES, type AgreementBody, type AssignBody, checklistLevel, CLOSED_STATUSES, type CloseBody, type FollowUpBody, MEDIATOR_ROLES,
  type RegisterBody, type RespondBody, type ReviewBody, type RiskInput, riskRank, type SessionBody, type SettingsBody, type SignBody, type TermBody,
  type TransferBody,
} from './model.js';

export interface DisputeRow {
  id: string;
  number: string;
  type: string;
  source: string;
  incident_id: string | null;
  status: string;
  title: string;
  description: string;
  history: string | null;
  address: string | null;
  lon: number | null;
  lat: number | null;
  node_id: string | null;
  grid_id: string | null;
  station_id: string | null;
  node_path: string;
  risk_level: string;
  risk_factors: Record<string, boolean>;
  risk_note: string | null;
  officer_id: string | null;
  registered_by: string | null;
  registered_at: Date;
  last_reviewed_at: Date;
  closed_at: Date | null;
  outcome: string | null;
  transferred_to: string | null;
  close_note: string | null;
  reopen_count: number;
  updated_at: Date;
}

export interface MediationSettings {
  followUpDays: number[];
  reviewIntervalDays: number;
}
export const DEFAULT_MEDIATION_SETTINGS: MediationSettings = { followUpDays: [7, 30], reviewIntervalDays: 30 };

/** Hours an urgent task gets after the risk is raised. */
const URGENT_HOURS = { high: 24, critical: 2 } as const;

/** What must be announced on the bus after the transaction commits. */
export interface Announcements {
  riskRaised: { disputeId: string; nodePath: string; level: string }[];
}

export async function loadDispute(exec: Executor, id: string): Promise<DisputeRow> {
  const [row] = await rows<DisputeRow>(exec, sql`select * from dispute where id = ${id}`);
  if (!row) throw notFound('The dispute');
  return row;
}

/** Assignments of a user to a case that let them see it (proposed) or work it (accepted). */
async function assignmentOf(exec: Executor, disputeId: string, userId: string): Promise<string | null> {
  const [m] = await rows<{ status: string }>(
    exec,
    sql`select status from dispute_mediator where dispute_id = ${disputeId} and user_id = ${userId} and status in ('proposed', 'accepted')
        order by (status = 'accepted') desc limit 1`,
  );
  return m?.status ?? null;
}

/**
 * Access to one case: by place (the actor's node covers the dispute's) and, for mediators, only the
 * cases assigned to them: a proposal lets them read it (to decide), an accepted one lets them work it.
 */
export async function assertCaseAccess(exec: Executor, actor: Actor, d: DisputeRow, mode: 'read' | 'work'): Promise<void> {
  assertCoversPath(actor, d.node_path);
  if (actor.role !== 'mediator') return;
  const status = await assignmentOf(exec, d.id, actor.userId);
  if (!status) throw forbidden('Mediators see only the cases assigned to them.');
  if (mode === 'work' && status !== 'accepted') throw forbidden('Accept the assignment before working on the case.');
}

async function loadFor(exec: Executor, actor: Actor, id: string, mode: 'read' | 'work'): Promise<DisputeRow> {
  const d = await loadDispute(exec, id);
  await assertCaseAccess(exec, actor, d, mode);
  return d;
}

export async function appendEvent(tx: Executor, disputeId: string, type: string, actorId: string | null, at: Date, data: Record<string, unknown> = {}) {
  await tx.execute(sql`insert into dispute_event (dispute_id, at, type, actor_id, data) values (${disputeId}, ${at}, ${type}, ${actorId}, ${JSON.stringify(data)}::jsonb)`);
}

const pathIds = (path: string) => path.split('/').filter(Boolean);

/** The settings of a node: its own row or the nearest ancestor's, else the defaults. */
export async function settingsFor(exec: Executor, nodePath: string): Promise<MediationSettings & { nodeId: string | null }> {
  const ids = pathIds(nodePath);
  if (ids.length === 0) return { ...DEFAULT_MEDIATION_SETTINGS, nodeId: null };
  const [s] = await rows<{ node_id: string; follow_up_days: number[]; review_interval_days: number }>(
    exec,
    sql`select s.node_id, s.follow_up_days, s.review_interval_days from mediation_setting s join jurisdiction_node n on n.id = s.node_id
        where s.node_id = any(${uuidArray(ids)}::uuid[]) order by length(n.path) desc limit 1`,
  );
  if (!s) return { ...DEFAULT_MEDIATION_SETTINGS, nodeId: null };
  return { followUpDays: s.follow_up_days.map(Number), reviewIntervalDays: Number(s.review_interval_days), nodeId: s.node_id };
}

/** Grid and station of a node path (by level). */
async function placeOf(exec: Executor, nodePath: string) {
  const ids = pathIds(nodePath);
  const nodes = ids.length
    ? await rows<{ id: string; level: string; code: string; path: string }>(exec, sql`select id, level, code, path from jurisdiction_node where id = any(${uuidArray(ids)}::uuid[])`)
    : [];
  const byLevel = (l: string) => nodes.filter((n) => n.level === l).sort((a, b) => b.path.length - a.path.length)[0];
  return {
    nodeId: ids.at(-1) ?? null,
    gridId: byLevel('grid')?.id ?? null,
    stationId: byLevel('station')?.id ?? null,
    countyCode: byLevel('county')?.code ?? byLevel('station')?.code.slice(0, 6) ?? '000000',
  };
}

/** The grid officer of a case: the grid's police officer (team, with an account), else the community officer nearest the place, else the officer in charge. */
export async function gridOfficerOf(exec: Executor, d: Pick<DisputeRow, 'grid_id' | 'node_path' | 'officer_id'>): Promise<string | null> {
  if (d.grid_id) {
    const [team] = await rows<{ user_id: string }>(
      exec,
      sql`select tp.user_id from grid_duty gd join team_person tp on tp.id = gd.person_id join app_user u on u.id = tp.user_id
          where gd.node_id = ${d.grid_id} and gd.duty = 'grid_police' and not u.disabled order by u.username limit 1`,
    );
    if (team) return team.user_id;
  }
  const ids = pathIds(d.node_path);
  if (ids.length) {
    const [near] = await rows<{ id: string }>(
      exec,
      sql`select u.id from app_user u join jurisdiction_node n on n.id = u.node_id
          where u.role = 'community_officer' and not u.disabled and u.node_id = any(${uuidArray(ids)}::uuid[])
          order by length(n.path) desc, u.username limit 1`,
    );
    if (near) return near.id;
  }
  return d.officer_id;
}

async function nextNumber(tx: Executor, countyCode: string, at: Date): Promise<string> {
  await tx.execute(sql`select pg_advisory_xact_lock(727020)`);
  const day = new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '');
  const prefix = `${countyCode}-TJ-${day}-`;
  const [r] = await rows<{ n: number }>(tx, sql`select count(*)::int as n from dispute where number like ${`${prefix}%`}`);
  return `${prefix}${String((r?.n ?? 0) + 1).padStart(4, '0')}`;
}

export function createMediationService(deps: { lookup: JurisdictionLookup; now: () => Date }) {
  const { lookup, now } = deps;

  /** Set the risk from the checklist and the officer's judgement; raising it to high/critical escalates. */
  async function applyRisk(tx: Tx, actor: Actor, d: DisputeRow, input: RiskInput, at: Date, out: Announcements) {
    const factors = input.factors;
    const suggested = checklistLevel(factors);
    const level = input.level ?? suggested;
    if (riskRank(level) < riskRank(suggested) && !input.note) {
      throw unprocessable(`The checklist says ${suggested}: give a note to set the risk lower (${level}).`, [{ field: 'body.risk.note', message: 'is required to go below the checklist' }]);
    }
    const previous = d.risk_level;
    await tx.execute(sql`update dispute set risk_level = ${level}, risk_factors = ${JSON.stringify(factors)}::jsonb, risk_note = ${input.note ?? null}, updated_at = ${at} where id = ${d.id}`);
    await appendEvent(tx, d.id, 'risk', actor.userId, at, { from: previous, to: level, suggested, factors, note: input.note ?? null });
    let task: { id: string; assigneeId: string } | null = null;
    if ((level === 'high' || level === 'critical') && riskRank(level) > riskRank(previous)) {
      const assignee = await gridOfficerOf(tx, d);
      if (assignee) {
        const due = new Date(at.getTime() + URGENT_HOURS[level] * 3600_000);
        const [t] = await rows<{ id: string }>(
          tx,
          sql`insert into mediation_task (dispute_id, kind, assignee_id, node_path, title, due_at, status, created_at)
              values (${d.id}, 'risk_urgent', ${assignee}, ${d.node_path}, ${`${level === 'critical' ? '紧急' : '高风险'}：${d.number} ${d.title}`}, ${due}, 'open', ${at}) returning id`,
        );
        task = { id: t!.id, assigneeId: assignee };
      }
      const leaders = d.station_id
        ? await rows<{ id: string }>(tx, sql`select id from app_user where role = 'station_leader' and node_id = ${d.station_id} and not disabled`)
        : [];
      await appendEvent(tx, d.id, 'risk_raised', actor.userId, at, { level, taskId: task?.id ?? null, assigneeId: task?.assigneeId ?? null, leaders: leaders.map((l) => l.id) });
      await appendAudit(tx, actor, {
        action: 'mediation.risk_raised',
        entityType: 'dispute',
        entityId: d.id,
        nodePath: d.node_path,
        details: { number: d.number, from: previous, to: level, taskId: task?.id ?? null, gridOfficerId: task?.assigneeId ?? null, notifiedLeaders: leaders.map((l) => l.id) },
      });
      out.riskRaised.push({ disputeId: d.id, nodePath: d.node_path, level });
    }
    return { level, suggested, taskId: task?.id ?? null };
  }

  async function reopen(tx: Tx, actor: Actor, d: DisputeRow, at: Date, reason: string, note: string) {
    await tx.execute(sql`update dispute set status = 'mediating', closed_at = null, outcome = null, transferred_to = null, close_note = null,
        reopen_count = reopen_count + 1, updated_at = ${at} where id = ${d.id}`);
    await tx.execute(sql`update dispute_follow_up set status = 'cancelled' where dispute_id = ${d.id} and status = 'scheduled'`);
    await appendEvent(tx, d.id, 'reopened', actor.userId, at, { reason, note, previousStatus: d.status });
    await appendAudit(tx, actor, { action: 'dispute.reopen', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { reason } });
  }

  /** Users who may be asked to mediate this case: mediators and officers of its place (station and above). */
  async function candidates(exec: Executor, actor: Actor, id: string) {
    const d = await loadFor(exec, actor, id, 'read');
    const place = await placeOf(exec, d.node_path);
    const stationPath = place.stationId ? (await rows<{ path: string }>(exec, sql`select path from jurisdiction_node where id = ${place.stationId}`))[0]?.path ?? d.node_path : d.node_path;
    const found = await rows<{ id: string; display_name: string; role: string; node_name: string; path: string }>(
      exec,
      sql`select u.id, u.display_name, u.role, n.name as node_name, n.path from app_user u join jurisdiction_node n on n.id = u.node_id
          where not u.disabled and u.role = any(${`{${MEDIATOR_ROLES.join(',')}}`}::text[])
            and (${d.node_path} like n.path || '%' or n.path like ${`${stationPath}%`})
          order by (u.role = 'mediator') desc, u.display_name limit 200`,
    );
    return found.map((u) => ({ id: u.id, displayName: u.display_name, role: u.role, nodeName: u.node_name }));
  }

  return {
    loadFor,
    candidates,

    async register(tx: Tx, actor: Actor, body: RegisterBody, out: Announcements) {
      const at = now();
      let point: { lon: number; lat: number } | null = null;
      let nodePath: string | null = null;
      if (body.incidentId) {
        const incident = await loadIncident(tx, body.incidentId);
        assertCoversPath(actor, incident.node_path);
        const [linked] = await rows<{ number: string }>(tx, sql`select number from dispute where incident_id = ${incident.id} limit 1`);
        if (linked) throw conflict(`Incident ${incident.number} already has dispute ${linked.number}.`);
        nodePath = incident.node_path;
        if (incident.lon !== null && incident.lat !== null) point = { lon: Number(incident.lon), lat: Number(incident.lat) };
      }
      if (body.location) {
        const [lon, lat] = toWgs84(body.location.lon, body.location.lat, body.location.crs);
        point = { lon, lat };
        const chain = lookup.resolve(lon, lat);
        if (chain?.[0]) nodePath = chain[0].path;
        else if (!body.nodeId && !nodePath) throw unprocessable('The location lies outside every jurisdiction: choose the grid instead.', [{ field: 'body.location', message: 'is outside every grid' }]);
      }
      if (!nodePath && body.nodeId) nodePath = await assertCoversNode(tx, actor, body.nodeId);
      if (!nodePath || !coversPath(actor, nodePath)) throw forbidden('The place of the dispute lies outside your jurisdiction: pass it to the station that owns it.');
      const place = await placeOf(tx, nodePath);
      let officerId: string | null = null;
      if (body.officerId) {
        const [o] = await rows<{ id: string; path: string; role: string }>(tx, sql`select u.id, n.path, u.role from app_user u join jurisdiction_node n on n.id = u.node_id where u.id = ${body.officerId} and not u.disabled`);
        if (!o || !['community_officer', 'station_leader', 'auxiliary'].includes(o.role) || !(nodePath.startsWith(o.path) || o.path.startsWith(nodePath))) {
          throw unprocessable('The officer in charge must be an officer of this place.', [{ field: 'body.officerId', message: 'is not an officer of this place' }]);
        }
        officerId = o.id;
      } else if (['community_officer', 'station_leader', 'auxiliary'].includes(actor.role)) {
        officerId = actor.userId;
      } else {
        officerId = await gridOfficerOf(tx, { grid_id: place.gridId, node_path: nodePath, officer_id: null });
      }
      const registeredAt = body.registeredAt && body.registeredAt <= at ? body.registeredAt : at;
      const number = await nextNumber(tx, place.countyCode, at);
      const [created] = await rows<DisputeRow>(
        tx,
        sql`insert into dispute (number, type, source, incident_id, status, title, description, history, address, lon, lat, node_id, grid_id, station_id, node_path,
              risk_level, risk_factors, officer_id, registered_by, registered_at, last_reviewed_at, updated_at)
            values (${number}, ${body.type}, ${body.source}, ${body.incidentId ?? null}, 'open', ${body.title}, ${body.description}, ${body.history ?? null},
              ${body.address ?? null}, ${point?.lon ?? null}, ${point?.lat ?? null}, ${place.nodeId}, ${place.gridId}, ${place.stationId}, ${nodePath},
              'low', '{}'::jsonb, ${officerId}, ${actor.userId}, ${registeredAt}, ${registeredAt}, ${at})
            returning *`,
      );
      const d = created!;
      for (const [i, p] of body.parties.entries()) {
        await tx.execute(sql`insert into dispute_party (dispute_id, kind, side, name, phone, id_number, address, demand, sort)
          values (${d.id}, ${p.kind}, ${p.side}, ${p.name}, ${p.phone ?? null}, ${p.idNumber ?? null}, ${p.address ?? null}, ${p.demand ?? null}, ${i})`);
      }
      await appendEvent(tx, d.id, 'registered', actor.userId, registeredAt, { number, type: body.type, source: body.source, incidentId: body.incidentId ?? null, parties: body.parties.length });
      await appendAudit(tx, actor, { action: 'dispute.create', entityType: 'dispute', entityId: d.id, nodePath, details: { number, type: body.type, incidentId: body.incidentId ?? null } });
      let risk = null;
      if (body.risk) risk = await applyRisk(tx, actor, d, body.risk, at, out);
      return { id: d.id, number, status: 'open', riskLevel: risk?.level ?? 'low', gridId: place.gridId, stationId: place.stationId, urgentTaskId: risk?.taskId ?? null };
    },

    async updateRisk(tx: Tx, actor: Actor, id: string, input: RiskInput, out: Announcements) {
      const d = await loadFor(tx, actor, id, 'work');
      if (CLOSED_STATUSES.includes(d.status as never)) throw conflict(`Dispute ${d.number} is closed (${d.status}): reopen it first.`);
      const at = now();
      const r = await applyRisk(tx, actor, d, input, at, out);
      await appendAudit(tx, actor, { action: 'dispute.risk', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { level: r.level, suggested: r.suggested } });
      return { id: d.id, riskLevel: r.level, suggested: r.suggested, urgentTaskId: r.taskId };
    },

    /** Rolling screening: someone looked at the case again. */
    async review(tx: Tx, actor: Actor, id: string, body: z.infer<typeof ReviewBody>) {
      const d = await loadFor(tx, actor, id, 'read');
      const at = now();
      await tx.execute(sql`update dispute set last_reviewed_at = ${at}, updated_at = ${at} where id = ${d.id}`);
      await appendEvent(tx, d.id, 'reviewed', actor.userId, at, { note: body.note });
      await appendAudit(tx, actor, { action: 'dispute.review', entityType: 'dispute', entityId: d.id, nodePath: d.node_path });
      return { id: d.id, lastReviewedAt: at.toISOString() };
    },

    async assignMediator(tx: Tx, actor: Actor, id: string, body: z.infer<typeof AssignBody>) {
      const d = await loadFor(tx, actor, id, 'read');
      if (!ACTIVE_STATUSES.includes(d.status as never)) throw conflict(`Dispute ${d.number} is ${d.status}: reopen it before assigning a mediator.`);
      const ok = (await candidates(tx, actor, id)).some((c) => c.id === body.userId);
      if (!ok) throw unprocessable('Choose a mediator or officer of this place (station, county, justice office).', [{ field: 'body.userId', message: 'may not mediate this case' }]);
      const [dup] = await rows<{ id: string }>(tx, sql`select id from dispute_mediator where dispute_id = ${d.id} and user_id = ${body.userId} and status in ('proposed', 'accepted')`);
      if (dup) throw conflict('This mediator is already asked or working on the case.');
      const at = now();
      const [m] = await rows<{ id: string }>(
        tx,
        sql`insert into dispute_mediator (dispute_id, user_id, body, organisation, status, proposed_by, proposed_at, note)
            values (${d.id}, ${body.userId}, ${body.body}, ${body.organisation ?? null}, 'proposed', ${actor.userId}, ${at}, ${body.note ?? null}) returning id`,
      );
      await appendEvent(tx, d.id, 'mediator_proposed', actor.userId, at, { assignmentId: m!.id, userId: body.userId, body: body.body, organisation: body.organisation ?? null });
      await appendAudit(tx, actor, { action: 'dispute.assign_mediator', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { userId: body.userId, body: body.body } });
      return { id: m!.id, status: 'proposed' };
    },

    /** The asked mediator consents (or declines); consent starts the mediation. */
    async respond(tx: Tx, actor: Actor, assignmentId: string, body: z.infer<typeof RespondBody>) {
      const [m] = await rows<{ id: string; dispute_id: string; user_id: string; status: string }>(tx, sql`select id, dispute_id, user_id, status from dispute_mediator where id = ${assignmentId}`);
      if (!m) throw notFound('The assignment');
      const d = await loadDispute(tx, m.dispute_id);
      assertCoversPath(actor, d.node_path);
      if (m.user_id !== actor.userId) throw forbidden('Only the mediator asked can accept or decline.');
      if (m.status !== 'proposed') throw conflict(`This assignment is already ${m.status}.`);
      const at = now();
      const status = body.accept ? 'accepted' : 'declined';
      await tx.execute(sql`update dispute_mediator set status = ${status}, responded_at = ${at}, note = coalesce(${body.note ?? null}, note) where id = ${m.id}`);
      if (body.accept && d.status === 'open') await tx.execute(sql`update dispute set status = 'mediating', updated_at = ${at} where id = ${d.id}`);
      await appendEvent(tx, d.id, body.accept ? 'mediator_accepted' : 'mediator_declined', actor.userId, at, { assignmentId: m.id, note: body.note ?? null });
      await appendAudit(tx, actor, { action: `dispute.mediator_${status}`, entityType: 'dispute', entityId: d.id, nodePath: d.node_path });
      return { id: m.id, status };
    },

    async addSession(tx: Tx, actor: Actor, id: string, body: z.infer<typeof SessionBody>) {
      const d = await loadFor(tx, actor, id, 'work');
      if (!ACTIVE_STATUSES.includes(d.status as never)) throw conflict(`Dispute ${d.number} is ${d.status}: reopen it to record a session.`);
      const at = now();
      if (body.heldAt.getTime() > at.getTime() + 3600_000) throw unprocessable('A session is recorded after it was held.', [{ field: 'body.heldAt', message: 'is in the future' }]);
      const [s] = await rows<{ id: string }>(
        tx,
        sql`insert into mediation_session (dispute_id, held_at, place, attendees, notes, recorded_by, created_at)
            values (${d.id}, ${body.heldAt}, ${body.place}, ${JSON.stringify(body.attendees)}::jsonb, ${body.notes}, ${actor.userId}, ${at}) returning id`,
      );
      if (d.status === 'open') await tx.execute(sql`update dispute set status = 'mediating', updated_at = ${at} where id = ${d.id}`);
      await appendEvent(tx, d.id, 'session', actor.userId, body.heldAt, { sessionId: s!.id, place: body.place, attendees: body.attendees.length });
      await appendAudit(tx, actor, { action: 'dispute.session', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { sessionId: s!.id } });
      return { id: s!.id };
    },

    async proposeAgreement(tx: Tx, actor: Actor, id: string, body: z.infer<typeof AgreementBody>) {
      const d = await loadFor(tx, actor, id, 'work');
      if (d.status !== 'open' && d.status !== 'mediating') throw conflict(`Dispute ${d.number} is ${d.status}: an agreement is proposed while mediating.`);
      const at = now();
      await tx.execute(sql`update mediation_agreement set status = 'superseded' where dispute_id = ${d.id} and status = 'proposed'`);
      const [a] = await rows<{ id: string }>(
        tx,
        sql`insert into mediation_agreement (dispute_id, status, summary, proposed_at, recorded_by) values (${d.id}, 'proposed', ${body.summary ?? null}, ${at}, ${actor.userId}) returning id`,
      );
      for (const [i, t] of body.terms.entries()) {
        await tx.execute(sql`insert into mediation_agreement_term (agreement_id, seq, text, amount, deadline) values (${a!.id}, ${i + 1}, ${t.text}, ${t.amount ?? null}, ${t.deadline ?? null})`);
      }
      if (d.status === 'open') await tx.execute(sql`update dispute set status = 'mediating', updated_at = ${at} where id = ${d.id}`);
      await appendEvent(tx, d.id, 'agreement_proposed', actor.userId, at, { agreementId: a!.id, terms: body.terms.length });
      await appendAudit(tx, actor, { action: 'dispute.agreement_propose', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { agreementId: a!.id } });
      return { id: a!.id, status: 'proposed' };
    },

    /** The parties signed: the case is agreed and its follow-up visits are scheduled. */
    async signAgreement(tx: Tx, actor: Actor, agreementId: string, body: z.infer<typeof SignBody>) {
      const [a] = await rows<{ id: string; dispute_id: string; status: string }>(tx, sql`select id, dispute_id, status from mediation_agreement where id = ${agreementId}`);
      if (!a) throw notFound('The agreement');
      const d = await loadFor(tx, actor, a.dispute_id, 'work');
      if (a.status !== 'proposed') throw conflict(`This agreement is ${a.status}; only a proposed agreement can be signed.`);
      if (d.status !== 'mediating' && d.status !== 'open') throw conflict(`Dispute ${d.number} is ${d.status}.`);
      const at = now();
      const signedAt = body.signedAt ?? at;
      if (signedAt.getTime() > at.getTime() + 3600_000 || signedAt < new Date(d.registered_at)) {
        throw unprocessable('The signing date lies between registration and now.', [{ field: 'body.signedAt', message: 'is outside the case' }]);
      }
      await tx.execute(sql`update mediation_agreement set status = 'signed', signed_at = ${signedAt} where id = ${a.id}`);
      await tx.execute(sql`update dispute set status = 'agreed', updated_at = ${at} where id = ${d.id}`);
      const settings = await settingsFor(tx, d.node_path);
      const days = [...new Set(settings.followUpDays)].sort((x, y) => x - y);
      for (const n of days) {
        await tx.execute(sql`insert into dispute_follow_up (dispute_id, agreement_id, after_days, due_at, status)
          values (${d.id}, ${a.id}, ${n}, ${new Date(signedAt.getTime() + n * 86400_000)}, 'scheduled')`);
      }
      await appendEvent(tx, d.id, 'agreement_signed', actor.userId, signedAt, { agreementId: a.id, followUpDays: days });
      await appendAudit(tx, actor, { action: 'dispute.agreement_sign', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { agreementId: a.id, followUpDays: days } });
      return { id: a.id, status: 'signed', followUps: days.map((n) => ({ afterDays: n, dueAt: new Date(signedAt.getTime() + n * 86400_000).toISOString() })) };
    },

    async uploadAgreementFile(tx: Tx, actor: Actor, agreementId: string, file: { data: Buffer; type: string; name: string | null }) {
      const [a] = await rows<{ id: string; dispute_id: string }>(tx, sql`select id, dispute_id from mediation_agreement where id = ${agreementId}`);
      if (!a) throw notFound('The agreement');
      const d = await loadFor(tx, actor, a.dispute_id, 'work');
      await tx.execute(sql`update mediation_agreement set file = ${file.data}, file_type = ${file.type}, file_name = ${file.name}, file_bytes = ${file.data.length} where id = ${a.id}`);
      await appendEvent(tx, d.id, 'agreement_file', actor.userId, now(), { agreementId: a.id, bytes: file.data.length, type: file.type, name: file.name });
      await appendAudit(tx, actor, { action: 'dispute.agreement_file', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { agreementId: a.id, bytes: file.data.length } });
    },

    async agreementFile(exec: Executor, actor: Actor, agreementId: string) {
      const [a] = await rows<{ id: string; dispute_id: string; file: Buffer | Uint8Array | null; file_type: string | null; file_name: string | null }>(
        exec,
        sql`select id, dispute_id, file, file_type, file_name from mediation_agreement where id = ${agreementId}`,
      );
      if (!a) throw notFound('The agreement');
      const d = await loadFor(exec, actor, a.dispute_id, 'read');
      if (!a.file || !a.file_type) throw notFound('The signed document');
      return { data: Buffer.from(a.file), type: a.file_type, name: a.file_name, dispute: d };
    },

    /** Fulfilment, term by term. */
    async updateTerm(tx: Tx, actor: Actor, termId: string, body: z.infer<typeof TermBody>) {
      const [t] = await rows<{ id: string; agreement_id: string; dispute_id: string; agreement_status: string; seq: number }>(
        tx,
        sql`select t.id, t.agreement_id, a.dispute_id, a.status as agreement_status, t.seq from mediation_agreement_term t join mediation_agreement a on a.id = t.agreement_id where t.id = ${termId}`,
      );
      if (!t) throw notFound('The term');
      const d = await loadFor(tx, actor, t.dispute_id, 'work');
      if (t.agreement_status !== 'signed') throw conflict('Fulfilment is tracked on a signed agreement.');
      const at = now();
      await tx.execute(sql`update mediation_agreement_term set status = ${body.status}, fulfilled_at = ${body.status === 'fulfilled' ? at : null}, note = ${body.note ?? null} where id = ${t.id}`);
      await appendEvent(tx, d.id, 'term', actor.userId, at, { termId: t.id, seq: t.seq, status: body.status, note: body.note ?? null });
      await appendAudit(tx, actor, { action: 'dispute.term', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { termId: t.id, status: body.status } });
      return { id: t.id, status: body.status };
    },

    /**
     * A follow-up visit: the agreement holds and nothing recurred → when it was the last scheduled visit the
     * case closes as resolved; a recurrence or a broken agreement reopens the case.
     */
    async recordFollowUp(tx: Tx, actor: Actor, followUpId: string, body: z.infer<typeof FollowUpBody>) {
      const [f] = await rows<{ id: string; dispute_id: string; status: string; after_days: number }>(tx, sql`select id, dispute_id, status, after_days from dispute_follow_up where id = ${followUpId}`);
      if (!f) throw notFound('The follow-up');
      const d = await loadFor(tx, actor, f.dispute_id, 'work');
      if (f.status !== 'scheduled') throw conflict(`This follow-up is ${f.status}.`);
      const at = now();
      await tx.execute(sql`update dispute_follow_up set status = 'done', done_at = ${at}, done_by = ${actor.userId}, holds = ${body.holds}, recurred = ${body.recurred}, note = ${body.note} where id = ${f.id}`);
      await appendEvent(tx, d.id, 'follow_up', actor.userId, at, { followUpId: f.id, afterDays: f.after_days, holds: body.holds, recurred: body.recurred, note: body.note });
      await appendAudit(tx, actor, { action: 'dispute.follow_up', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { followUpId: f.id, holds: body.holds, recurred: body.recurred } });
      if (body.recurred || !body.holds) {
        await reopen(tx, actor, d, at, body.recurred ? 'recurrence' : 'agreement_broken', body.note);
        return { id: f.id, disputeStatus: 'mediating', reopened: true };
      }
      const [left] = await rows<{ n: number }>(tx, sql`select count(*)::int as n from dispute_follow_up where dispute_id = ${d.id} and status = 'scheduled'`);
      if ((left?.n ?? 0) === 0 && d.status === 'agreed') {
        await tx.execute(sql`update dispute set status = 'resolved', outcome = 'agreement_held', closed_at = ${at}, updated_at = ${at} where id = ${d.id}`);
        await appendEvent(tx, d.id, 'closed', actor.userId, at, { outcome: 'agreement_held' });
        await appendAudit(tx, actor, { action: 'dispute.close', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { outcome: 'agreement_held' } });
        return { id: f.id, disputeStatus: 'resolved', reopened: false };
      }
      return { id: f.id, disputeStatus: d.status, reopened: false };
    },

    /** Mediation failed here: the case goes to another body, recorded as a transfer, not as a success. */
    async transfer(tx: Tx, actor: Actor, id: string, body: z.infer<typeof TransferBody>) {
      const d = await loadFor(tx, actor, id, 'read');
      if (!ACTIVE_STATUSES.includes(d.status as never)) throw conflict(`Dispute ${d.number} is already ${d.status}.`);
      const at = now();
      await tx.execute(sql`update dispute set status = 'transferred', outcome = 'transferred', transferred_to = ${body.to}, close_note = ${body.note}, closed_at = ${at}, updated_at = ${at} where id = ${d.id}`);
      await tx.execute(sql`update dispute_follow_up set status = 'cancelled' where dispute_id = ${d.id} and status = 'scheduled'`);
      await appendEvent(tx, d.id, 'transferred', actor.userId, at, { to: body.to, note: body.note });
      await appendAudit(tx, actor, { action: 'dispute.transfer', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { to: body.to } });
      return { id: d.id, status: 'transferred' };
    },

    async close(tx: Tx, actor: Actor, id: string, body: z.infer<typeof CloseBody>) {
      const d = await loadFor(tx, actor, id, 'read');
      if (!ACTIVE_STATUSES.includes(d.status as never)) throw conflict(`Dispute ${d.number} is already ${d.status}.`);
      const at = now();
      await tx.execute(sql`update dispute set status = ${body.outcome}, outcome = ${body.outcome}, close_note = ${body.note}, closed_at = ${at}, updated_at = ${at} where id = ${d.id}`);
      await tx.execute(sql`update dispute_follow_up set status = 'cancelled' where dispute_id = ${d.id} and status = 'scheduled'`);
      await appendEvent(tx, d.id, 'closed', actor.userId, at, { outcome: body.outcome, note: body.note });
      await appendAudit(tx, actor, { action: 'dispute.close', entityType: 'dispute', entityId: d.id, nodePath: d.node_path, details: { outcome: body.outcome } });
      return { id: d.id, status: body.outcome };
    },

    async reopenCase(tx: Tx, actor: Actor, id: string, note: string) {
      const d = await loadFor(tx, actor, id, 'read');
      if (ACTIVE_STATUSES.includes(d.status as never)) throw conflict(`Dispute ${d.number} is still ${d.status}.`);
      await reopen(tx, actor, d, now(), 'manual', note);
      return { id: d.id, status: 'mediating' };
    },

    async completeTask(tx: Tx, actor: Actor, taskId: string, note: string) {
      const [t] = await rows<{ id: string; dispute_id: string; assignee_id: string; status: string; node_path: string }>(tx, sql`select * from mediation_task where id = ${taskId}`);
      if (!t) throw notFound('The task');
      assertCoversPath(actor, t.node_path);
      if (t.assignee_id !== actor.userId && !['admin', 'station_leader'].includes(actor.role)) throw forbidden('This task is assigned to someone else.');
      if (t.status !== 'open') throw conflict(`The task is already ${t.status}.`);
      const at = now();
      await tx.execute(sql`update mediation_task set status = 'done', done_at = ${at}, note = ${note} where id = ${t.id}`);
      await appendEvent(tx, t.dispute_id, 'task_done', actor.userId, at, { taskId: t.id, note });
      await appendAudit(tx, actor, { action: 'mediation.task_done', entityType: 'dispute', entityId: t.dispute_id, nodePath: t.node_path, details: { taskId: t.id } });
      return { id: t.id, status: 'done' };
    },

    async putSettings(tx: Tx, actor: Actor, nodeId: string, body: z.infer<typeof SettingsBody>) {
      const path = await assertCoversNode(tx, actor, nodeId);
      const at = now();
      const days = [...new Set(body.followUpDays)].sort((a, b) => a - b);
      await tx.execute(sql`insert into mediation_setting (node_id, follow_up_days, review_interval_days, updated_by, updated_at)
        values (${nodeId}, ${JSON.stringify(days)}::jsonb, ${body.reviewIntervalDays}, ${actor.userId}, ${at})
        on conflict (node_id) do update set follow_up_days = excluded.follow_up_days, review_interval_days = excluded.review_interval_days,
          updated_by = excluded.updated_by, updated_at = excluded.updated_at`);
      await appendAudit(tx, actor, { action: 'mediation.settings', entityType: 'jurisdiction_node', entityId: nodeId, nodePath: path, details: { followUpDays: days, reviewIntervalDays: body.reviewIntervalDays } });
      return { nodeId, followUpDays: days, reviewIntervalDays: body.reviewIntervalDays, inheritedFrom: nodeId };
    },
  };
}

export type MediationService = ReturnType<typeof createMediationService>;
