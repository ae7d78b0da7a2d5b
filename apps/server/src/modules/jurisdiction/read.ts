import { sql } from 'drizzle-orm';
import { rows } from '../../platform/db/rows.js';
import type { Actor } from '../../platform/access.js';
import type { Executor } from '../../platform/db/index.js';


export interface HistoricalOwner {
  nodeId: string;
  code: string;
  name: string;
  level: string;
  validFrom: string;
  validTo: string | null;
}

/**
 * Which nodes held a point at a moment: every version valid then whose polygon covers the point,
 * deepest first. Boundary points may match two versions; the deepest, then the smallest code wins,
 * as in the live index (docs/decisions/005-boundary-rule.md approximates it for history).
 */
export async function ownersAt(exec: Executor, actor: Actor, lon: number, lat: number, at: Date): Promise<HistoricalOwner[]> {
  const found = await rows<{ node_id: string; code: string; name: string; level: string; path: string; valid_from: Date | string; valid_to: Date | string | null }>(
    exec,
    sql`select node_id, code, name, level, path, valid_from, valid_to from jurisdiction_node_version
        where valid_from <= ${at} and (valid_to is null or valid_to > ${at})
          and geom && ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326)
          and ST_Covers(geom, ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326))
        order by length(path) desc, code`,
  );
  // One node per depth, and only what the actor may see: their own subtree and the chain above it.
  const seen = new Set<number>();
  const out: HistoricalOwner[] = [];
  for (const r of found) {
    const depth = r.path.split('/').length;
    if (seen.has(depth)) continue;
    seen.add(depth);
    if (!(r.path.startsWith(actor.nodePath) || actor.nodePath.startsWith(r.path))) continue;
    out.push({
      nodeId: r.node_id,
      code: r.code,
      name: r.name,
      level: r.level,
      validFrom: new Date(r.valid_from).toISOString(),
      validTo: r.valid_to ? new Date(r.valid_to).toISOString() : null,
    });
  }
  return out;
}

export interface SearchHit {
  id: string;
  code: string;
  name: string;
  level: string;
  parentName: string | null;
}

/** Live nodes of the actor's subtree whose name contains or whose code starts with the text. */
export async function searchNodes(exec: Executor, actor: Actor, text: string, limit: number): Promise<SearchHit[]> {
  const like = `%${text.replace(/[%_\\]/g, '\\$&')}%`;
  const prefix = `${text.replace(/[%_\\]/g, '\\$&')}%`;
  const found = await rows<{ id: string; code: string; name: string; level: string; parent_name: string | null }>(
    exec,
    sql`select n.id, n.code, n.name, n.level, p.name as parent_name
        from jurisdiction_node n left join jurisdiction_node p on p.id = n.parent_id
        where n.retired_at is null and n.path like ${`${actor.nodePath}%`}
          and (n.name like ${like} or n.code like ${prefix})
        order by (n.code = ${text}) desc, length(n.path), n.code limit ${limit}`,
  );
  return found.map((r) => ({ id: r.id, code: r.code, name: r.name, level: r.level, parentName: r.parent_name }));
}

/** Live nodes of a subtree as GeoJSON features (WGS-84), parents first. */
export async function exportSubtree(exec: Executor, rootPath: string, maxDepth: number | undefined) {
  const depthLimit = maxDepth === undefined ? 1000 : rootPath.split('/').length - 1 + maxDepth;
  const found = await rows<{ id: string; code: string; name: string; level: string; parent_code: string | null; core: boolean; geojson: string | null }>(
    exec,
    sql`select n.id, n.code, n.name, n.level, p.code as parent_code, n.core, ST_AsGeoJSON(n.geom, 7) as geojson
        from jurisdiction_node n left join jurisdiction_node p on p.id = n.parent_id
        where n.retired_at is null and n.path like ${`${rootPath}%`}
          and array_length(string_to_array(trim(both '/' from n.path), '/'), 1) <= ${depthLimit}
        order by length(n.path), n.code`,
  );
  return found;
}
