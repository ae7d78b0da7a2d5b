import { z } from 'zod';
import { LoginBody, SessionInfo, TicketAnswer, TicketBody } from '@pingan/contracts';
import { roleGroups } from '../access.js';
import type { AppContext, ZodApp } from '../context.js';
import { ApiErrorSchemas } from '../http/schemas.js';
import { DomainError } from '../errors.js';
import { SESSION_COOKIE, actorOf } from '../http/access-hook.js';
import { jurisdictionNodes } from '../db/schema.js';
import { eq } from 'drizzle-orm';
import type { Actor } from '../access.js';

export function authRoutes(app: ZodApp, ctx: AppContext): void {
  const { auth, config, database } = ctx;

  async function sessionInfo(actor: Actor, tokenHash: string, expiresAt: Date) {
    const [node] = await database.db
      .select({ name: jurisdictionNodes.name, level: jurisdictionNodes.level })
      .from(jurisdictionNodes)
      .where(eq(jurisdictionNodes.id, actor.nodeId));
    return {
      user: {
        id: actor.userId,
        username: actor.username,
        displayName: actor.displayName,
        role: actor.role,
        nodeId: actor.nodeId,
        nodeName: node?.name ?? '',
        nodeLevel: node?.level ?? '',
      },
      csrfToken: auth.csrfTokenFor(tokenHash),
      expiresAt: expiresAt.toISOString(),
    };
  }

  app.post(
    '/api/auth/login',
    {
      config: {
        access: { public: true },
        rateLimit: { max: config.PINGAN_LOGIN_RATE_PER_MINUTE, timeWindow: '1 minute' },
      },
      schema: {
        tags: ['auth'],
        summary: 'Log in with a password; sets the HttpOnly session cookie',
        body: LoginBody,
        response: { 200: SessionInfo, ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const s = await auth.login(req.body.username, req.body.password, req.ip, req.headers['user-agent']);
      reply.setCookie(SESSION_COOKIE, s.token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: config.PINGAN_SECURE_COOKIES,
        path: '/',
        expires: s.expiresAt,
      });
      const actor = (await auth.actorForUser(s.userId, s.sessionId, req.ip))!;
      return sessionInfo(actor, s.tokenHash, s.expiresAt);
    },
  );

  app.post(
    '/api/auth/token',
    {
      config: {
        access: { public: true },
        rateLimit: { max: config.PINGAN_LOGIN_RATE_PER_MINUTE, timeWindow: '1 minute' },
      },
      schema: {
        tags: ['auth'],
        summary: 'Log in for API clients (simulator, integrations): answers a bearer token, sets no cookie',
        body: LoginBody,
        response: { 200: z.object({ token: z.string(), expiresAt: z.string() }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const s = await auth.login(req.body.username, req.body.password, req.ip, req.headers['user-agent']);
      return { token: s.token, expiresAt: s.expiresAt.toISOString() };
    },
  );

  app.get(
    '/api/auth/me',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: { tags: ['auth'], summary: 'The current session', response: { 200: SessionInfo, ...ApiErrorSchemas } },
    },
    async (req) => {
      const session = req.authSession!;
      return sessionInfo(actorOf(req), session.tokenHash, session.expiresAt);
    },
  );

  app.post(
    '/api/auth/logout',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: { tags: ['auth'], summary: 'End this session', response: { 204: z.null(), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      await auth.logout(actorOf(req));
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/auth/ticket',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: {
        tags: ['auth'],
        summary: 'A short-lived signed ticket for a WebSocket (60 s) or a terminal (12 h); unit-bound terminal tickets come from POST /api/units/{id}/ticket',
        body: TicketBody,
        response: { 200: TicketAnswer, ...ApiErrorSchemas },
      },
    },
    async (req) => {
      if (req.body.unitId !== undefined) {
        // Binding a ticket to a unit needs the unit's rules (member, or duty staff above it).
        throw new DomainError(422, 'unprocessable', 'A ticket bound to a unit comes from POST /api/units/{id}/ticket, which checks that you may operate it.', [
          { field: 'body.unitId', message: 'use POST /api/units/{id}/ticket' },
        ]);
      }
      const t = await auth.issueTicket(actorOf(req), req.body.purpose);
      return { ticket: t.ticket, expiresAt: t.expiresAt.toISOString() };
    },
  );
}
