import type { MultiPolygon } from 'geojson';
import type { EventBus } from '../../platform/bus.js';
import type { Database } from '../../platform/db/index.js';
import { GridIndex, type GridPolygon } from './geo/grid-index.js';
import { TREE_CHANGED } from './tree.js';

export interface NodeMeta {
  id: string;
  code: string;
  name: string;
  level: string;
  parentId: string | null;
  path: string;
  core: boolean;
}

interface Row extends Record<string, unknown> {
  id: string;
  code: string;
  name: string;
  level: string;
  parent_id: string | null;
  path: string;
  core: boolean;
  retired_at: string | Date | null;
  geojson: string | null;
}

const depthOf = (path: string) => path.split('/').length - 2;

/**
 * The in-memory point → node index of the live tree, kept in step with the database: every
 * instance patches it when a tree change is announced on the bus (PostgreSQL NOTIFY across
 * instances), so a change made on one instance answers on the others within a second.
 */
export class JurisdictionLookup {
  private index = new GridIndex();
  private meta = new Map<string, NodeMeta>();
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | null = null;
  /** Bumped on every applied change; tests and health checks read it. */
  version = 0;

  constructor(private readonly database: Database) {}

  static async start(database: Database, bus: EventBus): Promise<JurisdictionLookup> {
    const lookup = new JurisdictionLookup(database);
    await lookup.reloadAll();
    lookup.unsubscribe = bus.subscribe(TREE_CHANGED, (payload) => {
      const ids = Array.isArray(payload.nodeIds) ? payload.nodeIds.filter((i): i is string => typeof i === 'string') : [];
      lookup.enqueue(() => lookup.reload(ids));
    });
    return lookup;
  }

  stop() {
    this.unsubscribe?.();
  }

  /** Resolves when every change announced so far has been applied. */
  settled(): Promise<void> {
    return this.queue;
  }

  private enqueue(work: () => Promise<void>) {
    this.queue = this.queue.then(work).catch(() => this.reloadAll());
  }

  private async fetch(ids: string[] | null): Promise<Row[]> {
    const cols = 'id, code, name, level, parent_id, path, core, retired_at, ST_AsGeoJSON(geom, 7) as geojson';
    return ids
      ? this.database.query<Row>(`select ${cols} from jurisdiction_node where id = any($1::uuid[])`, [ids])
      : this.database.query<Row>(`select ${cols} from jurisdiction_node where retired_at is null`);
  }

  private toPolygon(r: Row): GridPolygon | null {
    if (!r.geojson) return null;
    return { id: r.id, code: r.code, level: r.level, depth: depthOf(r.path), parentId: r.parent_id, geometry: JSON.parse(r.geojson) as MultiPolygon };
  }

  private remember(r: Row) {
    this.meta.set(r.id, { id: r.id, code: r.code, name: r.name, level: r.level, parentId: r.parent_id, path: r.path, core: r.core });
  }

  async reloadAll(): Promise<void> {
    const rows = await this.fetch(null);
    this.meta.clear();
    const polygons: GridPolygon[] = [];
    for (const r of rows) {
      this.remember(r);
      const p = this.toPolygon(r);
      if (p) polygons.push(p);
    }
    this.index = new GridIndex(polygons);
    this.version++;
  }

  async reload(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = await this.fetch(ids);
    const upserts: GridPolygon[] = [];
    const deletes: string[] = [];
    for (const r of rows) {
      if (r.retired_at) {
        this.meta.delete(r.id);
        deletes.push(r.id);
        continue;
      }
      this.remember(r);
      const p = this.toPolygon(r);
      if (p) upserts.push(p);
      else deletes.push(r.id);
    }
    this.index.patch(upserts, deletes);
    this.version++;
  }

  get size() {
    return this.index.size;
  }

  node(id: string): NodeMeta | undefined {
    return this.meta.get(id);
  }

  /** The chain from the deepest node holding the point up to the root, or null outside every polygon. */
  resolve(lon: number, lat: number): NodeMeta[] | null {
    const hit = this.index.lookup(lon, lat);
    if (!hit) return null;
    const chain: NodeMeta[] = [];
    for (let m = this.meta.get(hit.id); m; m = m.parentId ? this.meta.get(m.parentId) : undefined) chain.push(m);
    return chain;
  }
}
