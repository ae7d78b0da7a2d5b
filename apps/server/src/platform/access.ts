import { eq } from 'drizzle-orm';
import type { Role } from '@pingan/contracts';
import type { Executor } from './db/index.js';
import { jurisdictionNodes } from './db/schema.js';
import { forbidden, notFound } from './errors.js';

/** Who is acting: attached to every authenticated request. */
export interface Actor {
  userId: string;
  username: string;
  displayName: string;
  role: Role;
  nodeId: string;
  /** Materialized path of the actor's node, '/root/…/node/'. */
  nodePath: string;
  sessionId: string | null;
  ip: string | null;
}

/**
 * The one place that decides reads and writes by place in the tree: an actor acts on their own
 * node and the nodes below it, never a sibling's or a parent's.
 */
export function coversPath(actor: Pick<Actor, 'nodePath'>, targetPath: string): boolean {
  return targetPath.startsWith(actor.nodePath);
}

export function assertCoversPath(actor: Actor, targetPath: string | null | undefined): void {
  if (!targetPath || !coversPath(actor, targetPath)) {
    throw forbidden('This record belongs to a jurisdiction outside yours.');
  }
}

export function assertRole(actor: Actor, allowed: readonly Role[]): void {
  if (!allowed.includes(actor.role)) throw forbidden(`The role ${actor.role} may not do this.`);
}

export async function nodePathOf(db: Executor, nodeId: string): Promise<string> {
  const [row] = await db
    .select({ path: jurisdictionNodes.path })
    .from(jurisdictionNodes)
    .where(eq(jurisdictionNodes.id, nodeId));
  if (!row) throw notFound('The jurisdiction node');
  return row.path;
}

/** Load a node and check the actor covers it; a node outside the actor's tree reads as forbidden. */
export async function assertCoversNode(db: Executor, actor: Actor, nodeId: string): Promise<string> {
  const path = await nodePathOf(db, nodeId);
  assertCoversPath(actor, path);
  return path;
}

/** Roles grouped by what they may do; routes and services name a group rather than list roles. */
export const roleGroups = {
  everyone: [
    'admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'grid_worker',
    'volunteer', 'security_guard', 'mediator', 'partner_staff', 'inspector',
  ],
  administrators: ['admin'],
  /** May manage accounts within their jurisdiction. */
  accountManagers: ['admin', 'station_leader'],
  /** May read the audit trail of their jurisdiction. */
  auditors: ['admin', 'inspector'],
  /** Police staff who handle incidents. */
  police: ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary'],
} as const satisfies Record<string, readonly Role[]>;
