import type { Crs, JurisdictionLevel } from '@pingan/contracts';

/** A polygonal geometry as it will be stored (WGS-84). */
export interface AreaGeom {
  type: 'Polygon' | 'MultiPolygon';
  coordinates: number[][][] | number[][][][];
}

/** One feature of an import file, after reading and conversion to WGS-84. */
export interface ParsedFeature {
  /** Position in the file, from 0. */
  index: number;
  code: string | null;
  name: string | null;
  /** The polygon in WGS-84, or null when the feature has none usable (see `problem`). */
  geometry: AreaGeom | null;
  /** Geometry type as found in the file (null: no geometry). */
  geometryType: string | null;
  /** Why the geometry could not be read, in words a person can act on. */
  problem?: { kind: FindingKind; message: string };
}

export type FindingKind =
  | 'file'
  | 'missing_code'
  | 'missing_name'
  | 'bad_code'
  | 'bad_name'
  | 'duplicate_code_in_file'
  | 'duplicate_code_existing'
  | 'empty_geometry'
  | 'not_polygon'
  | 'unreadable_geometry'
  | 'coordinates_out_of_range'
  | 'invalid_geometry'
  | 'sliver'
  | 'overlap_in_file'
  | 'overlap_existing'
  | 'outside_parent'
  | 'gap';

export interface Finding {
  /** Index of the feature in the file; null for findings about the whole file. */
  featureIndex: number | null;
  code: string | null;
  severity: 'error' | 'warning';
  kind: FindingKind;
  message: string;
  /** Whether `fix=true` can repair it (make-valid, snap, clip, drop, subtract). */
  fixable: boolean;
}

export type FixKind = 'made_valid' | 'snapped' | 'clipped_to_parent' | 'removed_overlap_existing' | 'removed_overlap_in_file' | 'dropped_parts' | 'dropped_sliver';

export interface Fix {
  featureIndex: number;
  code: string | null;
  kind: FixKind;
  message: string;
}

export interface FeatureSummary {
  index: number;
  code: string | null;
  name: string | null;
  areaM2: number;
  /** ok: importable; warning: importable with warnings; error: blocks the commit; dropped: removed by fix. */
  status: 'ok' | 'warning' | 'error' | 'dropped';
}

export interface ImportOptions {
  level: JurisdictionLevel;
  crs: Crs;
  codeField?: string | undefined;
  nameField?: string | undefined;
  fix: boolean;
  fileName: string;
}

export interface ImportReport {
  parent: { id: string; code: string; name: string; level: string };
  fileName: string;
  format: 'geojson' | 'shapefile';
  level: JurisdictionLevel;
  crs: Crs;
  fix: boolean;
  /** Text encoding of the shapefile's attributes (shapefiles only). */
  encoding: string | null;
  codeField: string | null;
  nameField: string | null;
  summary: {
    features: number;
    /** Features that would be written by a commit. */
    importable: number;
    errors: number;
    warnings: number;
    fixed: number;
    dropped: number;
    areaM2: number;
    parentAreaM2: number;
    /** Parent area covered by existing live children and the file together. */
    coveredM2: number;
    gapM2: number;
    canCommit: boolean;
  };
  findings: Finding[];
  fixes: Fix[];
  features: FeatureSummary[];
}

/** What a commit writes: the validated (and fixed) features, WGS-84. Kept in memory and in grid_import.report.input. */
export interface ImportInput {
  parentId: string;
  level: JurisdictionLevel;
  features: { index: number; code: string; name: string; geometry: AreaGeom }[];
}

export interface ImportProgress {
  done: number;
  total: number;
  phase: 'validated' | 'queued' | 'nodes' | 'finishing' | 'done' | 'cancelled' | 'failed';
}

export type ImportStatus = 'validated' | 'committing' | 'committed' | 'cancelled' | 'failed';
