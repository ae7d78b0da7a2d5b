/**
 * The map the units pages share: MapLibre with no tiles, glyphs or sprites (decision 007). The node's
 * polygon and its grids lie underneath; pages draw zones, circles, tracks and polygons being edited into
 * the GeoJSON sources below, and put names and units on the map as HTML markers.
 */
import { useEffect, useState, type RefObject } from 'react';
import { Map as MapLibreMap, Marker, setWorkerUrl, type GeoJSONSource, type MapOptions } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import './units.css';
import type { JurisdictionDetail } from '../../api/types';
import { boundsOf, labelPoint, palette } from '../map/geo';

setWorkerUrl(workerUrl);

type Style = Exclude<MapOptions['style'], string | undefined>;

export type SourceName = 'node' | 'grids' | 'zones' | 'circles' | 'edit' | 'editLine' | 'track' | 'trackDone';

const emptyFc: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };
const src = () => ({ type: 'geojson' as const, data: emptyFc });

function baseStyle(): Style {
  return {
    version: 8,
    sources: {
      node: src(),
      grids: src(),
      zones: src(),
      circles: src(),
      edit: src(),
      editLine: src(),
      track: src(),
      trackDone: src(),
    },
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
  void map.getSource<GeoJSONSource>(name)?.setData({ type: 'FeatureCollection', features });
}

export function declutter(elements: HTMLElement[]): void {
  const placed: DOMRect[] = [];
  for (const el of elements) {
    el.classList.remove('pa-map-label-hidden');
    const r = el.getBoundingClientRect();
    const hit = placed.some((p) => r.left < p.right + 2 && r.right + 2 > p.left && r.top < p.bottom + 1 && r.bottom + 1 > p.top);
    if (hit) el.classList.add('pa-map-label-hidden');
    else placed.push(r);
  }
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
  const [map, setMap] = useState<MapLibreMap | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [glError, setGlError] = useState<string | null>(null);
  const [drawn, setDrawn] = useState<string | null>(null);
  const labels = opts.labels ?? true;

  useEffect(() => {
    if (!container.current) return;
    let m: MapLibreMap;
    try {
      m = new MapLibreMap({
        container: container.current,
        style: baseStyle(),
        center: [118.67, 37.07],
        zoom: 9,
        attributionControl: false,
        dragRotate: false,
        pitchWithRotate: false,
        doubleClickZoom: false,
        canvasContextAttributes: { preserveDrawingBuffer: true },
      });
    } catch (err) {
      setGlError(err instanceof Error ? err.message : String(err));
      return;
    }
    setMap(m);
    m.on('load', () => setLoaded(true));
    return () => {
      setMap(null);
      setLoaded(false);
      m.remove();
    };
  }, [container]);

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
    const markers: Marker[] = [];
    if (labels) {
      for (const c of node.children) {
        const at = labelPoint(c.geometry);
        if (!at) continue;
        const el = document.createElement('div');
        el.className = c.core ? 'pa-map-label pa-map-label-core' : 'pa-map-label';
        el.style.opacity = '0.75';
        el.textContent = c.name;
        markers.push(new Marker({ element: el }).setLngLat(at).addTo(map));
      }
    }
    const tidy = () => declutter(markers.map((mk) => mk.getElement()));
    tidy();
    map.on('moveend', tidy);
    map.once('idle', tidy);
    return () => {
      map.off('moveend', tidy);
      for (const mk of markers) mk.remove();
    };
  }, [map, loaded, node, labels]);

  return { map, loaded, glError, drawn };
}

/** Fit the map to some points (with a minimum span so one point does not zoom to the street). */
export function fitPoints(map: MapLibreMap, pts: [number, number][], padding = 40): void {
  if (pts.length === 0) return;
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  for (const [x, y] of pts) {
    w = Math.min(w, x);
    e = Math.max(e, x);
    s = Math.min(s, y);
    n = Math.max(n, y);
  }
  const pad = 0.003;
  map.fitBounds([[w - pad, s - pad], [e + pad, n + pad]], { padding, duration: 0, maxZoom: 16 });
}
