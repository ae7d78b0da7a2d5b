/**
 * A minimal Shapefile writer for tests: polygon .shp + .shx + .dbf (character fields) zipped with
 * an optional .cpg and .prj. Attribute text goes through the encoder given (UTF-8 by default);
 * `gbk` encodes the few Chinese characters the tests use from pre-computed GBK bytes.
 */
import { zipSync } from 'fflate';

export interface ShapefileFeatureInput {
  geometry: { type: 'Polygon'; coordinates: number[][][] } | { type: 'MultiPolygon'; coordinates: number[][][][] } | null;
  properties: Record<string, string>;
}

export interface ShapefileZipOptions {
  /** Text → bytes for field names and values (default UTF-8). */
  encode?: (s: string) => Uint8Array;
  /** Content of the .cpg (omitted when undefined). */
  cpg?: string;
  /** Content of the .prj (omitted when undefined). */
  prj?: string;
  /** Base name of the members in the zip. */
  name?: string;
}

/** GBK bytes of the characters the tests use (ASCII passes through). */
const GBK: Record<string, number[]> = {
  李: [0xc0, 0xee], 鹊: [0xc8, 0xb5], 村: [0xb4, 0xe5], 名: [0xc3, 0xfb], 称: [0xb3, 0xc6], 编: [0xb1, 0xe0], 码: [0xc2, 0xeb],
  网: [0xcd, 0xf8], 格: [0xb8, 0xf1], 东: [0xb6, 0xab], 西: [0xce, 0xf7], 一: [0xd2, 0xbb], 二: [0xb6, 0xfe],
};
export function gbk(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) out.push(code);
    else if (GBK[ch]) out.push(...GBK[ch]);
    else throw new Error(`no GBK bytes for ${ch} in the test table`);
  }
  return Uint8Array.from(out);
}

const signedArea = (ring: number[][]) => {
  let s = 0;
  for (let i = 0; i + 1 < ring.length; i++) s += ring[i]![0]! * ring[i + 1]![1]! - ring[i + 1]![0]! * ring[i]![1]!;
  return s / 2;
};

/** Shapefile rings: outer rings clockwise, holes counter-clockwise. */
function shpRings(g: NonNullable<ShapefileFeatureInput['geometry']>): number[][][] {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  const rings: number[][][] = [];
  for (const poly of polys) {
    poly.forEach((ring, k) => {
      const cw = signedArea(ring) < 0;
      const wantCw = k === 0;
      rings.push(cw === wantCw ? ring : [...ring].reverse());
    });
  }
  return rings;
}

function header(buf: DataView, lengthBytes: number, bbox: number[]) {
  buf.setInt32(0, 9994, false);
  buf.setInt32(24, lengthBytes / 2, false);
  buf.setInt32(28, 1000, true);
  buf.setInt32(32, 5, true);
  bbox.forEach((v, i) => buf.setFloat64(36 + i * 8, v, true));
}

export function writeShapefileZip(features: ShapefileFeatureInput[], opts: ShapefileZipOptions = {}): Uint8Array {
  const encode = opts.encode ?? ((s: string) => new TextEncoder().encode(s));
  const contents = features.map((f) => {
    if (!f.geometry) return new Uint8Array(4); // null shape (type 0)
    const rings = shpRings(f.geometry);
    const points = rings.flat();
    const bytes = new Uint8Array(44 + 4 * rings.length + 16 * points.length);
    const v = new DataView(bytes.buffer);
    const xs = points.map((p) => p[0]!);
    const ys = points.map((p) => p[1]!);
    v.setInt32(0, 5, true);
    [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)].forEach((n, i) => v.setFloat64(4 + i * 8, n, true));
    v.setInt32(36, rings.length, true);
    v.setInt32(40, points.length, true);
    let start = 0;
    rings.forEach((r, i) => {
      v.setInt32(44 + i * 4, start, true);
      start += r.length;
    });
    let o = 44 + 4 * rings.length;
    for (const p of points) {
      v.setFloat64(o, p[0]!, true);
      v.setFloat64(o + 8, p[1]!, true);
      o += 16;
    }
    return bytes;
  });
  const all = features.flatMap((f) => (f.geometry ? shpRings(f.geometry).flat() : []));
  const bbox = all.length
    ? [Math.min(...all.map((p) => p[0]!)), Math.min(...all.map((p) => p[1]!)), Math.max(...all.map((p) => p[0]!)), Math.max(...all.map((p) => p[1]!))]
    : [0, 0, 0, 0];
  const shpLength = 100 + contents.reduce((s, c) => s + 8 + c.length, 0);
  const shp = new Uint8Array(shpLength);
  const shx = new Uint8Array(100 + 8 * contents.length);
  const sv = new DataView(shp.buffer);
  const xv = new DataView(shx.buffer);
  header(sv, shpLength, bbox);
  header(xv, shx.length, bbox);
  let offset = 100;
  contents.forEach((c, i) => {
    sv.setInt32(offset, i + 1, false);
    sv.setInt32(offset + 4, c.length / 2, false);
    shp.set(c, offset + 8);
    xv.setInt32(100 + i * 8, offset / 2, false);
    xv.setInt32(104 + i * 8, c.length / 2, false);
    offset += 8 + c.length;
  });

  // .dbf: character fields wide enough for the longest encoded value.
  const fields = [...new Set(features.flatMap((f) => Object.keys(f.properties)))];
  const encoded = features.map((f) => fields.map((k) => encode(f.properties[k] ?? '')));
  const widths = fields.map((_k, j) => Math.max(1, ...encoded.map((r) => r[j]!.length)));
  const headerLength = 32 + 32 * fields.length + 1;
  const recordLength = 1 + widths.reduce((s, w) => s + w, 0);
  const dbf = new Uint8Array(headerLength + recordLength * features.length + 1);
  const dv = new DataView(dbf.buffer);
  dbf[0] = 0x03;
  dbf[1] = 126;
  dbf[2] = 1;
  dbf[3] = 1;
  dv.setUint32(4, features.length, true);
  dv.setUint16(8, headerLength, true);
  dv.setUint16(10, recordLength, true);
  fields.forEach((k, j) => {
    const at = 32 + 32 * j;
    dbf.set(encode(k).subarray(0, 10), at);
    dbf[at + 11] = 'C'.charCodeAt(0);
    dbf[at + 16] = widths[j]!;
  });
  dbf[headerLength - 1] = 0x0d;
  encoded.forEach((r, i) => {
    let at = headerLength + i * recordLength;
    dbf[at++] = 0x20;
    r.forEach((bytes, j) => {
      dbf.fill(0x20, at, at + widths[j]!);
      dbf.set(bytes, at);
      at += widths[j]!;
    });
  });
  dbf[dbf.length - 1] = 0x1a;

  const name = opts.name ?? 'grids';
  const files: Record<string, Uint8Array> = { [`${name}.shp`]: shp, [`${name}.shx`]: shx, [`${name}.dbf`]: dbf };
  if (opts.cpg !== undefined) files[`${name}.cpg`] = new TextEncoder().encode(opts.cpg);
  if (opts.prj !== undefined) files[`${name}.prj`] = new TextEncoder().encode(opts.prj);
  return zipSync(files);
}
