import { useEffect, useRef, useState } from 'react';
import { Alert } from 'antd';
import { useTranslation } from 'react-i18next';
import { Map as MapLibreMap, setWorkerUrl, type GeoJSONSource, type MapOptions } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import { api } from '../../api/client';
import type { JurisdictionDetail } from '../../api/types';
import type { IncidentSummary, LivePosition } from '../../realtime/types';
import { boundsOf } from '../map/geo';
import { STATUS_COLORS } from './codes';

setWorkerUrl(workerUrl);

type Style = Exclude<MapOptions['style'], string | undefined>;
const empty: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };

function style(dark: boolean): Style {
  return {
    version: 8,
    sources: {
      grids: { type: 'geojson', data: empty },
      incidents: { type: 'geojson', data: empty },
      units: { type: 'geojson', data: empty },
      pick: { type: 'geojson', data: empty },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': dark ? '#0b1b36' : '#eef2f7' } },
      { id: 'grids-fill', type: 'fill', source: 'grids', paint: { 'fill-color': ['case', ['get', 'core'], '#ef4444', '#3b82f6'], 'fill-opacity': dark ? 0.12 : 0.08 } },
      { id: 'grids-line', type: 'line', source: 'grids', paint: { 'line-color': dark ? '#60a5fa' : '#1e3a8a', 'line-width': 1, 'line-opacity': 0.6 } },
      { id: 'units', type: 'circle', source: 'units', paint: { 'circle-radius': 6, 'circle-color': ['case', ['get', 'stale'], '#9ca3af', '#10b981'], 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
      {
        id: 'incidents',
        type: 'circle',
        source: 'incidents',
        paint: {
          'circle-radius': ['case', ['get', 'selected'], 10, 7],
          'circle-color': ['get', 'color'],
          'circle-stroke-color': ['case', ['get', 'selected'], '#111827', '#ffffff'],
          'circle-stroke-width': 2,
        },
      },
      { id: 'pick', type: 'circle', source: 'pick', paint: { 'circle-radius': 8, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#dc2626', 'circle-stroke-width': 3 } },
    ],
  };
}

export interface CommandMapProps {
  nodeId: string;
  incidents: IncidentSummary[];
  units: LivePosition[];
  selectedId?: string | null;
  pick?: [number, number] | null;
  onSelect?: (id: string) => void;
  onPick?: (lonLat: [number, number]) => void;
  dark?: boolean;
  height?: number | string;
}

/** Grids, incidents by state and live units on one offline map (no tiles, no glyphs). */
export function CommandMap({ nodeId, incidents, units, selectedId, pick, onSelect, onPick, dark = false, height = 420 }: CommandMapProps) {
  const { t } = useTranslation();
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<MapLibreMap | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [glError, setGlError] = useState<string | null>(null);
  const handlers = useRef({ onSelect, onPick });
  handlers.current = { onSelect, onPick };

  useEffect(() => {
    if (!container.current) return;
    let map: MapLibreMap;
    try {
      map = new MapLibreMap({
        container: container.current,
        style: style(dark),
        center: [118.67, 37.07],
        zoom: 9,
        attributionControl: false,
        dragRotate: false,
        pitchWithRotate: false,
        canvasContextAttributes: { preserveDrawingBuffer: true },
      });
    } catch (err) {
      setGlError(err instanceof Error ? err.message : String(err));
      return;
    }
    mapRef.current = map;
    map.on('load', () => setLoaded(true));
    map.on('click', (e) => {
      const hit = map.queryRenderedFeatures(e.point, { layers: ['incidents'] })[0];
      const id = hit?.properties?.id;
      if (typeof id === 'string') handlers.current.onSelect?.(id);
      else handlers.current.onPick?.([Math.round(e.lngLat.lng * 1e6) / 1e6, Math.round(e.lngLat.lat * 1e6) / 1e6]);
    });
    return () => {
      mapRef.current = null;
      setLoaded(false);
      map.remove();
    };
  }, [dark]);

  // Grids of the node: its children (stations, or grids of a station) with polygons.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded) return;
    const ctrl = new AbortController();
    api
      .get<JurisdictionDetail>(`/api/jurisdictions/${nodeId}`, { signal: ctrl.signal })
      .then((d) => {
        const shapes = d.children.length ? d.children : [d];
        const fc: GeoJSON.FeatureCollection = {
          type: 'FeatureCollection',
          features: shapes.flatMap((c): GeoJSON.Feature[] =>
            c.geometry ? [{ type: 'Feature', properties: { id: c.id, name: c.name, core: !!c.core }, geometry: c.geometry as GeoJSON.Geometry }] : [],
          ),
        };
        void map.getSource<GeoJSONSource>('grids')?.setData(fc);
        const b = boundsOf([d.geometry, ...d.children.map((c) => c.geometry)]);
        if (b) map.fitBounds(b, { padding: 24, duration: 0, maxZoom: 15 });
      })
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [nodeId, loaded]);

  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded) return;
    void map.getSource<GeoJSONSource>('incidents')?.setData({
      type: 'FeatureCollection',
      features: incidents
        .filter((i) => i.lon !== null && i.lat !== null)
        .map((i) => ({
          type: 'Feature',
          properties: { id: i.id, color: STATUS_COLORS[i.status] ?? '#6b7280', selected: i.id === selectedId },
          geometry: { type: 'Point', coordinates: [i.lon!, i.lat!] },
        })),
    });
  }, [incidents, selectedId, loaded]);

  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded) return;
    void map.getSource<GeoJSONSource>('units')?.setData({
      type: 'FeatureCollection',
      features: units.map((u) => ({ type: 'Feature', properties: { id: u.unitId, stale: u.stale, callSign: u.callSign }, geometry: { type: 'Point', coordinates: [u.lon, u.lat] } })),
    });
  }, [units, loaded]);

  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded) return;
    void map.getSource<GeoJSONSource>('pick')?.setData(
      pick ? { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: pick } }] } : empty,
    );
  }, [pick, loaded]);

  return (
    <div style={{ position: 'relative', height, borderRadius: 8, overflow: 'hidden', border: dark ? '1px solid #1e3a8a' : '1px solid #d9d9d9' }}>
      <div ref={container} style={{ position: 'absolute', inset: 0 }} data-testid="command-map" data-loaded={loaded ? '1' : ''} />
      {glError ? <Alert style={{ position: 'absolute', top: 8, left: 8, right: 8 }} type="warning" showIcon message={glError} /> : null}
      <div className="pa-cmd-legend">
        {(['new', 'dispatched', 'on_scene'] as const).map((s) => (
          <span key={s}>
            <i style={{ background: STATUS_COLORS[s] }} />
            {t(`dispatch.status.${s}`)}
          </span>
        ))}
      </div>
    </div>
  );
}
