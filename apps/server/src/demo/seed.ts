import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Role } from '@pingan/contracts';
import { appendAudit } from '../platform/audit/service.js';
import { hashPassword } from '../platform/auth/service.js';
import type { Database, Executor } from '../platform/db/index.js';
import { rows } from '../platform/db/rows.js';
import { users } from '../platform/db/schema.js';
import { insertDemoMediation } from '../../../../tools/demo-mediation.js';

/** A node to load: the shape tools/demo-county produces and imports reuse. */
export interface SeedNode {
  code: string;
  name: string;
  level: string;
  parentCode: string | null;
  geometry: { type: 'MultiPolygon'; coordinates: number[][][][] } | null;
  core: boolean;
}
export interface SeedTeamMember {
  gridCode: string;
  duty: string;
  name: string;
  phone: string;
}
export interface SeedCounty {
  nodes: readonly SeedNode[];
  team?: readonly SeedTeamMember[];
}

/** The demo tree is valid from this date, so "who owned this point on date D" has a history to answer from. */
export const DEMO_TREE_VALID_FROM = new Date('2024-01-01T00:00:00+08:00');

const DUTY_TEXT: Record<string, string> = {
  grid_head: '统筹网格治理，协调解决群众诉求',
  grid_instructor: '指导网格工作，联系镇街部门',
  grid_police: '负责网格治安巡逻、矛盾纠纷排查、群众求助（群众吹哨、民警报到）',
  grid_manager: '日常走访、信息采集、隐患上报',
  info_collector: '收集社情民意，及时报告异常情况',
  volunteer: '参与巡逻守护、邻里互助',
};
/** Phones of these duties are printed on the public card; the others stay private. */
const PUBLIC_PHONE_DUTIES = new Set(['grid_head', 'grid_police', 'grid_manager']);

const commonPrefix = (paths: string[]) => {
  const parts = paths.map((p) => p.split('/').filter(Boolean));
  const out: string[] = [];
  for (let i = 0; parts.every((p) => p[i] !== undefined && p[i] === parts[0]![i]); i++) out.push(parts[0]![i]!);
  return out;
};

/** Teams, contact cards and the first version of every node, from the demo county. */
export async function insertTeamsAndHistory(tx: Executor, county: SeedCounty, byCode: Map<string, InsertedNode>) {
  await tx.execute(sql`insert into jurisdiction_node_version (node_id, code, name, level, parent_id, path, geom, valid_from, change)
    select id, code, name, level, parent_id, path, geom, ${DEMO_TREE_VALID_FROM}, 'create' from jurisdiction_node`);
  const grids = county.nodes.filter((n) => n.level === 'grid' || n.level === 'micro_grid');
  const cards = grids.map((g, i) => ({
    node_id: byCode.get(g.code)!.id,
    slug: `${g.code.replace(/[^0-9a-z]/gi, '')}x${(i * 7919 % 100000).toString(36)}`,
    supervision_phone: `0546-6${g.code.slice(6, 9).padStart(3, '0')}${String(110 + (i % 890)).padStart(3, '0')}`,
  }));
  for (let i = 0; i < cards.length; i += 1000) {
    await tx.execute(sql`insert into grid_card (node_id, slug, supervision_phone)
      select node_id, slug, supervision_phone from jsonb_to_recordset(${JSON.stringify(cards.slice(i, i + 1000))}::jsonb)
        as r(node_id uuid, slug text, supervision_phone text)`);
  }
  // One person per name + phone; registered at the lowest node covering every grid they serve.
  const people = new Map<string, { id: string; name: string; phone: string; public: boolean; paths: string[] }>();
  const duties: { node_id: string; person_id: string; duty: string; description: string; sort: number }[] = [];
  const order = ['grid_head', 'grid_instructor', 'grid_police', 'grid_manager', 'info_collector', 'volunteer'];
  for (const m of county.team ?? []) {
    const node = byCode.get(m.gridCode);
    if (!node) continue;
    const key = `${m.name}|${m.phone}`;
    let person = people.get(key);
    if (!person) {
      person = { id: randomUUID(), name: m.name, phone: m.phone, public: PUBLIC_PHONE_DUTIES.has(m.duty), paths: [] };
      people.set(key, person);
    }
    person.paths.push(node.path);
    duties.push({ node_id: node.id, person_id: person.id, duty: m.duty, description: DUTY_TEXT[m.duty] ?? '', sort: Math.max(0, order.indexOf(m.duty)) });
  }
  const personRows = [...people.values()].map((p) => {
    const common = commonPrefix(p.paths);
    return { id: p.id, name: p.name, phone: p.phone, phone_public: p.public, node_id: common.at(-1)! };
  });
  for (let i = 0; i < personRows.length; i += 1000) {
    await tx.execute(sql`insert into team_person (id, name, phone, phone_public, node_id)
      select id, name, phone, phone_public, node_id from jsonb_to_recordset(${JSON.stringify(personRows.slice(i, i + 1000))}::jsonb)
        as r(id uuid, name text, phone text, phone_public boolean, node_id uuid)`);
  }
  for (let i = 0; i < duties.length; i += 2000) {
    await tx.execute(sql`insert into grid_duty (node_id, person_id, duty, description, sort)
      select node_id, person_id, duty, description, sort from jsonb_to_recordset(${JSON.stringify(duties.slice(i, i + 2000))}::jsonb)
        as r(node_id uuid, person_id uuid, duty text, description text, sort int)`);
  }
  return { people: personRows.length, duties: duties.length, cards: cards.length };
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
  const seeded = await database.db.transaction(async (tx) => {
    // Several instances may start together on one empty database: one seeds, the others find it done.
    await tx.execute(sql`select pg_advisory_xact_lock(727010)`);
    const [existing] = await rows<{ n: number }>(tx, sql`select count(*)::int as n from jurisdiction_node`);
    if ((existing?.n ?? 0) > 0) return false;
    const byCode = await insertNodes(tx, county.nodes);
    const teams = await insertTeamsAndHistory(tx, county, byCode);
    await tx.insert(users).values(
      accounts.map((a) => {
        const node = byCode.get(a.nodeCode);
        if (!node) throw new Error(`Demo account ${a.username}: no node ${a.nodeCode}`);
        return { username: a.username, displayName: a.displayName, passwordHash, role: a.role, nodeId: node.id, phone: a.phone };
      }),
    );
    const units = await insertDemoUnits(tx, county, byCode, passwordHash);
    // A year of disputes up to today (a few seconds on the embedded engine).
    if (county.nodes.some((n) => n.code === '370523')) await insertDemoMediation(tx);
    await appendAudit(tx, null, {
      action: 'demo.seed',
      entityType: 'jurisdiction_node',
      entityId: county.nodes[0]?.code ?? null,
      nodePath: byCode.get(county.nodes[0]?.code ?? '')?.path ?? null,
      details: { nodes: county.nodes.length, accounts: accounts.length, units: units.length, ...teams },
    });
    return true;
  });
  return seeded ? accounts : [];
}

export interface DemoUnit {
  callSign: string;
  type: string;
  stationCode: string;
  /** The account that works the unit's terminal (password DEMO_PASSWORD). */
  memberUsername: string;
}

/**
 * Units of every station: two patrol cars, a motorbike and a foot patrol; the county seat's
 * stations also run street police service stations (警务服务站) in their busiest grids. Each unit
 * has one terminal account (the simulator drives them through the API); 李鹊's first car is
 * officer.lique's, so a person can try the terminal with a demo account.
 */
export interface PlannedUnit extends DemoUnit {
  name: string;
  servicePoint?: { lon: number; lat: number; address: string };
}

/** The demo units, computed from the county alone (the simulator uses the same plan to find the accounts). */
export function planDemoUnits(county: SeedCounty): PlannedUnit[] {
  const stations = county.nodes.filter((n) => n.level === 'station');
  const units: PlannedUnit[] = [];
  for (const s of stations) {
    const short = s.name.replace(/派出所$/, '');
    let seq = 0;
    const mk = (suffix: string, type: string, name: string) => ({
      callSign: `${short}${suffix}`,
      type,
      stationCode: s.code,
      name,
      memberUsername: `unit.${s.code}.${++seq}`,
    });
    units.push(mk('巡01', 'patrol_car', `${short}巡逻车一组`), mk('巡02', 'patrol_car', `${short}巡逻车二组`), mk('摩01', 'motorbike', `${short}摩托巡逻组`), mk('步01', 'foot_patrol', `${short}步巡组`));
    if (s.core) {
      const grids = county.nodes.filter((n) => n.parentCode === s.code && n.level === 'grid' && n.geometry).slice(0, 2);
      for (const [i, g] of grids.entries()) {
        const ring = g.geometry!.coordinates[0]![0]!;
        const lon = ring.reduce((a, p) => a + p[0]!, 0) / ring.length;
        const lat = ring.reduce((a, p) => a + p[1]!, 0) / ring.length;
        units.push({ ...mk(`站0${i + 1}`, 'service_station', `${g.name.replace(/网格$/, '')}警务服务站`), servicePoint: { lon, lat, address: `${g.name.replace(/网格$/, '')}主街` } });
      }
    }
  }
  const lique = units.find((u) => u.stationCode === '370523106' && u.type === 'patrol_car');
  if (lique) lique.memberUsername = 'officer.lique';
  return units;
}

export async function insertDemoUnits(tx: Executor, county: SeedCounty, byCode: Map<string, InsertedNode>, passwordHash: string): Promise<DemoUnit[]> {
  const units = planDemoUnits(county);
  for (const u of units) {
    const node = byCode.get(u.stationCode)!;
    let [member] = await rows<{ id: string }>(tx, sql`select id from app_user where username = ${u.memberUsername}`);
    if (!member) {
      [member] = await rows<{ id: string }>(
        tx,
        sql`insert into app_user (username, display_name, password_hash, role, node_id)
            values (${u.memberUsername}, ${`${u.callSign}值班员`}, ${passwordHash}, ${u.type === 'patrol_car' ? 'community_officer' : 'auxiliary'}, ${node.id}) returning id`,
      );
    }
    const [unit] = await rows<{ id: string }>(
      tx,
      sql`insert into unit (call_sign, name, type, home_node_id, path, on_duty, duty_changed_at)
          values (${u.callSign}, ${u.name}, ${u.type}, ${node.id}, ${node.path}, true, now()) returning id`,
    );
    await tx.execute(sql`insert into unit_member (unit_id, user_id) values (${unit!.id}, ${member!.id})`);
    if (u.servicePoint) {
      await tx.execute(sql`insert into service_station (unit_id, address, phone, lon, lat, functions, staffing)
        values (${unit!.id}, ${u.servicePoint.address}, ${'0546-6' + u.stationCode.slice(6, 9) + '110'}, ${u.servicePoint.lon}, ${u.servicePoint.lat},
          ${JSON.stringify(['reception', 'first_aid', 'lost_and_found', 'mediation'])}::jsonb,
          ${JSON.stringify([{ from: '08:00', to: '20:00', staff: 3 }, { from: '20:00', to: '08:00', staff: 2 }])}::jsonb)`);
    }
  }
  return units.map(({ callSign, type, stationCode, memberUsername }) => ({ callSign, type, stationCode, memberUsername }));
}
