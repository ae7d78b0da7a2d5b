/**
 * Reading import files: GeoJSON (FeatureCollection, Feature or a bare geometry) and zipped
 * Shapefiles (.shp + .dbf, optional .prj and .cpg). Positions are converted to WGS-84 from the
 * coordinate system the caller names. Anything that cannot be read becomes a finding, never a throw,
 * except a file that is not what it claims to be (ImportFileError).
 */
import { unzipSync } from 'fflate';
import shapefile from 'shapefile';
import type { Crs } from '@pingan/contracts';
import { convert } from '../geo/coords.js';
import type { AreaGeom, Finding, ParsedFeature } from './types.js';

export const MAX_FEATURES = 100_000;
/** Uncompressed size allowed for the members of a shapefile zip. */
const MAX_UNZIPPED = 400 * 1024 * 1024;

export class ImportFileError extends Error {}

const CODE_FIELDS = ['code', '编码', '网格编码', '网格代码', '代码', 'wgbm', 'grid_code', 'gridcode', 'bm', 'dm'];
const NAME_FIELDS = ['name', '名称', '网格名称', '网格名', 'wgmc', 'grid_name', 'gridname', 'mc'];

export interface ParsedFile {
  format: 'geojson' | 'shapefile';
  features: ParsedFeature[];
  findings: Finding[];
  encoding: string | null;
  codeField: string | null;
  nameField: string | null;
}

export interface ParseOptions {
  crs: Crs;
  codeField?: string | undefined;
  nameField?: string | undefined;
}

interface RawFeature {
  properties: Record<string, unknown>;
  geometry: unknown;
}

/** The property key to read: the one asked for, else the first common name present (case-insensitive). */
function pickField(features: RawFeature[], asked: string | undefined, candidates: string[]): string | null {
  const keys = new Set<string>();
  for (const f of features.slice(0, 200)) for (const k of Object.keys(f.properties)) keys.add(k);
  if (asked) {
    if (keys.has(asked)) return asked;
    const ci = [...keys].find((k) => k.toLowerCase() === asked.toLowerCase());
    return ci ?? asked;
  }
  for (const c of candidates) {
    const found = [...keys].find((k) => k.trim().toLowerCase() === c);
    if (found) return found;
  }
  return null;
}

const text = (v: unknown): string | null => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? (Number.isInteger(v) ? v.toFixed(0) : String(v)) : null;
  if (typeof v !== 'string') return null;
  const s = v.replace(/\u0000/g, '').trim();
  return s.length ? s : null;
};

const isPosition = (p: unknown): p is number[] =>
  Array.isArray(p) && p.length >= 2 && typeof p[0] === 'number' && typeof p[1] === 'number';

type Problem = NonNullable<ParsedFeature['problem']>;

/** Check a ring's shape, close it when only the closing position is missing, convert it to WGS-84. */
function readRing(ring: unknown, crs: Crs): number[][] | Problem {
  if (!Array.isArray(ring)) return { kind: 'unreadable_geometry', message: 'a ring is not a list of positions' };
  const out: number[][] = [];
  for (const p of ring) {
    if (!isPosition(p)) return { kind: 'unreadable_geometry', message: 'a position is not a pair of numbers' };
    const [x, y] = p as [number, number];
    if (!Number.isFinite(x) || !Number.isFinite(y)) return { kind: 'unreadable_geometry', message: 'a position is not a finite number' };
    if (x < -180 || x > 180 || y < -90 || y > 90) {
      return {
        kind: 'coordinates_out_of_range',
        message: `position (${x}, ${y}) is not a longitude/latitude: the file seems to use projected coordinates (e.g. CGCS2000 Gauss-Krüger); export it in longitude/latitude`,
      };
    }
    out.push(convert(x, y, crs, 'WGS84'));
  }
  if (out.length > 0) {
    const a = out[0]!;
    const b = out[out.length - 1]!;
    if (a[0] !== b[0] || a[1] !== b[1]) out.push([a[0]!, a[1]!]);
  }
  if (out.length < 4) return { kind: 'invalid_geometry', message: `a ring has ${Math.max(0, out.length - 1)} distinct corners; a polygon ring needs at least 3` };
  return out;
}

function readPolygon(poly: unknown, crs: Crs): number[][][] | Problem {
  if (!Array.isArray(poly) || poly.length === 0) return { kind: 'empty_geometry', message: 'the polygon has no rings' };
  const rings: number[][][] = [];
  for (const r of poly) {
    const ring = readRing(r, crs);
    if (!Array.isArray(ring)) return ring;
    rings.push(ring);
  }
  return rings;
}

/** A GeoJSON geometry → a WGS-84 polygon or multipolygon, or the reason it is none. */
export function readGeometry(g: unknown, crs: Crs): { geometry: AreaGeom | null; type: string | null; problem?: Problem } {
  if (g === null || g === undefined) return { geometry: null, type: null, problem: { kind: 'empty_geometry', message: 'the feature has no geometry' } };
  if (typeof g !== 'object' || Array.isArray(g)) return { geometry: null, type: null, problem: { kind: 'unreadable_geometry', message: 'the geometry is not a GeoJSON object' } };
  const { type, coordinates } = g as { type?: unknown; coordinates?: unknown };
  const t = typeof type === 'string' ? type : null;
  if (t === 'GeometryCollection') {
    const polys = ((g as { geometries?: unknown }).geometries ?? []) as unknown[];
    const parts: number[][][][] = [];
    for (const member of Array.isArray(polys) ? polys : []) {
      const r = readGeometry(member, crs);
      if (r.geometry?.type === 'Polygon') parts.push(r.geometry.coordinates as number[][][]);
      else if (r.geometry?.type === 'MultiPolygon') parts.push(...(r.geometry.coordinates as number[][][][]));
    }
    if (parts.length === 0) return { geometry: null, type: t, problem: { kind: 'not_polygon', message: 'the geometry collection holds no polygon' } };
    return { geometry: { type: 'MultiPolygon', coordinates: parts }, type: t };
  }
  if (t !== 'Polygon' && t !== 'MultiPolygon') {
    return {
      geometry: null,
      type: t,
      problem: t
        ? { kind: 'not_polygon', message: `the geometry is a ${t}; a grid needs a Polygon or MultiPolygon` }
        : { kind: 'unreadable_geometry', message: 'the geometry has no type' },
    };
  }
  if (!Array.isArray(coordinates) || coordinates.length === 0) return { geometry: null, type: t, problem: { kind: 'empty_geometry', message: `the ${t} has no coordinates` } };
  if (t === 'Polygon') {
    const p = readPolygon(coordinates, crs);
    return Array.isArray(p) ? { geometry: { type: 'Polygon', coordinates: p }, type: t } : { geometry: null, type: t, problem: p };
  }
  const polys: number[][][][] = [];
  for (const c of coordinates) {
    const p = readPolygon(c, crs);
    if (!Array.isArray(p)) return { geometry: null, type: t, problem: p };
    polys.push(p);
  }
  return { geometry: { type: 'MultiPolygon', coordinates: polys }, type: t };
}

function toFeatures(raw: RawFeature[], opts: ParseOptions, format: ParsedFile['format'], encoding: string | null, findings: Finding[] = []): ParsedFile {
  if (raw.length > MAX_FEATURES) throw new ImportFileError(`The file holds ${raw.length} features; an import takes at most ${MAX_FEATURES}. Split it by station or town.`);
  const codeField = pickField(raw, opts.codeField, CODE_FIELDS);
  const nameField = pickField(raw, opts.nameField, NAME_FIELDS);
  if (raw.length > 0 && !codeField) {
    findings.push({
      featureIndex: null,
      code: null,
      severity: 'error',
      kind: 'file',
      message: `No code field found (tried ${CODE_FIELDS.join(', ')}); name the field holding grid codes with codeField.`,
      fixable: false,
    });
  }
  if (raw.length > 0 && !nameField) {
    findings.push({
      featureIndex: null,
      code: null,
      severity: 'error',
      kind: 'file',
      message: `No name field found (tried ${NAME_FIELDS.join(', ')}); name the field holding grid names with nameField.`,
      fixable: false,
    });
  }
  const features = raw.map((f, index): ParsedFeature => {
    const g = readGeometry(f.geometry, opts.crs);
    return {
      index,
      code: codeField ? text(f.properties[codeField]) : null,
      name: nameField ? text(f.properties[nameField]) : null,
      geometry: g.geometry,
      geometryType: g.type,
      ...(g.problem ? { problem: g.problem } : {}),
    };
  });
  return { format, features, findings, encoding, codeField, nameField };
}

const props = (p: unknown): Record<string, unknown> => (p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {});

/** A parsed GeoJSON value (object) or its text (buffer). */
export function parseGeoJson(input: unknown, opts: ParseOptions): ParsedFile {
  let doc: unknown = input;
  if (Buffer.isBuffer(input) || input instanceof Uint8Array || typeof input === 'string') {
    const s = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
    try {
      doc = JSON.parse(s.replace(/^\uFEFF/, ''));
    } catch (err) {
      throw new ImportFileError(`The file is not valid JSON: ${(err as Error).message.slice(0, 120)}.`);
    }
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ImportFileError('The file is not a GeoJSON object (FeatureCollection, Feature or geometry).');
  const o = doc as { type?: unknown; features?: unknown; properties?: unknown; geometry?: unknown };
  let raw: RawFeature[];
  if (o.type === 'FeatureCollection') {
    if (!Array.isArray(o.features)) throw new ImportFileError('The FeatureCollection has no "features" list.');
    raw = o.features.map((f) => {
      const ff = props(f) as { properties?: unknown; geometry?: unknown };
      return { properties: props(ff.properties), geometry: ff.geometry ?? null };
    });
  } else if (o.type === 'Feature') {
    raw = [{ properties: props(o.properties), geometry: o.geometry ?? null }];
  } else if (typeof o.type === 'string' && ['Polygon', 'MultiPolygon', 'GeometryCollection', 'Point', 'LineString', 'MultiPoint', 'MultiLineString'].includes(o.type)) {
    raw = [{ properties: {}, geometry: o }];
  } else {
    throw new ImportFileError('The file is not GeoJSON: its "type" is neither FeatureCollection, Feature nor a geometry.');
  }
  return toFeatures(raw, opts, 'geojson', null);
}

const ENCODINGS: Record<string, string> = {
  '936': 'gbk', cp936: 'gbk', gbk: 'gbk', gb2312: 'gbk', 'gb-2312': 'gbk', 'ansi 936': 'gbk',
  gb18030: 'gb18030', '54936': 'gb18030',
  '65001': 'utf-8', 'utf-8': 'utf-8', utf8: 'utf-8',
  big5: 'big5', '950': 'big5',
  '1252': 'windows-1252', 'windows-1252': 'windows-1252', latin1: 'windows-1252', 'iso-8859-1': 'windows-1252', '88591': 'windows-1252',
};

function encodingFromCpg(cpg: string): string | null {
  const label = cpg.trim().toLowerCase();
  if (!label) return null;
  const known = ENCODINGS[label] ?? ENCODINGS[label.replace(/^(cp|windows-|ansi\s*)/, '')];
  if (known) return known;
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return null;
  }
}

/** The attribute bytes of a .dbf (field names and records) are valid UTF-8. */
function dbfIsUtf8(dbf: Uint8Array): boolean {
  if (dbf.length < 32) return true;
  const view = new DataView(dbf.buffer, dbf.byteOffset, dbf.byteLength);
  const headerLength = view.getUint16(8, true);
  const chunks: Uint8Array[] = [];
  for (let n = 32; n + 32 <= headerLength && dbf[n] !== 0x0d; n += 32) {
    const nameBytes = dbf.subarray(n, n + 11);
    const end = nameBytes.indexOf(0);
    chunks.push(nameBytes.subarray(0, end < 0 ? 11 : end));
  }
  chunks.push(dbf.subarray(Math.min(headerLength, dbf.length)));
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for (const c of chunks) decoder.decode(c);
    return true;
  } catch {
    return false;
  }
}

/** A .zip holding one shapefile. Attributes are decoded as the .cpg says, else UTF-8 when valid, else GBK. */
export async function parseShapefileZip(zip: Uint8Array, opts: ParseOptions): Promise<ParsedFile> {
  let files: Record<string, Uint8Array>;
  let total = 0;
  try {
    files = unzipSync(zip, {
      filter: (f) => {
        const keep = /\.(shp|dbf|prj|cpg)$/i.test(f.name) && !/(^|\/)__MACOSX\//.test(f.name);
        if (keep) total += f.originalSize;
        if (total > MAX_UNZIPPED) throw new ImportFileError('The shapefile inside the zip is larger than 400 MB unpacked; split it.');
        return keep;
      },
    });
  } catch (err) {
    if (err instanceof ImportFileError) throw err;
    throw new ImportFileError(`The file is not a readable zip archive: ${(err as Error).message.slice(0, 120)}.`);
  }
  const names = Object.keys(files);
  const shps = names.filter((n) => /\.shp$/i.test(n));
  if (shps.length === 0) throw new ImportFileError('The zip holds no .shp file; zip the .shp, .dbf, .shx, .prj and .cpg of one layer together.');
  if (shps.length > 1) throw new ImportFileError(`The zip holds ${shps.length} shapefiles (${shps.slice(0, 5).join(', ')}); send one layer per import.`);
  const base = shps[0]!.replace(/\.shp$/i, '');
  const member = (ext: string) => names.find((n) => n.toLowerCase() === `${base}.${ext}`.toLowerCase());
  const dbfName = member('dbf');
  if (!dbfName) throw new ImportFileError(`The zip holds ${shps[0]} but no ${base}.dbf; the attributes (codes and names) live in the .dbf.`);
  const dbf = files[dbfName]!;
  const findings: Finding[] = [];
  const prjName = member('prj');
  if (prjName) {
    const prj = new TextDecoder('utf-8').decode(files[prjName]!);
    if (/^\s*PROJCS/i.test(prj)) {
      throw new ImportFileError(
        `The shapefile uses a projected coordinate system (${(prj.match(/PROJCS\["([^"]+)"/i)?.[1] ?? 'PROJCS').slice(0, 80)}); reproject it to longitude/latitude (WGS-84, CGCS2000, GCJ-02 or BD-09) first.`,
      );
    }
  }
  const cpgName = member('cpg');
  let encoding = cpgName ? encodingFromCpg(new TextDecoder('utf-8').decode(files[cpgName]!)) : null;
  if (cpgName && !encoding) {
    findings.push({ featureIndex: null, code: null, severity: 'warning', kind: 'file', message: 'The .cpg names an unknown encoding; the attributes were read as GBK or UTF-8 by their content.', fixable: false });
  }
  encoding ??= dbfIsUtf8(dbf) ? 'utf-8' : 'gbk';
  const raw: RawFeature[] = [];
  try {
    const source = await shapefile.open(files[shps[0]!]!, dbf, { encoding });
    for (let r = await source.read(); !r.done; r = await source.read()) {
      if (raw.length > MAX_FEATURES) break;
      raw.push({ properties: props(r.value?.properties), geometry: r.value?.geometry ?? null });
    }
  } catch (err) {
    if (err instanceof ImportFileError) throw err;
    throw new ImportFileError(`The shapefile could not be read: ${(err as Error).message.slice(0, 120)}.`);
  }
  return toFeatures(raw, opts, 'shapefile', encoding, findings);
}

/** Read a file by its content type (or its first bytes when the type says little). */
export async function parseImportFile(body: unknown, contentType: string, opts: ParseOptions): Promise<ParsedFile> {
  const bytes = Buffer.isBuffer(body) ? body : body instanceof Uint8Array ? Buffer.from(body) : null;
  const isZip = bytes !== null && bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b;
  if (/zip/.test(contentType) || isZip) {
    if (!bytes) throw new ImportFileError('Send the zip as the raw request body.');
    return parseShapefileZip(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), opts);
  }
  return parseGeoJson(bytes ?? body, opts);
}
