import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Role } from '@pingan/contracts';
import { appendAudit } from '../platform/audit/service.js';
import { hashPassword } from '../platform/auth/service.js';
import type { Database, Executor } from '../platform/db/index.js';
import { users } from '../platform/db/schema.js';

/** A node to load: the shape tools/demo-county produces and imports reuse. */
export interface SeedNode {
  code: string;
  name: string;
  level: string;
  parentCode: string | null;
  geometry: { type: 'MultiPolygon'; coordinates: number[][][][] } | null;
  core: boolean;
}
export interface SeedCounty {
  nodes: readonly SeedNode[];
}

export const DEMO_PASSWORD = 'pingan-demo-2026';

export interface DemoAccount {
  username: string;
  displayName: string;
  role: Role;
  /** Code of the node the account sits on. */
  nodeCode: string;
  phone: string;
}

const COUNTY = '370523';
const LIQUE = '370523106';
const DAWANG = '370523101';

/** One account per role, placed so that the jurisdiction rules can be tried out by hand. */
export function demoAccounts(county: SeedCounty): DemoAccount[] {
  const liqueGrid = county.nodes.find((n) => n.level === 'grid' && n.parentCode === LIQUE)?.code ?? LIQUE;
  return [
    { username: 'admin', displayName: '系统管理员', role: 'admin', nodeCode: '37', phone: '13800000001' },
    { username: 'dispatcher', displayName: '王指挥', role: 'dispatcher', nodeCode: COUNTY, phone: '13800000002' },
    { username: 'leader.lique', displayName: '李所长', role: 'station_leader', nodeCode: LIQUE, phone: '13800000003' },
    { username: 'officer.lique', displayName: '张警官', role: 'community_officer', nodeCode: LIQUE, phone: '13800000004' },
    { username: 'aux.lique', displayName: '刘辅警', role: 'auxiliary', nodeCode: LIQUE, phone: '13800000005' },
    { username: 'grid.lique', displayName: '陈网格员', role: 'grid_worker', nodeCode: liqueGrid, phone: '13800000006' },
    { username: 'volunteer.lique', displayName: '赵志愿者', role: 'volunteer', nodeCode: liqueGrid, phone: '13800000007' },
    { username: 'guard.lique', displayName: '孙保安', role: 'security_guard', nodeCode: LIQUE, phone: '13800000008' },
    { username: 'mediator.lique', displayName: '周调解员', role: 'mediator', nodeCode: LIQUE, phone: '13800000009' },
    { username: 'partner.county', displayName: '吴城管', role: 'partner_staff', nodeCode: COUNTY, phone: '13800000010' },
    { username: 'inspector', displayName: '郑督察', role: 'inspector', nodeCode: COUNTY, phone: '13800000011' },
    { username: 'leader.dawang', displayName: '黄所长', role: 'station_leader', nodeCode: DAWANG, phone: '13800000012' },
  ];
}

export interface InsertedNode {
  id: string;
  code: string;
  path: string;
}

/**
 * Insert nodes (parents first) in batches; ids are made here so each path is known before insert.
 * Returns id and path by code.
 */
export async function insertNodes(
  tx: Executor,
  nodes: readonly SeedNode[],
  known: Map<string, InsertedNode> = new Map(),
): Promise<Map<string, InsertedNode>> {
  const rows = nodes.map((n) => {
    const parent = n.parentCode ? known.get(n.parentCode) : undefined;
    if (n.parentCode && !parent) throw new Error(`Node ${n.code} comes before its parent ${n.parentCode}`);
    const id = randomUUID();
    const path = `${parent?.path ?? '/'}${id}/`;
    known.set(n.code, { id, code: n.code, path });
    return {
      id,
      code: n.code,
      name: n.name,
      level: n.level,
      parent_id: parent?.id ?? null,
      path,
      core: n.core,
      geom: n.geometry ? JSON.stringify(n.geometry) : null,
    };
  });
  for (let i = 0; i < rows.length; i += 500) {
    const batch = JSON.stringify(rows.slice(i, i + 500));
    await tx.execute(sql`insert into jurisdiction_node (id, code, name, level, parent_id, path, core, geom)
      select id, code, name, level, parent_id, path, core,
        case when geom is null then null else ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(geom), 4326)) end
      from jsonb_to_recordset(${batch}::jsonb) as r(id uuid, code text, name text, level text, parent_id uuid,
        path text, core boolean, geom text)`);
  }
  return known;
}

export async function isEmpty(database: Database): Promise<boolean> {
  const [row] = await database.query<{ n: number }>('select count(*)::int as n from jurisdiction_node');
  return (row?.n ?? 0) === 0;
}

/** Load the demo county and one account per role into an empty database, in one transaction. */
export async function seedDemo(database: Database, county: SeedCounty): Promise<DemoAccount[]> {
  const accounts = demoAccounts(county);
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  await database.db.transaction(async (tx) => {
    const byCode = await insertNodes(tx, county.nodes);
    await tx.insert(users).values(
      accounts.map((a) => {
        const node = byCode.get(a.nodeCode);
        if (!node) throw new Error(`Demo account ${a.username}: no node ${a.nodeCode}`);
        return { username: a.username, displayName: a.displayName, passwordHash, role: a.role, nodeId: node.id, phone: a.phone };
      }),
    );
    await appendAudit(tx, null, {
      action: 'demo.seed',
      entityType: 'jurisdiction_node',
      entityId: county.nodes[0]?.code ?? null,
      nodePath: byCode.get(county.nodes[0]?.code ?? '')?.path ?? null,
      details: { nodes: county.nodes.length, accounts: accounts.length },
    });
  });
  return accounts;
}
