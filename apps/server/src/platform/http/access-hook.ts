import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '@pingan/contracts';
import type { Actor } from '../access.js';
import type { AuthService } from '../auth/service.js';
import { DomainError, forbidden, unauthorized } from '../errors.js';

/**
 * Every /api route declares who may call it in `config.access`; a route without one fails at
 * start-up, and the access-matrix test walks the catalogue collected here.
 */
export type AccessRule = { public: true } | { roles: readonly Role[] };

export interface CatalogRoute {
  method: string;
  url: string;
  access: AccessRule;
  /** The route's input schemas (zod), for tests that walk every route. */
  schema: { body?: unknown; params?: unknown; querystring?: unknown };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
  interface FastifyRequest {
    actor: Actor | null;
    /** The session behind the request; `viaCookie` means CSRF applies to unsafe methods. */
    authSession: { tokenHash: string; expiresAt: Date; viaCookie: boolean } | null;
  }
  interface FastifyInstance {
    routeCatalog: CatalogRoute[];
  }
}

export const SESSION_COOKIE = 'pingan_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string' && h.startsWith('Bearer ')) return h.slice(7).trim();
  return undefined;
}

export function installAccessControl(app: FastifyInstance, auth: AuthService): void {
  app.decorate('routeCatalog', [] as CatalogRoute[]);
  app.decorateRequest('actor', null);
  app.decorateRequest('authSession', null);

  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/') || route.url.startsWith('/api/docs')) return;
    const access = (route.config as { access?: AccessRule } | undefined)?.access;
    if (!access) throw new Error(`Route ${String(route.method)} ${route.url} declares no access rule`);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      const schema = (route.schema ?? {}) as CatalogRoute['schema'];
      app.routeCatalog.push({
        method,
        url: route.url,
        access,
        schema: { body: schema.body, params: schema.params, querystring: schema.querystring },
      });
    }
  });

  // Authenticate → authorize by role → CSRF, before the body is even validated.
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config?.access;
    if (!access) return;
    // A WebSocket opened by a page of another site would carry our cookie without any CSRF header:
    // on an upgrade from a foreign Origin the cookie does not count (a ticket still does).
    const foreignUpgrade = req.headers.upgrade?.toLowerCase() === 'websocket' && typeof req.headers.origin === 'string' && !sameHost(req.headers.origin, req.host);
    const cookieToken = foreignUpgrade ? undefined : req.cookies?.[SESSION_COOKIE];
    const bearer = bearerToken(req);
    const token = bearer ?? cookieToken;
    if (token) {
      const found = await auth.authenticate(token, req.ip);
      if (found) {
        req.actor = found.actor;
        req.authSession = { tokenHash: found.tokenHash, expiresAt: found.expiresAt, viaCookie: !bearer };
      }
    }
    if ('public' in access) return;
    if (!req.actor) throw unauthorized('Log in first: your session is missing or has expired.');
    if (!access.roles.includes(req.actor.role)) throw forbidden(`The role ${req.actor.role} may not do this.`);
    if (req.authSession?.viaCookie && !SAFE_METHODS.has(req.method)) {
      const presented = req.headers['x-csrf-token'];
      if (!auth.checkCsrf(req.authSession.tokenHash, typeof presented === 'string' ? presented : undefined)) {
        throw new DomainError(403, 'csrf', 'The request lacks a valid x-csrf-token header; reload the page and try again.');
      }
    }
  });
}

function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The actor of a route whose access rule requires one. */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.actor) throw unauthorized();
  return req.actor;
}
