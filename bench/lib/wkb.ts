/** Hex EWKB (SRID 4326, little-endian) of a MultiPolygon, for fast loading (geometry_in parses it directly). */
import type { MultiPolygon } from 'geojson';

export function multiPolygonHexEwkb(g: MultiPolygon, srid = 4326): string {
  let size = 1 + 4 + 4 + 4;
  for (const poly of g.coordinates) {
    size += 1 + 4 + 4;
    for (const ring of poly) size += 4 + 16 * ring.length;
  }
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  buf.writeUInt8(1, o); o += 1;
  buf.writeUInt32LE(6 | 0x20000000, o); o += 4;
  buf.writeUInt32LE(srid, o); o += 4;
  buf.writeUInt32LE(g.coordinates.length, o); o += 4;
  for (const poly of g.coordinates) {
    buf.writeUInt8(1, o); o += 1;
    buf.writeUInt32LE(3, o); o += 4;
    buf.writeUInt32LE(poly.length, o); o += 4;
    for (const ring of poly) {
      buf.writeUInt32LE(ring.length, o); o += 4;
      for (const [x, y] of ring) {
        buf.writeDoubleLE(x, o); o += 8;
        buf.writeDoubleLE(y, o); o += 8;
      }
    }
  }
  return buf.toString('hex');
}
