import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { roleGroups } from '../../platform/access.js';
import type { AppContext, ZodApp } from '../../platform/context.js';
import { DomainError, notFound } from '../../platform/errors.js';
import { ApiErrorSchemas } from '../../platform/http/schemas.js';

/** Where the web maps fetch the operator's basemap from (same origin: works with no internet). */
export const BASEMAP_URL = '/api/map/basemap.pmtiles';

/** A satisfiable byte range of a file of `size` bytes, inclusive ends. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The Range header of a request for a file of `size` bytes (RFC 9110 §14):
 * - `null`: serve the whole file (no header, another unit, or several ranges — we send no multipart);
 * - a range: serve it (an end past the file is clamped, `bytes=-n` is the last n bytes);
 * - `'unsatisfiable'`: answer 416 (a malformed byte range, or one that starts past the end).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const m = /^\s*([A-Za-z]+)\s*=\s*(.*)$/.exec(header);
  if (!m) return 'unsatisfiable';
  if (m[1]!.toLowerCase() !== 'bytes') return null;
  const specs = m[2]!.split(',');
  if (specs.length > 1) return null;
  const spec = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(specs[0]!);
  if (!spec || (spec[1] === '' && spec[2] === '')) return 'unsatisfiable';
  if (spec[1] === '') {
    const n = Number(spec[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(spec[1]);
  const end = spec[2] === '' ? size - 1 : Math.min(Number(spec[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || (spec[2] !== '' && Number(spec[2]) < start)) return 'unsatisfiable';
  return { start, end };
}

/**
 * The optional PMTiles basemap (issue 6, decision 016): an operator points PINGAN_BASEMAP_PMTILES at a
 * local .pmtiles file; the app serves it from its own origin with Range support, and the web maps put
 * it under their GeoJSON layers. Without the file the maps stay GeoJSON-only.
 */
export function basemapRoutes(app: ZodApp, _ctx: AppContext): void {
  const configured = process.env.PINGAN_BASEMAP_PMTILES?.trim() || null;
  const file = configured ? path.resolve(configured) : null;
  if (file && !fs.existsSync(file)) app.log.warn({ file }, 'PINGAN_BASEMAP_PMTILES names a file that does not exist: the maps run without a basemap');

  /** The file as it is now (the operator may replace it while the app runs), or null. */
  const stat = (): { size: number; etag: string; modified: Date } | null => {
    if (!file) return null;
    try {
      const s = fs.statSync(file);
      if (!s.isFile()) return null;
      return { size: s.size, etag: `"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`, modified: s.mtime };
    } catch {
      return null;
    }
  };

  app.get(
    '/api/map/config',
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: {
        tags: ['map'],
        summary: 'What the web maps may add: the basemap URL when PINGAN_BASEMAP_PMTILES names a readable file, else null',
        response: { 200: z.object({ basemap: z.object({ url: z.string(), bytes: z.number().int() }).nullable() }), ...ApiErrorSchemas },
      },
    },
    async () => {
      const s = stat();
      return { basemap: s ? { url: BASEMAP_URL, bytes: s.size } : null };
    },
  );

  app.get(
    BASEMAP_URL,
    {
      config: { access: { roles: roleGroups.everyone } },
      schema: {
        tags: ['map'],
        summary: 'The PMTiles basemap file, with HTTP Range requests (206; 416 for a range past the end; 404 when none is configured)',
        headers: z.object({ range: z.string().max(200).optional(), 'if-range': z.string().max(200).optional() }).passthrough(),
      },
    },
    async (req, reply) => {
      const s = stat();
      if (!s) throw notFound('A basemap (PINGAN_BASEMAP_PMTILES)');
      const ifRange = req.headers['if-range'];
      // A client holding bytes of an older file gets the whole new one (If-Range, RFC 9110 §13.1.5).
      const range = ifRange && ifRange !== s.etag ? null : parseRange(req.headers.range, s.size);
      reply
        .header('accept-ranges', 'bytes')
        .header('etag', s.etag)
        .header('last-modified', s.modified.toUTCString())
        .header('cache-control', 'private, max-age=300');
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${s.size}`);
        throw new DomainError(416, 'range_not_satisfiable', `The range ${req.headers.range} is malformed or starts past the end of the ${s.size}-byte basemap.`);
      }
      reply.type('application/vnd.pmtiles');
      if (!range) {
        reply.header('content-length', s.size);
        return reply.send(fs.createReadStream(file!));
      }
      reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${s.size}`).header('content-length', range.end - range.start + 1);
      return reply.send(fs.createReadStream(file!, { start: range.start, end: range.end }));
    },
  );
}
