import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, uuidArray } from '../../platform/db/rows.js';
import { JURISDICTION_LEVELS, type AreaGeometry, type JurisdictionLevel } from '@pingan/contracts';
import { type Actor, assertCoversPath } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import type { EventBus } from '../../platform/bus.js';
import type { Database, Executor, Tx } from '../../platform/db/index.js';
import { conflict, forbidden, notFound, unprocessable } from '../../platform/errors.js';

/**
 * Editing the jurisdiction tree: create, edit, move, split, merge and retire nodes. Each change is
 * validated against the parent and the siblings, versioned (jurisdiction_node_version) and audited
 * in one transaction, then announced on the bus so every instance patches its lookup index.
 */
export const TREE_CHANGED = 'jurisdiction.changed';

/** Share of a child's area allowed outside its parent, or overlapping a sibling (snapping noise). */
export const AREA_TOLERANCE = 0.005;

export interface NodeRow {
  id: string;
  code: string;
  name: string;
  level: string;
  parentId: string | null;
  path: string;
  core: boolean;
  retiredAt: Date | null;
}

interface RawNode extends Record<string, unknown> {
  id: string;
  code: string;
  name: string;
  level: string;
  parent_id: string | null;
  path: string;
  core: boolean;
  retired_at: Date | string | null;
}

const toNode = (r: RawNode): NodeRow => ({
  id: r.id,
  code: r.code,
  name: r.name,
  level: r.level,
  parentId: r.parent_id,
  path: r.path,
  core: r.core,
  retiredAt: r.retired_at ? new Date(r.retired_at) : null,
});

export const levelIndex = (level: string) => JURISDICTION_LEVELS.indexOf(level as JurisdictionLevel);


export async function loadNode(exec: Executor, id: string): Promise<NodeRow> {
  const [row] = await rows<RawNode>(
    exec,
    sql`select id, code, name, level, parent_id, path, core, retired_at from jurisdiction_node where id = ${id}`,
  );
  if (!row) throw notFound('The jurisdiction node');
  return toNode(row);
}

async function loadLiveNode(exec: Executor, actor: Actor, id: string): Promise<NodeRow> {
  const node = await loadNode(exec, id);
  assertCoversPath(actor, node.path);
  if (node.retiredAt) throw conflict(`${node.name} (${node.code}) was retired on ${node.retiredAt.toISOString().slice(0, 10)}.`);
  return node;
}

export interface GeometryCheck {
  valid: boolean;
  reason: string;
  areaM2: number;
  outsideParentM2: number;
  overlaps: { id: string; code: string; name: string; overlapM2: number }[];
}

/**
 * Check a polygon against PostGIS: validity, the share outside the parent, overlaps with live
 * siblings (other than `ignore`). Answers the facts; the caller decides what is acceptable.
 */
export async function checkGeometry(
  exec: Executor,
  geometry: AreaGeometry,
  parentId: string | null,
  ignore: readonly string[] = [],
): Promise<GeometryCheck> {
  const geojson = JSON.stringify(geometry);
  let found: { valid: boolean; reason: string; area: number; outside: number | null; overlaps: unknown }[];
  try {
    found = await rows(
      exec,
      sql`with g as (select ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${geojson}), 4326)) as geom)
      select ST_IsValid(g.geom) as valid, ST_IsValidReason(g.geom) as reason,
        coalesce(ST_Area(g.geom::geography), 0)::float8 as area,
        (select ST_Area(ST_Difference(ST_MakeValid(g.geom), p.geom)::geography)::float8
           from jurisdiction_node p where p.id = ${parentId} and p.geom is not null) as outside,
        (select coalesce(json_agg(json_build_object('id', s.id, 'code', s.code, 'name', s.name,
            'overlapM2', ST_Area(ST_Intersection(ST_MakeValid(g.geom), s.geom)::geography))), '[]'::json)
           from jurisdiction_node s
          where s.parent_id = ${parentId} and s.retired_at is null and s.geom && g.geom
            and not (s.id = any(${sql`${uuidArray(ignore)}::uuid[]`}))
            and ST_Intersects(ST_MakeValid(g.geom), s.geom)) as overlaps
      from g`,
    );
  } catch (err) {
    throw unprocessable(`The geometry could not be read: ${(err as Error).message.slice(0, 200)}`, [
      { field: 'body.geometry', message: 'is not a readable polygon' },
    ]);
  }
  const r = found[0]!;
  const overlaps = (typeof r.overlaps === 'string' ? JSON.parse(r.overlaps) : r.overlaps) as GeometryCheck['overlaps'];
  return {
    valid: r.valid,
    reason: r.reason,
    areaM2: Number(r.area),
    outsideParentM2: Number(r.outside ?? 0),
    overlaps: overlaps.filter((o) => o.overlapM2 > 0),
  };
}

/** Refuse a geometry that is invalid, sticks out of its parent or overlaps a sibling beyond tolerance. */
export function assertAcceptable(check: GeometryCheck, field = 'body.geometry'): void {
  const issues: { field: string; message: string }[] = [];
  if (!check.valid) issues.push({ field, message: `is not a valid polygon: ${check.reason}` });
  if (check.areaM2 <= 0) issues.push({ field, message: 'has no area' });
  const limit = check.areaM2 * AREA_TOLERANCE;
  if (check.outsideParentM2 > limit) {
    issues.push({ field, message: `lies ${Math.round(check.outsideParentM2)} m² outside its parent (tolerance ${Math.round(limit)} m²)` });
  }
  for (const o of check.overlaps) {
    if (o.overlapM2 > limit) {
      issues.push({ field, message: `overlaps ${o.name} (${o.code}) by ${Math.round(o.overlapM2)} m² (tolerance ${Math.round(limit)} m²)` });
    }
  }
  if (issues.length) throw unprocessable(`The polygon cannot be accepted: ${issues.map((i) => i.message).join('; ')}.`, issues);
}

/** Close the current version of these nodes and open a new one from their present state. */
export async function writeVersions(tx: Executor, nodeIds: readonly string[], change: string, actorId: string | null, at: Date) {
  if (nodeIds.length === 0) return;
  const ids = sql`${uuidArray(nodeIds)}::uuid[]`;
  await tx.execute(sql`update jurisdiction_node_version set valid_to = ${at} where node_id = any(${ids}) and valid_to is null`);
  await tx.execute(sql`insert into jurisdiction_node_version (node_id, code, name, level, parent_id, path, geom, valid_from, change, changed_by)
    select id, code, name, level, parent_id, path, geom, ${at}, ${change}, ${actorId}
      from jurisdiction_node where id = any(${ids}) and retired_at is null`);
}

const newId = () => crypto.randomUUID();
export const newCardSlug = () => randomBytes(6).toString('base64url');

export interface NodeInput {
  code: string;
  name: string;
  level: JurisdictionLevel;
  geometry: AreaGeometry;
  core?: boolean | undefined;
}

function assertLevelBelow(parent: NodeRow, level: string) {
  if (levelIndex(level) <= levelIndex(parent.level)) {
    throw unprocessable(`A ${level} cannot sit under a ${parent.level}: a child's level must be below its parent's.`, [
      { field: 'body.level', message: `must be below ${parent.level}` },
    ]);
  }
}

async function assertCodeFree(tx: Executor, code: string) {
  const [taken] = await rows<{ id: string }>(tx, sql`select id from jurisdiction_node where code = ${code}`);
  if (taken) throw conflict(`The code ${code} is already used by another node.`);
}

async function insertNode(tx: Executor, parent: NodeRow, input: NodeInput): Promise<string> {
  const id = newId();
  await tx.execute(sql`insert into jurisdiction_node (id, code, name, level, parent_id, path, core, geom)
    values (${id}, ${input.code}, ${input.name}, ${input.level}, ${parent.id}, ${`${parent.path}${id}/`},
      ${input.core ?? parent.core}, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(input.geometry)}), 4326)))`);
  if (levelIndex(input.level) >= levelIndex('grid')) {
    await tx.execute(sql`insert into grid_card (node_id, slug) values (${id}, ${newCardSlug()})`);
  }
  return id;
}

export function createTreeService({ database, bus, now }: { database: Database; bus: EventBus; now: () => Date }) {
  const { db } = database;

  async function announce(nodeIds: string[]) {
    await bus.publish(TREE_CHANGED, { nodeIds });
  }

  /** Run a tree change in a transaction with its audit record; announce the touched nodes after commit. */
  async function change<T extends { touched: string[] }>(work: (tx: Tx, at: Date) => Promise<T>): Promise<T> {
    const at = now();
    const result = await db.transaction(async (tx) => {
      // One tree edit at a time: validations read siblings, so concurrent edits must not interleave.
      await tx.execute(sql`select pg_advisory_xact_lock(727200)`);
      return work(tx, at);
    });
    await announce(result.touched);
    return result;
  }

  return {
    async create(actor: Actor, parentId: string, input: NodeInput) {
      return change(async (tx, at) => {
        const parent = await loadLiveNode(tx, actor, parentId);
        assertLevelBelow(parent, input.level);
        await assertCodeFree(tx, input.code);
        assertAcceptable(await checkGeometry(tx, input.geometry, parent.id));
        const id = await insertNode(tx, parent, input);
        await writeVersions(tx, [id], 'create', actor.userId, at);
        await appendAudit(tx, actor, {
          action: 'jurisdiction.create',
          entityType: 'jurisdiction_node',
          entityId: id,
          nodePath: `${parent.path}${id}/`,
          details: { code: input.code, name: input.name, level: input.level },
        });
        return { id, touched: [id] };
      });
    },

    async update(actor: Actor, id: string, input: Partial<Pick<NodeInput, 'name' | 'code' | 'geometry' | 'core'>>) {
      return change(async (tx, at) => {
        const node = await loadLiveNode(tx, actor, id);
        if (!node.parentId && actor.role !== 'admin') throw forbidden('Only an administrator may edit the root.');
        if (input.code && input.code !== node.code) await assertCodeFree(tx, input.code);
        if (input.geometry) {
          assertAcceptable(await checkGeometry(tx, input.geometry, node.parentId, [node.id]));
          await tx.execute(sql`update jurisdiction_node set geom = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(input.geometry)}), 4326)) where id = ${id}`);
        }
        await tx.execute(sql`update jurisdiction_node set
            name = coalesce(${input.name ?? null}, name), code = coalesce(${input.code ?? null}, code),
            core = coalesce(${input.core ?? null}::boolean, core), updated_at = ${at}
          where id = ${id}`);
        await writeVersions(tx, [id], 'edit', actor.userId, at);
        await appendAudit(tx, actor, {
          action: 'jurisdiction.update',
          entityType: 'jurisdiction_node',
          entityId: id,
          nodePath: node.path,
          details: { changed: Object.keys(input) },
        });
        return { id, touched: [id] };
      });
    },

    /** Move a node (with its subtree) under another parent of a higher level. */
    async move(actor: Actor, id: string, newParentId: string) {
      return change(async (tx, at) => {
        const node = await loadLiveNode(tx, actor, id);
        const parent = await loadLiveNode(tx, actor, newParentId);
        if (parent.path.startsWith(node.path)) throw unprocessable('A node cannot move under itself or its own descendants.');
        assertLevelBelow(parent, node.level);
        const [geo] = await rows<{ geojson: string | null }>(tx, sql`select ST_AsGeoJSON(geom) as geojson from jurisdiction_node where id = ${id}`);
        if (geo?.geojson) assertAcceptable(await checkGeometry(tx, JSON.parse(geo.geojson) as AreaGeometry, parent.id, [id]));
        const newPath = `${parent.path}${id}/`;
        const moved = await rows<{ id: string }>(
          tx,
          sql`update jurisdiction_node set path = ${newPath} || substr(path, ${node.path.length + 1}),
                parent_id = case when id = ${id} then ${parent.id}::uuid else parent_id end, updated_at = ${at}
              where path like ${`${node.path}%`} returning id`,
        );
        const ids = moved.map((m) => m.id);
        await writeVersions(tx, ids, 'move', actor.userId, at);
        await appendAudit(tx, actor, {
          action: 'jurisdiction.move',
          entityType: 'jurisdiction_node',
          entityId: id,
          nodePath: newPath,
          details: { from: node.parentId, to: parent.id, nodes: ids.length },
        });
        return { id, touched: ids };
      });
    },

    /**
     * Split a node into parts that tile it. Children go to the part holding their interior point,
     * accounts and team duties to the part holding the node's own interior point; the node retires.
     */
    async split(actor: Actor, id: string, parts: NodeInput[]) {
      return change(async (tx, at) => {
        const node = await loadLiveNode(tx, actor, id);
        if (!node.parentId) throw unprocessable('The root cannot be split.');
        if (parts.length < 2) throw unprocessable('A split needs at least two parts.', [{ field: 'body.parts', message: 'needs at least two parts' }]);
        const parent = await loadNode(tx, node.parentId);
        const codes = new Set<string>();
        for (const [i, p] of parts.entries()) {
          if (p.level !== node.level) throw unprocessable(`Part ${i + 1} must keep the level ${node.level}.`, [{ field: `body.parts.${i}.level`, message: `must be ${node.level}` }]);
          if (codes.has(p.code)) throw unprocessable(`Two parts share the code ${p.code}.`);
          codes.add(p.code);
          if (p.code !== node.code) await assertCodeFree(tx, p.code);
        }
        // The parts must tile the node: no overlaps among them, union equal to the node within tolerance.
        const parts_ = JSON.stringify(parts.map((p) => p.geometry));
        const [fit] = await rows<{ node_area: number; union_area: number; sym_diff: number; overlap: number; valid: boolean }>(
          tx,
          sql`with parts as (select ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(value::text), 4326)) as g, ordinality as i
                               from json_array_elements(${parts_}::json) with ordinality),
                   n as (select geom from jurisdiction_node where id = ${id})
              select ST_Area(n.geom::geography)::float8 as node_area,
                     ST_Area(ST_Union(parts.g)::geography)::float8 as union_area,
                     ST_Area(ST_SymDifference(ST_Union(ST_MakeValid(parts.g)), n.geom)::geography)::float8 as sym_diff,
                     coalesce((select sum(ST_Area(ST_Intersection(ST_MakeValid(a.g), ST_MakeValid(b.g))::geography))
                                 from parts a join parts b on a.i < b.i and a.g && b.g), 0)::float8 as overlap,
                     bool_and(ST_IsValid(parts.g)) as valid
                from parts, n group by n.geom`,
        );
        if (!fit) throw unprocessable('The parts could not be read.');
        const tol = fit.node_area * AREA_TOLERANCE;
        const issues = [];
        if (!fit.valid) issues.push({ field: 'body.parts', message: 'a part is not a valid polygon' });
        if (fit.overlap > tol) issues.push({ field: 'body.parts', message: `the parts overlap each other by ${Math.round(fit.overlap)} m²` });
        if (fit.sym_diff > tol) issues.push({ field: 'body.parts', message: `the parts differ from the node's area by ${Math.round(fit.sym_diff)} m² (gaps or overhang)` });
        if (issues.length) throw unprocessable(`The split cannot be made: ${issues.map((i) => i.message).join('; ')}.`, issues);

        // Free the code first: a part may keep the original code.
        await tx.execute(sql`update jurisdiction_node set retired_at = ${at}, code = code || '~' || ${at.getTime()}, updated_at = ${at} where id = ${id}`);
        const newIds: string[] = [];
        for (const p of parts) newIds.push(await insertNode(tx, parent, { ...p, core: p.core ?? node.core }));
        const touched = [id, ...newIds, ...(await rehome(tx, node, newIds, at))];
        await tx.execute(sql`update jurisdiction_node_version set valid_to = ${at} where node_id = ${id} and valid_to is null`);
        await writeVersions(tx, touched.filter((t) => t !== id), 'split', actor.userId, at);
        await appendAudit(tx, actor, {
          action: 'jurisdiction.split',
          entityType: 'jurisdiction_node',
          entityId: id,
          nodePath: node.path,
          details: { code: node.code, into: parts.map((p) => p.code), newIds },
        });
        return { id, newIds, touched };
      });
    },

    /** Merge sibling nodes into one new node; their children, accounts and duties move to it. */
    async merge(actor: Actor, ids: string[], into: { code: string; name: string }) {
      return change(async (tx, at) => {
        if (new Set(ids).size < 2) throw unprocessable('A merge needs at least two different nodes.', [{ field: 'body.nodeIds', message: 'needs two or more ids' }]);
        const nodes = [];
        for (const id of ids) nodes.push(await loadLiveNode(tx, actor, id));
        const first = nodes[0]!;
        if (!nodes.every((n) => n.parentId === first.parentId && n.level === first.level)) {
          throw unprocessable('Only siblings of the same level can be merged.', [{ field: 'body.nodeIds', message: 'must share parent and level' }]);
        }
        if (!nodes.some((n) => n.code === into.code)) await assertCodeFree(tx, into.code);
        const parent = await loadNode(tx, first.parentId!);
        const idList = sql`${uuidArray(ids)}::uuid[]`;
        const [u] = await rows<{ geojson: string }>(tx, sql`select ST_AsGeoJSON(ST_Multi(ST_Union(geom))) as geojson from jurisdiction_node where id = any(${idList})`);
        await tx.execute(sql`update jurisdiction_node set retired_at = ${at}, code = code || '~' || ${at.getTime()}, updated_at = ${at} where id = any(${idList})`);
        const newId_ = await insertNode(tx, parent, {
          code: into.code,
          name: into.name,
          level: first.level as JurisdictionLevel,
          geometry: JSON.parse(u!.geojson) as AreaGeometry,
          core: nodes.some((n) => n.core),
        });
        const touched = [...ids, newId_];
        for (const n of nodes) touched.push(...(await rehome(tx, n, [newId_], at)));
        await tx.execute(sql`update jurisdiction_node_version set valid_to = ${at} where node_id = any(${idList}) and valid_to is null`);
        await writeVersions(tx, touched.filter((t) => !ids.includes(t)), 'merge', actor.userId, at);
        await appendAudit(tx, actor, {
          action: 'jurisdiction.merge',
          entityType: 'jurisdiction_node',
          entityId: newId_,
          nodePath: `${parent.path}${newId_}/`,
          details: { merged: nodes.map((n) => n.code), code: into.code },
        });
        return { id: newId_, touched };
      });
    },

    /** Retire a node without children (it stays in history and in old records). */
    async retire(actor: Actor, id: string) {
      return change(async (tx, at) => {
        const node = await loadLiveNode(tx, actor, id);
        if (!node.parentId) throw unprocessable('The root cannot be retired.');
        const [kids] = await rows<{ n: number }>(tx, sql`select count(*)::int as n from jurisdiction_node where parent_id = ${id} and retired_at is null`);
        if (kids!.n > 0) throw conflict(`${node.name} still has ${kids!.n} live child node(s): move, merge or retire them first.`);
        const [people] = await rows<{ n: number }>(tx, sql`select count(*)::int as n from app_user where node_id = ${id} and not disabled`);
        if (people!.n > 0) throw conflict(`${people!.n} account(s) still sit on ${node.name}: move them first.`);
        await tx.execute(sql`update jurisdiction_node set retired_at = ${at}, code = code || '~' || ${at.getTime()}, updated_at = ${at} where id = ${id}`);
        await tx.execute(sql`update jurisdiction_node_version set valid_to = ${at} where node_id = ${id} and valid_to is null`);
        await appendAudit(tx, actor, { action: 'jurisdiction.retire', entityType: 'jurisdiction_node', entityId: id, nodePath: node.path, details: { code: node.code } });
        return { id, touched: [id] };
      });
    },
  };
}

/**
 * After a split or merge: children of the old node go to the new node that holds their interior
 * point; accounts, team members and duties go to the new node holding the old node's interior point.
 * Answers the ids of every node whose path changed.
 */
async function rehome(tx: Tx, old: NodeRow, newIds: string[], at: Date): Promise<string[]> {
  const ids = sql`${uuidArray(newIds)}::uuid[]`;
  const children = await rows<{ id: string; path: string; target: string | null }>(
    tx,
    sql`select c.id, c.path,
          (select n.id from jurisdiction_node n where n.id = any(${ids})
            order by ST_Covers(n.geom, ST_PointOnSurface(c.geom)) desc, ST_Area(ST_Intersection(n.geom, c.geom)) desc limit 1) as target
        from jurisdiction_node c where c.parent_id = ${old.id} and c.retired_at is null`,
  );
  const touched: string[] = [];
  for (const c of children) {
    const target = await loadNode(tx, c.target ?? newIds[0]!);
    const newPath = `${target.path}${c.id}/`;
    const moved = await rows<{ id: string }>(
      tx,
      sql`update jurisdiction_node set path = ${newPath} || substr(path, ${c.path.length + 1}),
            parent_id = case when id = ${c.id} then ${target.id}::uuid else parent_id end, updated_at = ${at}
          where path like ${`${c.path}%`} returning id`,
    );
    touched.push(...moved.map((m) => m.id));
  }
  const [home] = await rows<{ id: string }>(
    tx,
    sql`select n.id from jurisdiction_node n, jurisdiction_node o where o.id = ${old.id} and n.id = any(${ids})
        order by ST_Covers(n.geom, ST_PointOnSurface(o.geom)) desc, ST_Area(n.geom) desc limit 1`,
  );
  const homeId = home?.id ?? newIds[0]!;
  await tx.execute(sql`update app_user set node_id = ${homeId} where node_id = ${old.id}`);
  await tx.execute(sql`update team_person set node_id = ${homeId} where node_id = ${old.id}`);
  await tx.execute(sql`update grid_duty set node_id = ${homeId} where node_id = ${old.id}`);
  return touched;
}
