import path from 'node:path';
import { z } from 'zod';

/**
 * Every setting of the server, read from environment variables in this one place.
 * docs/operations.md lists them; keep the two in step.
 */
const bool = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'on', 'yes'].includes(v));

const ConfigSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** postgres://… selects PostgreSQL; unset selects the embedded PGlite engine. */
  DATABASE_URL: z.string().url().optional(),
  /** Data directory of the embedded engine. */
  PINGAN_DATA_DIR: z.string().default(path.resolve('.data/pglite')),
  /** Load the demo county and demo accounts when the database is empty. */
  PINGAN_DEMO: bool.default(true),
  PINGAN_SIMULATOR: bool.default(true),
  /** The built-in drill: time multiplier and calls per simulated day (demo database only). */
  PINGAN_SIM_SPEED: z.coerce.number().positive().max(1000).default(6),
  PINGAN_SIM_CALLS_PER_DAY: z.coerce.number().int().min(1).default(400),
  PINGAN_SIM_SEED: z.coerce.number().int().default(20261122),
  PINGAN_SIM_START_HOUR: z.coerce.number().int().min(0).max(23).default(9),
  /** Mark cookies Secure: set when served behind TLS. */
  PINGAN_SECURE_COOKIES: bool.default(false),
  /**
   * The reverse proxy in front: `true` (any) or its addresses/CIDRs separated by commas.
   * Then X-Forwarded-For is the client address and X-Forwarded-Proto https earns HSTS. Unset: none.
   */
  PINGAN_TRUST_PROXY: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' || ['0', 'false', 'off', 'no'].includes(v) ? false : ['1', 'true', 'on', 'yes'].includes(v) ? true : v.split(',').map((x) => x.trim()))),
  PINGAN_SESSION_HOURS: z.coerce.number().positive().max(24 * 30).default(12),
  PINGAN_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  PINGAN_LOCKOUT_MINUTES: z.coerce.number().positive().default(15),
  PINGAN_LOGIN_RATE_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  /** Requests per client address per minute on the public (no-login) search routes. */
  PINGAN_PUBLIC_RATE_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  /** How often the 1-3-5 timers are checked; 0 turns the scheduler off (tests tick it by hand). */
  PINGAN_TIMER_INTERVAL_MS: z.coerce.number().int().min(0).default(1000),
  /** A reconnecting stream client resumes by replay up to this many missed events / minutes; beyond: resync + snapshot. */
  PINGAN_WS_REPLAY_MAX_EVENTS: z.coerce.number().int().min(0).default(10_000),
  PINGAN_WS_REPLAY_MAX_MINUTES: z.coerce.number().positive().default(30),
  /** Registers the minimal "floor" route that bench:dispatch compares against (never in production). */
  PINGAN_BENCH_FLOOR: bool.default(false),
  PINGAN_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  PINGAN_WEB_DIST: z.string().default(path.resolve('apps/web/dist')),
  REDIS_URL: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof ConfigSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, ...overrides };
}
