import { sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../../platform/access.js';
import { assertCoversNode } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import type { Database, Executor } from '../../platform/db/index.js';
import { rows } from '../../platform/db/rows.js';
import { forbidden } from '../../platform/errors.js';
import { maskIdNumber, maskName, maskPhone, mayReveal } from '../../platform/masking.js';
import { ACTIVE_STATUSES, CLOSED_STATUSES, type ListQuery } from './model.js';
import { loadDispute, assertCaseAccess, settingsFor, type DisputeRow } from './service.js';

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
const textArray = (xs: readonly string[]) => `{${xs.join(',')}}`;

/** 山东省广饶县李鹊镇… → 山东省*** (an address tells where a person lives). */
export const maskAddress = (a: string | null) => (a ? `${a.slice(0, Math.min(3, a.length))}***` : null);

interface PartyRow {
  id: string;
  kind: string;
  side: string;
  name: string;
  phone: string | null;
  id_number: string | null;
  address: string | null;
  demand: string | null;
}

export function presentParty(p: PartyRow, reveal: boolean) {
  const person = p.kind === 'person';
  return {
    id: p.id,
    kind: p.kind,
    side: p.side,
    // Organisations are named in full; people are masked unless revealed.
    name: reveal || !person ? p.name : maskName(p.name)!,
    phone: reveal ? p.phone : maskPhone(p.phone),
    idNumber: reveal ? p.id_number : maskIdNumber(p.id_number),
    address: reveal || !person ? p.address : maskAddress(p.address),
    demand: p.demand,
  };
}

interface ListRow extends DisputeRow {
  grid_name: string | null;
  station_name: string | null;
  parties: { name: string; kind: string; side: string }[] | null;
  mediators: string[] | null;
  next_follow_up: Date | null;
}

/** A mediator sees only cases assigned to them (asked or accepted). */
function mediatorFilter(actor: Actor): SQL {
  return actor.role === 'mediator'
    ? sql`and exists (select 1 from dispute_mediator m where m.dispute_id = d.id and m.user_id = ${actor.userId} and m.status in ('proposed', 'accepted'))`
    : sql``;
}

export async function listDisputes(exec: Executor, actor: Actor, q: ListQuery, at: Date) {
  const path = q.nodeId ? await assertCoversNode(exec, actor, q.nodeId) : actor.nodePath;
  const settings = await settingsFor(exec, path);
  const staleBefore = new Date(at.getTime() - settings.reviewIntervalDays * 86400_000);
  const conds: SQL[] = [sql`d.node_path like ${`${path}%`}`];
  if (q.state === 'active') conds.push(sql`d.status = any(${textArray(ACTIVE_STATUSES)}::text[])`);
  if (q.state === 'closed') conds.push(sql`d.status = any(${textArray(CLOSED_STATUSES)}::text[])`);
  if (q.status) conds.push(sql`d.status = ${q.status}`);
  if (q.type) conds.push(sql`d.type = ${q.type}`);
  if (q.risk) conds.push(sql`d.risk_level = ${q.risk}`);
  if (q.overdue === 'true') conds.push(sql`d.status = any(${textArray(ACTIVE_STATUSES)}::text[]) and d.last_reviewed_at < ${staleBefore}`);
  if (q.q) conds.push(sql`(d.number ilike ${`%${q.q.replace(/[%_\\]/g, '\\$&')}%`} or d.title ilike ${`%${q.q.replace(/[%_\\]/g, '\\$&')}%`})`);
  if (q.mine === 'true') {
    conds.push(sql`(d.officer_id = ${actor.userId} or exists (select 1 from dispute_mediator m where m.dispute_id = d.id and m.user_id = ${actor.userId} and m.status in ('proposed', 'accepted')))`);
  }
  const where = sql.join(conds, sql` and `);
  const found = await rows<ListRow>(
    exec,
    sql`select d.*, g.name as grid_name, s.name as station_name,
          (select json_agg(json_build_object('name', p.name, 'kind', p.kind, 'side', p.side) order by p.sort) from dispute_party p where p.dispute_id = d.id) as parties,
          (select array_agg(u.display_name order by m.proposed_at) from dispute_mediator m join app_user u on u.id = m.user_id where m.dispute_id = d.id and m.status in ('proposed', 'accepted')) as mediators,
          (select min(f.due_at) from dispute_follow_up f where f.dispute_id = d.id and f.status = 'scheduled') as next_follow_up
        from dispute d left join jurisdiction_node g on g.id = d.grid_id left join jurisdiction_node s on s.id = d.station_id
        where ${where} ${mediatorFilter(actor)}
        order by case d.risk_level when 'critical' then 0 when 'high' then 1 when 'medium' then 2 else 3 end, d.registered_at desc
        limit ${q.limit} offset ${q.offset}`,
  );
  return {
    reviewIntervalDays: settings.reviewIntervalDays,
    items: found.map((d) => ({
      id: d.id,
      number: d.number,
      type: d.type,
      source: d.source,
      status: d.status,
      title: d.title,
      riskLevel: d.risk_level,
      gridName: d.grid_name,
      stationName: d.station_name,
      parties: (d.parties ?? []).map((p) => (p.kind === 'person' ? maskName(p.name)! : p.name)),
      mediators: d.mediators ?? [],
      incidentId: d.incident_id,
      registeredAt: iso(d.registered_at)!,
      lastReviewedAt: iso(d.last_reviewed_at)!,
      reviewOverdue: ACTIVE_STATUSES.includes(d.status as never) && new Date(d.last_reviewed_at) < staleBefore,
      nextFollowUpAt: iso(d.next_follow_up),
      closedAt: iso(d.closed_at),
      outcome: d.outcome,
      reopenCount: d.reopen_count,
    })),
  };
}

/** The whole case with its timeline; parties masked unless revealed (roles that need it; audited). */
export async function disputeDetail(database: Database, actor: Actor, id: string, reveal: boolean, at: Date) {
  const { db } = database;
  const d = await loadDispute(db, id);
  await assertCaseAccess(db, actor, d, 'read');
  if (reveal && !mayReveal(actor.role, 'partyDetails')) throw forbidden('Your role may not see the parties in full.');
  const parties = await rows<PartyRow>(db, sql`select * from dispute_party where dispute_id = ${id} order by sort`);
  if (reveal) {
    await db.transaction((tx) =>
      appendAudit(tx, actor, { action: 'personal_data.read', entityType: 'dispute', entityId: id, nodePath: d.node_path, details: { fields: ['party.name', 'party.phone', 'party.idNumber', 'party.address'], parties: parties.length } }),
    );
  }
  const [place] = await rows<{ grid_name: string | null; station_name: string | null; officer_name: string | null; incident_number: string | null }>(
    db,
    sql`select g.name as grid_name, s.name as station_name, o.display_name as officer_name, i.number as incident_number
        from dispute d left join jurisdiction_node g on g.id = d.grid_id left join jurisdiction_node s on s.id = d.station_id
        left join app_user o on o.id = d.officer_id left join incident i on i.id = d.incident_id where d.id = ${id}`,
  );
  const mediators = await rows<{ id: string; user_id: string; display_name: string; body: string; organisation: string | null; status: string; proposed_at: Date; responded_at: Date | null; note: string | null }>(
    db,
    sql`select m.id, m.user_id, u.display_name, m.body, m.organisation, m.status, m.proposed_at, m.responded_at, m.note
        from dispute_mediator m join app_user u on u.id = m.user_id where m.dispute_id = ${id} order by m.proposed_at`,
  );
  const sessions = await rows<{ id: string; held_at: Date; place: string; attendees: string[]; notes: string; recorded_by_name: string | null }>(
    db,
    sql`select s.id, s.held_at, s.place, s.attendees, s.notes, u.display_name as recorded_by_name from mediation_session s left join app_user u on u.id = s.recorded_by
        where s.dispute_id = ${id} order by s.held_at`,
  );
  const agreements = await rows<{ id: string; status: string; summary: string | null; proposed_at: Date; signed_at: Date | null; file_type: string | null; file_name: string | null; file_bytes: number | null }>(
    db,
    sql`select id, status, summary, proposed_at, signed_at, file_type, file_name, file_bytes from mediation_agreement where dispute_id = ${id} order by proposed_at`,
  );
  const terms = await rows<{ id: string; agreement_id: string; seq: number; text: string; amount: string | null; deadline: string | Date | null; status: string; fulfilled_at: Date | null; note: string | null }>(
    db,
    sql`select t.* from mediation_agreement_term t join mediation_agreement a on a.id = t.agreement_id where a.dispute_id = ${id} order by t.seq`,
  );
  const followUps = await rows<{ id: string; after_days: number; due_at: Date; status: string; done_at: Date | null; holds: boolean | null; recurred: boolean | null; note: string | null; done_by_name: string | null }>(
    db,
    sql`select f.*, u.display_name as done_by_name from dispute_follow_up f left join app_user u on u.id = f.done_by where f.dispute_id = ${id} order by f.due_at`,
  );
  const tasks = await rows<{ id: string; kind: string; title: string; due_at: Date; status: string; assignee_name: string }>(
    db,
    sql`select t.id, t.kind, t.title, t.due_at, t.status, u.display_name as assignee_name from mediation_task t join app_user u on u.id = t.assignee_id where t.dispute_id = ${id} order by t.created_at`,
  );
  const events = await rows<{ seq: number; at: Date; type: string; data: Record<string, unknown>; actor_name: string | null; actor_role: string | null }>(
    db,
    sql`select e.seq, e.at, e.type, e.data, u.display_name as actor_name, u.role as actor_role from dispute_event e left join app_user u on u.id = e.actor_id
        where e.dispute_id = ${id} order by e.at, e.seq`,
  );
  const myAssignment = mediators.find((m) => m.user_id === actor.userId && (m.status === 'proposed' || m.status === 'accepted'));
  const settings = await settingsFor(db, d.node_path);
  const toDate = (v: string | Date | null) => (v === null ? null : typeof v === 'string' ? v.slice(0, 10) : new Date(v.getTime() - v.getTimezoneOffset() * 60000).toISOString().slice(0, 10));
  return {
    id: d.id,
    number: d.number,
    type: d.type,
    source: d.source,
    status: d.status,
    title: d.title,
    description: d.description,
    history: d.history,
    address: d.address,
    lon: d.lon === null ? null : Number(d.lon),
    lat: d.lat === null ? null : Number(d.lat),
    nodeId: d.node_id,
    gridId: d.grid_id,
    gridName: place?.grid_name ?? null,
    stationId: d.station_id,
    stationName: place?.station_name ?? null,
    incidentId: d.incident_id,
    incidentNumber: place?.incident_number ?? null,
    officerId: d.officer_id,
    officerName: place?.officer_name ?? null,
    risk: { level: d.risk_level, factors: d.risk_factors, note: d.risk_note },
    registeredAt: iso(d.registered_at)!,
    lastReviewedAt: iso(d.last_reviewed_at)!,
    reviewOverdue: ACTIVE_STATUSES.includes(d.status as never) && new Date(d.last_reviewed_at).getTime() < at.getTime() - settings.reviewIntervalDays * 86400_000,
    closedAt: iso(d.closed_at),
    outcome: d.outcome,
    transferredTo: d.transferred_to,
    closeNote: d.close_note,
    reopenCount: d.reopen_count,
    revealed: reveal,
    parties: parties.map((p) => presentParty(p, reveal)),
    mediators: mediators.map((m) => ({ id: m.id, userId: m.user_id, name: m.display_name, body: m.body, organisation: m.organisation, status: m.status, proposedAt: iso(m.proposed_at)!, respondedAt: iso(m.responded_at), note: m.note })),
    myAssignment: myAssignment ? { id: myAssignment.id, status: myAssignment.status } : null,
    sessions: sessions.map((s) => ({ id: s.id, heldAt: iso(s.held_at)!, place: s.place, attendees: s.attendees, notes: s.notes, recordedBy: s.recorded_by_name })),
    agreements: agreements.map((a) => ({
      id: a.id,
      status: a.status,
      summary: a.summary,
      proposedAt: iso(a.proposed_at)!,
      signedAt: iso(a.signed_at),
      file: a.file_type ? { url: `/api/mediation/agreements/${a.id}/file`, type: a.file_type, name: a.file_name, bytes: a.file_bytes } : null,
      terms: terms
        .filter((t) => t.agreement_id === a.id)
        .map((t) => ({ id: t.id, seq: t.seq, text: t.text, amount: t.amount === null ? null : Number(t.amount), deadline: toDate(t.deadline), status: t.status, fulfilledAt: iso(t.fulfilled_at), note: t.note })),
    })),
    followUps: followUps.map((f) => ({ id: f.id, afterDays: f.after_days, dueAt: iso(f.due_at)!, due: f.status === 'scheduled' && new Date(f.due_at) <= at, status: f.status, doneAt: iso(f.done_at), holds: f.holds, recurred: f.recurred, note: f.note, doneBy: f.done_by_name })),
    tasks: tasks.map((t) => ({ id: t.id, kind: t.kind, title: t.title, dueAt: iso(t.due_at)!, status: t.status, assignee: t.assignee_name })),
    timeline: events.map((e) => ({ seq: Number(e.seq), at: iso(e.at)!, type: e.type, actor: e.actor_name, actorRole: e.actor_role, data: e.data })),
  };
}

/**
 * My worklist: urgent tasks assigned to me, follow-up visits that are due (due_at ≤ now) on cases in my
 * charge or that I mediate, and requests to mediate awaiting my consent. A query, not a timer.
 */
export async function myTasks(exec: Executor, actor: Actor, at: Date) {
  const urgent = await rows<{ id: string; dispute_id: string; number: string; title: string; kind: string; due_at: Date; risk_level: string; node_path: string }>(
    exec,
    sql`select t.id, t.dispute_id, d.number, t.title, t.kind, t.due_at, d.risk_level, d.node_path from mediation_task t join dispute d on d.id = t.dispute_id
        where t.assignee_id = ${actor.userId} and t.status = 'open' and d.node_path like ${`${actor.nodePath}%`} order by t.due_at`,
  );
  const followUps = await rows<{ id: string; dispute_id: string; number: string; title: string; due_at: Date; after_days: number; risk_level: string }>(
    exec,
    sql`select f.id, f.dispute_id, d.number, d.title, f.due_at, f.after_days, d.risk_level from dispute_follow_up f join dispute d on d.id = f.dispute_id
        where f.status = 'scheduled' and f.due_at <= ${at} and d.node_path like ${`${actor.nodePath}%`}
          and (d.officer_id = ${actor.userId} or exists (select 1 from dispute_mediator m where m.dispute_id = d.id and m.user_id = ${actor.userId} and m.status = 'accepted'))
        order by f.due_at`,
  );
  const consents = await rows<{ id: string; dispute_id: string; number: string; title: string; proposed_at: Date; risk_level: string }>(
    exec,
    sql`select m.id, m.dispute_id, d.number, d.title, m.proposed_at, d.risk_level from dispute_mediator m join dispute d on d.id = m.dispute_id
        where m.user_id = ${actor.userId} and m.status = 'proposed' and d.node_path like ${`${actor.nodePath}%`} order by m.proposed_at`,
  );
  return {
    items: [
      ...urgent.map((t) => ({ kind: t.kind, id: t.id, disputeId: t.dispute_id, number: t.number, title: t.title, dueAt: iso(t.due_at)!, riskLevel: t.risk_level, overdue: new Date(t.due_at) < at })),
      ...followUps.map((f) => ({ kind: 'follow_up', id: f.id, disputeId: f.dispute_id, number: f.number, title: `${f.after_days} 天回访：${f.title}`, dueAt: iso(f.due_at)!, riskLevel: f.risk_level, overdue: new Date(f.due_at).getTime() < at.getTime() - 86400_000, afterDays: f.after_days })),
      ...consents.map((c) => ({ kind: 'consent', id: c.id, disputeId: c.dispute_id, number: c.number, title: c.title, dueAt: iso(c.proposed_at)!, riskLevel: c.risk_level, overdue: false })),
    ],
  };
}

/**
 * Rolling screening (滚动排查) per grid: open cases, those not reviewed within the interval, high risk,
 * and a rising trend (last 30 days against the 30 before: at least 3 new and 1.5× as many, or more
 * high/critical cases than before and at least 2).
 */
export async function screening(exec: Executor, actor: Actor, nodeId: string | undefined, at: Date) {
  const path = nodeId ? await assertCoversNode(exec, actor, nodeId) : actor.nodePath;
  const settings = await settingsFor(exec, path);
  const staleBefore = new Date(at.getTime() - settings.reviewIntervalDays * 86400_000);
  const d30 = new Date(at.getTime() - 30 * 86400_000);
  const d60 = new Date(at.getTime() - 60 * 86400_000);
  const active = textArray(ACTIVE_STATUSES);
  const grids = await rows<{ grid_id: string | null; grid_name: string | null; station_name: string | null; open: number; overdue: number; high_risk: number; new30: number; new_prev: number; high30: number; high_prev: number }>(
    exec,
    sql`select d.grid_id, g.name as grid_name, s.name as station_name,
          count(*) filter (where d.status = any(${active}::text[]))::int as open,
          count(*) filter (where d.status = any(${active}::text[]) and d.last_reviewed_at < ${staleBefore})::int as overdue,
          count(*) filter (where d.status = any(${active}::text[]) and d.risk_level in ('high', 'critical'))::int as high_risk,
          count(*) filter (where d.registered_at >= ${d30})::int as new30,
          count(*) filter (where d.registered_at >= ${d60} and d.registered_at < ${d30})::int as new_prev,
          count(*) filter (where d.registered_at >= ${d30} and d.risk_level in ('high', 'critical'))::int as high30,
          count(*) filter (where d.registered_at >= ${d60} and d.registered_at < ${d30} and d.risk_level in ('high', 'critical'))::int as high_prev
        from dispute d left join jurisdiction_node g on g.id = d.grid_id left join jurisdiction_node s on s.id = d.station_id
        where d.node_path like ${`${path}%`} and (d.status = any(${active}::text[]) or d.registered_at >= ${d60})
        group by d.grid_id, g.name, s.name
        order by overdue desc, open desc, g.name`,
  );
  return {
    reviewIntervalDays: settings.reviewIntervalDays,
    grids: grids.map((g) => ({
      gridId: g.grid_id,
      gridName: g.grid_name,
      stationName: g.station_name,
      open: g.open,
      overdue: g.overdue,
      highRisk: g.high_risk,
      newLast30: g.new30,
      newPrevious30: g.new_prev,
      highLast30: g.high30,
      highPrevious30: g.high_prev,
      rising: (g.new30 >= 3 && g.new30 >= 1.5 * g.new_prev) || (g.high30 >= 2 && g.high30 > g.high_prev),
    })),
  };
}
