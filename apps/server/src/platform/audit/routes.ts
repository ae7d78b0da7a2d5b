import { z } from 'zod';
import { assertCoversNode, roleGroups } from '../access.js';
import type { AppContext, ZodApp } from '../context.js';
import { ApiErrorSchemas } from '../http/schemas.js';
import { actorOf } from '../http/access-hook.js';
import { listAudit, verifyAuditChain } from './service.js';

const AuditRecord = z.object({
  seq: z.number(),
  at: z.string(),
  actorId: z.string().nullable(),
  actorRole: z.string().nullable(),
  action: z.string(),
  entityType: z.string(),
  entityId: z.string().nullable(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  hash: z.string(),
});

export function auditRoutes(app: ZodApp, ctx: AppContext): void {
  app.get(
    '/api/audit',
    {
      config: { access: { roles: roleGroups.auditors } },
      schema: {
        tags: ['audit'],
        summary: 'Audit records of your jurisdiction, newest first',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          /** The `nextCursor` of the previous page. */
          cursor: z.coerce.number().int().positive().optional(),
          entityType: z.string().max(64).optional(),
          /** Prefix of the action, e.g. `user.` or `personal_data.read`. */
          action: z.string().max(64).optional(),
          /** Only records at and below this node (which must be in your jurisdiction). */
          nodeId: z.string().uuid().optional(),
        }),
        response: {
          200: z.object({ items: z.array(AuditRecord), nextCursor: z.string().nullable() }),
          ...ApiErrorSchemas,
        },
      },
    },
    async (req) => {
      const { limit, cursor, entityType, action, nodeId } = req.query;
      const actor = actorOf(req);
      const nodePath = nodeId ? await assertCoversNode(ctx.database.db, actor, nodeId) : actor.nodePath;
      const rows = await listAudit(ctx.database.db, nodePath, { limit, beforeSeq: cursor, entityType, action });
      const last = rows.at(-1);
      return {
        nextCursor: rows.length === limit && last ? String(last.seq) : null,
        items: rows.map((r) => ({
          seq: r.seq,
          at: r.at.toISOString(),
          actorId: r.actorId,
          actorRole: r.actorRole,
          action: r.action,
          entityType: r.entityType,
          entityId: r.entityId,
          ip: r.ip,
          details: r.details,
          hash: r.hash,
        })),
      };
    },
  );

  app.get(
    '/api/audit/verify',
    {
      config: { access: { roles: roleGroups.auditors } },
      schema: {
        tags: ['audit'],
        summary: 'Recompute the hash chain of the whole audit trail',
        response: {
          200: z.object({
            ok: z.boolean(),
            checked: z.number(),
            firstBad: z.object({ seq: z.number(), reason: z.string() }).nullable(),
          }),
          ...ApiErrorSchemas,
        },
      },
    },
    async () => {
      const r = await verifyAuditChain(ctx.database.db);
      return { ok: r.ok, checked: r.checked, firstBad: r.firstBroken };
    },
  );
}
