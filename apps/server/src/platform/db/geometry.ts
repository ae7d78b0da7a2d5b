import { customType } from 'drizzle-orm/pg-core';

/**
 * PostGIS geometry in SRID 4326 (WGS-84). Reads come back as EWKB hex; services select
 * ST_AsGeoJSON(...) when they need the shape, and write with ST_GeomFromGeoJSON.
 */
export const geometry = (name: string, kind: 'Geometry' | 'MultiPolygon' | 'Point' = 'Geometry') =>
  customType<{ data: string; driverData: string }>({
    dataType() {
      return `geometry(${kind}, 4326)`;
    },
  })(name);
