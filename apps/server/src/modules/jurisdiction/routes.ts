import { z } from 'zod';
import { roleGroups, assertCoversNode } from '../../platform/access.js';
import type { AppContext, ZodApp } from '../../platform/context.js';
import { actorOf } from '../../platform/http/access-hook.js';
import { ApiErrorSchemas } from '../../platform/http/schemas.js';
import { notFound } from '../../platform/errors.js';

const GeoJsonGeometry = z
  .object({ type: z.string(), coordinates: z.array(z.unknown()) })
  .nullable();

const NodeSummary = z.object({
  id: z.string().uuid(),
  code: z.string(),
  name: z.string(),
  level: z.string(),
  core: z.boolean(),
  geometry: GeoJsonGeometry,
});

const NodeDetail = NodeSummary.extend({
  parentId: z.string().uuid().nullable(),
  children: z.array(NodeSummary),
});

interface NodeRow extends Record<string, unknown> {
  id: string;
  code: string;
  name: string;
  level: string;
  core: boolean;
  parent_id: string | null;
  geojson: string | null;
}

const present = (r: NodeRow) => ({
  id: r.id,
  code: r.code,
  name: r.name,
  level: r.level,
  core: r.core,
  geometry: r.geojson ? (JSON.parse(r.geojson) as { type: string; coordinates: unknown[] }) : null,
});

export function jurisdictionRoutes(app: ZodApp, ctx: AppContext): void {
  app.get(
    '/api/jurisdictions/:id',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: {
        tags: ['jurisdictions'],
        summary: 'A node of your jurisdiction tree with its polygon and its children',
        params: z.object({ id: z.string().uuid() }),
        response: { 200: NodeDetail, ...ApiErrorSchemas },
      },
    },
    async (req) => {
      await assertCoversNode(ctx.database.db, actorOf(req), req.params.id);
      const cols = 'id, code, name, level, core, parent_id, ST_AsGeoJSON(geom, 6) as geojson';
      const [node] = await ctx.database.query<NodeRow>(`select ${cols} from jurisdiction_node where id = $1`, [
        req.params.id,
      ]);
      if (!node) throw notFound('The jurisdiction node');
      const children = await ctx.database.query<NodeRow>(
        `select ${cols} from jurisdiction_node where parent_id = $1 order by code`,
        [req.params.id],
      );
      return { ...present(node), parentId: node.parent_id, children: children.map(present) };
    },
  );
}
