/**
 * The map the units pages share: MapLibre with no tiles, glyphs or sprites (decision 007). The node's
 * polygon and its grids lie underneath; pages draw zones, circles, tracks and polygons being edited into
 * the GeoJSON sources below, and put names and units on the map as HTML markers.
 */
import { useEffect, useMemo, useState, type RefObject } from 'react';
import type { Map as MapLibreMap } from 'maplibre-gl';
import './units.css';
import type { JurisdictionDetail } from '../../api/types';
import { boundsOf, labelPoint, palette } from '../../map/geo';
import { geojsonSources, setSource as setKitSource, useLabels, useMapLibre, type MapLabel, type Style } from '../../map/kit';

export { declutter, fitPoints } from '../../map/kit';

export type SourceName = 'node' | 'grids' | 'zones' | 'circles' | 'edit' | 'editLine' | 'track' | 'trackDone';

function baseStyle(): Style {
  return {
    version: 8,
    sources: geojsonSources('node', 'grids', 'zones', 'circles', 'edit', 'editLine', 'track', 'trackDone'),
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#eef2f7' } },
      { id: 'node-fill', type: 'fill', source: 'node', paint: { 'fill-color': '#1d4ed8', 'fill-opacity': 0.04 } },
      { id: 'grids-fill', type: 'fill', source: 'grids', paint: { 'fill-color': ['get', 'color'], 'fill-opacity': ['coalesce', ['get', 'opacity'], 0.12] } },
      { id: 'grids-line', type: 'line', source: 'grids', paint: { 'line-color': ['get', 'color'], 'line-width': 1, 'line-opacity': 0.7 } },
      { id: 'node-line', type: 'line', source: 'node', paint: { 'line-color': '#0b2a5b', 'line-width': 2.5 } },
      { id: 'circles-fill', type: 'fill', source: 'circles', paint: { 'fill-color': ['get', 'color'], 'fill-opacity': ['coalesce', ['get', 'opacity'], 0.15] } },
      { id: 'circles-line', type: 'line', source: 'circles', paint: { 'line-color': ['get', 'color'], 'line-width': 1.2 } },
      { id: 'zones-fill', type: 'fill', source: 'zones', paint: { 'fill-color': ['coalesce', ['get', 'color'], '#f97316'], 'fill-opacity': 0.18 } },
      { id: 'zones-line', type: 'line', source: 'zones', paint: { 'line-color': ['coalesce', ['get', 'color'], '#f97316'], 'line-width': 2 } },
      { id: 'edit-fill', type: 'fill', source: 'edit', paint: { 'fill-color': '#e11d48', 'fill-opacity': 0.2 } },
      { id: 'edit-line', type: 'line', source: 'editLine', paint: { 'line-color': '#e11d48', 'line-width': 2, 'line-dasharray': [2, 1] } },
      { id: 'track-line', type: 'line', source: 'track', paint: { 'line-color': '#93c5fd', 'line-width': 4 }, layout: { 'line-cap': 'round', 'line-join': 'round' } },
      { id: 'track-done', type: 'line', source: 'trackDone', paint: { 'line-color': '#1d4ed8', 'line-width': 4 }, layout: { 'line-cap': 'round', 'line-join': 'round' } },
    ],
  };
}

export function setSource(map: MapLibreMap, name: SourceName, features: GeoJSON.Feature[]): void {
  setKitSource(map, name, features);
}

export interface BaseMap {
  map: MapLibreMap | null;
  loaded: boolean;
  glError: string | null;
  /** Id of the node once its polygons are drawn (tests wait for it). */
  drawn: string | null;
}

/**
 * Make the map once in `container`, then draw `node` (its polygon, its children as grids, their names)
 * whenever it changes. `labels` hides the grid names.
 */
export function useBaseMap(container: RefObject<HTMLDivElement | null>, node: JurisdictionDetail | undefined, opts: { labels?: boolean } = {}): BaseMap {
  const { map, loaded, glError } = useMapLibre(container, baseStyle, { doubleClickZoom: false });
  const [drawn, setDrawn] = useState<string | null>(null);
  const labels = opts.labels ?? true;

  useEffect(() => {
    if (!map || !loaded || !node) return;
    const grids: GeoJSON.Feature[] = node.children.flatMap((c, i): GeoJSON.Feature[] =>
      c.geometry
        ? [{ type: 'Feature', id: i + 1, properties: { id: c.id, name: c.name, color: c.core ? '#dc2626' : palette[i % palette.length] }, geometry: c.geometry as GeoJSON.Geometry }]
        : [],
    );
    setSource(map, 'grids', grids);
    setSource(map, 'node', node.geometry ? [{ type: 'Feature', properties: { id: node.id }, geometry: node.geometry as GeoJSON.Geometry }] : []);
    const bounds = boundsOf([node.geometry, ...node.children.map((c) => c.geometry)]);
    if (bounds) map.fitBounds(bounds, { padding: 24, duration: 0, maxZoom: 16 });
    setDrawn(null);
    map.once('idle', () => setDrawn(node.id));
  }, [map, loaded, node]);

  const names = useMemo(
    (): MapLabel[] | null =>
      labels && node
        ? node.children.flatMap((c): MapLabel[] => {
            const at = labelPoint(c.geometry);
            return at ? [{ at, text: c.name, className: c.core ? 'pa-map-label pa-map-label-core' : 'pa-map-label', opacity: 0.75 }] : [];
          })
        : null,
    [node, labels],
  );
  useLabels(map, loaded, names);

  return { map, loaded, glError, drawn };
}
