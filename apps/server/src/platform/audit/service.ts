import { and, asc, desc, gt, like, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../access.js';
import type { Db, Executor } from '../db/index.js';
import { auditLog } from '../db/schema.js';
import { GENESIS_HASH, auditHash, auditHashMiddle } from './chain.js';

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId?: string | null;
  /** Path of the jurisdiction node the record belongs to, so inspectors can read it by place. */
  nodePath?: string | null;
  details?: Record<string, unknown>;
}

/**
 * The INSERT of pending audit records, for `appendAudit` or to embed in a caller's statement (the
 * dispatch commands write their events and audit records in one statement).
 *
 * Each record is inserted pending (a negative placeholder seq, and in `hash` the canonical JSON of its
 * fields between seq and the previous hash); a deferred trigger links it at commit — next seq, previous
 * hash, sha256 as `auditHash` computes it — so the chain head is locked only while the transaction
 * commits, never across round trips to this process (decision 012). Records are linked in the order given.
 */
export function pendingAuditInsert(records: readonly { actor: Actor | null; entry: AuditEntry }[]): SQL {
  const at = new Date();
  const list = records.map(({ actor, entry }) => {
    const fields = {
      at,
      actorId: actor?.userId ?? null,
      actorRole: actor?.role ?? null,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId ?? null,
      nodePath: entry.nodePath ?? null,
      ip: actor?.ip ?? null,
      details: entry.details ?? {},
    };
    return { ...fields, at: at.toISOString(), middle: auditHashMiddle(fields) };
  });
  return sql`insert into audit_log (seq, at, actor_id, actor_role, action, entity_type, entity_id, node_path, ip, details, prev_hash, hash)
    select -nextval('audit_pending'), (r.x->>'at')::timestamptz, (r.x->>'actorId')::uuid, r.x->>'actorRole', r.x->>'action', r.x->>'entityType',
      r.x->>'entityId', r.x->>'nodePath', r.x->>'ip', r.x->'details', '', r.x->>'middle'
    from jsonb_array_elements(${JSON.stringify(list)}::jsonb) with ordinality as r(x, ord)
    order by r.ord`;
}

/**
 * Append an audit record inside the caller's transaction, so the record commits with the change
 * it describes, or not at all (linked into the chain at commit: see `pendingAuditInsert`).
 */
export async function appendAudit(tx: Executor, actor: Actor | null, entry: AuditEntry): Promise<void> {
  await tx.execute(pendingAuditInsert([{ actor, entry }]));
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** The first record whose hash, link or sequence does not hold. */
  firstBroken: { seq: number; reason: string } | null;
}

/** Recompute the chain from the start; any edited, deleted or inserted record breaks it. */
export async function verifyAuditChain(db: Db, batchSize = 5000): Promise<VerifyResult> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(gt(auditLog.seq, expectedSeq - 1))
      .orderBy(asc(auditLog.seq))
      .limit(batchSize);
    for (const row of rows) {
      if (row.seq !== expectedSeq) {
        return { ok: false, checked, firstBroken: { seq: expectedSeq, reason: `record ${expectedSeq} is missing` } };
      }
      if (row.prevHash !== prevHash) {
        return { ok: false, checked, firstBroken: { seq: row.seq, reason: 'link to the previous record does not match' } };
      }
      if (auditHash(row) !== row.hash) {
        return { ok: false, checked, firstBroken: { seq: row.seq, reason: 'contents do not match its hash' } };
      }
      prevHash = row.hash;
      expectedSeq++;
      checked++;
    }
    if (rows.length < batchSize) break;
  }
  return { ok: true, checked, firstBroken: null };
}

/** Records at and below a node path (already checked against the actor), newest first. */
export async function listAudit(
  db: Db,
  nodePath: string,
  opts: { limit: number; beforeSeq?: number | undefined; entityType?: string | undefined; action?: string | undefined },
) {
  const conds = [like(auditLog.nodePath, `${nodePath}%`)];
  if (opts.beforeSeq) conds.push(sql`${auditLog.seq} < ${opts.beforeSeq}`);
  if (opts.entityType) conds.push(sql`${auditLog.entityType} = ${opts.entityType}`);
  if (opts.action) conds.push(like(auditLog.action, `${opts.action.replace(/[%_\\]/g, '\\$&')}%`));
  return db
    .select()
    .from(auditLog)
    .where(and(...conds))
    .orderBy(desc(auditLog.seq))
    .limit(opts.limit);
}
