/**
 * The map kit every map page shares (decision 016): MapLibre with no tile server, glyphs or sprites
 * (decision 007), the worker served by the app itself, an optional PMTiles basemap underneath, and
 * names as HTML markers so Chinese labels use the system's CJK fonts with no glyph server.
 */
import { useEffect, useRef, useState, type RefObject } from 'react';
import { Map as MapLibreMap, Marker, setWorkerUrl, type GeoJSONSource, type MapOptions } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import './map.css';
import { addBasemap, type BasemapKind } from './basemap';

// The worker is served by the app itself: no CDN, the map works with no internet.
setWorkerUrl(workerUrl);

export type Style = Exclude<MapOptions['style'], string | undefined>;
export type Layers = Style['layers'];

export const emptyFc: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };

export function fc(features: GeoJSON.Feature[]): GeoJSON.FeatureCollection {
  return { type: 'FeatureCollection', features };
}

/** Empty GeoJSON sources by name, for a style's `sources`. */
export function geojsonSources<N extends string>(...names: N[]): Record<N, { type: 'geojson'; data: GeoJSON.FeatureCollection }> {
  return Object.fromEntries(names.map((n) => [n, { type: 'geojson' as const, data: emptyFc }])) as Record<N, { type: 'geojson'; data: GeoJSON.FeatureCollection }>;
}

export function setSource(map: MapLibreMap, name: string, features: GeoJSON.Feature[]): void {
  void map.getSource<GeoJSONSource>(name)?.setData(fc(features));
}

export interface MapHandle {
  map: MapLibreMap | null;
  loaded: boolean;
  glError: string | null;
  /** The basemap under the layers once added (null: none configured, or not yet). */
  basemap: BasemapKind | null;
}

export interface MapOpts {
  /** Re-made when this changes (e.g. the big screen's dark style). */
  key?: string | number | boolean;
  zoom?: number;
  doubleClickZoom?: boolean;
  dark?: boolean;
  /** Handlers and anything else set once on a new map (before it loads). */
  onCreate?: (map: MapLibreMap) => void;
}

/**
 * Make a map in `container` with `style` (read when the map is made): offline options, the basemap
 * under the style's layers once loaded, `data-basemap` on the container for tests. Gone on unmount.
 */
export function useMapLibre(container: RefObject<HTMLDivElement | null>, style: () => Style, opts: MapOpts = {}): MapHandle {
  const [map, setMap] = useState<MapLibreMap | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [glError, setGlError] = useState<string | null>(null);
  const [basemap, setBasemap] = useState<BasemapKind | null>(null);
  const latest = useRef({ style, opts });
  latest.current = { style, opts };

  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const { style: makeStyle, opts: o } = latest.current;
    let m: MapLibreMap;
    try {
      m = new MapLibreMap({
        container: el,
        style: makeStyle(),
        center: [118.67, 37.07],
        zoom: o.zoom ?? 9,
        attributionControl: false,
        dragRotate: false,
        pitchWithRotate: false,
        doubleClickZoom: o.doubleClickZoom ?? true,
        canvasContextAttributes: { preserveDrawingBuffer: true },
      });
    } catch (err) {
      setGlError(err instanceof Error ? err.message : String(err));
      return;
    }
    let gone = false;
    o.onCreate?.(m);
    setMap(m);
    m.on('load', () => {
      setLoaded(true);
      void addBasemap(m, { dark: o.dark }).then((kind) => {
        if (gone) return;
        el.dataset.basemap = kind ?? 'none';
        setBasemap(kind);
      });
    });
    return () => {
      gone = true;
      setMap(null);
      setLoaded(false);
      setBasemap(null);
      m.remove();
    };
  }, [container, opts.key]); // eslint-disable-line react-hooks/exhaustive-deps

  return { map, loaded, glError, basemap };
}

/** Hide every element that would overlap an earlier one (earlier ones win). */
export function declutter(elements: HTMLElement[], hiddenClass = 'pa-map-label-hidden'): void {
  const placed: DOMRect[] = [];
  for (const el of elements) {
    el.classList.remove(hiddenClass);
    if (el.classList.contains('pa-map-label-out')) continue;
    const r = el.getBoundingClientRect();
    const hit = placed.some((p) => r.left < p.right + 2 && r.right + 2 > p.left && r.top < p.bottom + 1 && r.bottom + 1 > p.top);
    if (hit) el.classList.add(hiddenClass);
    else placed.push(r);
  }
}

export interface MapLabel {
  at: [number, number];
  text: string;
  /** CSS classes of the label (default `pa-map-label`). */
  className?: string;
  /** Shown from this zoom on (e.g. grid names only when zoomed in enough to read them). */
  minZoom?: number;
  testId?: string;
  /** Extra data-* attributes (tests find labels by them). */
  data?: Record<string, string>;
  opacity?: number;
  anchor?: 'center' | 'left' | 'top' | 'bottom';
  offset?: [number, number];
}

/**
 * Names on the map as HTML markers (the browser draws the CJK text): in the given order of priority,
 * hidden below their `minZoom` and where they would overlap an earlier one, re-checked after each move.
 */
export function useLabels(map: MapLibreMap | null, loaded: boolean, labels: MapLabel[] | null, hiddenClass = 'pa-map-label-hidden'): void {
  useEffect(() => {
    if (!map || !loaded || !labels || labels.length === 0) return;
    const markers: { marker: Marker; minZoom: number }[] = [];
    for (const l of labels) {
      const el = document.createElement('div');
      el.className = l.className ?? 'pa-map-label';
      el.textContent = l.text;
      if (l.testId) el.dataset.testid = l.testId;
      for (const [k, v] of Object.entries(l.data ?? {})) el.dataset[k] = v;
      if (l.opacity !== undefined) el.style.opacity = String(l.opacity);
      markers.push({ marker: new Marker({ element: el, anchor: l.anchor ?? 'center', offset: l.offset }).setLngLat(l.at).addTo(map), minZoom: l.minZoom ?? 0 });
    }
    const tidy = () => {
      const z = map.getZoom();
      for (const { marker, minZoom } of markers) marker.getElement().classList.toggle('pa-map-label-out', z < minZoom);
      declutter(markers.map((m) => m.marker.getElement()), hiddenClass);
    };
    tidy();
    map.on('moveend', tidy);
    map.once('idle', tidy);
    return () => {
      map.off('moveend', tidy);
      for (const m of markers) m.marker.remove();
    };
  }, [map, loaded, labels, hiddenClass]);
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

/** Hover highlight (feature-state `hover`) and a pointer cursor over a fill layer. */
export function hoverFeatures(map: MapLibreMap, layer: string, source: string, skip: () => boolean = () => false): void {
  let hovered: string | number | undefined;
  map.on('mousemove', layer, (e) => {
    if (skip()) return;
    const f = e.features?.[0];
    if (hovered !== undefined) map.setFeatureState({ source, id: hovered }, { hover: false });
    hovered = f?.id;
    if (hovered !== undefined) map.setFeatureState({ source, id: hovered }, { hover: true });
    map.getCanvas().style.cursor = 'pointer';
  });
  map.on('mouseleave', layer, () => {
    if (hovered !== undefined) map.setFeatureState({ source, id: hovered }, { hover: false });
    hovered = undefined;
    if (!skip()) map.getCanvas().style.cursor = '';
  });
}

/** A MapLibre heat-map layer of point features (weight from a `weight` property, 1 when absent). */
export function heatLayer(id: string, source: string, dark = false): Layers[number] {
  return {
    id,
    type: 'heatmap',
    source,
    layout: { visibility: 'none' },
    paint: {
      'heatmap-weight': ['coalesce', ['get', 'weight'], 1],
      'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 8, 0.6, 15, 2],
      'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 8, 12, 15, 36],
      'heatmap-opacity': dark ? 0.8 : 0.7,
      'heatmap-color': [
        'interpolate', ['linear'], ['heatmap-density'],
        0, 'rgba(37,99,235,0)',
        0.2, 'rgba(37,99,235,0.5)',
        0.4, '#22c55e',
        0.6, '#facc15',
        0.8, '#f97316',
        1, '#dc2626',
      ],
    },
  };
}
