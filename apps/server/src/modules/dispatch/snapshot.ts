import { sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/index.js';
import { rows, uuidArray } from '../../platform/db/rows.js';
import { ACTIVE_ASSIGNMENT } from './model.js';
import { presentIncidentSummary, terminalBriefing } from './presenter.js';
import type { Subscriber } from './realtime.js';
import type { IncidentRow } from './service.js';

/** At most this many open incidents in a command screen's snapshot (the list route's own maximum). */
const SNAPSHOT_INCIDENTS = 500;

/**
 * The present state a stream client rebuilds from after a resync: a command screen gets the open
 * incidents of its node and below; a terminal gets its units' open tasks with the briefing a dispatch
 * event carries and the instructions given since.
 */
export async function streamSnapshot(exec: Executor, sub: Subscriber): Promise<Record<string, unknown>> {
  if (sub.mode === 'command') {
    const found = await rows<IncidentRow>(
      exec,
      sql`select * from incident where node_path like ${`${sub.actor.nodePath}%`} and status not in ('closed', 'merged')
          order by created_at desc limit ${SNAPSHOT_INCIDENTS + 1}`,
    );
    return { incidents: found.slice(0, SNAPSHOT_INCIDENTS).map(presentIncidentSummary), truncated: found.length > SNAPSHOT_INCIDENTS };
  }
  const tasks = await rows<{ id: string; unit_id: string; incident_id: string; status: string; dispatched_at: Date | string }>(
    exec,
    sql`select a.id, a.unit_id, a.incident_id, a.status, a.dispatched_at from incident_assignment a
        where a.unit_id = any(${uuidArray([...sub.unitIds])}::uuid[]) and a.status in (${sql.join(ACTIVE_ASSIGNMENT.map((s) => sql`${s}`), sql`, `)})
        order by a.dispatched_at`,
  );
  const incidentIds = [...new Set(tasks.map((t) => t.incident_id))];
  const briefings = new Map(await Promise.all(incidentIds.map(async (id) => [id, await terminalBriefing(exec, id)] as const)));
  const instructions = incidentIds.length
    ? await rows<{ incident_id: string; text: string | null }>(
        exec,
        sql`select incident_id, data->>'text' as text from incident_event
            where incident_id = any(${uuidArray(incidentIds)}::uuid[]) and type = 'instruction' and seq > 0 order by seq`,
      )
    : [];
  return {
    tasks: tasks.map((t) => ({
      assignmentId: t.id,
      unitId: t.unit_id,
      incidentId: t.incident_id,
      status: t.status,
      dispatchedAt: new Date(t.dispatched_at).toISOString(),
      briefing: briefings.get(t.incident_id) ?? null,
      instructions: instructions.filter((i) => i.incident_id === t.incident_id && i.text).map((i) => i.text!),
    })),
  };
}
