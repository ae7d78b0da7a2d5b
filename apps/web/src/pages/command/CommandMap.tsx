import { useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Switch } from 'antd';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import type { JurisdictionDetail } from '../../api/types';
import type { IncidentSummary, LivePosition } from '../../realtime/types';
import { boundsOf, labelPoint } from '../../map/geo';
import { geojsonSources, heatLayer, setSource, useLabels, useMapLibre, type MapLabel, type Style } from '../../map/kit';
import { STATUS_COLORS } from './codes';

/** Days of incidents the heat layer shows. */
export const HEAT_DAYS = 30;

function style(dark: boolean): Style {
  return {
    version: 8,
    sources: geojsonSources('grids', 'heat', 'incidents', 'units', 'pick'),
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': dark ? '#0b1b36' : '#eef2f7' } },
      { id: 'grids-fill', type: 'fill', source: 'grids', paint: { 'fill-color': ['case', ['get', 'core'], '#ef4444', '#3b82f6'], 'fill-opacity': dark ? 0.12 : 0.08 } },
      { id: 'grids-line', type: 'line', source: 'grids', paint: { 'line-color': dark ? '#60a5fa' : '#1e3a8a', 'line-width': 1, 'line-opacity': 0.6 } },
      heatLayer('heat', 'heat', dark),
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
    ] as Style['layers'],
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
  /** Category code → name shown on incident labels. */
  categoryName?: (code: string) => string;
  dark?: boolean;
  height?: number | string;
}

/** Grid levels whose names wait until the map is zoomed in enough to read them. */
const SMALL_LEVELS = new Set(['grid', 'micro_grid']);

/**
 * Grids, incidents by state and live units on one offline map (no tiles, no glyphs; the operator's
 * basemap underneath if configured), with names as HTML labels: station and grid names, unit call
 * signs, incident numbers and categories; and a heat layer of the last days' incidents.
 */
export function CommandMap({ nodeId, incidents, units, selectedId, pick, onSelect, onPick, categoryName, dark = false, height = 420 }: CommandMapProps) {
  const { t } = useTranslation();
  const container = useRef<HTMLDivElement>(null);
  const handlers = useRef({ onSelect, onPick });
  handlers.current = { onSelect, onPick };
  const [detail, setDetail] = useState<JurisdictionDetail | null>(null);
  const [showLabels, setShowLabels] = useState(true);
  const [showHeat, setShowHeat] = useState(false);
  const [heatCells, setHeatCells] = useState<number | null>(null);

  const { map, loaded, glError } = useMapLibre(container, () => style(dark), {
    key: dark,
    dark,
    onCreate: (m) => {
      m.on('click', (e) => {
        const hit = m.queryRenderedFeatures(e.point, { layers: ['incidents'] })[0];
        const id = hit?.properties?.id;
        if (typeof id === 'string') handlers.current.onSelect?.(id);
        else handlers.current.onPick?.([Math.round(e.lngLat.lng * 1e6) / 1e6, Math.round(e.lngLat.lat * 1e6) / 1e6]);
      });
    },
  });

  // Grids of the node: its children (stations, or grids of a station) with polygons.
  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<JurisdictionDetail>(`/api/jurisdictions/${nodeId}`, { signal: ctrl.signal })
      .then(setDetail)
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [nodeId]);

  useEffect(() => {
    if (!map || !loaded || !detail) return;
    const shapes = detail.children.length ? detail.children : [detail];
    setSource(
      map,
      'grids',
      shapes.flatMap((c): GeoJSON.Feature[] => (c.geometry ? [{ type: 'Feature', properties: { id: c.id, name: c.name, core: !!c.core }, geometry: c.geometry as GeoJSON.Geometry }] : [])),
    );
    const b = boundsOf([detail.geometry, ...detail.children.map((c) => c.geometry)]);
    if (b) map.fitBounds(b, { padding: 24, duration: 0, maxZoom: 15 });
  }, [map, loaded, detail]);

  useEffect(() => {
    if (!map || !loaded) return;
    setSource(
      map,
      'incidents',
      incidents
        .filter((i) => i.lon !== null && i.lat !== null)
        .map((i) => ({
          type: 'Feature',
          properties: { id: i.id, color: STATUS_COLORS[i.status] ?? '#6b7280', selected: i.id === selectedId },
          geometry: { type: 'Point', coordinates: [i.lon!, i.lat!] },
        })),
    );
  }, [map, loaded, incidents, selectedId]);

  useEffect(() => {
    if (!map || !loaded) return;
    setSource(
      map,
      'units',
      units.map((u) => ({ type: 'Feature', properties: { id: u.unitId, stale: u.stale, callSign: u.callSign }, geometry: { type: 'Point', coordinates: [u.lon, u.lat] } })),
    );
  }, [map, loaded, units]);

  useEffect(() => {
    if (!map || !loaded) return;
    setSource(map, 'pick', pick ? [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: pick } }] : []);
  }, [map, loaded, pick]);

  // The heat layer: read when switched on (and again when the node changes), hidden when off.
  useEffect(() => {
    if (!map || !loaded) return;
    map.setLayoutProperty('heat', 'visibility', showHeat ? 'visible' : 'none');
    if (!showHeat) return;
    const ctrl = new AbortController();
    api
      .get<{ days: number; total: number; cells: [number, number, number][] }>('/api/incidents/density', { signal: ctrl.signal, query: { nodeId, days: HEAT_DAYS } })
      .then((r) => {
        setSource(
          map,
          'heat',
          r.cells.map(([lon, lat, n]) => ({ type: 'Feature', properties: { weight: n }, geometry: { type: 'Point', coordinates: [lon, lat] } })),
        );
        setHeatCells(r.cells.length);
      })
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [map, loaded, showHeat, nodeId]);

  // Names, most important first (a later label that would overlap an earlier one is hidden):
  // the selected incident, incidents, units, stations, then grids once zoomed in.
  const labels = useMemo((): MapLabel[] | null => {
    if (!showLabels) return null;
    const out: MapLabel[] = [];
    const located = incidents.filter((i) => i.lon !== null && i.lat !== null);
    located.sort((a, b) => Number(b.id === selectedId) - Number(a.id === selectedId));
    for (const i of located) {
      const cat = categoryName?.(i.category) ?? i.category;
      out.push({
        at: [i.lon!, i.lat!],
        text: `${i.number.slice(-4)} ${cat}`,
        className: `pa-map-label pa-map-label-incident${i.id === selectedId ? ' pa-map-label-selected' : ''}`,
        anchor: 'left',
        offset: [10, 0],
        testId: 'map-label-incident',
        data: { incident: i.id },
      });
    }
    for (const u of units) {
      out.push({
        at: [u.lon, u.lat],
        text: u.callSign,
        className: `pa-map-label pa-map-label-unit${u.stale ? ' pa-map-label-stale' : ''}`,
        anchor: 'top',
        offset: [0, 8],
        testId: 'map-label-unit',
        data: { unit: u.unitId, at: `${u.lon},${u.lat}` },
      });
    }
    if (detail) {
      const places = detail.children.length ? detail.children : [];
      const own = labelPoint(detail.geometry);
      if (detail.level === 'station' && own) out.push({ at: own, text: detail.name, className: 'pa-map-label pa-map-label-station', testId: 'map-label-station' });
      for (const c of places) {
        const at = labelPoint(c.geometry);
        if (!at) continue;
        const small = SMALL_LEVELS.has(c.level);
        out.push({
          at,
          text: c.name,
          className: small ? 'pa-map-label pa-map-label-grid' : 'pa-map-label pa-map-label-station',
          minZoom: small ? 12 : 0,
          testId: small ? 'map-label-grid' : 'map-label-station',
        });
      }
    }
    return out;
  }, [showLabels, incidents, units, detail, selectedId, categoryName]);
  useLabels(map, loaded, labels);

  return (
    <div
      className={dark ? 'pa-map-dark' : undefined}
      style={{ position: 'relative', height, borderRadius: 8, overflow: 'hidden', border: dark ? '1px solid #1e3a8a' : '1px solid #d9d9d9' }}
    >
      <div
        ref={container}
        style={{ position: 'absolute', inset: 0 }}
        data-testid="command-map"
        data-loaded={loaded ? '1' : ''}
        data-heat={showHeat && heatCells !== null ? String(heatCells) : ''}
      />
      {glError ? <Alert style={{ position: 'absolute', top: 8, left: 8, right: 8 }} type="warning" showIcon message={glError} /> : null}
      <div className="pa-cmd-legend">
        {(['new', 'dispatched', 'on_scene'] as const).map((s) => (
          <span key={s}>
            <i style={{ background: STATUS_COLORS[s] }} />
            {t(`dispatch.status.${s}`)}
          </span>
        ))}
        <span>
          <Switch size="small" checked={showLabels} onChange={setShowLabels} data-testid="map-labels-toggle" /> {t('dispatch.map.labels')}
        </span>
        <span>
          <Switch size="small" checked={showHeat} onChange={setShowHeat} data-testid="map-heat-toggle" /> {t('dispatch.map.heat', { days: HEAT_DAYS })}
        </span>
      </div>
    </div>
  );
}
