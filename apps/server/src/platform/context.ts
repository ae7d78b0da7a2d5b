import type { FastifyInstance, FastifyBaseLogger, RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Database } from './db/index.js';
import type { AuthService } from './auth/service.js';
import type { EventBus } from './bus.js';
import type { JurisdictionLookup } from '../modules/jurisdiction/lookup.js';

/** What every module's service factory and routes receive: wired by hand in app.ts, no container. */
export interface AppContext {
  config: Config;
  database: Database;
  auth: AuthService;
  bus: EventBus;
  /** Point → grid/station index of the live tree, patched on every tree change. */
  lookup: JurisdictionLookup;
  /** Clock behind an interface so timers and tests can move time. */
  now: () => Date;
}

export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** A module's HTTP surface: registered once per app. */
export type RouteModule = (app: ZodApp, ctx: AppContext) => void | Promise<void>;
