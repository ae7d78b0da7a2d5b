import { and, asc, desc, gt, like, sql } from 'drizzle-orm';
import type { Actor } from '../access.js';
import type { Db, Executor } from '../db/index.js';
import { auditLog } from '../db/schema.js';
import { rows } from '../db/rows.js';
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
 * Append an audit record inside the caller's transaction, so the record commits with the change
 * it describes, or not at all.
 *
 * One statement: it advances the chain head (`audit_head`, one row) and inserts the record with the
 * head's new seq and hash. The head's row lock serializes appends only from this statement to commit,
 * so callers append as late in their transaction as they can (decision 012). The hash is the one
 * `auditHash` computes: PostgreSQL hashes the same canonical JSON, with seq and the previous hash
 * spliced in from the head it holds.
 */
export async function appendAudit(tx: Executor, actor: Actor | null, entry: AuditEntry): Promise<void> {
  const at = new Date();
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
  const middle = auditHashMiddle(fields);
  const appended = await rows<{ seq: number }>(
    tx,
    sql`with head as (
          update audit_head set seq = seq + 1, prev_hash = hash,
            hash = encode(sha256(convert_to('[' || (seq + 1)::text || ',' || ${middle}::text || ',"' || hash || '"]', 'UTF8')), 'hex')
          where id = 1
          returning seq, prev_hash, hash)
        insert into audit_log (seq, at, actor_id, actor_role, action, entity_type, entity_id, node_path, ip, details, prev_hash, hash)
        select seq, ${at}, ${fields.actorId}, ${fields.actorRole}, ${fields.action}, ${fields.entityType}, ${fields.entityId},
          ${fields.nodePath}, ${fields.ip}, ${JSON.stringify(fields.details)}::jsonb, prev_hash, hash from head
        returning seq`,
  );
  // The head row is made by migration 0005; without it the record would silently not be written.
  if (appended.length !== 1) throw new Error('audit chain head is missing: the audit record was not written');
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
