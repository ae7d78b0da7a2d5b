import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import websocket from '@fastify/websocket';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import client from 'prom-client';
import { z } from 'zod';
import type { AppContext, RouteModule, ZodApp } from './platform/context.js';
import { installAccessControl } from './platform/http/access-hook.js';
import { installErrorHandling } from './platform/http/errors.js';
import { migrationsApplied } from './platform/db/index.js';
import { authRoutes } from './platform/auth/routes.js';
import { auditRoutes } from './platform/audit/routes.js';
import { accountRoutes } from './modules/accounts/routes.js';
import { jurisdictionRoutes } from './modules/jurisdiction/routes.js';
import { dispatchRoutes } from './modules/dispatch/routes.js';
import { dispatchConfigRoutes } from './modules/dispatch/config-routes.js';
import { benchFloorRoutes } from './modules/benchfloor/routes.js';
import { unitsRoutes } from './modules/units/routes.js';
import { mediationRoutes } from './modules/mediation/routes.js';
import { basemapRoutes } from './modules/basemap/routes.js';

/** Every module's routes, in one list: a new capability adds one line here. */
export const routeModules: RouteModule[] = [authRoutes, auditRoutes, accountRoutes, jurisdictionRoutes, dispatchRoutes, dispatchConfigRoutes, unitsRoutes, mediationRoutes, basemapRoutes];

export interface BuildOptions {
  logger?: FastifyServerOptions['logger'];
  /** Extra route modules (tests). */
  extraRoutes?: RouteModule[];
}

export async function buildApp(ctx: AppContext, opts: BuildOptions = {}): Promise<ZodApp> {
  const { config } = ctx;
  const app = Fastify({
    logger: opts.logger ?? { level: config.LOG_LEVEL },
    bodyLimit: config.PINGAN_BODY_LIMIT_BYTES,
    // Behind a reverse proxy set PINGAN_TRUST_PROXY; by default the socket address is the client.
    trustProxy: config.PINGAN_TRUST_PROXY,
    return503OnClosing: true,
    // No request may hang forever while the database is slow.
    requestTimeout: 60_000,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Error handling first: a route takes the error handler in force when it is added, so one set
  // after the routes would leave them with Fastify's default (found in a real process, not by inject).
  // The web app: index.html for any other GET outside /api (client-side routes).
  const dist = path.resolve(config.PINGAN_WEB_DIST);
  const indexHtml = path.join(dist, 'index.html');
  const hasWeb = fs.existsSync(indexHtml);
  installErrorHandling(app, (req) => {
    if (!hasWeb || req.method !== 'GET') return null;
    const url = req.url.split('?')[0] ?? '/';
    if (url.startsWith('/api/') || url === '/api' || /\.[a-z0-9]+$/i.test(url)) return null;
    return fs.readFileSync(indexHtml, 'utf8');
  });

  await app.register(cookie);
  // One helmet middleware for the app's life: @fastify/helmet built it anew for every request (parsing
  // the CSP directives each time), a visible share of the server's CPU under load.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // antd injects its CSS-in-JS at run time; MapLibre draws with workers from blobs.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        workerSrc: ["'self'", 'blob:'],
        childSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        scriptSrc: ["'self'"],
        upgradeInsecureRequests: config.PINGAN_SECURE_COOKIES ? [] : null,
      },
    },
    // HSTS only on answers that went out over TLS (RFC 6797 §7.2): see the hook below.
    hsts: false,
  });
  app.addHook('onRequest', (req, reply, done) => securityHeaders(req.raw, reply.raw, (err?: unknown) => done(err instanceof Error ? err : undefined)));
  app.addHook('onSend', async (req, reply) => {
    if (req.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });
  await app.register(rateLimit, { global: false });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(swagger, {
    openapi: {
      info: {
        title: "Ping'an (平安) API",
        description: 'Grassroots public safety and community governance. Errors are `{error, message, issues?}`.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'pingan_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  installAccessControl(app, ctx.auth);

  // Metrics: one registry per app so several apps in one test process don't collide.
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const httpDuration = new client.Histogram({
    name: 'pingan_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.decorate('metrics', registry);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'up' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await ctx.database.ping();
      if (!(await migrationsApplied(ctx.database))) {
        return reply.code(503).send({ status: 'not_ready', reason: 'migrations are not applied' });
      }
      return { status: 'ready', engine: ctx.database.engine };
    } catch {
      return reply.code(503).send({ status: 'not_ready', reason: 'the database is not reachable' });
    }
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  app.get(
    '/api/openapi.json',
    { config: { access: { public: true } }, schema: { hide: true, response: { 200: z.unknown() } } },
    async () => app.swagger(),
  );

  for (const mod of [...routeModules, benchFloorRoutes, ...(opts.extraRoutes ?? [])]) await mod(app, ctx);

  if (hasWeb) {
    await app.register(fastifyStatic, { root: dist, wildcard: false, index: false, maxAge: '1h' });
  }
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: client.Registry;
  }
}
