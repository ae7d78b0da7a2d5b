/**
 * The optional basemap (decision 016): when the operator configured a PMTiles file
 * (PINGAN_BASEMAP_PMTILES), the server serves it from its own origin with Range requests and every
 * map puts it under its GeoJSON layers through the `pmtiles://` protocol. Without it nothing changes.
 */
import { addProtocol, type LayerSpecification, type Map as MapLibreMap } from 'maplibre-gl';
import { PMTiles, Protocol, TileType } from 'pmtiles';
import { api } from '../api/client';

export type BasemapKind = 'raster' | 'vector';

interface Basemap {
  kind: BasemapKind;
  /** The `pmtiles://…` URL the sources name. */
  url: string;
  /** Vector archives: their layer ids (from the archive's metadata), drawn as plain shapes. */
  vectorLayers: string[];
}

let protocol: Protocol | null = null;
let loading: Promise<Basemap | null> | null = null;

async function load(): Promise<Basemap | null> {
  const config = await api.get<{ basemap: { url: string; bytes: number } | null }>('/api/map/config');
  if (!config.basemap) return null;
  const absolute = new URL(config.basemap.url, location.origin).toString();
  if (!protocol) {
    protocol = new Protocol();
    addProtocol('pmtiles', protocol.tile);
  }
  const archive = new PMTiles(absolute);
  protocol.add(archive);
  const header = await archive.getHeader();
  if (header.tileType === TileType.Mvt) {
    const meta = (await archive.getMetadata().catch(() => ({}))) as { vector_layers?: { id?: unknown }[] };
    const vectorLayers = (meta.vector_layers ?? []).map((l) => l.id).filter((id): id is string => typeof id === 'string');
    return { kind: 'vector', url: `pmtiles://${absolute}`, vectorLayers };
  }
  if (header.tileType === TileType.Png || header.tileType === TileType.Jpeg || header.tileType === TileType.Webp || header.tileType === TileType.Avif) {
    return { kind: 'raster', url: `pmtiles://${absolute}`, vectorLayers: [] };
  }
  console.warn(`basemap: tile type ${header.tileType} is not drawn`);
  return null;
}

/** What the server offers, asked once per page load (a failure: no basemap, the maps work without). */
export function basemap(): Promise<Basemap | null> {
  loading ??= load().catch((err: unknown) => {
    console.warn('basemap unavailable:', err);
    return null;
  });
  return loading;
}

function layersFor(b: Basemap, dark: boolean): LayerSpecification[] {
  if (b.kind === 'raster') {
    return [{ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': dark ? 0.55 : 0.9 } }];
  }
  // No glyphs or sprites offline: the vector basemap is shapes only; names come from our own labels.
  return b.vectorLayers.flatMap((id): LayerSpecification[] => [
    { id: `basemap-${id}-fill`, type: 'fill', source: 'basemap', 'source-layer': id, filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': dark ? '#13284d' : '#e2e8f0', 'fill-opacity': 0.8 } },
    { id: `basemap-${id}-line`, type: 'line', source: 'basemap', 'source-layer': id, filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': dark ? '#334e7e' : '#cbd5e1', 'line-width': 1 } },
  ]);
}

/**
 * Put the basemap under everything but the background of a loaded map. Answers what was added
 * (null: none configured), so pages can show it and tests can see it.
 */
export async function addBasemap(map: MapLibreMap, opts: { dark?: boolean } = {}): Promise<BasemapKind | null> {
  const b = await basemap();
  if (!b || map.getSource('basemap')) return b?.kind ?? null;
  if (b.kind === 'raster') map.addSource('basemap', { type: 'raster', url: b.url, tileSize: 256 });
  else map.addSource('basemap', { type: 'vector', url: b.url });
  const layers = map.getStyle().layers;
  const firstOverlay = layers.find((l) => l.type !== 'background')?.id;
  for (const layer of layersFor(b, opts.dark ?? false)) map.addLayer(layer, firstOverlay);
  return b.kind;
}
