import { z } from 'zod';
import { roleGroups } from '../../platform/access.js';
import type { AppContext, ZodApp } from '../../platform/context.js';
import { actorOf } from '../../platform/http/access-hook.js';
import { runIdempotent } from '../../platform/http/idempotency.js';
import { ApiErrorSchemas } from '../../platform/http/schemas.js';
import { CreateUserBody, UpdateUserBody, UserIdParams, UserView } from './schema.js';
import { createAccountService } from './service.js';

export function accountRoutes(app: ZodApp, ctx: AppContext): void {
  const accounts = createAccountService({ database: ctx.database });
  const managers = { access: { roles: roleGroups.accountManagers } };

  app.get(
    '/api/users',
    {
      config: managers,
      schema: {
        tags: ['accounts'],
        summary: 'Accounts at and below your node (or below `nodeId`), phones masked',
        querystring: z.object({
          nodeId: z.string().uuid().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(200),
        }),
        response: { 200: z.object({ items: z.array(UserView) }), ...ApiErrorSchemas },
      },
    },
    async (req) => ({ items: await accounts.list(actorOf(req), req.query.nodeId, req.query.limit) }),
  );

  app.get(
    '/api/users/:id',
    {
      config: managers,
      schema: {
        tags: ['accounts'],
        summary: 'One account; `reveal=phone` shows the full phone to roles that need it (audited)',
        params: UserIdParams,
        querystring: z.object({ reveal: z.enum(['phone']).optional() }),
        response: { 200: UserView, ...ApiErrorSchemas },
      },
    },
    async (req) => accounts.get(actorOf(req), req.params.id, req.query.reveal === 'phone'),
  );

  app.post(
    '/api/users',
    {
      config: managers,
      schema: {
        tags: ['accounts'],
        summary: 'Create an account in your jurisdiction (honours Idempotency-Key)',
        body: CreateUserBody,
        response: { 201: UserView, ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      return runIdempotent(ctx.database, req, reply, async (tx) => ({
        status: 201,
        body: await accounts.create(tx, actor, req.body),
      }));
    },
  );

  app.patch(
    '/api/users/:id',
    {
      config: managers,
      schema: {
        tags: ['accounts'],
        summary: 'Change an account: name, role, node, phone, disabled',
        params: UserIdParams,
        body: UpdateUserBody,
        response: { 200: UserView, ...ApiErrorSchemas },
      },
    },
    async (req) => accounts.update(actorOf(req), req.params.id, req.body),
  );

  app.post(
    '/api/users/:id/revoke-sessions',
    {
      config: managers,
      schema: {
        tags: ['accounts'],
        summary: 'End every session of an account (lost phone, left the service)',
        params: UserIdParams,
        response: { 200: z.object({ revoked: z.number() }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const nodePath = await accounts.nodePathOfUser(actor, req.params.id);
      return { revoked: await ctx.auth.revokeAllSessions(actor, req.params.id, nodePath) };
    },
  );
}
