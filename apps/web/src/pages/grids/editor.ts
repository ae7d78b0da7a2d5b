/**
 * Vertex editing of one polygon on a MapLibre map, with no drawing library: a GeoJSON source for the
 * shape, one for its vertices and edge midpoints, and mouse handlers. Drag a vertex to move it, drag a
 * midpoint to insert a vertex there, double-click a vertex to delete it (a ring keeps at least 3).
 */
import type { GeoJSONSource, Map as MapLibreMap, MapLayerMouseEvent, MapMouseEvent } from 'maplibre-gl';
import type { AreaGeometry, Position } from '../../api/types';

export const EDIT_SOURCES = { shape: 'edit-shape', handles: 'edit-handles' } as const;
export const EDIT_LAYERS = { fill: 'edit-fill', line: 'edit-line', mid: 'edit-mid', vertex: 'edit-vertex' } as const;

type Ring = [number, number][];
const emptyFc: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };

/** Rings of the polygon being edited, open (the closing position is implied). */
function openRings(rings: Position[][]): Ring[] {
  return rings.map((ring) => {
    const pts = ring.map((p) => [Number(p[0]), Number(p[1])] as [number, number]);
    const first = pts[0];
    const last = pts[pts.length - 1];
    if (pts.length > 1 && first && last && first[0] === last[0] && first[1] === last[1]) pts.pop();
    return pts;
  });
}

function closed(ring: Ring): Ring {
  return ring.length ? [...ring, ring[0]!] : ring;
}

export interface EditorState {
  /** The edited polygon's rings, closed, in WGS-84. */
  rings: Ring[];
  canUndo: boolean;
  changed: boolean;
}

export class PolygonEditor {
  private rings: Ring[];
  private history: Ring[][] = [];
  private dragging: { ring: number; index: number } | null = null;
  private readonly handlers: { type: string; layer?: string; fn: (e: MapMouseEvent) => void }[] = [];
  /** The polygons of a multipolygon that are not edited, kept as they are. */
  private readonly rest: Position[][][];
  private readonly type: AreaGeometry['type'];

  constructor(
    private readonly map: MapLibreMap,
    geometry: AreaGeometry,
    private readonly onChange: (s: EditorState) => void,
  ) {
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    this.type = geometry.type;
    this.rings = openRings(polygons[0] ?? []);
    this.rest = polygons.slice(1);
    this.bind();
    this.render();
  }

  /** Several polygons: only the first is edited. */
  get partial(): boolean {
    return this.rest.length > 0;
  }

  geometry(): AreaGeometry {
    const first = this.rings.map(closed) as Position[][];
    return this.type === 'Polygon' ? { type: 'Polygon', coordinates: first } : { type: 'MultiPolygon', coordinates: [first, ...this.rest] };
  }

  undo(): void {
    const prev = this.history.pop();
    if (!prev) return;
    this.rings = prev;
    this.render();
  }

  /** Pixel positions of the vertices (relative to the map container), for tests and hit checks. */
  vertexPixels(): [number, number][] {
    return (this.rings[0] ?? []).map((p) => {
      const px = this.map.project(p);
      return [Math.round(px.x), Math.round(px.y)];
    });
  }

  destroy(): void {
    for (const h of this.handlers) {
      if (h.layer) this.map.off(h.type as 'mousedown', h.layer, h.fn as (e: MapLayerMouseEvent) => void);
      else this.map.off(h.type as 'mousemove', h.fn);
    }
    this.handlers.length = 0;
    this.map.dragPan.enable();
    this.map.doubleClickZoom.enable();
    this.map.getSource<GeoJSONSource>(EDIT_SOURCES.shape)?.setData(emptyFc);
    this.map.getSource<GeoJSONSource>(EDIT_SOURCES.handles)?.setData(emptyFc);
    this.map.getCanvas().style.cursor = '';
  }

  private snapshot(): void {
    this.history.push(this.rings.map((r) => r.map((p) => [p[0], p[1]] as [number, number])));
    if (this.history.length > 100) this.history.shift();
  }

  private on(type: string, layer: string | undefined, fn: (e: MapMouseEvent) => void): void {
    if (layer) this.map.on(type as 'mousedown', layer, fn as (e: MapLayerMouseEvent) => void);
    else this.map.on(type as 'mousemove', fn);
    this.handlers.push({ type, layer, fn });
  }

  private bind(): void {
    const map = this.map;
    map.doubleClickZoom.disable();
    const start = (e: MapLayerMouseEvent, insert: boolean) => {
      const f = e.features?.[0];
      if (!f) return;
      e.preventDefault();
      const ring = Number(f.properties?.ring);
      let index = Number(f.properties?.index);
      this.snapshot();
      if (insert) {
        index += 1;
        this.rings[ring]!.splice(index, 0, [e.lngLat.lng, e.lngLat.lat]);
      }
      this.dragging = { ring, index };
      map.dragPan.disable();
      map.getCanvas().style.cursor = 'grabbing';
      this.render();
    };
    this.on('mousedown', EDIT_LAYERS.vertex, (e) => start(e as MapLayerMouseEvent, false));
    this.on('mousedown', EDIT_LAYERS.mid, (e) => start(e as MapLayerMouseEvent, true));
    this.on('mousemove', undefined, (e) => {
      if (!this.dragging) return;
      const { ring, index } = this.dragging;
      this.rings[ring]![index] = [e.lngLat.lng, e.lngLat.lat];
      this.render();
    });
    this.on('mouseup', undefined, () => {
      if (!this.dragging) return;
      this.dragging = null;
      map.dragPan.enable();
      map.getCanvas().style.cursor = '';
      this.render();
    });
    this.on('dblclick', EDIT_LAYERS.vertex, (e) => {
      const f = (e as MapLayerMouseEvent).features?.[0];
      e.preventDefault();
      if (!f) return;
      const ring = Number(f.properties?.ring);
      const index = Number(f.properties?.index);
      if ((this.rings[ring]?.length ?? 0) <= 3) return;
      this.snapshot();
      this.rings[ring]!.splice(index, 1);
      this.render();
    });
    this.on('mouseenter', EDIT_LAYERS.vertex, () => {
      if (!this.dragging) map.getCanvas().style.cursor = 'move';
    });
    this.on('mouseleave', EDIT_LAYERS.vertex, () => {
      if (!this.dragging) map.getCanvas().style.cursor = '';
    });
    this.on('mouseenter', EDIT_LAYERS.mid, () => {
      if (!this.dragging) map.getCanvas().style.cursor = 'copy';
    });
    this.on('mouseleave', EDIT_LAYERS.mid, () => {
      if (!this.dragging) map.getCanvas().style.cursor = '';
    });
  }

  private render(): void {
    const shape: GeoJSON.FeatureCollection = {
      type: 'FeatureCollection',
      features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: this.rings.map(closed) } }],
    };
    const handles: GeoJSON.Feature[] = [];
    this.rings.forEach((ring, r) => {
      ring.forEach((p, i) => {
        const next = ring[(i + 1) % ring.length]!;
        handles.push({
          type: 'Feature',
          properties: { ring: r, index: i, kind: 'mid' },
          geometry: { type: 'Point', coordinates: [(p[0] + next[0]) / 2, (p[1] + next[1]) / 2] },
        });
      });
      ring.forEach((p, i) => {
        handles.push({ type: 'Feature', properties: { ring: r, index: i, kind: 'vertex' }, geometry: { type: 'Point', coordinates: p } });
      });
    });
    this.map.getSource<GeoJSONSource>(EDIT_SOURCES.shape)?.setData(shape);
    this.map.getSource<GeoJSONSource>(EDIT_SOURCES.handles)?.setData({ type: 'FeatureCollection', features: handles });
    this.onChange({ rings: this.rings.map(closed), canUndo: this.history.length > 0, changed: this.history.length > 0 });
  }
}

/** The style pieces of the editor: add these sources and layers to the map's style. */
export const editSources = {
  [EDIT_SOURCES.shape]: { type: 'geojson' as const, data: emptyFc },
  [EDIT_SOURCES.handles]: { type: 'geojson' as const, data: emptyFc },
};

export const editLayers = [
  { id: EDIT_LAYERS.fill, type: 'fill' as const, source: EDIT_SOURCES.shape, paint: { 'fill-color': '#f97316', 'fill-opacity': 0.25 } },
  {
    id: EDIT_LAYERS.line,
    type: 'line' as const,
    source: EDIT_SOURCES.shape,
    paint: { 'line-color': '#ea580c', 'line-width': 2.5, 'line-dasharray': [2, 1] },
  },
  {
    id: EDIT_LAYERS.mid,
    type: 'circle' as const,
    source: EDIT_SOURCES.handles,
    filter: ['==', ['get', 'kind'], 'mid'] as ['==', ['get', string], string],
    paint: { 'circle-radius': 4, 'circle-color': '#ffffff', 'circle-stroke-color': '#ea580c', 'circle-stroke-width': 1.5, 'circle-opacity': 0.9 },
  },
  {
    id: EDIT_LAYERS.vertex,
    type: 'circle' as const,
    source: EDIT_SOURCES.handles,
    filter: ['==', ['get', 'kind'], 'vertex'] as ['==', ['get', string], string],
    paint: { 'circle-radius': 6, 'circle-color': '#ea580c', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
  },
];
