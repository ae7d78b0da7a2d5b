import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, App, Breadcrumb, Button, Card, Col, List, Row, Select, Space, Switch, Tag, Tooltip, Typography } from 'antd';
import { AimOutlined, ArrowUpOutlined, CloseOutlined, DownloadOutlined, SaveOutlined, UndoOutlined, UploadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import { Marker, type GeoJSONSource, type Map as MapLibreMap } from 'maplibre-gl';
import { ApiError } from '../../api/client';
import { useApi, useErrorMessage } from '../../api/hooks';
import { useSession } from '../../auth/session';
import { levelLabel } from '../../shell/labels';
import { boundsOf, labelPoint, palette } from '../../map/geo';
import { emptyFc, fc, hoverFeatures, useLabels, useMapLibre, type MapLabel, type Style } from '../../map/kit';
import {
  GRID_EDITORS, GRID_EXPORTERS, dutyLabel, gridsApi, type LookupAnswer, type NodeSummary, type PublicCard, type SearchHit,
} from './api';
import { editLayers, editSources, PolygonEditor, type EditorState } from './editor';
import { GridPanel } from './GridPanel';
import { refusalText } from './refusal';
import './grids.css';

const style = (): Style => ({
  version: 8,
  sources: {
    node: { type: 'geojson', data: emptyFc },
    children: { type: 'geojson', data: emptyFc },
    sub: { type: 'geojson', data: emptyFc },
    selected: { type: 'geojson', data: emptyFc },
    ...editSources,
  },
  layers: [
    { id: 'background', type: 'background', paint: { 'background-color': '#eef2f7' } },
    { id: 'node-fill', type: 'fill', source: 'node', paint: { 'fill-color': '#1d4ed8', 'fill-opacity': 0.05 } },
    {
      id: 'children-fill',
      type: 'fill',
      source: 'children',
      paint: {
        'fill-color': ['get', 'color'],
        'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 0.42, 0.2],
      },
    },
    { id: 'sub-line', type: 'line', source: 'sub', paint: { 'line-color': ['get', 'color'], 'line-width': 0.6, 'line-opacity': 0.75 } },
    { id: 'children-line', type: 'line', source: 'children', paint: { 'line-color': ['get', 'color'], 'line-width': 1.4 } },
    { id: 'node-line', type: 'line', source: 'node', paint: { 'line-color': '#0b2a5b', 'line-width': 2.5 } },
    { id: 'selected-fill', type: 'fill', source: 'selected', paint: { 'fill-color': '#f59e0b', 'fill-opacity': 0.25 } },
    { id: 'selected-line', type: 'line', source: 'selected', paint: { 'line-color': '#b45309', 'line-width': 3 } },
    ...editLayers,
  ] as Style['layers'],
});

interface LookupState {
  lon: number;
  lat: number;
  answer?: LookupAnswer;
  card?: PublicCard | null;
  error?: string;
}

interface Refusal {
  message: string;
  issues: string[];
}

/**
 * The grids map (capability 1): the tree's polygons with Chinese labels, drill-down, breadcrumb, search,
 * a selected grid's team and card, point lookup, and vertex editing of a polygon for editors.
 */
export default function GridsPage() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const showError = useErrorMessage();
  const session = useSession();
  const navigate = useNavigate();
  const role = session.user.role;
  const editor = GRID_EDITORS.includes(role);
  const exporter = GRID_EXPORTERS.includes(role);
  const [params, setParams] = useSearchParams();
  const nodeId = params.get('node') ?? session.user.nodeId;
  const selId = params.get('sel');
  const node = useApi((signal) => gridsApi.node(nodeId, signal), [nodeId]);
  const data = node.data && node.data.id === nodeId ? node.data : undefined;

  const [showLabels, setShowLabels] = useState(true);
  const [showSub, setShowSub] = useState(true);
  const [lookupMode, setLookupMode] = useState(false);
  const [lookup, setLookup] = useState<LookupState | null>(null);
  const [editing, setEditing] = useState<NodeSummary | null>(null);
  const [editState, setEditState] = useState<EditorState | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [saving, setSaving] = useState(false);
  const [vertexPixels, setVertexPixels] = useState('');
  const [drawn, setDrawn] = useState('');
  /** How many polygons of the level below the children are drawn (after the map went idle). */
  const [subDrawn, setSubDrawn] = useState(0);

  const container = useRef<HTMLDivElement>(null);
  const editorRef = useRef<PolygonEditor | null>(null);
  const fitted = useRef<string | null>(null);

  // The level below the children (e.g. a station's micro-grids), thin lines under the children.
  const wantSub = showSub && exporter && !!data && data.children.length > 0 && data.children.length <= 400;
  const sub = useApi(
    (signal) => (wantSub ? gridsApi.subtree(nodeId, 2, signal) : Promise.resolve(null)),
    [nodeId, wantSub, data?.children.length],
  );

  const selected: NodeSummary | undefined = useMemo(() => {
    if (!data || !selId) return undefined;
    if (selId === data.id) return data;
    return data.children.find((c) => c.id === selId);
  }, [data, selId]);

  const go = useCallback(
    (next: { node?: string; sel?: string | null }) => {
      const n = next.node ?? nodeId;
      const p: Record<string, string> = {};
      if (n !== session.user.nodeId) p.node = n;
      if (next.sel) p.sel = next.sel;
      setParams(p);
    },
    [nodeId, session.user.nodeId, setParams],
  );

  const openChild = useCallback(
    (c: NodeSummary) => {
      if (c.level === 'micro_grid') go({ sel: c.id });
      else go({ node: c.id, sel: c.id });
    },
    [go],
  );

  const runLookup = useCallback(async (lon: number, lat: number) => {
    setLookup({ lon, lat });
    try {
      const answer = await gridsApi.lookup(lon, lat);
      let card: PublicCard | null = null;
      if (answer.cardSlug) card = await gridsApi.publicCard(answer.cardSlug).catch(() => null);
      setLookup({ lon, lat, answer, card });
    } catch (err) {
      setLookup({ lon, lat, error: err instanceof Error ? err.message : String(err) });
    }
  }, []);

  // Handlers read the latest state through a ref: the map is made once.
  const clickRef = useRef<(lon: number, lat: number, childId: string | null) => void>(() => undefined);
  clickRef.current = (lon, lat, childId) => {
    if (editorRef.current) return;
    const child = childId ? data?.children.find((c) => c.id === childId) : undefined;
    if (lookupMode || !child) {
      void runLookup(lon, lat);
      return;
    }
    setLookup(null);
    openChild(child);
  };

  // The map: made once; handlers read the latest state through refs.
  const { map: liveMap, loaded, glError } = useMapLibre(container, style, {
    onCreate: (map) => {
      hoverFeatures(map, 'children-fill', 'children', () => !!editorRef.current);
      map.on('click', (e) => {
        const f = map.queryRenderedFeatures(e.point, { layers: ['children-fill'] })[0];
        const id = f?.properties?.id;
        clickRef.current(e.lngLat.lng, e.lngLat.lat, typeof id === 'string' ? id : null);
      });
    },
  });
  const mapRef = useRef<MapLibreMap | null>(null);
  mapRef.current = liveMap;
  useEffect(
    () => () => {
      editorRef.current?.destroy();
      editorRef.current = null;
    },
    [],
  );

  // The node and its children: replaced on every drill-down or reload.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded || !data) return;
    const children = fc(
      data.children.flatMap((c, i): GeoJSON.Feature[] =>
        c.geometry
          ? [{ type: 'Feature', id: i + 1, properties: { id: c.id, name: c.name, color: palette[i % palette.length] }, geometry: c.geometry as GeoJSON.Geometry }]
          : [],
      ),
    );
    void map.getSource<GeoJSONSource>('node')?.setData(
      data.geometry ? fc([{ type: 'Feature', properties: { id: data.id }, geometry: data.geometry as GeoJSON.Geometry }]) : emptyFc,
    );
    void map.getSource<GeoJSONSource>('children')?.setData(children);
    if (fitted.current !== data.id) {
      const bounds = boundsOf([data.geometry, ...data.children.map((c) => c.geometry)]);
      if (bounds) map.fitBounds(bounds, { padding: 32, duration: 0, maxZoom: 17 });
      fitted.current = data.id;
    }
    setDrawn('');
    map.once('idle', () => setDrawn(data.id));
  }, [data, loaded]);

  // The level below the children.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded || !data) return;
    const color = new Map(data.children.map((c, i) => [c.code, palette[i % palette.length]!]));
    const features = (sub.data?.features ?? []).filter((f) => f.geometry && f.properties.parentCode && color.has(f.properties.parentCode));
    void map.getSource<GeoJSONSource>('sub')?.setData(
      fc(
        wantSub
          ? features.map((f) => ({
              type: 'Feature' as const,
              properties: { color: color.get(f.properties.parentCode!) },
              geometry: f.geometry as GeoJSON.Geometry,
            }))
          : [],
      ),
    );
    setSubDrawn(0);
    const count = wantSub ? features.length : 0;
    const done = () => setSubDrawn(count);
    map.once('idle', done);
    return () => {
      map.off('idle', done);
    };
  }, [sub.data, data, loaded, wantSub]);

  // The selected grid, outlined.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded) return;
    const g = selected && selected.id !== data?.id ? selected.geometry : null;
    void map.getSource<GeoJSONSource>('selected')?.setData(g ? fc([{ type: 'Feature', properties: {}, geometry: g as GeoJSON.Geometry }]) : emptyFc);
  }, [selected, data, loaded]);

  // Names as HTML markers (no glyphs needed): hidden where they would overlap an earlier one.
  const labels = useMemo((): MapLabel[] | null => {
    if (!data || !showLabels) return null;
    const list = data.children.length ? data.children : [data];
    // The selected name first, so it wins against its neighbours.
    const ordered = [...list].sort((a, b) => Number(b.id === selId) - Number(a.id === selId));
    return ordered.flatMap((c): MapLabel[] => {
      const at = labelPoint(c.geometry);
      if (!at) return [];
      const className = ['pa-grids-label', c.core ? 'pa-grids-label-core' : '', c.id === selId ? 'pa-grids-label-selected' : ''].join(' ');
      return [{ at, text: c.name, className, testId: 'grids-label' }];
    });
  }, [data, showLabels, selId]);
  useLabels(liveMap, loaded, labels, 'pa-grids-label-hidden');

  // The lookup pin.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded || !lookup) return;
    const el = document.createElement('div');
    el.className = 'pa-grids-pin';
    const m = new Marker({ element: el }).setLngLat([lookup.lon, lookup.lat]).addTo(map);
    return () => {
      m.remove();
    };
  }, [lookup?.lon, lookup?.lat, loaded]); // eslint-disable-line react-hooks/exhaustive-deps

  // Polygon editing.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded || !editing?.geometry) return;
    // A change of the shape answers the refusal of the previous one.
    let first = true;
    const ed = new PolygonEditor(map, editing.geometry, (s) => {
      setEditState(s);
      if (!first) setRefusal(null);
      first = false;
    });
    editorRef.current = ed;
    const track = () => setVertexPixels(JSON.stringify(ed.vertexPixels()));
    track();
    map.on('move', track);
    map.on('idle', track);
    return () => {
      map.off('move', track);
      map.off('idle', track);
      ed.destroy();
      editorRef.current = null;
      setEditState(null);
      setVertexPixels('');
    };
  }, [editing, loaded]);

  useEffect(() => {
    if (editorRef.current) setVertexPixels(JSON.stringify(editorRef.current.vertexPixels()));
  }, [editState]);

  // Leaving the node ends an edit.
  useEffect(() => {
    setEditing(null);
    setRefusal(null);
  }, [nodeId, selId]);

  const savePolygon = async () => {
    const ed = editorRef.current;
    if (!ed || !editing) return;
    setSaving(true);
    setRefusal(null);
    try {
      await gridsApi.update(editing.id, { geometry: ed.geometry() });
      void message.success(t('grids.panel.polygonSaved'));
      setEditing(null);
      node.reload();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 422 || err.status === 400)) {
        setRefusal({ message: err.message, issues: err.issues.map((i) => i.message) });
      } else showError(err);
    } finally {
      setSaving(false);
    }
  };

  // Search by name or code.
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [searching, setSearching] = useState(false);
  const searchTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const onSearch = (q: string) => {
    clearTimeout(searchTimer.current);
    if (!q.trim()) {
      setHits([]);
      return;
    }
    searchTimer.current = setTimeout(() => {
      setSearching(true);
      gridsApi
        .search(q.trim())
        .then((r) => setHits(r.items))
        .catch(showError)
        .finally(() => setSearching(false));
    }, 250);
  };
  const onPick = async (id: string) => {
    const hit = hits.find((h) => h.id === id);
    if (!hit) return;
    setLookup(null);
    if (hit.level === 'micro_grid') {
      try {
        const d = await gridsApi.node(hit.id, undefined, false);
        go({ node: d.parentId ?? hit.id, sel: hit.id });
      } catch (err) {
        showError(err);
      }
    } else go({ node: hit.id, sel: hit.id });
  };

  // Ancestors above the user's own node are shown but not opened (outside their jurisdiction).
  const ownIndex = data?.path.findIndex((p) => p.id === session.user.nodeId) ?? -1;
  const crumbs = (data?.path ?? []).map((p, i) => ({
    key: p.id,
    title:
      i >= ownIndex && ownIndex >= 0 && p.id !== data?.id ? (
        <a
          data-testid="grids-crumb"
          onClick={(e) => {
            e.preventDefault();
            go({ node: p.id, sel: null });
          }}
        >
          {p.name}
        </a>
      ) : (
        <span data-testid="grids-crumb">{p.name}</span>
      ),
  }));

  const canGoUp = !!data?.parentId && ownIndex >= 0 && data.id !== session.user.nodeId;

  return (
    <Space direction="vertical" size={10} style={{ width: '100%' }} data-testid="page-grids">
      <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
        <Space align="center" wrap>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('grids.map.title')}
          </Typography.Title>
          <Breadcrumb items={crumbs} data-testid="grids-breadcrumb" />
          {data ? <Tag>{levelLabel(data.level, t)}</Tag> : null}
        </Space>
        <Space wrap>
          <Select<string>
            showSearch={{ filterOption: false, onSearch }}
            placeholder={t('grids.map.search')}
            style={{ width: 260 }}
            loading={searching}
            value={null}
            onChange={(v) => void onPick(v)}
            notFoundContent={searching ? null : t('grids.map.noResults')}
            data-testid="grids-search"
            options={hits.map((h) => ({
              value: h.id,
              label: (
                <Space size={4} data-testid="grids-search-hit">
                  <span>{h.name}</span>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {h.code} · {levelLabel(h.level, t)}
                    {h.parentName ? ` · ${h.parentName}` : ''}
                  </Typography.Text>
                </Space>
              ),
            }))}
          />
          <Tooltip title={t('grids.map.lookupHint')}>
            <Button
              icon={<AimOutlined />}
              type={lookupMode ? 'primary' : 'default'}
              onClick={() => setLookupMode((m) => !m)}
              data-testid="grids-lookup-mode"
            >
              {t('grids.map.lookupMode')}
            </Button>
          </Tooltip>
          <Space size={4}>
            <Switch size="small" checked={showLabels} onChange={setShowLabels} />
            <span>{t('grids.map.showLabels')}</span>
          </Space>
          {exporter ? (
            <Space size={4}>
              <Switch size="small" checked={showSub} onChange={setShowSub} />
              <span>{t('grids.map.showSub')}</span>
            </Space>
          ) : null}
          {canGoUp ? (
            <Button icon={<ArrowUpOutlined />} onClick={() => go({ node: data!.parentId!, sel: null })}>
              {t('grids.map.up')}
            </Button>
          ) : null}
          {editor && data ? (
            <Button icon={<UploadOutlined />} onClick={() => navigate(`/grids/import?parent=${data.id}`)} data-testid="grids-import">
              {t('grids.map.importHere')}
            </Button>
          ) : null}
          {exporter && data ? (
            <Button icon={<DownloadOutlined />} href={`/api/jurisdictions/${data.id}/export`} download>
              {t('grids.map.export')}
            </Button>
          ) : null}
        </Space>
      </Space>
      {glError ? <Alert type="warning" showIcon message={t('grids.map.noWebgl', { reason: glError })} /> : null}
      {data && !data.geometry && data.children.every((c) => !c.geometry) ? <Alert type="info" showIcon message={t('grids.map.noGeometry')} /> : null}
      <Row gutter={12}>
        <Col xs={24} lg={16}>
          <div className="pa-grids-map-wrap">
            <div
              ref={container}
              className={`pa-grids-map${lookupMode ? ' pa-grids-lookup' : ''}`}
              data-testid="grids-map"
              data-drawn={drawn}
              data-sub={subDrawn}
              data-editing={editing ? editing.id : ''}
              data-edit-vertices={vertexPixels}
            />
            {editing ? (
              <div className="pa-grids-toolbar">
                <div className="pa-grids-toolbar-bar" data-testid="grids-edit-bar">
                  <Typography.Text strong>
                    {t('grids.panel.editPolygon')}：{editing.name}
                  </Typography.Text>
                  <Button
                    type="primary"
                    size="small"
                    icon={<SaveOutlined />}
                    loading={saving}
                    disabled={!editState?.changed}
                    onClick={() => void savePolygon()}
                    data-testid="grids-edit-save"
                  >
                    {t('grids.panel.savePolygon')}
                  </Button>
                  <Button
                    size="small"
                    icon={<UndoOutlined />}
                    disabled={!editState?.canUndo}
                    onClick={() => editorRef.current?.undo()}
                    data-testid="grids-edit-undo"
                  >
                    {t('grids.panel.undo')}
                  </Button>
                  <Button
                    size="small"
                    icon={<CloseOutlined />}
                    onClick={() => {
                      setEditing(null);
                      setRefusal(null);
                    }}
                    data-testid="grids-edit-cancel"
                  >
                    {t('grids.panel.cancelEdit')}
                  </Button>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {t('grids.panel.editHint')}
                  </Typography.Text>
                  {editorRef.current?.partial ? (
                    <Typography.Text type="warning" style={{ fontSize: 12 }}>
                      {t('grids.panel.cannotEditMulti')}
                    </Typography.Text>
                  ) : null}
                </div>
                {refusal ? (
                  <Alert
                    type="error"
                    showIcon
                    closable
                    onClose={() => setRefusal(null)}
                    data-testid="grids-edit-refusal"
                    style={{ alignSelf: 'flex-start', maxWidth: 'min(560px, 100%)' }}
                    message={t('grids.panel.refused')}
                    description={
                      <Space direction="vertical" size={2}>
                        {(refusal.issues.length ? refusal.issues : [refusal.message]).map((m, i) => (
                          <span key={i}>{refusalText(m, i18n.language)}</span>
                        ))}
                        {i18n.language !== 'en' ? (
                          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                            {refusal.message}
                          </Typography.Text>
                        ) : null}
                      </Space>
                    }
                  />
                ) : null}
              </div>
            ) : null}
          </div>
        </Col>
        <Col xs={24} lg={8}>
          <div className="pa-grids-side">
            <Space direction="vertical" size={10} style={{ width: '100%' }}>
              {lookup ? <LookupCard state={lookup} onClose={() => setLookup(null)} onOpen={(n, s) => go({ node: n, sel: s })} /> : null}
              {selected ? (
                <GridPanel
                  key={selected.id}
                  node={selected}
                  childCount={selected.id === data?.id ? data.children.length : undefined}
                  editor={editor}
                  onEditPolygon={() => {
                    setRefusal(null);
                    setEditing(selected);
                  }}
                  onChanged={node.reload}
                />
              ) : null}
              <Card size="small" title={`${t('grids.map.children')} (${data?.children.length ?? 0})`} loading={node.loading && !data}>
                <List
                  size="small"
                  dataSource={data?.children ?? []}
                  data-testid="grids-children"
                  renderItem={(c, i) => (
                    <List.Item
                      actions={[
                        <Button key="open" type="link" size="small" onClick={() => openChild(c)} data-testid="grids-child-open">
                          {t('grids.map.open')}
                        </Button>,
                      ]}
                    >
                      <Space size={6}>
                        <span style={{ width: 10, height: 10, borderRadius: 2, display: 'inline-block', background: palette[i % palette.length] }} />
                        <span style={c.id === selId ? { fontWeight: 600 } : undefined}>{c.name}</span>
                        {c.core ? <Tag color="red">{t('grids.map.core')}</Tag> : null}
                      </Space>
                    </List.Item>
                  )}
                />
              </Card>
            </Space>
          </div>
        </Col>
      </Row>
    </Space>
  );
}

function LookupCard({ state, onClose, onOpen }: { state: LookupState; onClose: () => void; onOpen: (node: string, sel: string) => void }) {
  const { t, i18n } = useTranslation();
  const a = state.answer;
  return (
    <Card
      size="small"
      data-testid="grids-lookup"
      title={t('grids.lookup.title')}
      extra={<Button size="small" type="text" icon={<CloseOutlined />} onClick={onClose} aria-label={t('grids.lookup.close')} />}
      loading={!a && !state.error}
    >
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t('grids.lookup.point')}：{state.lon.toFixed(6)}, {state.lat.toFixed(6)} (WGS-84)
      </Typography.Text>
      {state.error ? <Alert type="error" message={state.error} /> : null}
      {a && !a.found ? <Alert type="info" showIcon message={t('grids.lookup.outside')} description={a.message} /> : null}
      {a?.found ? (
        <Space direction="vertical" size={6} style={{ width: '100%', marginTop: 6 }}>
          <Space size={4} wrap data-testid="grids-lookup-chain">
            {[...a.chain].reverse().map((n, i) => (
              <span key={n.id}>
                {i > 0 ? ' › ' : ''}
                <Tag style={{ marginInlineEnd: 0 }}>{levelLabel(n.level, t)}</Tag> {n.name}
              </span>
            ))}
          </Space>
          {a.chain.length > 1 ? (
            <Button size="small" onClick={() => onOpen(a.chain[1]!.id, a.chain[0]!.id)} data-testid="grids-lookup-open">
              {t('grids.map.open')}：{a.chain[0]!.name}
            </Button>
          ) : null}
          {state.card ? (
            <div data-testid="grids-lookup-card">
              <Typography.Text strong>{state.card.name}</Typography.Text>
              {state.card.supervisionPhone ? (
                <div>
                  {t('grids.card.supervision')}：{state.card.supervisionPhone}
                </div>
              ) : null}
              <List
                size="small"
                dataSource={state.card.members}
                renderItem={(m) => (
                  <List.Item style={{ padding: '2px 0' }}>
                    <Space size={6}>
                      <Tag>{dutyLabel(m.duty, i18n.language)}</Tag>
                      <span>{m.name}</span>
                      <Typography.Text type="secondary">{m.phone ?? ''}</Typography.Text>
                    </Space>
                  </List.Item>
                )}
              />
              <a href={`/card/${state.card.slug}`} target="_blank" rel="noreferrer">
                {t('grids.lookup.openCard')}
              </a>
            </div>
          ) : null}
        </Space>
      ) : null}
    </Card>
  );
}

