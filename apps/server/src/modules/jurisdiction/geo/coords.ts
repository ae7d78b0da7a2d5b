/**
 * Coordinate systems used in China: WGS-84 (GPS, our storage), GCJ-02 (AMap/Tencent, the "Mars"
 * offset), BD-09 (Baidu). Everything is stored as WGS-84; input from map SDKs is converted on entry.
 * Outside China gcoord leaves GCJ-02/BD-09 coordinates unchanged, as the providers do.
 */
import gcoordModule from 'gcoord';

// gcoord is CommonJS but its types declare `export default`; under NodeNext the default import is the
// whole module.exports object at runtime, while TypeScript expects it under `.default`.
type Gcoord = typeof gcoordModule.default;
const gcoord: Gcoord = (gcoordModule as unknown as { default?: Gcoord }).default ?? (gcoordModule as unknown as Gcoord);

export type CoordSystem = 'WGS84' | 'GCJ02' | 'BD09';

const crs = {
  WGS84: gcoord.WGS84,
  GCJ02: gcoord.GCJ02,
  BD09: gcoord.BD09,
} as const;

export function convert(lon: number, lat: number, from: CoordSystem, to: CoordSystem): [number, number] {
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) throw new RangeError('coordinates must be finite numbers');
  if (from === to) return [lon, lat];
  const [x, y] = gcoord.transform<[number, number]>([lon, lat], crs[from], crs[to]);
  return [x, y];
}

/** Convert a longitude/latitude pair from `from` to WGS-84. */
export function toWgs84(lon: number, lat: number, from: CoordSystem): [number, number] {
  return convert(lon, lat, from, 'WGS84');
}

/** Convert a WGS-84 longitude/latitude pair to `to`. */
export function fromWgs84(lon: number, lat: number, to: CoordSystem): [number, number] {
  return convert(lon, lat, 'WGS84', to);
}
