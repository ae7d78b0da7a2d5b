import { z } from 'zod';
import type { Role } from '@pingan/contracts';
import { Crs, JurisdictionLevel } from '@pingan/contracts';
import type { AppContext, ZodApp } from '../../../platform/context.js';
import { unprocessable } from '../../../platform/errors.js';
import { actorOf } from '../../../platform/http/access-hook.js';
import { ApiErrorSchemas } from '../../../platform/http/schemas.js';
import { NodeIdParams } from '../schema-http.js';
import { createImportService, type ImportView } from './service.js';

/** Who may import grids: the editors of the tree. */
const editors: readonly Role[] = ['admin', 'station_leader'];
export const IMPORT_BODY_LIMIT = 50 * 1024 * 1024;
/** Raw file types: read as bytes (JSON is parsed by Fastify's own parser, within this route's body limit). */
const RAW_TYPES = ['application/geo+json', 'application/zip', 'application/x-zip-compressed', 'application/octet-stream'];

const Finding = z.object({
  featureIndex: z.number().int().nullable(),
  code: z.string().nullable(),
  severity: z.enum(['error', 'warning']),
  kind: z.string(),
  message: z.string(),
  fixable: z.boolean(),
});
export const Report = z.object({
  parent: z.object({ id: z.string().uuid(), code: z.string(), name: z.string(), level: z.string() }),
  fileName: z.string(),
  format: z.enum(['geojson', 'shapefile']),
  level: z.string(),
  crs: Crs,
  fix: z.boolean(),
  encoding: z.string().nullable(),
  codeField: z.string().nullable(),
  nameField: z.string().nullable(),
  summary: z.object({
    features: z.number(),
    importable: z.number(),
    errors: z.number(),
    warnings: z.number(),
    fixed: z.number(),
    dropped: z.number(),
    areaM2: z.number(),
    parentAreaM2: z.number(),
    coveredM2: z.number(),
    gapM2: z.number(),
    canCommit: z.boolean(),
  }),
  findings: z.array(Finding),
  fixes: z.array(z.object({ featureIndex: z.number().int(), code: z.string().nullable(), kind: z.string(), message: z.string() })),
  features: z.array(
    z.object({ index: z.number().int(), code: z.string().nullable(), name: z.string().nullable(), areaM2: z.number(), status: z.enum(['ok', 'warning', 'error', 'dropped']) }),
  ),
});
const Progress = z.object({ done: z.number().int(), total: z.number().int(), phase: z.string() });
const ImportState = z.object({
  importId: z.string().uuid(),
  status: z.enum(['validated', 'committing', 'committed', 'cancelled', 'failed']),
  progress: Progress,
  report: Report,
  error: z.string().nullable(),
  created: z.number().int().nullable(),
});
const ImportIdParams = z.object({ id: z.string().uuid() });
const Field = z.string().trim().min(1).max(60).optional();

/** The state without the report, for answers that do not need it again. */
const brief = (v: ImportView) => ({ importId: v.importId, status: v.status, progress: v.progress });

export function importRoutes(app: ZodApp, ctx: AppContext): void {
  const imports = createImportService(ctx);
  app.addHook('onClose', async () => imports.close());

  for (const type of RAW_TYPES) {
    if (!app.hasContentTypeParser(type)) {
      // No bodyLimit here: each route's own limit applies (50 MB on the import route, the default elsewhere).
      app.addContentTypeParser(type, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    }
  }

  app.post(
    '/api/jurisdictions/:id/imports',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      config: { access: { roles: editors } },
      schema: {
        tags: ['grid imports'],
        summary:
          'Validate a grid file under this node: GeoJSON (application/geo+json or application/json) or a zipped Shapefile (application/zip), ≤ 50 MB. Nothing is written to the tree; answers the report.',
        params: NodeIdParams,
        querystring: z.object({
          level: JurisdictionLevel.default('grid'),
          crs: Crs.default('WGS84'),
          codeField: Field,
          nameField: Field,
          fix: z.enum(['true', 'false']).default('false'),
          fileName: z.string().trim().max(200).optional(),
        }),
        response: { 201: z.object({ importId: z.string().uuid(), report: Report }), ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const contentType = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (req.body === undefined || req.body === null || (Buffer.isBuffer(req.body) && req.body.length === 0)) {
        throw unprocessable('Send the file as the request body: GeoJSON with Content-Type application/geo+json, or a Shapefile zip with application/zip.', [
          { field: 'body', message: 'is empty' },
        ]);
      }
      const q = req.query;
      const v = await imports.validate(actorOf(req), req.params.id, {
        body: req.body,
        contentType,
        level: q.level,
        crs: q.crs,
        codeField: q.codeField,
        nameField: q.nameField,
        fix: q.fix === 'true',
        fileName: q.fileName,
      });
      reply.code(201);
      return { importId: v.importId, report: v.report };
    },
  );

  app.get(
    '/api/imports/:id',
    {
      config: { access: { roles: editors } },
      schema: {
        tags: ['grid imports'],
        summary: "An import's status, commit progress {done, total, phase} and report (poll while committing)",
        params: ImportIdParams,
        response: { 200: ImportState, ...ApiErrorSchemas },
      },
    },
    async (req) => imports.get(actorOf(req), req.params.id),
  );

  app.post(
    '/api/imports/:id/commit',
    {
      config: { access: { roles: editors } },
      schema: {
        tags: ['grid imports'],
        summary: 'Write the validated grids in one transaction (background job; refused while the report has errors)',
        params: ImportIdParams,
        response: { 202: z.object({ importId: z.string().uuid(), status: ImportState.shape.status, progress: Progress }), ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const v = await imports.commit(actorOf(req), req.params.id);
      reply.code(202);
      return brief(v);
    },
  );

  app.post(
    '/api/imports/:id/cancel',
    {
      config: { access: { roles: editors } },
      schema: {
        tags: ['grid imports'],
        summary: 'Cancel a running commit (rolled back: nothing is written) or discard a validated import',
        params: ImportIdParams,
        response: { 200: z.object({ importId: z.string().uuid(), status: ImportState.shape.status, progress: Progress }), ...ApiErrorSchemas },
      },
    },
    async (req) => brief(await imports.cancel(actorOf(req), req.params.id)),
  );
}
