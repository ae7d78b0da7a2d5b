// The `shapefile` package (mbostock) ships no types; only what the import uses is declared.
declare module 'shapefile' {
  import type { Geometry } from 'geojson';
  export interface ShapefileFeature {
    type: 'Feature';
    properties: Record<string, unknown> | null;
    geometry: Geometry | null;
    bbox?: number[];
  }
  export interface ShapefileSource {
    bbox: number[];
    read(): Promise<{ done: boolean; value: ShapefileFeature | undefined }>;
    cancel(): Promise<void>;
  }
  export function open(
    shp: ArrayBuffer | Uint8Array,
    dbf?: ArrayBuffer | Uint8Array,
    options?: { encoding?: string },
  ): Promise<ShapefileSource>;
  const shapefile: { open: typeof open };
  export default shapefile;
}
