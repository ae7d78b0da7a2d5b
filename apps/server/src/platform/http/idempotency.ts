import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { and, eq } from 'drizzle-orm';
import { withCommit, type Database, type Tx } from '../db/index.js';
import { idempotencyKeys } from '../db/schema.js';
import { canonicalJson } from '../audit/chain.js';
import { DomainError } from '../errors.js';
import { pgErrorCode } from './errors.js';

export interface CommandResult<T> {
  status: number;
  body: T;
}

function actorKeyOf(req: FastifyRequest): string {
  return req.actor ? `user:${req.actor.userId}` : `ip:${req.ip}`;
}

/**
 * Run a creating command in one transaction. With an Idempotency-Key header, the first answer is
 * stored in the same transaction and every retry gets it back; nothing is created twice, and no
 * answer leaves before its commit.
 */
export async function runIdempotent<T>(
  database: Database,
  req: FastifyRequest,
  reply: FastifyReply,
  command: (tx: Tx) => Promise<CommandResult<T>>,
): Promise<T> {
  const key = req.headers['idempotency-key'];
  if (key === undefined) {
    const result = await database.db.transaction(command);
    reply.code(result.status);
    return result.body;
  }
  if (typeof key !== 'string' || key.length < 1 || key.length > 200 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new DomainError(400, 'validation', 'Idempotency-Key must be 1 to 200 visible ASCII characters.', [
      { field: 'headers.idempotency-key', message: 'must be 1 to 200 visible ASCII characters' },
    ]);
  }
  const actorKey = actorKeyOf(req);
  const path = req.routeOptions.url ?? req.url;
  const requestHash = createHash('sha256')
    .update(`${req.method} ${req.url}\n${canonicalJson(req.body ?? null)}`)
    .digest('hex');

  const replay = async (): Promise<T | undefined> => {
    const [stored] = await database.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.actorKey, actorKey), eq(idempotencyKeys.key, key)));
    if (!stored) return undefined;
    if (stored.requestHash !== requestHash) {
      throw new DomainError(
        422,
        'idempotency_key_reused',
        'This Idempotency-Key was already used for a different request. Use a new key for a new request.',
      );
    }
    reply.code(stored.statusCode).header('idempotent-replayed', 'true');
    return stored.body as T;
  };

  const earlier = await replay();
  if (earlier !== undefined) return earlier;
  try {
    const result = await database.db.transaction(async (tx) => {
      const r = await command(tx);
      // Goes out with the COMMIT; a concurrent retry's row (23505) fails the commit, answered below.
      await withCommit(tx, tx.insert(idempotencyKeys).values({
        actorKey,
        key,
        method: req.method,
        path,
        requestHash,
        statusCode: r.status,
        body: r.body as unknown,
      }));
      return r;
    });
    reply.code(result.status);
    return result.body;
  } catch (err) {
    // A concurrent retry with the same key won the race: answer what it stored.
    if (pgErrorCode(err) === '23505') {
      const stored = await replay();
      if (stored !== undefined) return stored;
    }
    throw err;
  }
}
