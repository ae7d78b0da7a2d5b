import { createHash } from 'node:crypto';

/** The fields of an audit record that the hash covers, in a fixed order. */
export interface AuditFields {
  seq: number;
  at: Date;
  actorId: string | null;
  actorRole: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  nodePath: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  prevHash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted, so a record hashes the same after a round trip through jsonb. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The fields between seq and the previous hash, as they appear inside the hashed JSON array. */
export function auditHashMiddle(r: Omit<AuditFields, 'seq' | 'prevHash'>): string {
  return canonicalJson([r.at.toISOString(), r.actorId, r.actorRole, r.action, r.entityType, r.entityId, r.nodePath, r.ip, r.details]).slice(1, -1);
}

/**
 * sha256 of the canonical JSON array [seq, at, actor, role, action, entity type, entity id, node path,
 * ip, details, previous hash]. appendAudit has PostgreSQL compute the same bytes ('[' seq ',' middle
 * ',"' prevHash '"]'), so both sides must keep this layout.
 */
export function auditHash(r: AuditFields): string {
  const body = `[${JSON.stringify(r.seq)},${auditHashMiddle(r)},${JSON.stringify(r.prevHash)}]`;
  return createHash('sha256').update(body).digest('hex');
}
