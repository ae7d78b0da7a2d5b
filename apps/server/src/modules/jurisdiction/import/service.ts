/**
 * Grid imports: validate a file into a report (nothing written but the grid_import row), then
 * commit it as a background job that writes every node in ONE transaction, in batches, with
 * progress kept in memory and a cancel flag checked between batches (cancel → rollback → nothing
 * written). Progress is answered from memory: on the embedded engine the job's transaction holds
 * the only connection. The validated input is kept in memory (1 h) and in grid_import.report.input,
 * so a commit also works after a restart.
 */
import { randomUUID } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { Crs, JurisdictionLevel } from '@pingan/contracts';
import { type Actor, assertCoversPath } from '../../../platform/access.js';
import { appendAudit } from '../../../platform/audit/service.js';
import type { EventBus } from '../../../platform/bus.js';
import type { Database, Executor } from '../../../platform/db/index.js';
import { conflict, notFound, unprocessable } from '../../../platform/errors.js';
import { TREE_CHANGED, levelIndex, loadNode, newCardSlug, writeVersions } from '../tree.js';
import { ImportFileError, parseImportFile } from './parse.js';
import type { ImportInput, ImportProgress, ImportReport, ImportStatus } from './types.js';
import { validateImport } from './validate.js';

export const IMPORT_TTL_MS = 60 * 60 * 1000;
/** Node ids per bus message: PostgreSQL NOTIFY payloads stay under 8000 bytes. */
const IDS_PER_EVENT = 150;

export interface ImportView {
  importId: string;
  status: ImportStatus;
  progress: ImportProgress;
  report: ImportReport;
  error: string | null;
  /** Nodes written by the commit (null until committed). */
  created: number | null;
}

interface Job {
  id: string;
  parentId: string;
  parentPath: string;
  status: ImportStatus;
  progress: ImportProgress;
  report: ImportReport;
  input: ImportInput;
  error: string | null;
  created: number | null;
  cancelRequested: boolean;
  running: Promise<void> | null;
  expiresAt: number;
}

class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

async function rows<T>(exec: Executor, query: SQL): Promise<T[]> {
  const res = await exec.execute(query);
  return (Array.isArray(res) ? res : (res as { rows: T[] }).rows) as T[];
}

export interface ValidateRequest {
  body: unknown;
  contentType: string;
  level: JurisdictionLevel;
  crs: Crs;
  codeField?: string | undefined;
  nameField?: string | undefined;
  fix: boolean;
  fileName?: string | undefined;
}

export interface ImportServiceOptions {
  /** Features written per batch of the commit (progress and the cancel check come between batches). */
  batchSize?: number;
}

export type ImportService = ReturnType<typeof createImportService>;

export function createImportService(
  { database, bus, now }: { database: Database; bus: EventBus; now: () => Date },
  { batchSize = 250 }: ImportServiceOptions = {},
) {
  const { db } = database;
  const jobs = new Map<string, Job>();

  const sweep = () => {
    const t = Date.now();
    for (const [id, j] of jobs) if (j.expiresAt < t && !j.running) jobs.delete(id);
  };

  const view = (j: Job): ImportView => ({
    importId: j.id,
    status: j.status,
    progress: { ...j.progress },
    report: j.report,
    error: j.error,
    created: j.created,
  });

  const check = (actor: Actor | null, path: string) => {
    if (actor) assertCoversPath(actor, path);
  };

  /** The job from memory, else rebuilt from its grid_import row (after a restart or the TTL). */
  async function job(actor: Actor | null, id: string): Promise<Job> {
    sweep();
    const j = jobs.get(id);
    if (j) {
      check(actor, j.parentPath);
      return j;
    }
    const [row] = await rows<{ id: string; parent_id: string; path: string; status: string; features: number; report: Record<string, unknown> }>(
      db,
      sql`select i.id, i.parent_id, n.path, i.status, i.features, i.report from grid_import i join jurisdiction_node n on n.id = i.parent_id where i.id = ${id}`,
    );
    if (!row) throw notFound('The import');
    check(actor, row.path);
    const { input, error, created, ...report } = row.report as unknown as ImportReport & { input?: ImportInput; error?: string; created?: number };
    const status = row.status as ImportStatus;
    const total = input?.features.length ?? 0;
    const rebuilt: Job = {
      id: row.id,
      parentId: row.parent_id,
      parentPath: row.path,
      status,
      progress: { done: status === 'committed' ? total : 0, total, phase: status === 'committed' ? 'done' : status === 'validated' ? 'validated' : status === 'cancelled' ? 'cancelled' : 'failed' },
      report: report as ImportReport,
      input: input ?? { parentId: row.parent_id, level: (report as ImportReport).level, features: [] },
      error: error ?? null,
      created: created ?? null,
      cancelRequested: false,
      running: null,
      expiresAt: Date.now() + IMPORT_TTL_MS,
    };
    jobs.set(id, rebuilt);
    return rebuilt;
  }

  async function finish(j: Job, status: 'cancelled' | 'failed', error: string | null) {
    await db.execute(sql`update grid_import set status = ${status}, finished_at = ${now()},
        report = report || jsonb_build_object('error', ${error}::text) where id = ${j.id}`);
  }

  async function run(j: Job, actor: Actor | null): Promise<void> {
    const at = now();
    const features = j.input.features;
    const level = j.input.level;
    const ids: string[] = [];
    try {
      await db.transaction(async (tx) => {
        // One tree change at a time, as for edits in tree.ts.
        await tx.execute(sql`select pg_advisory_xact_lock(727200)`);
        const parent = await loadNode(tx, j.parentId);
        if (parent.retiredAt) throw conflict(`${parent.name} (${parent.code}) was retired after the validation; validate the file again under its successor.`);
        const codes = features.map((f) => f.code);
        for (let i = 0; i < codes.length; i += 5000) {
          const taken = await rows<{ code: string }>(
            tx,
            sql`select code from jurisdiction_node where code in (select jsonb_array_elements_text(${JSON.stringify(codes.slice(i, i + 5000))}::jsonb))`,
          );
          if (taken.length) {
            throw conflict(`The code(s) ${taken.slice(0, 5).map((t) => t.code).join(', ')}${taken.length > 5 ? ' …' : ''} were taken since the validation; validate the file again.`);
          }
        }
        j.progress = { done: 0, total: features.length, phase: 'nodes' };
        const withCard = levelIndex(level) >= levelIndex('grid');
        for (let i = 0; i < features.length; i += batchSize) {
          if (j.cancelRequested) throw new Cancelled();
          const batch = features.slice(i, i + batchSize).map((f) => {
            const id = randomUUID();
            ids.push(id);
            return { id, code: f.code, name: f.name, path: `${parent.path}${id}/`, geom: JSON.stringify(f.geometry), slug: newCardSlug() };
          });
          const json = JSON.stringify(batch);
          await tx.execute(sql`insert into jurisdiction_node (id, code, name, level, parent_id, path, core, geom)
            select r.id, r.code, r.name, ${level}, ${parent.id}, r.path, ${parent.core}, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(r.geom), 4326))
              from jsonb_to_recordset(${json}::jsonb) as r(id uuid, code text, name text, path text, geom text)`);
          if (withCard) {
            await tx.execute(sql`insert into grid_card (node_id, slug) select r.id, r.slug from jsonb_to_recordset(${json}::jsonb) as r(id uuid, slug text)`);
          }
          await writeVersions(tx, batch.map((b) => b.id), 'import', actor?.userId ?? null, at);
          j.progress = { done: Math.min(features.length, i + batch.length), total: features.length, phase: 'nodes' };
          // Let the event loop breathe: the embedded engine answers from WASM without yielding, and
          // progress polls and the cancel request must get a turn between batches.
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (j.cancelRequested) throw new Cancelled();
        j.progress = { ...j.progress, phase: 'finishing' };
        await appendAudit(tx, actor, {
          action: 'jurisdiction.import',
          entityType: 'grid_import',
          entityId: j.id,
          nodePath: parent.path,
          details: {
            parentCode: parent.code,
            level,
            file: j.report.fileName,
            format: j.report.format,
            features: j.report.summary.features,
            created: ids.length,
            fixed: j.report.summary.fixed,
            dropped: j.report.summary.dropped,
            warnings: j.report.summary.warnings,
            via: actor ? 'api' : 'cli',
          },
        });
        await tx.execute(sql`update grid_import set status = 'committed', finished_at = ${now()},
            report = report || jsonb_build_object('created', ${ids.length}::int) where id = ${j.id}`);
      });
      // Announce before answering "committed", so a caller that then waits for its lookup index sees the nodes.
      for (let i = 0; i < ids.length; i += IDS_PER_EVENT) {
        await bus.publish(TREE_CHANGED, { nodeIds: ids.slice(i, i + IDS_PER_EVENT) }).catch(() => undefined);
      }
      j.status = 'committed';
      j.created = ids.length;
      j.progress = { done: ids.length, total: ids.length, phase: 'done' };
    } catch (err) {
      const cancelled = err instanceof Cancelled;
      j.status = cancelled ? 'cancelled' : 'failed';
      j.error = cancelled ? null : (err as Error).message.slice(0, 500);
      j.progress = { done: 0, total: features.length, phase: cancelled ? 'cancelled' : 'failed' };
      await finish(j, j.status as 'cancelled' | 'failed', j.error).catch(() => undefined);
    } finally {
      j.cancelRequested = false;
      j.expiresAt = Date.now() + IMPORT_TTL_MS;
    }
  }

  return {
    /** Read, check (and with `fix`, repair) a file under a parent; answers the report. Writes only the grid_import row. */
    async validate(actor: Actor | null, parentId: string, req: ValidateRequest): Promise<ImportView> {
      sweep();
      const parent = await loadNode(db, parentId);
      check(actor, parent.path);
      if (parent.retiredAt) throw conflict(`${parent.name} (${parent.code}) is retired; import under a live node.`);
      if (levelIndex(req.level) <= levelIndex(parent.level)) {
        throw unprocessable(`A ${req.level} cannot sit under a ${parent.level}: choose a level below ${parent.level}.`, [
          { field: 'querystring.level', message: `must be below ${parent.level}` },
        ]);
      }
      const fileName = (req.fileName ?? '').trim().slice(0, 200) || (/zip/.test(req.contentType) ? 'upload.zip' : 'upload.geojson');
      let parsed;
      try {
        parsed = await parseImportFile(req.body, req.contentType, { crs: req.crs, codeField: req.codeField, nameField: req.nameField });
      } catch (err) {
        if (err instanceof ImportFileError) throw unprocessable(err.message, [{ field: 'body', message: err.message }]);
        throw err;
      }
      const { report, input } = await validateImport(database, parent, parsed, {
        level: req.level,
        crs: req.crs,
        codeField: req.codeField,
        nameField: req.nameField,
        fix: req.fix,
        fileName,
      });
      const id = randomUUID();
      await db.execute(sql`insert into grid_import (id, actor_id, parent_id, file_name, status, features, report)
        values (${id}, ${actor?.userId ?? null}, ${parent.id}, ${fileName}, 'validated', ${parsed.features.length},
          ${JSON.stringify({ ...report, input })}::jsonb)`);
      const j: Job = {
        id,
        parentId: parent.id,
        parentPath: parent.path,
        status: 'validated',
        progress: { done: 0, total: input.features.length, phase: 'validated' },
        report,
        input,
        error: null,
        created: null,
        cancelRequested: false,
        running: null,
        expiresAt: Date.now() + IMPORT_TTL_MS,
      };
      jobs.set(id, j);
      return view(j);
    },

    /** Status, progress and report. While a commit runs this touches no database (memory only). */
    async get(actor: Actor | null, id: string): Promise<ImportView> {
      return view(await job(actor, id));
    },

    /** Start writing the validated features; answers at once, the job runs in the background. */
    async commit(actor: Actor | null, id: string): Promise<ImportView> {
      const j = await job(actor, id);
      if (j.running || j.status === 'committing') throw conflict('This import is being committed already; follow its progress.');
      if (j.status === 'committed') throw conflict(`This import was committed already (${j.created ?? 0} nodes).`);
      if (!j.report.summary.canCommit || j.report.summary.errors > 0) {
        throw unprocessable(
          `The report has ${j.report.summary.errors} error(s); fix the file (or validate again with fix=true) before committing.`,
          [{ field: 'report', message: `${j.report.summary.errors} error(s)` }],
        );
      }
      j.status = 'committing';
      j.error = null;
      j.cancelRequested = false;
      j.progress = { done: 0, total: j.input.features.length, phase: 'queued' };
      j.running = run(j, actor).finally(() => {
        j.running = null;
      });
      return view(j);
    },

    /** Cancel a running commit (it rolls back; nothing is written), or discard a validated import. */
    async cancel(actor: Actor | null, id: string): Promise<ImportView> {
      const j = await job(actor, id);
      if (j.running) {
        j.cancelRequested = true;
        return view(j);
      }
      if (j.status === 'committed') throw conflict('This import was committed already; retire or merge the nodes it created instead.');
      if (j.status !== 'cancelled') {
        j.status = 'cancelled';
        j.progress = { ...j.progress, done: 0, phase: 'cancelled' };
        await finish(j, 'cancelled', null);
      }
      return view(j);
    },

    /** Resolves when the import's running commit (if any) has ended. */
    async wait(id: string): Promise<ImportView | null> {
      const j = jobs.get(id);
      if (!j) return null;
      await j.running;
      return view(j);
    },

    /** Cancel every running commit and wait for the rollbacks (server shutdown). */
    async close(): Promise<void> {
      const running = [...jobs.values()].filter((j) => j.running);
      for (const j of running) j.cancelRequested = true;
      await Promise.all(running.map((j) => j.running));
    },
  };
}
