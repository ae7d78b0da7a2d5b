import { z } from 'zod';

/** Levels of the tree, top first. A child's level is always below its parent's. */
export const JURISDICTION_LEVELS = ['province', 'city', 'county', 'station', 'grid', 'micro_grid'] as const;
export const JurisdictionLevel = z.enum(JURISDICTION_LEVELS);
export type JurisdictionLevel = z.infer<typeof JurisdictionLevel>;

export const levelLabels: Record<JurisdictionLevel, { zh: string; en: string }> = {
  province: { zh: '省', en: 'Province' },
  city: { zh: '市', en: 'City' },
  county: { zh: '县（分局）', en: 'County bureau' },
  station: { zh: '派出所', en: 'Police station' },
  grid: { zh: '网格', en: 'Grid' },
  micro_grid: { zh: '微网格', en: 'Micro-grid' },
};

/** Coordinate systems: storage is WGS-84; Chinese map providers use GCJ-02 (Amap, Tencent) and BD-09 (Baidu). */
export const Crs = z.enum(['WGS84', 'GCJ02', 'BD09']);
export type Crs = z.infer<typeof Crs>;

const Position = z
  .array(z.number().finite())
  .min(2, 'a position needs longitude and latitude')
  .max(3)
  .refine((p) => Math.abs(p[0]!) <= 180 && Math.abs(p[1]!) <= 90, 'longitude must be within ±180 and latitude within ±90');
const Ring = z
  .array(Position)
  .min(4, 'a ring needs at least 4 positions (the first repeated at the end)')
  .max(200_000)
  .refine((r) => r[0]![0] === r.at(-1)![0] && r[0]![1] === r.at(-1)![1], 'a ring must end where it starts');
const PolygonCoords = z.array(Ring).min(1, 'a polygon needs an outer ring').max(10_000);

export const PolygonGeometry = z.object({ type: z.literal('Polygon'), coordinates: PolygonCoords });
export const MultiPolygonGeometry = z.object({
  type: z.literal('MultiPolygon'),
  coordinates: z.array(PolygonCoords).min(1).max(10_000),
});
/** An area as GeoJSON; a Polygon is stored as a one-part MultiPolygon. */
export const AreaGeometry = z.discriminatedUnion('type', [PolygonGeometry, MultiPolygonGeometry]);
export type AreaGeometry = z.infer<typeof AreaGeometry>;

export const GridDuty = z.enum(['grid_head', 'grid_instructor', 'grid_police', 'grid_manager', 'info_collector', 'volunteer']);
export type GridDuty = z.infer<typeof GridDuty>;

export const dutyLabels: Record<GridDuty, { zh: string; en: string }> = {
  grid_head: { zh: '网格长', en: 'Grid head' },
  grid_instructor: { zh: '网格指导员', en: 'Grid instructor' },
  grid_police: { zh: '网格民警', en: 'Grid police officer' },
  grid_manager: { zh: '专职网格员', en: 'Grid manager' },
  info_collector: { zh: '信息员', en: 'Information collector' },
  volunteer: { zh: '志愿者', en: 'Volunteer' },
};
