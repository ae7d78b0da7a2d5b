/**
 * Shapes and calls of the jurisdiction, team, card and import routes
 * (apps/server/src/modules/jurisdiction/routes.ts, schema-http.ts, import/routes.ts).
 */
import { dutyLabels, type GridDuty, type Role } from '@pingan/contracts';
import { api, ApiError, request } from '../../api/client';
import type { AreaGeometry } from '../../api/types';

export const GRID_EDITORS: readonly Role[] = ['admin', 'station_leader'];
/** Roles that may call GET /api/jurisdictions/:id/export (used to draw the level below the children). */
export const GRID_EXPORTERS: readonly Role[] = ['admin', 'dispatcher', 'station_leader', 'community_officer', 'inspector'];
/** Levels that carry a team and a contact card. */
export const TEAM_LEVELS = ['grid', 'micro_grid'];
export const DUTIES: GridDuty[] = ['grid_head', 'grid_instructor', 'grid_police', 'grid_manager', 'info_collector', 'volunteer'];
export const CORE_DUTIES: GridDuty[] = ['grid_head', 'grid_instructor', 'grid_police', 'grid_manager'];

export function dutyLabel(duty: GridDuty, language: string): string {
  const l = dutyLabels[duty];
  return l ? (language === 'en' ? l.en : l.zh) : duty;
}

export interface NodeSummary {
  id: string;
  code: string;
  name: string;
  level: string;
  core: boolean;
  geometry: AreaGeometry | null;
}

export interface NodeDetail extends NodeSummary {
  parentId: string | null;
  /** Ancestors from the root down to and including the node itself. */
  path: { id: string; name: string; level: string }[];
  children: NodeSummary[];
}

export interface SearchHit {
  id: string;
  code: string;
  name: string;
  level: string;
  parentName: string | null;
}

export interface LookupAnswer {
  point: { lon: number; lat: number; crs: 'WGS84' };
  found: boolean;
  message: string | null;
  /** Deepest first. */
  chain: { id: string; code: string; name: string; level: string; core: boolean }[];
  cardSlug: string | null;
}

export interface TeamMember {
  dutyId: string;
  personId: string;
  duty: GridDuty;
  name: string;
  title: string | null;
  phone: string | null;
  phonePublic: boolean;
  description: string | null;
  hasPhoto: boolean;
}

export interface PublicCard {
  nodeId: string;
  slug: string;
  code: string;
  name: string;
  level: string;
  station: { name: string; code: string } | null;
  supervisionPhone: string | null;
  notice: string | null;
  members: {
    personId: string;
    duty: GridDuty;
    name: string;
    title: string | null;
    phone: string | null;
    description: string | null;
    photoUrl: string | null;
  }[];
}

export interface ExportFeature {
  type: 'Feature';
  id: string;
  properties: { code: string; name: string; level: string; parentCode: string | null; core: boolean };
  geometry: AreaGeometry | null;
}

export const gridsApi = {
  node: (id: string, signal?: AbortSignal, childGeometry = true) =>
    api.get<NodeDetail>(`/api/jurisdictions/${id}`, { signal, query: { childGeometry: String(childGeometry) } }),
  search: (q: string, signal?: AbortSignal) => api.get<{ items: SearchHit[] }>('/api/jurisdictions/search', { query: { q, limit: 20 }, signal }),
  lookup: (lon: number, lat: number) => api.get<LookupAnswer>('/api/lookup', { query: { lon, lat, crs: 'WGS84' } }),
  team: (id: string, reveal: boolean, signal?: AbortSignal) =>
    api.get<{ items: TeamMember[] }>(`/api/jurisdictions/${id}/team`, { signal, query: reveal ? { reveal: 'phone' } : undefined }),
  subtree: (id: string, depth: number, signal?: AbortSignal) =>
    api.get<{ type: 'FeatureCollection'; features: ExportFeature[] }>(`/api/jurisdictions/${id}/export`, { signal, query: { depth } }),
  update: (id: string, body: { name?: string; code?: string; core?: boolean; geometry?: AreaGeometry }) =>
    api.patch<{ id: string }>(`/api/jurisdictions/${id}`, { ...body, crs: 'WGS84' }),
  addMember: (
    id: string,
    body: { duty: GridDuty; description?: string; person: { name: string; phone?: string; phonePublic?: boolean; title?: string } },
  ) => api.post<{ dutyId: string; personId: string }>(`/api/jurisdictions/${id}/team`, body, { headers: { 'idempotency-key': crypto.randomUUID() } }),
  removeMember: (id: string, dutyId: string) => api.delete<void>(`/api/jurisdictions/${id}/team/${dutyId}`),
  updateCard: (id: string, body: { supervisionPhone?: string | null; notice?: string | null }) =>
    request<PublicCard>('PUT', `/api/jurisdictions/${id}/card`, { body }),
  publicCard: (slug: string, signal?: AbortSignal) => api.get<PublicCard>(`/api/public/cards/${encodeURIComponent(slug)}`, { signal }),
  publicCards: (query: { address: string } | { lon: number; lat: number }, signal?: AbortSignal) =>
    api.get<{ items: PublicCard[]; message: string | null }>('/api/public/cards', {
      signal,
      query: 'address' in query ? { address: query.address } : { lon: query.lon, lat: query.lat, crs: 'WGS84' },
    }),
  qrUrl: (id: string) => `/api/jurisdictions/${id}/card/qr.svg?base=${encodeURIComponent(window.location.origin)}`,
};


/**
 * The card of a grid. The API has no "card of node :id" read for staff, so find it through the public
 * address search by the grid's own name (the server matches grid names inside the text) and keep the
 * answer for this node; null when the grid has no card yet.
 */
export async function cardOfNode(node: { id: string; name: string }, signal?: AbortSignal): Promise<PublicCard | null> {
  try {
    const found = await gridsApi.publicCards({ address: node.name }, signal);
    return found.items.find((c) => c.nodeId === node.id) ?? null;
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) return null;
    throw err;
  }
}

// ---- imports ----

export interface ImportFinding {
  featureIndex: number | null;
  code: string | null;
  severity: 'error' | 'warning';
  kind: string;
  message: string;
  fixable: boolean;
}

export interface ImportReport {
  parent: { id: string; code: string; name: string; level: string };
  fileName: string;
  format: 'geojson' | 'shapefile';
  level: string;
  crs: string;
  fix: boolean;
  encoding: string | null;
  codeField: string | null;
  nameField: string | null;
  summary: {
    features: number;
    importable: number;
    errors: number;
    warnings: number;
    fixed: number;
    dropped: number;
    areaM2: number;
    parentAreaM2: number;
    coveredM2: number;
    gapM2: number;
    canCommit: boolean;
  };
  findings: ImportFinding[];
  fixes: { featureIndex: number; code: string | null; kind: string; message: string }[];
  features: { index: number; code: string | null; name: string | null; areaM2: number; status: 'ok' | 'warning' | 'error' | 'dropped' }[];
}

export type ImportStatus = 'validated' | 'committing' | 'committed' | 'cancelled' | 'failed';
export interface ImportProgress {
  done: number;
  total: number;
  phase: string;
}
export interface ImportState {
  importId: string;
  status: ImportStatus;
  progress: ImportProgress;
  report: ImportReport;
  error: string | null;
  created: number | null;
}

export interface ImportOptions {
  level: string;
  crs: string;
  codeField?: string;
  nameField?: string;
  fix: boolean;
}

/**
 * Upload a file as the raw request body (the shared client sends JSON only): GeoJSON as
 * application/geo+json, a Shapefile zip as application/zip. Errors are thrown as ApiError like the client's.
 */
export async function uploadImport(
  parentId: string,
  file: File,
  opts: ImportOptions,
  csrfToken: string,
): Promise<{ importId: string; report: ImportReport }> {
  const isZip = /\.zip$/i.test(file.name) || file.type.includes('zip');
  const params = new URLSearchParams({ level: opts.level, crs: opts.crs, fix: String(opts.fix), fileName: file.name });
  if (opts.codeField) params.set('codeField', opts.codeField);
  if (opts.nameField) params.set('nameField', opts.nameField);
  let res: Response;
  try {
    res = await fetch(`/api/jurisdictions/${parentId}/imports?${params.toString()}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'content-type': isZip ? 'application/zip' : 'application/geo+json', 'x-csrf-token': csrfToken },
      body: file,
    });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check the network and try again.');
  }
  const text = await res.text();
  let payload: unknown;
  try {
    payload = text ? JSON.parse(text) : undefined;
  } catch {
    payload = undefined;
  }
  if (!res.ok) {
    const p = (payload ?? {}) as { error?: string; message?: string; issues?: { field?: string; message?: string }[] };
    throw new ApiError(
      res.status,
      p.error ?? `http_${res.status}`,
      p.message ?? `The server answered ${res.status} ${res.statusText}.`,
      (p.issues ?? []).map((i) => ({ field: i.field ?? '', message: i.message ?? '' })),
    );
  }
  return payload as { importId: string; report: ImportReport };
}

export const importsApi = {
  get: (id: string, signal?: AbortSignal) => api.get<ImportState>(`/api/imports/${id}`, { signal }),
  commit: (id: string) => api.post<{ importId: string; status: ImportStatus; progress: ImportProgress }>(`/api/imports/${id}/commit`),
  cancel: (id: string) => api.post<{ importId: string; status: ImportStatus; progress: ImportProgress }>(`/api/imports/${id}/cancel`),
};
