import QRCode from 'qrcode';
import { z } from 'zod';
import type { Role } from '@pingan/contracts';
import { Crs } from '@pingan/contracts';
import { assertCoversNode, roleGroups } from '../../platform/access.js';
import type { AppContext, ZodApp } from '../../platform/context.js';
import { notFound, unprocessable } from '../../platform/errors.js';
import { actorOf } from '../../platform/http/access-hook.js';
import { runIdempotent } from '../../platform/http/idempotency.js';
import { ApiErrorSchemas } from '../../platform/http/schemas.js';
import { toWgs84 } from './geo/coords.js';
import { exportSubtree, ownersAt, searchNodes } from './read.js';
import {
  AddMemberBody, CardBody, ChainNode, CreateNodeBody, MergeNodesBody, MoveNodeBody, NodeDetail, NodeIdParams,
  PointQuery, PublicCardView, SplitNodeBody, TeamMemberView, UpdateNodeBody, geometryFromWgs84, geometryToWgs84,
} from './schema-http.js';
import { importRoutes } from './import/routes.js';
import { createTeamService } from './team.js';
import { createTreeService } from './tree.js';
import { sendStoredFile } from '../../platform/http/files.js';

/** Who edits the tree, teams and cards; who may export the polygons. */
const editors: readonly Role[] = ['admin', 'station_leader'];
const exporters: readonly Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'inspector'];
const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

interface NodeRow extends Record<string, unknown> {
  id: string;
  code: string;
  name: string;
  level: string;
  core: boolean;
  parent_id: string | null;
  path: string;
  geojson: string | null;
}

export function jurisdictionRoutes(app: ZodApp, ctx: AppContext): void {
  const { database, lookup } = ctx;
  const tree = createTreeService(ctx);
  const teams = createTeamService(ctx);
  // Grid imports (GeoJSON / Shapefile): validation report, commit job with progress and cancel.
  importRoutes(app, ctx);

  const presentNode = (r: NodeRow, crs: z.infer<typeof Crs>) => ({
    id: r.id,
    code: r.code,
    name: r.name,
    level: r.level,
    core: r.core,
    geometry: r.geojson ? geometryFromWgs84(JSON.parse(r.geojson) as { type: string; coordinates: unknown[] }, crs) : null,
  });

  /** After a change, wait for this instance's index so the caller's next lookup sees it. */
  const settled = async <T>(result: T) => {
    await lookup.settled();
    return result;
  };

  app.get(
    '/api/jurisdictions/:id',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: {
        tags: ['jurisdictions'],
        summary: 'A node of your jurisdiction tree with its polygon, its ancestors and its children',
        params: NodeIdParams,
        querystring: z.object({ crs: Crs.default('WGS84'), childGeometry: z.enum(['true', 'false']).default('true') }),
        response: { 200: NodeDetail, ...ApiErrorSchemas },
      },
    },
    async (req) => {
      await assertCoversNode(database.db, actorOf(req), req.params.id);
      const cols = 'id, code, name, level, core, parent_id, path, ST_AsGeoJSON(geom, 6) as geojson';
      const [node] = await database.query<NodeRow>(`select ${cols} from jurisdiction_node where id = $1`, [req.params.id]);
      if (!node) throw notFound('The jurisdiction node');
      const withGeom = req.query.childGeometry === 'true';
      const children = await database.query<NodeRow>(
        `select id, code, name, level, core, parent_id, path, ${withGeom ? 'ST_AsGeoJSON(geom, 6)' : 'null'} as geojson
         from jurisdiction_node where parent_id = $1 and retired_at is null order by code`,
        [req.params.id],
      );
      const ancestors = await database.query<{ id: string; name: string; level: string }>(
        `select id, name, level from jurisdiction_node where id = any(string_to_array(trim(both '/' from $1), '/')::uuid[]) order by length(path)`,
        [node.path],
      );
      return {
        ...presentNode(node, req.query.crs),
        parentId: node.parent_id,
        path: ancestors,
        children: children.map((c) => presentNode(c, req.query.crs)),
      };
    },
  );

  app.get(
    '/api/jurisdictions/search',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: {
        tags: ['jurisdictions'],
        summary: 'Find nodes of your jurisdiction by name or code',
        querystring: z.object({ q: z.string().trim().min(1, 'enter a name or code').max(60), limit: z.coerce.number().int().min(1).max(100).default(20) }),
        response: {
          200: z.object({ items: z.array(z.object({ id: z.string().uuid(), code: z.string(), name: z.string(), level: z.string(), parentName: z.string().nullable() })) }),
          ...ApiErrorSchemas,
        },
      },
    },
    async (req) => ({ items: await searchNodes(database.db, actorOf(req), req.query.q, req.query.limit) }),
  );

  app.get(
    '/api/lookup',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: {
        tags: ['jurisdictions'],
        summary: 'Which micro-grid, grid, station and county a point lies in, from the in-memory index',
        querystring: PointQuery,
        response: {
          200: z.object({
            point: z.object({ lon: z.number(), lat: z.number(), crs: z.literal('WGS84') }),
            found: z.boolean(),
            message: z.string().nullable(),
            chain: z.array(ChainNode),
            cardSlug: z.string().nullable(),
          }),
          ...ApiErrorSchemas,
        },
      },
    },
    async (req) => {
      const [lon, lat] = toWgs84(req.query.lon, req.query.lat, req.query.crs);
      const chain = lookup.resolve(lon, lat);
      const point = { lon, lat, crs: 'WGS84' as const };
      if (!chain) return { point, found: false, message: 'This point lies outside every grid of the tree.', chain: [], cardSlug: null };
      const card = await teams.publicCard({ nodeId: chain[0]!.id });
      return {
        point,
        found: true,
        message: null,
        chain: chain.map((n) => ({ id: n.id, code: n.code, name: n.name, level: n.level, core: n.core })),
        cardSlug: card?.slug ?? null,
      };
    },
  );

  app.get(
    '/api/jurisdictions/owners-at',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: {
        tags: ['jurisdictions'],
        summary: 'Which nodes held a point at a past moment (versioned tree)',
        querystring: PointQuery.extend({ at: z.coerce.date({ error: 'must be a date or date-time (ISO 8601)' }) }),
        response: {
          200: z.object({
            at: z.string(),
            owners: z.array(z.object({ nodeId: z.string().uuid(), code: z.string(), name: z.string(), level: z.string(), validFrom: z.string(), validTo: z.string().nullable() })),
          }),
          ...ApiErrorSchemas,
        },
      },
    },
    async (req) => {
      const [lon, lat] = toWgs84(req.query.lon, req.query.lat, req.query.crs);
      return { at: req.query.at.toISOString(), owners: await ownersAt(database.db, actorOf(req), lon, lat, req.query.at) };
    },
  );

  app.get(
    '/api/jurisdictions/:id/export',
    {
      config: { access: { roles: exporters } },
      schema: {
        tags: ['jurisdictions'],
        summary: 'A subtree as a GeoJSON FeatureCollection (in the coordinate system asked for)',
        params: NodeIdParams,
        querystring: z.object({ crs: Crs.default('WGS84'), depth: z.coerce.number().int().min(0).max(10).optional() }),
        response: { 200: z.object({ type: z.literal('FeatureCollection'), crs: Crs, features: z.array(z.unknown()) }), ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const path = await assertCoversNode(database.db, actorOf(req), req.params.id);
      const found = await exportSubtree(database.db, path, req.query.depth);
      reply.header('content-disposition', `attachment; filename="jurisdiction-${found[0]?.code ?? 'export'}.geojson"`);
      return {
        type: 'FeatureCollection' as const,
        crs: req.query.crs,
        features: found.map((r) => ({
          type: 'Feature',
          id: r.code,
          properties: { code: r.code, name: r.name, level: r.level, parentCode: r.parent_code, core: r.core },
          geometry: r.geojson ? geometryFromWgs84(JSON.parse(r.geojson) as { type: string; coordinates: unknown }, req.query.crs) : null,
        })),
      };
    },
  );

  app.post(
    '/api/jurisdictions',
    {
      config: { access: { roles: editors } },
      schema: {
        tags: ['jurisdictions'],
        summary: 'Create a node under a parent (validated: inside the parent, no sibling overlap)',
        body: CreateNodeBody,
        response: { 201: z.object({ id: z.string().uuid() }), ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const { parentId, crs, ...input } = req.body;
      const created = await tree.create(actorOf(req), parentId, { ...input, geometry: geometryToWgs84(input.geometry, crs) });
      reply.code(201);
      return settled({ id: created.id });
    },
  );

  app.patch(
    '/api/jurisdictions/:id',
    {
      config: { access: { roles: editors } },
      schema: {
        tags: ['jurisdictions'],
        summary: 'Rename, recode, reshape a node or mark it a core area',
        params: NodeIdParams,
        body: UpdateNodeBody,
        response: { 200: z.object({ id: z.string().uuid() }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const { crs, geometry, ...rest } = req.body;
      const r = await tree.update(actorOf(req), req.params.id, { ...rest, ...(geometry ? { geometry: geometryToWgs84(geometry, crs) } : {}) });
      return settled({ id: r.id });
    },
  );

  app.post(
    '/api/jurisdictions/:id/move',
    {
      config: { access: { roles: editors } },
      schema: { tags: ['jurisdictions'], summary: 'Move a node and its subtree under another parent', params: NodeIdParams, body: MoveNodeBody, response: { 200: z.object({ id: z.string().uuid(), moved: z.number() }), ...ApiErrorSchemas } },
    },
    async (req) => {
      const r = await tree.move(actorOf(req), req.params.id, req.body.parentId);
      return settled({ id: r.id, moved: r.touched.length });
    },
  );

  app.post(
    '/api/jurisdictions/:id/split',
    {
      config: { access: { roles: editors } },
      schema: {
        tags: ['jurisdictions'],
        summary: 'Split a node into parts that tile it; the node retires, its children follow their area',
        params: NodeIdParams,
        body: SplitNodeBody,
        response: { 200: z.object({ retiredId: z.string().uuid(), newIds: z.array(z.string().uuid()) }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const parts = req.body.parts.map((p) => ({ ...p, geometry: geometryToWgs84(p.geometry, req.body.crs) }));
      const r = await tree.split(actorOf(req), req.params.id, parts);
      return settled({ retiredId: r.id, newIds: r.newIds });
    },
  );

  app.post(
    '/api/jurisdictions/merge',
    {
      config: { access: { roles: editors } },
      schema: {
        tags: ['jurisdictions'],
        summary: 'Merge sibling nodes into a new one; the old ones retire',
        body: MergeNodesBody,
        response: { 200: z.object({ id: z.string().uuid() }), ...ApiErrorSchemas },
      },
    },
    async (req) => settled({ id: (await tree.merge(actorOf(req), req.body.nodeIds, { code: req.body.code, name: req.body.name })).id }),
  );

  app.delete(
    '/api/jurisdictions/:id',
    {
      config: { access: { roles: editors } },
      schema: { tags: ['jurisdictions'], summary: 'Retire a node without children or accounts (kept in history)', params: NodeIdParams, response: { 204: z.null(), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      await tree.retire(actorOf(req), req.params.id);
      await lookup.settled();
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/jurisdictions/:id/team',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: {
        tags: ['grid teams'],
        summary: "A grid's 4+N+N team; `reveal=phone` shows phones in full to roles that need them (audited)",
        params: NodeIdParams,
        querystring: z.object({ reveal: z.enum(['phone']).optional() }),
        response: { 200: z.object({ items: z.array(TeamMemberView) }), ...ApiErrorSchemas },
      },
    },
    async (req) => ({ items: await teams.team(actorOf(req), req.params.id, req.query.reveal === 'phone') }),
  );

  app.post(
    '/api/jurisdictions/:id/team',
    {
      config: { access: { roles: editors } },
      schema: {
        tags: ['grid teams'],
        summary: 'Add a person (existing or new) to a grid team with a duty (honours Idempotency-Key)',
        params: NodeIdParams,
        body: AddMemberBody,
        response: { 201: z.object({ dutyId: z.string().uuid(), personId: z.string().uuid() }), ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      return runIdempotent(database, req, reply, async (tx) => ({ status: 201, body: await teams.addMember(tx, actor, req.params.id, req.body) }));
    },
  );

  app.delete(
    '/api/jurisdictions/:id/team/:dutyId',
    {
      config: { access: { roles: editors } },
      schema: { tags: ['grid teams'], summary: 'Remove a duty from a grid team', params: NodeIdParams.extend({ dutyId: z.string().uuid() }), response: { 204: z.null(), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      await teams.removeMember(actorOf(req), req.params.id, req.params.dutyId);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/api/jurisdictions/:id/card',
    {
      config: { access: { roles: editors } },
      schema: { tags: ['grid teams'], summary: "Set a grid card's supervision phone and notice", params: NodeIdParams, body: CardBody, response: { 200: PublicCardView, ...ApiErrorSchemas } },
    },
    async (req) => {
      await teams.updateCard(actorOf(req), req.params.id, req.body);
      const card = await teams.publicCard({ nodeId: req.params.id });
      if (!card) throw notFound('The card');
      return card;
    },
  );

  app.get(
    '/api/jurisdictions/:id/card',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: { tags: ['grid teams'], summary: "A grid's public contact card, read by staff of the jurisdiction", params: NodeIdParams, response: { 200: PublicCardView, ...ApiErrorSchemas } },
    },
    async (req) => {
      await assertCoversNode(database.db, actorOf(req), req.params.id);
      const card = await teams.publicCard({ nodeId: req.params.id });
      if (!card) throw notFound('The card of this grid');
      return card;
    },
  );

  app.get(
    '/api/jurisdictions/:id/card/qr.svg',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: { tags: ['grid teams'], summary: "QR code (SVG) of the grid's public card, to print on the notice board", params: NodeIdParams, querystring: z.object({ base: z.string().url().optional() }) },
    },
    async (req, reply) => {
      await assertCoversNode(database.db, actorOf(req), req.params.id);
      const card = await teams.publicCard({ nodeId: req.params.id });
      if (!card) throw notFound('The card of this grid');
      const base = req.query.base ?? `${req.protocol}://${req.host}`;
      const svg = await QRCode.toString(`${base}/card/${card.slug}`, { type: 'svg', margin: 1 });
      return reply.type('image/svg+xml').send(svg);
    },
  );

  app.addContentTypeParser(PHOTO_TYPES, { parseAs: 'buffer', bodyLimit: 512 * 1024 }, (_req, body, done) => done(null, body));
  app.put(
    '/api/team-people/:id/photo',
    {
      config: { access: { roles: editors } },
      schema: { tags: ['grid teams'], summary: 'Set the photo shown on contact cards (JPEG, PNG or WebP, ≤ 512 KiB)', params: NodeIdParams, response: { 204: z.null(), ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (!PHOTO_TYPES.includes(type) || !Buffer.isBuffer(req.body)) {
        throw unprocessable('Send the photo as the raw body with Content-Type image/jpeg, image/png or image/webp.');
      }
      await teams.setPhoto(actorOf(req), req.params.id, req.body, type);
      return reply.code(204).send(null);
    },
  );

  // Public, no login: what a resident reaches from a point, an address or a QR code.
  app.get(
    '/api/public/cards/:slug',
    {
      config: { access: { public: true } },
      schema: { tags: ['public'], summary: "A grid's public contact card by its QR slug", params: z.object({ slug: z.string().regex(/^[A-Za-z0-9_-]{4,32}$/, 'is not a card code') }), response: { 200: PublicCardView, ...ApiErrorSchemas } },
    },
    async (req) => {
      const card = await teams.publicCard({ slug: req.params.slug });
      if (!card) throw notFound('This contact card');
      return card;
    },
  );

  app.get(
    '/api/public/cards',
    {
      config: { access: { public: true }, rateLimit: { max: ctx.config.PINGAN_PUBLIC_RATE_PER_MINUTE, timeWindow: '1 minute' } },
      schema: {
        tags: ['public'],
        summary: 'Find the contact card of the grid at a point (lon, lat, crs) or by a place name in an address',
        querystring: z
          .object({ lon: z.coerce.number().min(-180).max(180).optional(), lat: z.coerce.number().min(-90).max(90).optional(), crs: Crs.default('WGS84'), address: z.string().trim().min(2).max(120).optional() })
          .refine((q) => (q.lon !== undefined && q.lat !== undefined) || q.address !== undefined, 'give lon and lat, or an address'),
        response: { 200: z.object({ items: z.array(PublicCardView), message: z.string().nullable() }), ...ApiErrorSchemas },
      },
    },
    async (req) => {
      const q = req.query;
      if (q.lon !== undefined && q.lat !== undefined) {
        const [lon, lat] = toWgs84(q.lon, q.lat, q.crs);
        const chain = lookup.resolve(lon, lat);
        const grid = chain?.find((n) => n.level === 'micro_grid' || n.level === 'grid');
        const card = grid ? await teams.publicCard({ nodeId: grid.id }) : null;
        return card ? { items: [card], message: null } : { items: [], message: 'No grid covers this point; call 110 in an emergency.' };
      }
      // Address text: the deepest grids whose name appears in it (村, 社区 …), best match first.
      const grids = await database.query<{ id: string }>(
        `select n.id from jurisdiction_node n join grid_card c on c.node_id = n.id
          where n.retired_at is null and n.level in ('grid', 'micro_grid') and length(n.name) >= 2
            and strpos($1, regexp_replace(n.name, '(村民委员会|居民委员会|村委会|居委会|网格)$', '')) > 0
          order by length(n.name) desc, n.level = 'grid' desc limit 5`,
        [q.address!],
      );
      const items = [];
      for (const g of grids) {
        const card = await teams.publicCard({ nodeId: g.id });
        if (card) items.push(card);
      }
      return { items, message: items.length ? null : 'No grid name was found in this address; try the village or community name.' };
    },
  );

  app.get(
    '/api/public/people/:id/photo',
    { config: { access: { public: true } }, schema: { tags: ['public'], summary: 'Photo of a team member shown on a card', params: NodeIdParams } },
    async (req, reply) => {
      const photo = await teams.photo(req.params.id);
      if (!photo) throw notFound('The photo');
      reply.header('cache-control', 'public, max-age=3600');
      return sendStoredFile(reply, photo);
    },
  );
}
