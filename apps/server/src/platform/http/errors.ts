import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { DomainError } from '../errors.js';

const DB_DOWN_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006',
]);

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = err;
  for (let i = 0; e && i < 6; i++) {
    out.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

/** True when the error means the database cannot be reached right now (answer 503, not 500). */
export function isDatabaseUnavailable(err: unknown): boolean {
  return causes(err).some((e) => {
    const code = (e as { code?: unknown }).code;
    const msg = String((e as { message?: unknown }).message ?? '');
    return (
      (typeof code === 'string' && DB_DOWN_CODES.has(code)) ||
      /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)|terminating connection/i.test(
        msg,
      )
    );
  });
}

export function pgErrorCode(err: unknown): string | undefined {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** Constraint violations caused by the request's content: a 4xx the caller can act on, not a 500. */
const PG_USER_ERRORS: Record<string, [number, string, string]> = {
  '23505': [409, 'conflict', 'A record with the same unique value already exists.'],
  '23503': [409, 'conflict', 'The request refers to a record that does not exist or is still in use.'],
  '23514': [422, 'unprocessable', 'The request breaks a rule of the data (a check constraint).'],
  '22P02': [400, 'validation', 'A value in the request has the wrong format.'],
  '22007': [400, 'validation', 'A date or time in the request has the wrong format.'],
  '22003': [400, 'validation', 'A number in the request is out of range.'],
  '22001': [400, 'validation', 'A text value in the request is too long.'],
  '22023': [400, 'validation', 'A value in the request is invalid.'],
  // PostgreSQL text and jsonb cannot hold NUL (U+0000): found by the faults suite's malformed volume.
  '22021': [400, 'validation', 'A text in the request contains a character that cannot be stored (NUL, U+0000).'],
  '22P05': [400, 'validation', 'A text in the request contains a character that cannot be stored (NUL, U+0000).'],
};

function fieldOf(context: string | undefined, instancePath: string | undefined): string {
  const p = (instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  return [context, p].filter(Boolean).join('.') || context || 'request';
}

/** Every error leaves the server as {error, message, issues?}; user input never yields a 500. */
export function installErrorHandling(
  app: FastifyInstance,
  /** The web app's index.html for client-side routes, or null to answer 404. */
  spaFallback: (req: FastifyRequest) => string | null = () => null,
): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({
        field: fieldOf(err.validationContext, v.instancePath),
        message: v.message ?? 'is invalid',
      }));
      const first = issues[0];
      return reply.code(400).send({
        error: 'validation',
        message: first ? `${first.field}: ${first.message}` : 'The request is invalid.',
        issues,
      });
    }
    if (err instanceof DomainError) {
      return reply
        .code(err.statusCode)
        .send({ error: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) });
    }
    if (isDatabaseUnavailable(err)) {
      req.log.warn({ err: err.message }, 'database unavailable');
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({ error: 'unavailable', message: 'The database is not reachable right now. Try again in a few seconds.' });
    }
    const pgCode = pgErrorCode(err);
    if (pgCode && PG_USER_ERRORS[pgCode]) {
      const [status, code, message] = PG_USER_ERRORS[pgCode];
      req.log.info({ pgCode, detail: (err as { detail?: string }).detail }, 'database rejected the input');
      return reply.code(status).send({ error: code, message });
    }
    const status = err.statusCode ?? 500;
    if (status === 413) {
      return reply.code(413).send({ error: 'too_large', message: 'The request body is too large.' });
    }
    if (status === 415) {
      return reply.code(415).send({ error: 'unsupported_media_type', message: err.message });
    }
    if (status === 429) {
      return reply.code(429).send({ error: 'rate_limited', message: 'Too many requests. Wait a minute and try again.' });
    }
    if (status >= 400 && status < 500) {
      // Fastify's own 4xx: malformed JSON, bad content length, empty body with JSON type …
      return reply.code(status).send({ error: err.code ?? 'bad_request', message: err.message });
    }
    if (isResponseSerializationError(err)) {
      req.log.error({ err, cause: err.cause.issues }, 'response failed its schema');
    } else {
      req.log.error({ err }, 'unhandled error');
    }
    return reply.code(500).send({ error: 'internal', message: 'Something went wrong on the server; it has been logged.' });
  });

  app.setNotFoundHandler((req, reply) => {
    const html = spaFallback(req);
    if (html !== null) return reply.code(200).type('text/html; charset=utf-8').send(html);
    reply.code(404).send({ error: 'not_found', message: `No route ${req.method} ${req.url.split('?')[0]}.` });
  });
}
