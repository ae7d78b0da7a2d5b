import { isDeepStrictEqual } from 'node:util';
import type { Database } from '../../apps/server/src/platform/db/index.js';
import { request, type Acknowledged } from './load.js';

/**
 * Checks of "every request that got a 2xx is in the database exactly once", read from the database
 * after the fault. Each check answers a list of problems (empty when it holds) so a test can assert
 * on it with a message that says what went wrong.
 */
export interface ExactlyOnce {
  problems: string[];
  /** Acknowledged requests whose effect was found in the database. */
  found: number;
  incidents: number;
  assignments: number;
  statusEvents: number;
}

export async function checkExactlyOnce(database: Database, acknowledged: readonly Acknowledged[]): Promise<ExactlyOnce> {
  const problems: string[] = [];
  let found = 0;
  const intakes = acknowledged.filter((a) => a.kind === 'intake');
  const dispatches = acknowledged.filter((a) => a.kind === 'dispatch');
  const statuses = acknowledged.filter((a) => a.kind === 'status');

  // Intakes: one incident per acknowledged intake, by the id it answered, and no other.
  const incidents = await database.query<{ id: string; number: string }>('select id, number from incident');
  const incidentIds = new Set(incidents.map((i) => i.id));
  for (const a of intakes) {
    if (incidentIds.has(String(a.answer.id))) found++;
    else problems.push(`intake ${a.key} answered incident ${String(a.answer.id)}, which is not in the database`);
  }
  if (incidents.length !== intakes.length) problems.push(`${incidents.length} incidents in the database for ${intakes.length} acknowledged intakes`);
  if (new Set(incidents.map((i) => i.number)).size !== incidents.length) problems.push('two incidents share a number');

  // Stored answers: exactly the acknowledged body under each key.
  const stored = await database.query<{ key: string; status_code: number; body: unknown }>(
    'select key, status_code, body from idempotency_key where key = any($1::text[])',
    [acknowledged.map((a) => a.key)],
  );
  const byKey = new Map(stored.map((s) => [s.key, s]));
  for (const a of acknowledged) {
    const s = byKey.get(a.key);
    const body = typeof s?.body === 'string' ? (JSON.parse(s.body) as unknown) : s?.body;
    if (!s) problems.push(`no stored answer for ${a.kind} ${a.key}`);
    else if (s.status_code !== a.status || !isDeepStrictEqual(body, a.answer)) problems.push(`stored answer of ${a.kind} ${a.key} differs from the one the client got`);
  }

  // Dispatches: each unit once per incident; every acknowledged assignment exists.
  const assignments = await database.query<{ id: string; incident_id: string; unit_id: string; status: string }>('select id, incident_id, unit_id, status from incident_assignment');
  const pairs = new Map<string, number>();
  for (const a of assignments) pairs.set(`${a.incident_id}/${a.unit_id}`, (pairs.get(`${a.incident_id}/${a.unit_id}`) ?? 0) + 1);
  for (const [pair, n] of pairs) if (n > 1) problems.push(`unit sent ${n} times to one incident (${pair})`);
  const assignmentIds = new Map(assignments.map((a) => [a.id, a]));
  let sentUnits = 0;
  for (const a of dispatches) {
    const list = a.answer.assignments as { assignmentId: string }[];
    sentUnits += list.length;
    if (list.every((x) => assignmentIds.has(x.assignmentId))) found++;
    else problems.push(`dispatch ${a.key}: an assignment it answered is missing`);
  }
  if (assignments.length !== sentUnits) problems.push(`${assignments.length} assignments in the database for ${sentUnits} units sent`);

  // The event log: one intake and one dispatch event per incident, each status change once.
  const counts = await database.query<{ incident_id: string; type: string; n: number }>(
    `select incident_id, type, count(*)::int as n from incident_event where type in ('intake', 'dispatch') group by incident_id, type`,
  );
  for (const c of counts) if (c.n !== 1) problems.push(`${c.n} ${c.type} events for incident ${c.incident_id}`);
  const withDispatch = new Set(counts.filter((c) => c.type === 'dispatch').map((c) => c.incident_id));
  for (const a of dispatches) {
    const id = String(a.answer.incidentId);
    if (!withDispatch.has(id)) problems.push(`no dispatch event for incident ${id}`);
  }
  const statusEvents = await database.query<{ assignment: string; status: string; n: number }>(
    `select data->>'assignmentId' as assignment, data->>'status' as status, count(*)::int as n from incident_event where type = 'unit_status' group by 1, 2`,
  );
  const statusCount = new Map(statusEvents.map((s) => [`${s.assignment}/${s.status}`, s.n]));
  for (const s of statusEvents) if (s.n !== 1) problems.push(`status ${s.status} of assignment ${s.assignment} is ${s.n} times in the event log`);
  for (const a of statuses) {
    const k = `${String(a.answer.assignmentId)}/${String(a.answer.status)}`;
    if (statusCount.get(k) === 1) found++;
    else problems.push(`status change ${k} is ${statusCount.get(k) ?? 0} times in the event log`);
  }
  if (statusEvents.length !== statuses.length) problems.push(`${statusEvents.length} status changes in the event log for ${statuses.length} acknowledged`);
  // The last acknowledged status of an assignment is its status now.
  const last = new Map<string, string>();
  for (const a of statuses) last.set(String(a.answer.assignmentId), String(a.answer.status));
  for (const [id, status] of last) {
    const row = assignmentIds.get(id);
    if (row?.status !== status) problems.push(`assignment ${id} is ${row?.status ?? 'missing'}, acknowledged ${status}`);
  }
  return { problems, found, incidents: incidents.length, assignments: assignments.length, statusEvents: statusEvents.length };
}

/**
 * Every acknowledged request sent again with its Idempotency-Key (a client that never got the answer
 * and retries): it must get the same status and the same body, marked as a replay, and change nothing.
 */
export async function replayAll(baseUrl: string, acknowledged: readonly Acknowledged[], concurrency = 6): Promise<{ same: number; problems: string[] }> {
  const problems: string[] = [];
  let same = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const a = acknowledged[next++];
        if (!a) return;
        const r = await request(`${baseUrl}${a.path}`, { method: 'POST', token: a.token, body: a.body, headers: { 'idempotency-key': a.key } });
        const body = r.body ? (JSON.parse(r.body) as unknown) : null;
        if (r.status === a.status && r.replayed && isDeepStrictEqual(body, a.answer)) same++;
        else problems.push(`${a.kind} ${a.key}: retry answered ${r.status}${r.replayed ? ' (replayed)' : ''} ${r.error ?? r.body.slice(0, 200)}`);
      }
    }),
  );
  return { same, problems };
}

export interface TimerCheck {
  problems: string[];
  /** Timers started by the first process and raised (warned or escalated) by the restarted one. */
  resumed: number;
  warnings: number;
  escalations: number;
  open: number;
}

/**
 * The 1-3-5 timers after a restart: each raised at most once (one warning, one escalation), every
 * timer still open and due before `checkAt` escalated, and some timers started before `killedAt`
 * raised after `restartedAt` (by the restarted process: the first one was dead by then).
 */
export async function checkTimers(database: Database, killedAt: number, restartedAt: number, checkAt: number): Promise<TimerCheck> {
  const problems: string[] = [];
  const timers = await database.query<{ id: string; kind: string; started_at: Date; warn_at: Date; due_at: Date; warned_at: Date | null; breached_at: Date | null; met_at: Date | null; cancelled_at: Date | null }>(
    'select id, kind, started_at, warn_at, due_at, warned_at, breached_at, met_at, cancelled_at from incident_timer',
  );
  const raised = await database.query<{ timer: string; type: string; n: number; first: Date }>(
    `select data->>'timerId' as timer, type, count(*)::int as n, min(at) as first from incident_event where type in ('timer_warning', 'escalation') group by 1, 2`,
  );
  const events = new Map(raised.map((r) => [`${r.timer}/${r.type}`, r]));
  for (const r of raised) if (r.n !== 1) problems.push(`timer ${r.timer} raised ${r.n} ${r.type} events`);
  let resumed = 0;
  let open = 0;
  const t = (d: Date | string | null) => (d === null ? null : new Date(d).getTime());
  for (const timer of timers) {
    if (timer.met_at !== null || timer.cancelled_at !== null) continue;
    open++;
    const due = t(timer.due_at)!;
    const escalation = events.get(`${timer.id}/escalation`);
    // The scheduler ticks every second; 5 s leaves room for a slow tick on a loaded machine.
    if (due < checkAt - 5000) {
      if (timer.breached_at === null || !escalation) problems.push(`timer ${timer.id} (${timer.kind}) was due ${Math.round((checkAt - due) / 1000)} s before the check and never escalated`);
    }
    const warned = events.get(`${timer.id}/timer_warning`);
    const raisedAt = [t(escalation?.first ?? null), t(warned?.first ?? null)].filter((x): x is number => x !== null);
    if (t(timer.started_at)! < killedAt && raisedAt.some((x) => x >= restartedAt)) resumed++;
  }
  return {
    problems,
    resumed,
    warnings: raised.filter((r) => r.type === 'timer_warning').length,
    escalations: raised.filter((r) => r.type === 'escalation').length,
    open,
  };
}
