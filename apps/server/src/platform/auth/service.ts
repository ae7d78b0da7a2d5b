import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { SignJWT, jwtVerify } from 'jose';
import { Role } from '@pingan/contracts';
import type { Actor } from '../access.js';
import type { Database, Executor } from '../db/index.js';
import { jurisdictionNodes, platformSecrets, sessions, users } from '../db/schema.js';
import { appendAudit } from '../audit/service.js';
import { DomainError } from '../errors.js';

// argon2id with OWASP's second recommended profile (19 MiB, t=2): ~30 ms here, costly to brute-force.
const ARGON_OPTS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => argonHash(password, ARGON_OPTS);

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface AuthSettings {
  sessionHours: number;
  maxFailures: number;
  lockoutMinutes: number;
  /**
   * How long this instance may answer a session from memory (decision 002): default 1,000 ms, 0
   * turns the cache off. Logout and revocation made on this instance take effect at once; made on
   * another instance (or a role change, a disabled account), within this time.
   */
  sessionCacheMs?: number;
}

interface CachedSession {
  at: number;
  actor: Actor;
  tokenHash: string;
  expiresAt: Date;
}

const SESSION_CACHE_MAX = 10_000;

export interface TicketClaims {
  sub: string;
  purpose: 'ws' | 'terminal';
  unitId?: string;
}

async function loadSecret(database: Database, name: string): Promise<Buffer> {
  await database.db
    .insert(platformSecrets)
    .values({ name, value: randomBytes(32).toString('base64url') })
    .onConflictDoNothing();
  const [row] = await database.db.select().from(platformSecrets).where(eq(platformSecrets.name, name));
  return Buffer.from(row!.value, 'base64url');
}

export type AuthService = Awaited<ReturnType<typeof createAuthService>>;

export async function createAuthService(database: Database, settings: AuthSettings) {
  const { db } = database;
  const csrfSecret = await loadSecret(database, 'csrf');
  const ticketSecret = await loadSecret(database, 'ticket');
  // A fixed dummy hash so that unknown user names cost the same time as wrong passwords.
  const dummyHash = await hashPassword(randomBytes(16).toString('hex'));

  // token hash → the session's actor, for at most sessionCacheMs. `generation` moves on every
  // logout/revocation here, so a lookup that began before one never caches what it read.
  const cacheMs = settings.sessionCacheMs ?? 1000;
  const sessionCache = new Map<string, CachedSession>();
  let generation = 0;
  const forget = (match: (c: CachedSession) => boolean) => {
    generation++;
    for (const [key, c] of sessionCache) if (match(c)) sessionCache.delete(key);
  };

  const csrfTokenFor = (tokenHash: string) => createHmac('sha256', csrfSecret).update(tokenHash).digest('base64url');

  async function actorForUser(
    userId: string,
    sessionId: string | null,
    ip: string | null,
    // Inside a transaction pass it: PGlite has one connection, and a query beside the open
    // transaction would wait for it forever.
    exec: Executor = db,
  ): Promise<Actor | null> {
    const [row] = await exec
      .select({
        id: users.id,
        username: users.username,
        displayName: users.displayName,
        role: users.role,
        disabled: users.disabled,
        nodeId: users.nodeId,
        nodePath: jurisdictionNodes.path,
      })
      .from(users)
      .innerJoin(jurisdictionNodes, eq(jurisdictionNodes.id, users.nodeId))
      .where(eq(users.id, userId));
    if (!row || row.disabled) return null;
    const role = Role.safeParse(row.role);
    if (!role.success) return null;
    return {
      userId: row.id,
      username: row.username,
      displayName: row.displayName,
      role: role.data,
      nodeId: row.nodeId,
      nodePath: row.nodePath,
      sessionId,
      ip,
    };
  }

  return {
    csrfTokenFor,

    /** Check a password and open a new session (a new token every time: no session fixation). */
    async login(username: string, password: string, ip: string, userAgent: string | undefined) {
      const [user] = await db.select().from(users).where(eq(users.username, username));
      const now = new Date();
      if (user?.lockedUntil && user.lockedUntil > now) {
        const minutes = Math.ceil((user.lockedUntil.getTime() - now.getTime()) / 60000);
        throw new DomainError(423, 'locked', `Too many failed logins: this account is locked for ${minutes} more minute(s).`);
      }
      const ok = await argonVerify(user?.passwordHash ?? dummyHash, password).catch(() => false);
      if (!user || !ok || user.disabled) {
        if (user) {
          await db.transaction(async (tx) => {
            const failures = user.failedLogins + 1;
            const lock = failures >= settings.maxFailures;
            await tx
              .update(users)
              .set({
                failedLogins: lock ? 0 : failures,
                lockedUntil: lock ? new Date(now.getTime() + settings.lockoutMinutes * 60000) : null,
              })
              .where(eq(users.id, user.id));
            await appendAudit(tx, null, {
              action: lock ? 'auth.lockout' : 'auth.login_failed',
              entityType: 'user',
              entityId: user.id,
              details: { username, ip },
            });
          });
        }
        throw new DomainError(401, 'invalid_credentials', 'The user name or password is wrong.');
      }
      const token = randomBytes(32).toString('base64url');
      const tokenHash = sha256(token);
      const expiresAt = new Date(now.getTime() + settings.sessionHours * 3600_000);
      const sessionId = await db.transaction(async (tx) => {
        await tx.update(users).set({ failedLogins: 0, lockedUntil: null }).where(eq(users.id, user.id));
        const [s] = await tx
          .insert(sessions)
          .values({ tokenHash, userId: user.id, expiresAt, ip, userAgent: userAgent?.slice(0, 300) })
          .returning({ id: sessions.id });
        const actor = await actorForUser(user.id, s!.id, ip, tx);
        await appendAudit(tx, actor, {
          action: 'auth.login',
          entityType: 'session',
          entityId: s!.id,
          nodePath: actor?.nodePath,
        });
        return s!.id;
      });
      return { token, tokenHash, expiresAt, sessionId, userId: user.id };
    },

    /** The actor behind a session token, or null when it is unknown, expired or revoked. */
    async authenticate(token: string, ip: string | null): Promise<{ actor: Actor; tokenHash: string; expiresAt: Date } | null> {
      const tokenHash = sha256(token);
      const now = Date.now();
      const hit = sessionCache.get(tokenHash);
      if (hit) {
        if (now - hit.at < cacheMs && hit.expiresAt.getTime() > now) return { actor: { ...hit.actor, ip }, tokenHash, expiresAt: hit.expiresAt };
        sessionCache.delete(tokenHash);
      }
      const startedAt = generation;
      const [s] = await db
        .select()
        .from(sessions)
        .where(and(eq(sessions.tokenHash, tokenHash), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`)));
      if (!s) return null;
      const actor = await actorForUser(s.userId, s.id, ip);
      if (!actor) return null;
      // Touch at most once a minute: a read should not cost a write.
      if (Date.now() - s.lastSeenAt.getTime() > 60_000) {
        await db.update(sessions).set({ lastSeenAt: new Date() }).where(eq(sessions.id, s.id));
      }
      if (cacheMs > 0 && startedAt === generation) {
        if (sessionCache.size >= SESSION_CACHE_MAX) sessionCache.clear();
        sessionCache.set(tokenHash, { at: now, actor, tokenHash, expiresAt: s.expiresAt });
      }
      return { actor, tokenHash, expiresAt: s.expiresAt };
    },

    async logout(actor: Actor) {
      if (!actor.sessionId) return;
      forget((c) => c.actor.sessionId === actor.sessionId);
      await db.transaction(async (tx) => {
        await tx.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, actor.sessionId!));
        await appendAudit(tx, actor, { action: 'auth.logout', entityType: 'session', entityId: actor.sessionId, nodePath: actor.nodePath });
      });
      forget((c) => c.actor.sessionId === actor.sessionId);
    },

    /** Revoke every open session of a user (account compromised, role changed, left the force). */
    async revokeAllSessions(actor: Actor, userId: string, nodePath: string) {
      forget((c) => c.actor.userId === userId);
      const revoked = await db.transaction(async (tx) => {
        const revoked = await tx
          .update(sessions)
          .set({ revokedAt: new Date() })
          .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
          .returning({ id: sessions.id });
        await appendAudit(tx, actor, {
          action: 'auth.revoke_sessions',
          entityType: 'user',
          entityId: userId,
          nodePath,
          details: { revoked: revoked.length },
        });
        return revoked.length;
      });
      forget((c) => c.actor.userId === userId);
      return revoked;
    },

    /** Short-lived signed ticket for a WebSocket (60 s) or a terminal's position feed (12 h). */
    async issueTicket(actor: Actor, purpose: 'ws' | 'terminal', unitId?: string) {
      const ttl = purpose === 'ws' ? 60 : 12 * 3600;
      const expiresAt = new Date(Date.now() + ttl * 1000);
      const ticket = await new SignJWT({ purpose, ...(unitId ? { unitId } : {}) })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(actor.userId)
        .setIssuedAt()
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(ticketSecret);
      return { ticket, expiresAt };
    },

    async verifyTicket(ticket: string, purpose: 'ws' | 'terminal'): Promise<TicketClaims | null> {
      try {
        const { payload } = await jwtVerify(ticket, ticketSecret, { algorithms: ['HS256'] });
        if (payload.purpose !== purpose || typeof payload.sub !== 'string') return null;
        return { sub: payload.sub, purpose, unitId: typeof payload.unitId === 'string' ? payload.unitId : undefined };
      } catch {
        return null;
      }
    },

    actorForUser,

    checkCsrf(tokenHash: string, presented: string | undefined): boolean {
      if (!presented) return false;
      const expected = Buffer.from(csrfTokenFor(tokenHash));
      const given = Buffer.from(presented);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
