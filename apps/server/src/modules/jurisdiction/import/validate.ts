/**
 * The validation report of an import, computed in PostGIS inside a transaction that is always
 * rolled back (a temp table `on commit drop`), so validating writes nothing. With `fix`, the
 * geometries are repaired in the same transaction (make-valid, snap, clip to the parent, subtract
 * overlaps, drop slivers) and validated again.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database, Executor } from '../../../platform/db/index.js';
import { AREA_TOLERANCE } from '../tree.js';
import type { ParsedFile } from './parse.js';
import type { AreaGeom, FeatureSummary, Finding, Fix, ImportInput, ImportOptions, ImportReport } from './types.js';

/** Below this area (m²) a feature or a part of one is a sliver. */
export const SLIVER_M2 = 50;
/** Below this compactness (4πA/P², 1 for a circle) a feature is a sliver: a strip about 60 times longer than wide. */
export const SLIVER_COMPACTNESS = 0.05;
/** Vertices closer than this (degrees, ~0.5 m) to a neighbour's boundary are snapped onto it by `fix`. */
export const SNAP_TOLERANCE = 5e-6;
/** Grid that `fix` snaps every vertex to (degrees, ~1 cm). */
export const SNAP_GRID = 1e-7;
/** Overlaps and overhangs smaller than this (m²) are rounding noise and not reported. */
const NOISE_M2 = 0.1;

const CODE_RE = /^[0-9A-Za-z_-]+$/;

export interface ParentNode {
  id: string;
  code: string;
  name: string;
  level: string;
  path: string;
}

class Rollback extends Error {
  constructor(readonly value: unknown) {
    super('rollback');
  }
}

async function rows<T>(exec: Executor, query: SQL): Promise<T[]> {
  const res = await exec.execute(query);
  return (Array.isArray(res) ? res : (res as { rows: T[] }).rows) as T[];
}

/** The database's own message, not the driver's "Failed query: …" wrapper. */
const causeMessage = (err: unknown): string => {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : (err as Error).message;
};
const m2 = (n: number) => (n >= 10_000 ? `${(n / 1_000_000).toFixed(n >= 1_000_000 ? 2 : 3)} km²` : `${Math.round(n * 10) / 10} m²`);
const pct = (share: number) => `${(share * 100).toFixed(share < 0.01 ? 2 : 1)}%`;
const label = (code: string | null, index: number) => (code ? `feature ${index + 1} (${code})` : `feature ${index + 1}`);

/** PostGIS's ST_IsValidReason in words a person can act on. */
function describeInvalid(reason: string): string {
  const at = reason.match(/\[([-\d.e]+)\s+([-\d.e]+)\]/);
  const where = at ? ` near ${Number(at[1]).toFixed(6)}, ${Number(at[2]).toFixed(6)}` : '';
  if (/Ring Self-intersection/i.test(reason)) return `a ring touches itself${where}`;
  if (/Self-intersection/i.test(reason)) return `the outline crosses itself${where} (a bow-tie or figure-eight ring)`;
  if (/Too few points/i.test(reason)) return `a ring has too few distinct points${where}`;
  if (/Hole lies outside shell/i.test(reason)) return `a hole lies outside its polygon${where}`;
  if (/Nested shells/i.test(reason)) return `one polygon lies inside another of the same feature${where}`;
  if (/Interior is disconnected/i.test(reason)) return `holes cut the polygon in pieces${where}`;
  if (/Nested holes/i.test(reason)) return `a hole lies inside another hole${where}`;
  if (/Duplicate Rings/i.test(reason)) return `a ring appears twice${where}`;
  return reason;
}

interface Measured {
  i: number;
  valid: boolean;
  reason: string;
  empty: boolean;
  area: number;
  perimeter: number;
  outside: number;
  parts: number;
}

interface Facts {
  measured: Map<number, Measured>;
  pairs: { a: number; b: number; m2: number }[];
  existing: { i: number; code: string; name: string; m2: number }[];
  parentArea: number | null;
  covered: number;
}

/** Measure the geometries in `imp.geom`. */
async function measure(tx: Executor, parentId: string): Promise<Facts> {
  await tx.execute(sql`update imp set mv = case when geom is null then null else ST_CollectionExtract(ST_MakeValid(geom), 3) end`);
  await tx.execute(sql`analyze imp`);
  const measuredRows = await rows<{ i: number; valid: boolean; reason: string; empty: boolean; area: number; perimeter: number; outside: number | null; parts: number }>(
    tx,
    sql`select i, ST_IsValid(geom) as valid, ST_IsValidReason(geom) as reason, (mv is null or ST_IsEmpty(mv)) as empty,
          coalesce(ST_Area(mv::geography), 0)::float8 as area, coalesce(ST_Perimeter(mv::geography), 0)::float8 as perimeter,
          (select ST_Area(ST_Difference(mv, p.geom)::geography)::float8 from jurisdiction_node p where p.id = ${parentId} and p.geom is not null) as outside,
          coalesce(ST_NumGeometries(mv), 0)::int as parts
        from imp where geom is not null`,
  );
  const measured = new Map<number, Measured>();
  for (const r of measuredRows) {
    measured.set(Number(r.i), {
      i: Number(r.i),
      valid: r.valid,
      reason: r.reason,
      empty: r.empty,
      area: Number(r.area),
      perimeter: Number(r.perimeter),
      outside: Number(r.outside ?? 0),
      parts: Number(r.parts),
    });
  }
  const pairs = await rows<{ a: number; b: number; m2: number }>(
    tx,
    sql`select a.i as a, b.i as b, ST_Area(ST_Intersection(a.mv, b.mv)::geography)::float8 as m2
          from imp a join imp b on a.i < b.i and a.mv && b.mv and ST_Intersects(a.mv, b.mv)
         where not ST_IsEmpty(a.mv) and not ST_IsEmpty(b.mv)`,
  );
  const existing = await rows<{ i: number; code: string; name: string; m2: number }>(
    tx,
    sql`select a.i, s.code, s.name, ST_Area(ST_Intersection(a.mv, s.geom)::geography)::float8 as m2
          from imp a join jurisdiction_node s on s.parent_id = ${parentId} and s.retired_at is null and s.geom is not null
           and s.geom && a.mv and ST_Intersects(a.mv, s.geom)
         where not ST_IsEmpty(a.mv)`,
  );
  const [cover] = await rows<{ parent_area: number | null; covered: number | null }>(
    tx,
    sql`select ST_Area(p.geom::geography)::float8 as parent_area,
          (select ST_Area(ST_Intersection(p.geom, ST_Union(u.g))::geography)::float8 from (
             select mv as g from imp where mv is not null and not ST_IsEmpty(mv)
             union all select s.geom from jurisdiction_node s where s.parent_id = p.id and s.retired_at is null and s.geom is not null) u) as covered
        from jurisdiction_node p where p.id = ${parentId}`,
  );
  return {
    measured,
    pairs: pairs.map((p) => ({ a: Number(p.a), b: Number(p.b), m2: Number(p.m2) })).filter((p) => p.m2 > NOISE_M2),
    existing: existing.map((e) => ({ ...e, i: Number(e.i), m2: Number(e.m2) })).filter((e) => e.m2 > NOISE_M2),
    parentArea: cover?.parent_area === null || cover?.parent_area === undefined ? null : Number(cover.parent_area),
    covered: Number(cover?.covered ?? 0),
  };
}

interface FixFacts {
  i: number;
  made_valid: boolean;
  snapped: boolean;
  a_valid: number;
  a_clip: number;
  a_exist: number;
  a_file: number;
  parts_before: number;
  parts_after: number;
  a_final: number;
  perimeter: number;
}

/** Repair `imp.geom` in place; answers what was done per feature and the indexes dropped as slivers. */
async function repair(tx: Executor, parentId: string, parent: ParentNode): Promise<{ fixes: Fix[]; dropped: Set<number> }> {
  const area = (col: string) => sql.raw(`coalesce(ST_Area(${col}::geography), 0)::float8`);
  const polygonal = (expr: SQL) => sql`ST_CollectionExtract(ST_MakeValid(${expr}), 3)`;
  await tx.execute(sql`update imp set made_valid = not ST_IsValid(geom), geom = ${polygonal(sql`geom`)}`);
  await tx.execute(sql`update imp set geom = ${polygonal(sql`ST_SnapToGrid(geom, ${SNAP_GRID}::float8)`)}`);
  await tx.execute(sql`update imp set g_grid = geom`);
  // Snap to the boundaries of the parent and the live siblings within the tolerance.
  await tx.execute(sql`update imp set geom = ${polygonal(sql`ST_Snap(imp.geom, t.g, ${SNAP_TOLERANCE}::float8)`)}
      from (select a.i, ST_Collect(s.geom) as g from imp a
              join (select geom from jurisdiction_node where (parent_id = ${parentId} and retired_at is null) or id = ${parentId}) s
                on s.geom is not null and s.geom && ST_Expand(a.geom, ${SNAP_TOLERANCE}::float8)
             where not ST_IsEmpty(a.geom) group by a.i) t
     where t.i = imp.i`);
  await tx.execute(sql`update imp set snapped = not ST_Equals(ST_SnapToGrid(geom, ${SNAP_GRID}::float8), g_grid), a_valid = ${area('geom')}`);
  await tx.execute(sql`update imp set geom = ST_CollectionExtract(ST_Intersection(imp.geom, p.geom), 3)
      from jurisdiction_node p where p.id = ${parentId} and p.geom is not null`);
  await tx.execute(sql`update imp set a_clip = ${area('geom')}`);
  await tx.execute(sql`update imp set geom = coalesce((
        select ST_CollectionExtract(ST_Difference(imp.geom, ST_Union(s.geom)), 3) from jurisdiction_node s
         where s.parent_id = ${parentId} and s.retired_at is null and s.geom && imp.geom and ST_Intersects(s.geom, imp.geom)), imp.geom)`);
  await tx.execute(sql`update imp set a_exist = ${area('geom')}`);
  // Earlier features win: each feature loses what the features before it in the file already cover.
  await tx.execute(sql`create temp table imp0 on commit drop as select i, geom from imp where geom is not null and not ST_IsEmpty(geom)`);
  await tx.execute(sql`create index on imp0 using gist (geom)`);
  await tx.execute(sql`update imp set geom = coalesce((
        select ST_CollectionExtract(ST_Difference(imp.geom, ST_Union(b.geom)), 3) from imp0 b
         where b.i < imp.i and b.geom && imp.geom and ST_Intersects(b.geom, imp.geom)), imp.geom)`);
  await tx.execute(sql`update imp set a_file = ${area('geom')}, parts_before = ST_NumGeometries(geom)`);
  // Drop parts below the sliver area (crumbs left by clipping and subtraction).
  await tx.execute(sql`update imp set geom = coalesce((
        select ST_Multi(ST_Collect(d.geom)) from ST_Dump(imp.geom) d where ST_Area(d.geom::geography) >= ${SLIVER_M2}), ST_GeomFromText('MULTIPOLYGON EMPTY', 4326))
      where not ST_IsEmpty(geom)`);
  await tx.execute(sql`update imp set parts_after = ST_NumGeometries(geom)`);
  const facts = await rows<FixFacts>(
    tx,
    sql`select i, made_valid, snapped, a_valid, a_clip, a_exist, a_file, coalesce(parts_before, 0)::int as parts_before,
          coalesce(parts_after, 0)::int as parts_after, ${area('geom')} as a_final, coalesce(ST_Perimeter(geom::geography), 0)::float8 as perimeter
        from imp where geom is not null order by i`,
  );
  const codes = await rows<{ i: number; code: string | null }>(tx, sql`select i, code from imp`);
  const codeOf = new Map(codes.map((c) => [Number(c.i), c.code]));
  const fixes: Fix[] = [];
  const dropped = new Set<number>();
  for (const f of facts) {
    const i = Number(f.i);
    const code = codeOf.get(i) ?? null;
    const add = (kind: Fix['kind'], message: string) => fixes.push({ featureIndex: i, code, kind, message });
    if (f.made_valid) add('made_valid', `${label(code, i)}: the invalid outline was repaired (make-valid), keeping its polygonal parts.`);
    if (f.snapped) add('snapped', `${label(code, i)}: vertices within ${SNAP_TOLERANCE}° (~0.5 m) of ${parent.name}'s or a neighbouring grid's boundary were snapped onto it.`);
    const clip = Number(f.a_valid) - Number(f.a_clip);
    if (clip > NOISE_M2) add('clipped_to_parent', `${label(code, i)}: ${m2(clip)} outside ${parent.name} (${parent.code}) was cut off.`);
    const exist = Number(f.a_clip) - Number(f.a_exist);
    if (exist > NOISE_M2) add('removed_overlap_existing', `${label(code, i)}: ${m2(exist)} already covered by existing grids of ${parent.name} was removed.`);
    const file = Number(f.a_exist) - Number(f.a_file);
    if (file > NOISE_M2) add('removed_overlap_in_file', `${label(code, i)}: ${m2(file)} already covered by earlier features of the file was removed.`);
    const crumbs = Number(f.parts_before) - Number(f.parts_after);
    const a = Number(f.a_final);
    const p = Number(f.perimeter);
    const compact = p > 0 ? (4 * Math.PI * a) / (p * p) : 0;
    if (a < SLIVER_M2 || compact < SLIVER_COMPACTNESS) {
      dropped.add(i);
      add('dropped_sliver', `${label(code, i)} was dropped: what remains is a sliver (${m2(a)}${a >= SLIVER_M2 ? `, compactness ${compact.toFixed(3)}` : ''}).`);
    } else if (crumbs > 0) {
      add('dropped_parts', `${label(code, i)}: ${crumbs} part(s) smaller than ${SLIVER_M2} m² were dropped.`);
    }
  }
  if (dropped.size) {
    await tx.execute(sql`update imp set geom = null where i in (select (jsonb_array_elements_text(${JSON.stringify([...dropped])}::jsonb))::int)`);
  }
  return { fixes, dropped };
}

/**
 * Validate (and with `fix`, repair) the features of a file against the parent node and its live
 * children. Nothing is written: the work runs in a transaction that is rolled back.
 */
export async function validateImport(
  database: Database,
  parent: ParentNode,
  parsed: ParsedFile,
  opts: ImportOptions,
): Promise<{ report: ImportReport; input: ImportInput }> {
  const findings: Finding[] = [...parsed.findings];
  const add = (featureIndex: number | null, code: string | null, severity: Finding['severity'], kind: Finding['kind'], message: string, fixable = false) =>
    findings.push({ featureIndex, code, severity, kind, message, fixable });

  // Attributes: codes and names.
  const firstByCode = new Map<string, number>();
  for (const f of parsed.features) {
    const l = label(f.code, f.index);
    if (!f.code) add(f.index, null, 'error', 'missing_code', `${l} has no code${parsed.codeField ? ` in the field "${parsed.codeField}"` : ''}; give every grid a unique code.`);
    else if (f.code.length > 40 || !CODE_RE.test(f.code)) add(f.index, f.code, 'error', 'bad_code', `${l}: the code "${f.code.slice(0, 50)}" may only use letters, digits, dash and underscore (at most 40).`);
    else {
      const first = firstByCode.get(f.code);
      if (first !== undefined) add(f.index, f.code, 'error', 'duplicate_code_in_file', `${l}: the code ${f.code} is already used by feature ${first + 1} of the file; codes must be unique.`);
      else firstByCode.set(f.code, f.index);
    }
    if (!f.name) add(f.index, f.code, 'error', 'missing_name', `${l} has no name${parsed.nameField ? ` in the field "${parsed.nameField}"` : ''}; give every grid a name.`);
    else if (f.name.length > 80) add(f.index, f.code, 'error', 'bad_name', `${l}: the name is longer than 80 characters.`);
    if (f.problem) add(f.index, f.code, 'error', f.problem.kind, `${l}: ${f.problem.message}.`);
  }

  const withGeometry = parsed.features.filter((f) => f.geometry !== null);
  const outcome = await database.db
    .transaction(async (tx) => {
      const codes = [...firstByCode.keys()];
      const taken = new Set<string>();
      for (let i = 0; i < codes.length; i += 5000) {
        const found = await rows<{ code: string; name: string; retired: boolean }>(
          tx,
          sql`select code, name, retired_at is not null as retired from jurisdiction_node
               where code in (select jsonb_array_elements_text(${JSON.stringify(codes.slice(i, i + 5000))}::jsonb))`,
        );
        for (const r of found) {
          taken.add(r.code);
          const index = firstByCode.get(r.code)!;
          add(index, r.code, 'error', 'duplicate_code_existing', `${label(r.code, index)}: the code ${r.code} is already used by ${r.name}${r.retired ? ' (retired)' : ''}; choose another code.`);
        }
      }

      await tx.execute(sql`create temp table imp (i int primary key, code text, raw geometry, geom geometry, mv geometry, g_grid geometry,
          made_valid boolean, snapped boolean, a_valid float8, a_clip float8, a_exist float8, a_file float8, parts_before int, parts_after int) on commit drop`);
      const insert = async (batch: typeof withGeometry) =>
        tx.execute(sql`insert into imp (i, code, raw, geom)
          select r.i, r.code, x.geom, x.geom from jsonb_to_recordset(${JSON.stringify(batch.map((f) => ({ i: f.index, code: f.code, g: JSON.stringify(f.geometry) })))}::jsonb)
            as r(i int, code text, g text), lateral (select ST_SetSRID(ST_GeomFromGeoJSON(r.g), 4326) as geom) x`);
      for (let i = 0; i < withGeometry.length; i += 500) {
        const batch = withGeometry.slice(i, i + 500);
        try {
          await tx.transaction(async () => {
            await insert(batch);
          });
        } catch {
          // One unreadable geometry spoils its batch: retry one by one to name it.
          for (const f of batch) {
            try {
              await tx.transaction(async () => {
                await insert([f]);
              });
            } catch (err) {
              add(f.index, f.code, 'error', 'unreadable_geometry', `${label(f.code, f.index)}: PostGIS cannot read the geometry (${causeMessage(err).slice(0, 160)}).`);
            }
          }
        }
      }
      await tx.execute(sql`create index on imp using gist (mv)`);

      let fixes: Fix[] = [];
      let dropped = new Set<number>();
      if (opts.fix) ({ fixes, dropped } = await repair(tx, parent.id, parent));
      const facts = await measure(tx, parent.id);
      const fixed = opts.fix
        ? await rows<{ i: number; geojson: string }>(tx, sql`select i, ST_AsGeoJSON(ST_Multi(geom), 9) as geojson from imp where geom is not null and not ST_IsEmpty(geom)`)
        : [];
      throw new Rollback({ taken, fixes, dropped, facts, fixed });
    })
    .catch((err: unknown) => {
      if (err instanceof Rollback) return err.value as { taken: Set<string>; fixes: Fix[]; dropped: Set<number>; facts: Facts; fixed: { i: number; geojson: string }[] };
      throw err;
    });

  const { fixes, dropped, facts } = outcome;
  const byIndex = new Map(parsed.features.map((f) => [f.index, f]));
  for (const [i, m] of facts.measured) {
    if (dropped.has(i)) continue;
    const f = byIndex.get(i)!;
    const l = label(f.code, i);
    if (m.empty) {
      add(i, f.code, 'error', 'empty_geometry', `${l}: the polygon has no area${opts.fix ? ' left after the fixes' : ''}.`);
      continue;
    }
    if (!m.valid) add(i, f.code, 'error', 'invalid_geometry', `${l}: ${describeInvalid(m.reason)}; redraw it, or import with fix=true to repair it.`, true);
    const compact = m.perimeter > 0 ? (4 * Math.PI * m.area) / (m.perimeter * m.perimeter) : 0;
    if (m.area < SLIVER_M2) add(i, f.code, 'error', 'sliver', `${l} is a sliver of ${m2(m.area)} (less than ${SLIVER_M2} m²): remove it, or import with fix=true to drop it.`, true);
    else if (compact < SLIVER_COMPACTNESS) {
      add(i, f.code, 'error', 'sliver', `${l} is a very thin strip (compactness ${compact.toFixed(3)}, ${m2(m.area)}): check its outline, or import with fix=true to drop it.`, true);
    }
    if (facts.parentArea !== null && m.outside > NOISE_M2) {
      const share = m.area > 0 ? m.outside / m.area : 1;
      add(i, f.code, share > AREA_TOLERANCE ? 'error' : 'warning', 'outside_parent',
        `${l}: ${m2(m.outside)} (${pct(share)}) lies outside ${parent.name} (${parent.code}); fix=true clips it to the parent.`, true);
    }
  }
  for (const p of facts.pairs) {
    if (dropped.has(p.a) || dropped.has(p.b)) continue;
    const a = byIndex.get(p.a)!;
    const b = byIndex.get(p.b)!;
    const smaller = Math.min(facts.measured.get(p.a)?.area ?? 0, facts.measured.get(p.b)?.area ?? 0);
    const share = smaller > 0 ? p.m2 / smaller : 1;
    add(p.b, b.code, share > AREA_TOLERANCE ? 'error' : 'warning', 'overlap_in_file',
      `${label(b.code, p.b)} overlaps ${label(a.code, p.a)} by ${m2(p.m2)} (${pct(share)} of the smaller); fix=true gives the overlap to the earlier feature.`, true);
  }
  for (const e of facts.existing) {
    if (dropped.has(e.i)) continue;
    const f = byIndex.get(e.i)!;
    const area = facts.measured.get(e.i)?.area ?? 0;
    const share = area > 0 ? e.m2 / area : 1;
    add(e.i, f.code, share > AREA_TOLERANCE ? 'error' : 'warning', 'overlap_existing',
      `${label(f.code, e.i)} overlaps the existing grid ${e.name} (${e.code}) by ${m2(e.m2)} (${pct(share)}); fix=true removes the overlap from the imported feature.`, true);
  }
  let gapM2 = 0;
  if (facts.parentArea === null) {
    add(null, null, 'warning', 'gap', `${parent.name} (${parent.code}) has no polygon: features cannot be checked against it.`);
  } else {
    gapM2 = Math.max(0, facts.parentArea - facts.covered);
    const share = facts.parentArea > 0 ? gapM2 / facts.parentArea : 0;
    if (gapM2 > NOISE_M2 && share > AREA_TOLERANCE / 10) {
      add(null, null, 'warning', 'gap',
        `${m2(gapM2)} (${pct(share)}) of ${parent.name} (${parent.code}) is covered neither by its existing grids nor by the file: points there resolve to no ${opts.level}. Add grids for it if the file should cover the whole ${parent.level}.`);
    }
  }

  // Summaries per feature and overall.
  const worst = new Map<number, 'error' | 'warning'>();
  for (const f of findings) {
    if (f.featureIndex === null) continue;
    if (f.severity === 'error' || !worst.has(f.featureIndex)) worst.set(f.featureIndex, f.severity);
  }
  const fixedGeom = new Map(outcome.fixed.map((r) => [Number(r.i), JSON.parse(r.geojson) as AreaGeom]));
  const features: FeatureSummary[] = parsed.features.map((f) => ({
    index: f.index,
    code: f.code,
    name: f.name,
    areaM2: Math.round((facts.measured.get(f.index)?.area ?? 0) * 10) / 10,
    status: dropped.has(f.index) ? 'dropped' : (worst.get(f.index) ?? 'ok'),
  }));
  const input: ImportInput = {
    parentId: parent.id,
    level: opts.level,
    features: parsed.features
      .filter((f) => !dropped.has(f.index) && f.code && f.name && f.geometry)
      .map((f) => ({ index: f.index, code: f.code!, name: f.name!, geometry: opts.fix ? (fixedGeom.get(f.index) ?? f.geometry!) : f.geometry! })),
  };
  findings.sort((a, b) => (a.featureIndex ?? -1) - (b.featureIndex ?? -1) || (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  const importable = features.filter((f) => f.status === 'ok' || f.status === 'warning').length;
  if (parsed.features.length === 0) add(null, null, 'error', 'file', 'The file holds no features.');
  const errorsTotal = findings.filter((f) => f.severity === 'error').length;
  const report: ImportReport = {
    parent: { id: parent.id, code: parent.code, name: parent.name, level: parent.level },
    fileName: opts.fileName,
    format: parsed.format,
    level: opts.level,
    crs: opts.crs,
    fix: opts.fix,
    encoding: parsed.encoding,
    codeField: parsed.codeField,
    nameField: parsed.nameField,
    summary: {
      features: parsed.features.length,
      importable,
      errors: errorsTotal,
      warnings: findings.length - errorsTotal,
      fixed: new Set(fixes.map((f) => f.featureIndex)).size,
      dropped: dropped.size,
      areaM2: Math.round(features.reduce((s, f) => s + (f.status === 'dropped' ? 0 : f.areaM2), 0)),
      parentAreaM2: Math.round(facts.parentArea ?? 0),
      coveredM2: Math.round(facts.covered),
      gapM2: Math.round(gapM2),
      canCommit: errorsTotal === 0 && input.features.length > 0,
    },
    findings,
    fixes,
    features,
  };
  return { report, input };
}
