import type { Role } from '@pingan/contracts';

/** Shapes of the answers the shell's pages read. Server: apps/server/src/**\/routes.ts. */

export interface AuditRecord {
  seq: number;
  at: string;
  actorId: string | null;
  actorRole: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  hash: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AuditVerify {
  ok: boolean;
  checked: number;
  firstBad?: { seq: number; reason: string } | null;
}

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  nodeId: string;
  nodeName: string;
  phone: string | null;
  disabled: boolean;
  locked: boolean;
}

export interface CreateUserInput {
  username: string;
  displayName: string;
  password: string;
  role: Role;
  nodeId: string;
  phone?: string;
}

export type Position = [number, number] | number[];

export interface PolygonGeometry {
  type: 'Polygon';
  coordinates: Position[][];
}
export interface MultiPolygonGeometry {
  type: 'MultiPolygon';
  coordinates: Position[][][];
}
export type AreaGeometry = PolygonGeometry | MultiPolygonGeometry;

export interface JurisdictionSummary {
  id: string;
  code: string;
  name: string;
  level: string;
  core?: boolean;
  geometry: AreaGeometry | null;
}

export interface JurisdictionDetail extends JurisdictionSummary {
  parentId: string | null;
  children: JurisdictionSummary[];
}
