import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Role } from '@pingan/contracts';
import { assertCoversNode, assertCoversPath, roleGroups } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import type { AppContext, ZodApp } from '../../platform/context.js';
import { rows } from '../../platform/db/rows.js';
import { notFound, unprocessable } from '../../platform/errors.js';
import { actorOf } from '../../platform/http/access-hook.js';
import { ApiErrorSchemas } from '../../platform/http/schemas.js';
import { DEFAULT_TARGETS, targetsFor } from './service.js';

/** Configuration of dispatch per jurisdiction: 1-3-5 targets, response plans, partner departments. */
const configurers: readonly Role[] = ['admin', 'station_leader'];
const IdParams = z.object({ id: z.string().uuid() });
const NodeParams = z.object({ nodeId: z.string().uuid() });

const Targets = z.object({
  acknowledgeSeconds: z.number().int().min(10).max(3600),
  arriveCoreSeconds: z.number().int().min(30).max(7200),
  arriveOtherSeconds: z.number().int().min(30).max(7200),
  diversionAcceptSeconds: z.number().int().min(60).max(86_400),
  warnShare: z.number().min(0.1).max(0.99),
});
const Requirement = z.object({ unitType: z.string().trim().min(1).max(40), count: z.number().int().min(1).max(50) });
const PlanBody = z.object({
  nodeId: z.string().uuid(),
  category: z.string().trim().min(1).max(60),
  maxPriority: z.number().int().min(1).max(4).default(4),
  name: z.string().trim().min(1).max(80),
  requirements: z.array(Requirement).min(1, 'name at least one unit type').max(10),
});
const PlanView = PlanBody.extend({ id: z.string().uuid(), nodeName: z.string() });
const DepartmentBody = z.object({
  nodeId: z.string().uuid(),
  code: z.string().trim().min(1).max(40).regex(/^[a-z0-9_-]+$/i, 'may use letters, digits, dash and underscore'),
  name: z.string().trim().min(1).max(80),
  categories: z.array(z.string().trim().min(1).max(60)).max(30).default([]),
  phone: z.string().trim().max(30).optional(),
});
const DepartmentView = DepartmentBody.extend({ id: z.string().uuid(), phone: z.string().nullable(), members: z.array(z.object({ userId: z.string().uuid(), displayName: z.string() })) });

export function dispatchConfigRoutes(app: ZodApp, ctx: AppContext): void {
  const { database } = ctx;

  app.get(
    '/api/dispatch/targets/:nodeId',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: { tags: ['dispatch config'], summary: 'The 1-3-5 targets in force at a node (its own row or the nearest ancestor’s, else the defaults)', params: NodeParams, response: { 200: Targets.extend({ inherited: z.boolean() }), ...ApiErrorSchemas } },
    },
    async (req) => {
      const path = await assertCoversNode(database.db, actorOf(req), req.params.nodeId);
      const [own] = await database.query<{ n: number }>('select count(*)::int as n from dispatch_target where node_id = $1', [req.params.nodeId]);
      return { ...(await targetsFor(database.db, path)), inherited: !own?.n };
    },
  );

  app.put(
    '/api/dispatch/targets/:nodeId',
    {
      config: { access: { roles: configurers } },
      schema: { tags: ['dispatch config'], summary: 'Set the 1-3-5 targets of a node (applies to it and below unless overridden)', params: NodeParams, body: Targets.partial(), response: { 200: Targets.extend({ inherited: z.boolean() }), ...ApiErrorSchemas } },
    },
    async (req) => {
      const actor = actorOf(req);
      const path = await assertCoversNode(database.db, actor, req.params.nodeId);
      const current = await targetsFor(database.db, path);
      const next = { ...DEFAULT_TARGETS, ...current, ...req.body };
      if (next.arriveCoreSeconds > next.arriveOtherSeconds) {
        throw unprocessable('The core-area arrival target cannot be longer than the one elsewhere.', [{ field: 'body.arriveCoreSeconds', message: 'must not exceed arriveOtherSeconds' }]);
      }
      await database.db.transaction(async (tx) => {
        await tx.execute(sql`insert into dispatch_target (node_id, acknowledge_seconds, arrive_core_seconds, arrive_other_seconds, diversion_accept_seconds, warn_share)
          values (${req.params.nodeId}, ${next.acknowledgeSeconds}, ${next.arriveCoreSeconds}, ${next.arriveOtherSeconds}, ${next.diversionAcceptSeconds}, ${next.warnShare})
          on conflict (node_id) do update set acknowledge_seconds = excluded.acknowledge_seconds, arrive_core_seconds = excluded.arrive_core_seconds,
            arrive_other_seconds = excluded.arrive_other_seconds, diversion_accept_seconds = excluded.diversion_accept_seconds, warn_share = excluded.warn_share`);
        await appendAudit(tx, actor, { action: 'dispatch.targets', entityType: 'jurisdiction_node', entityId: req.params.nodeId, nodePath: path, details: next });
      });
      return { ...next, inherited: false };
    },
  );

  app.get(
    '/api/response-plans',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: { tags: ['dispatch config'], summary: 'Response plans (category + priority → unit types and counts) at and above your node', response: { 200: z.object({ items: z.array(PlanView) }), ...ApiErrorSchemas } },
    },
    async (req) => {
      const actor = actorOf(req);
      const found = await rows<{ id: string; node_id: string; node_name: string; category: string; max_priority: number; name: string; requirements: unknown; path: string }>(
        database.db,
        sql`select p.id, p.node_id, n.name as node_name, n.path, p.category, p.max_priority, p.name, p.requirements
            from response_plan p join jurisdiction_node n on n.id = p.node_id order by length(n.path), p.category, p.max_priority`,
      );
      // Plans of the actor's subtree, and of the nodes above it (they apply to it too).
      return {
        items: found
          .filter((p) => p.path.startsWith(actor.nodePath) || actor.nodePath.startsWith(p.path))
          .map((p) => ({ id: p.id, nodeId: p.node_id, nodeName: p.node_name, category: p.category, maxPriority: p.max_priority, name: p.name, requirements: (typeof p.requirements === 'string' ? JSON.parse(p.requirements) : p.requirements) as z.infer<typeof Requirement>[] })),
      };
    },
  );

  app.post(
    '/api/response-plans',
    {
      config: { access: { roles: configurers } },
      schema: { tags: ['dispatch config'], summary: 'Add a response plan for a category and priority at a node', body: PlanBody, response: { 201: z.object({ id: z.string().uuid() }), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const path = await assertCoversNode(database.db, actor, req.body.nodeId);
      const [cat] = await database.query<{ code: string }>('select code from incident_category where code = $1', [req.body.category]);
      if (!cat) throw unprocessable(`Unknown category ${req.body.category}.`, [{ field: 'body.category', message: 'is not a known category' }]);
      const id = await database.db.transaction(async (tx) => {
        const [p] = await rows<{ id: string }>(
          tx,
          sql`insert into response_plan (node_id, category, max_priority, requirements, name) values (${req.body.nodeId}, ${req.body.category}, ${req.body.maxPriority}, ${JSON.stringify(req.body.requirements)}::jsonb, ${req.body.name}) returning id`,
        );
        await appendAudit(tx, actor, { action: 'dispatch.plan_create', entityType: 'response_plan', entityId: p!.id, nodePath: path, details: { category: req.body.category } });
        return p!.id;
      });
      reply.code(201);
      return { id };
    },
  );

  app.delete(
    '/api/response-plans/:id',
    {
      config: { access: { roles: configurers } },
      schema: { tags: ['dispatch config'], summary: 'Remove a response plan', params: IdParams, response: { 204: z.null(), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      await database.db.transaction(async (tx) => {
        const [p] = await rows<{ path: string }>(tx, sql`select n.path from response_plan p join jurisdiction_node n on n.id = p.node_id where p.id = ${req.params.id}`);
        if (!p) throw notFound('The response plan');
        assertCoversPath(actor, p.path);
        await tx.execute(sql`delete from response_plan where id = ${req.params.id}`);
        await appendAudit(tx, actor, { action: 'dispatch.plan_delete', entityType: 'response_plan', entityId: req.params.id, nodePath: p.path });
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/partner-departments',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: { tags: ['dispatch config'], summary: 'Partner departments serving your node (configured at it or above) and below', response: { 200: z.object({ items: z.array(DepartmentView) }), ...ApiErrorSchemas } },
    },
    async (req) => {
      const actor = actorOf(req);
      const found = await rows<{ id: string; node_id: string; path: string; code: string; name: string; categories: string[] | string; phone: string | null; members: { userId: string; displayName: string }[] | string }>(
        database.db,
        sql`select d.id, d.node_id, n.path, d.code, d.name, d.categories, d.phone,
              coalesce((select json_agg(json_build_object('userId', u.id, 'displayName', u.display_name)) from partner_member m join app_user u on u.id = m.user_id where m.department_id = d.id), '[]'::json) as members
            from partner_department d join jurisdiction_node n on n.id = d.node_id order by length(n.path), d.name`,
      );
      const arr = (v: string[] | string) => (Array.isArray(v) ? v : v.replace(/^\{|\}$/g, '').split(',').filter(Boolean));
      return {
        items: found
          .filter((d) => d.path.startsWith(actor.nodePath) || actor.nodePath.startsWith(d.path))
          .map((d) => ({ id: d.id, nodeId: d.node_id, code: d.code, name: d.name, categories: arr(d.categories), phone: d.phone, members: typeof d.members === 'string' ? (JSON.parse(d.members) as { userId: string; displayName: string }[]) : d.members })),
      };
    },
  );

  app.post(
    '/api/partner-departments',
    {
      config: { access: { roles: configurers } },
      schema: { tags: ['dispatch config'], summary: 'Configure a partner department (城管, 交警, 消防, 民政 …) for a node and below', body: DepartmentBody, response: { 201: z.object({ id: z.string().uuid() }), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const path = await assertCoversNode(database.db, actor, req.body.nodeId);
      const id = await database.db.transaction(async (tx) => {
        const [d] = await rows<{ id: string }>(
          tx,
          sql`insert into partner_department (node_id, code, name, categories, phone) values (${req.body.nodeId}, ${req.body.code}, ${req.body.name}, ${`{${req.body.categories.map((c) => c.replace(/[{},"\\]/g, '')).join(',')}}`}::text[], ${req.body.phone ?? null}) returning id`,
        );
        await appendAudit(tx, actor, { action: 'dispatch.partner_create', entityType: 'partner_department', entityId: d!.id, nodePath: path, details: { code: req.body.code } });
        return d!.id;
      });
      reply.code(201);
      return { id };
    },
  );

  app.post(
    '/api/partner-departments/:id/members',
    {
      config: { access: { roles: configurers } },
      schema: { tags: ['dispatch config'], summary: 'Add a partner-staff account to a department', params: IdParams, body: z.object({ userId: z.string().uuid() }), response: { 204: z.null(), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      await database.db.transaction(async (tx) => {
        const [d] = await rows<{ path: string }>(tx, sql`select n.path from partner_department d join jurisdiction_node n on n.id = d.node_id where d.id = ${req.params.id}`);
        if (!d) throw notFound('The partner department');
        assertCoversPath(actor, d.path);
        const [u] = await rows<{ role: string; path: string }>(tx, sql`select u.role, n.path from app_user u join jurisdiction_node n on n.id = u.node_id where u.id = ${req.body.userId}`);
        if (!u) throw notFound('The user');
        if (u.role !== 'partner_staff') throw unprocessable('Only partner-staff accounts can join a department.', [{ field: 'body.userId', message: 'is not a partner-staff account' }]);
        await tx.execute(sql`insert into partner_member (user_id, department_id) values (${req.body.userId}, ${req.params.id}) on conflict do nothing`);
        await appendAudit(tx, actor, { action: 'dispatch.partner_member', entityType: 'partner_department', entityId: req.params.id, nodePath: d.path, details: { userId: req.body.userId } });
      });
      return reply.code(204).send(null);
    },
  );
}
