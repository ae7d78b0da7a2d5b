import { and, eq, like } from 'drizzle-orm';
import type { Role } from '@pingan/contracts';
import { type Actor, assertCoversNode, assertCoversPath } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import { hashPassword } from '../../platform/auth/service.js';
import type { Database, Executor, Tx } from '../../platform/db/index.js';
import { jurisdictionNodes, users } from '../../platform/db/schema.js';
import { conflict, forbidden, notFound } from '../../platform/errors.js';
import { maskPhone, mayReveal } from '../../platform/masking.js';
import type { UserView } from './schema.js';
import type { z } from 'zod';
import type { CreateUserBody, UpdateUserBody } from './schema.js';

/** Roles a station leader may hand out; the rest need an administrator. */
const STATION_GRANTABLE: readonly Role[] = [
  'community_officer', 'auxiliary', 'grid_worker', 'volunteer', 'security_guard', 'mediator',
];

function assertMayGrant(actor: Actor, role: Role) {
  if (actor.role === 'admin') return;
  if (!STATION_GRANTABLE.includes(role)) throw forbidden(`Only an administrator may grant the role ${role}.`);
}

type UserRow = typeof users.$inferSelect & { nodeName: string; nodePath: string };

function present(row: UserRow, revealPhone: boolean): UserView {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    role: row.role as Role,
    nodeId: row.nodeId,
    nodeName: row.nodeName,
    phone: revealPhone ? row.phone : maskPhone(row.phone),
    disabled: row.disabled,
    locked: !!row.lockedUntil && row.lockedUntil > new Date(),
  };
}

export function createAccountService({ database }: { database: Database }) {
  const { db } = database;
  const selectUser = (exec: Executor = db) =>
    exec
      .select({
        user: users,
        nodeName: jurisdictionNodes.name,
        nodePath: jurisdictionNodes.path,
      })
      .from(users)
      .innerJoin(jurisdictionNodes, eq(jurisdictionNodes.id, users.nodeId));

  async function load(id: string, exec: Executor = db): Promise<UserRow> {
    const [row] = await selectUser(exec).where(eq(users.id, id));
    if (!row) throw notFound('The user');
    return { ...row.user, nodeName: row.nodeName, nodePath: row.nodePath };
  }

  return {
    async list(actor: Actor, nodeId: string | undefined, limit: number): Promise<UserView[]> {
      const path = nodeId ? await assertCoversNode(db, actor, nodeId) : actor.nodePath;
      const rows = await selectUser()
        .where(like(jurisdictionNodes.path, `${path}%`))
        .orderBy(users.username)
        .limit(limit);
      return rows.map((r) => present({ ...r.user, nodeName: r.nodeName, nodePath: r.nodePath }, false));
    },

    /** One user; `reveal` shows the phone in full to roles that need it, and that read is audited. */
    async get(actor: Actor, id: string, reveal: boolean): Promise<UserView> {
      const row = await load(id);
      assertCoversPath(actor, row.nodePath);
      if (!reveal) return present(row, false);
      if (!mayReveal(actor.role, 'staffPhone')) throw forbidden('Your role may not see full phone numbers.');
      await database.db.transaction((tx) =>
        appendAudit(tx, actor, {
          action: 'personal_data.read',
          entityType: 'user',
          entityId: id,
          nodePath: row.nodePath,
          details: { fields: ['phone'] },
        }),
      );
      return present(row, true);
    },

    async create(tx: Tx, actor: Actor, body: z.infer<typeof CreateUserBody>): Promise<UserView> {
      const nodePath = await assertCoversNode(tx, actor, body.nodeId);
      assertMayGrant(actor, body.role);
      const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.username, body.username));
      if (existing) throw conflict(`The user name ${body.username} is taken.`);
      const [created] = await tx
        .insert(users)
        .values({
          username: body.username,
          displayName: body.displayName,
          passwordHash: await hashPassword(body.password),
          role: body.role,
          nodeId: body.nodeId,
          phone: body.phone ?? null,
        })
        .returning({ id: users.id });
      await appendAudit(tx, actor, {
        action: 'user.create',
        entityType: 'user',
        entityId: created!.id,
        nodePath,
        details: { username: body.username, role: body.role },
      });
      const [row] = await tx
        .select({ user: users, nodeName: jurisdictionNodes.name, nodePath: jurisdictionNodes.path })
        .from(users)
        .innerJoin(jurisdictionNodes, eq(jurisdictionNodes.id, users.nodeId))
        .where(eq(users.id, created!.id));
      return present({ ...row!.user, nodeName: row!.nodeName, nodePath: row!.nodePath }, false);
    },

    async update(actor: Actor, id: string, body: z.infer<typeof UpdateUserBody>): Promise<UserView> {
      return db.transaction(async (tx) => {
        const row = await load(id, tx);
        assertCoversPath(actor, row.nodePath);
        if (body.role) assertMayGrant(actor, body.role);
        if (actor.role !== 'admin') assertMayGrant(actor, row.role as Role);
        const newPath = body.nodeId ? await assertCoversNode(tx, actor, body.nodeId) : row.nodePath;
        await tx
          .update(users)
          .set({
            ...(body.displayName !== undefined ? { displayName: body.displayName } : {}),
            ...(body.role !== undefined ? { role: body.role } : {}),
            ...(body.nodeId !== undefined ? { nodeId: body.nodeId } : {}),
            ...(body.phone !== undefined ? { phone: body.phone } : {}),
            ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
          })
          .where(and(eq(users.id, id)));
        await appendAudit(tx, actor, {
          action: 'user.update',
          entityType: 'user',
          entityId: id,
          nodePath: newPath,
          details: { changed: Object.keys(body) },
        });
        const [after] = await tx
          .select({ user: users, nodeName: jurisdictionNodes.name, nodePath: jurisdictionNodes.path })
          .from(users)
          .innerJoin(jurisdictionNodes, eq(jurisdictionNodes.id, users.nodeId))
          .where(eq(users.id, id));
        return present({ ...after!.user, nodeName: after!.nodeName, nodePath: after!.nodePath }, false);
      });
    },

    async nodePathOfUser(actor: Actor, id: string): Promise<string> {
      const row = await load(id);
      assertCoversPath(actor, row.nodePath);
      return row.nodePath;
    },
  };
}
