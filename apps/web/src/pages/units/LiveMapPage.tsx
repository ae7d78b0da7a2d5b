import { useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Badge, Button, Card, Col, Empty, List, Row, Space, Switch, Tag, Typography } from 'antd';
import { CloseOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Marker } from 'maplibre-gl';
import { api } from '../../api/client';
import { useSession } from '../../auth/session';
import { formatTime, typeColors, usePolling, useNow, type LiveView, type UnitView } from './api';
import { TypeTag, ageText, typeLabel, useNode } from './common';
import { fitPoints, useBaseMap } from './mapkit';
import { UnitDetails } from './UnitDetails';
import { useIncidentStream } from '../../realtime/stream';
import { applyPositions } from '../../realtime/types';

/** Positions are pushed over /api/ws; this slow read only resyncs (and refreshes staleness). */
const REFRESH_MS = 60_000;

/** Where the on-duty units are now: pushed over /api/ws as they move (GET /api/units/live to resync), stale units greyed, click for details. */
export default function LiveMapPage() {
  const { t } = useTranslation();
  const session = useSession();
  const node = useNode(session.user.nodeId);
  const container = useRef<HTMLDivElement>(null);
  const [labels, setLabels] = useState(true);
  const base = useBaseMap(container, node.data, { labels });
  const [live, setLive] = useState<{ staleAfterSeconds: number; items: LiveView[] }>();
  const [refreshedAt, setRefreshedAt] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [unit, setUnit] = useState<UnitView | null>(null);
  const now = useNow(1000);
  const fitted = useRef(false);

  usePolling(
    async (signal) => {
      try {
        const r = await api.get<{ staleAfterSeconds: number; items: LiveView[] }>('/api/units/live', { signal });
        if (signal.aborted) return;
        setLive(r);
        setRefreshedAt(Date.now());
        setError(null);
      } catch (err) {
        if (!signal.aborted) setError(err instanceof Error ? err.message : String(err));
      }
    },
    REFRESH_MS,
    [],
  );
  const stream = useIncidentStream({
    mode: 'command',
    onEvent: () => undefined,
    onPositions: (m) => {
      setLive((cur) => (cur ? { ...cur, items: applyPositions(cur.items, m, (p, old) => ({ accuracy: null, speed: null, heading: null, ...old, ...p })) } : cur));
      setRefreshedAt(Date.now());
    },
  });

  // Details of the selected unit (duty, members, station) from GET /api/units/:id.
  useEffect(() => {
    if (!selected) {
      setUnit(null);
      return;
    }
    const ctrl = new AbortController();
    api
      .get<UnitView>(`/api/units/${selected}`, { signal: ctrl.signal })
      .then(setUnit)
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [selected, refreshedAt]);

  // One HTML marker per unit, kept across refreshes and moved in place.
  const markers = useRef(new Map<string, Marker>());
  const { map } = base;
  useEffect(() => {
    if (!map || !base.loaded || !live) return;
    const seen = new Set<string>();
    for (const v of live.items) {
      seen.add(v.unitId);
      let m = markers.current.get(v.unitId);
      if (!m) {
        const el = document.createElement('div');
        el.className = 'pa-unit-marker';
        el.dataset.testid = 'live-marker';
        el.innerHTML = '<span class="pa-unit-dot"></span><span class="pa-unit-label"></span>';
        el.addEventListener('click', (e) => {
          e.stopPropagation();
          setSelected(el.dataset.unit ?? null);
        });
        m = new Marker({ element: el, anchor: 'left', offset: [-7, 0] }).setLngLat([v.lon, v.lat]).addTo(map);
        markers.current.set(v.unitId, m);
      } else {
        m.setLngLat([v.lon, v.lat]);
      }
      const el = m.getElement();
      el.dataset.unit = v.unitId;
      el.dataset.stale = String(v.stale);
      el.dataset.callsign = v.callSign;
      el.dataset.at = `${v.lon},${v.lat}`;
      el.classList.toggle('pa-unit-stale', v.stale);
      el.title = `${v.callSign} · ${typeLabel(v.type, t)}`;
      const dot = el.querySelector<HTMLElement>('.pa-unit-dot');
      if (dot) dot.style.background = v.stale ? '#9ca3af' : (typeColors[v.type] ?? '#1d4ed8');
      const label = el.querySelector<HTMLElement>('.pa-unit-label');
      if (label) label.textContent = v.callSign;
    }
    for (const [id, m] of markers.current) {
      if (!seen.has(id)) {
        m.remove();
        markers.current.delete(id);
      }
    }
    if (!fitted.current && live.items.length > 0 && !node.data?.geometry) {
      fitPoints(map, live.items.map((v) => [v.lon, v.lat]));
      fitted.current = true;
    }
  }, [map, base.loaded, live, t, node.data]);
  useEffect(
    () => () => {
      for (const m of markers.current.values()) m.remove();
      markers.current.clear();
    },
    [map],
  );
  useEffect(() => {
    for (const [id, m] of markers.current) m.getElement().classList.toggle('pa-unit-selected', id === selected);
  }, [selected, live]);

  const items = useMemo(
    () => [...(live?.items ?? [])].sort((a, b) => Number(a.stale) - Number(b.stale) || a.callSign.localeCompare(b.callSign, 'zh-CN')),
    [live],
  );
  const staleCount = items.filter((v) => v.stale).length;

  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-units-live">
      <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
        <Space align="baseline" wrap>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('units.live.title')}
          </Typography.Title>
          {node.data ? <Typography.Text strong>{node.data.name}</Typography.Text> : null}
          <Typography.Text type="secondary">
            {t('units.live.pushed', { n: REFRESH_MS / 1000, state: t(`dispatch.stream.${stream.state}`) })}
            {refreshedAt ? ` · ${t('units.live.lastRefresh', { t: formatTime(new Date(refreshedAt).toISOString(), false) })}` : ''}
          </Typography.Text>
        </Space>
        <Space size={6}>
          <Switch size="small" checked={labels} onChange={setLabels} />
          <span>{t('map.showLabels')}</span>
        </Space>
      </Space>
      {base.glError ? <Alert type="warning" showIcon message={t('units.common.noMap', { reason: base.glError })} /> : null}
      {error ? <Alert type="error" showIcon message={error} /> : null}
      <Row gutter={12}>
        <Col xs={24} lg={18}>
          <div ref={container} className="pa-map" data-testid="live-map" data-drawn={base.drawn ?? ''} data-units={live?.items.length ?? ''} />
        </Col>
        <Col xs={24} lg={6}>
          {selected ? (
            <Card
              size="small"
              style={{ marginBottom: 12 }}
              title={unit ? `${unit.callSign} · ${unit.name}` : ''}
              extra={<Button type="text" size="small" icon={<CloseOutlined />} onClick={() => setSelected(null)} data-testid="live-details-close" />}
              data-testid="live-details"
            >
              {unit ? <UnitDetails unit={unit} compact /> : null}
            </Card>
          ) : null}
          <Card
            size="small"
            title={
              <Space>
                {t('units.live.units')}
                <Badge count={items.length - staleCount} color="green" showZero />
                <Badge count={staleCount} color="#9ca3af" showZero />
              </Space>
            }
          >
            {live ? (
              <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 8 }}>
                {t('units.live.staleAfter', { n: live.staleAfterSeconds })}
              </Typography.Paragraph>
            ) : null}
            <List
              size="small"
              data-testid="live-list"
              style={{ maxHeight: selected ? 'calc(100vh - 640px)' : 'calc(100vh - 300px)', minHeight: 160, overflow: 'auto' }}
              dataSource={items}
              locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('units.live.empty')} /> }}
              renderItem={(v) => (
                <List.Item
                  style={{ cursor: 'pointer', opacity: v.stale ? 0.55 : 1, background: v.unitId === selected ? '#e6f4ff' : undefined }}
                  onClick={() => {
                    setSelected(v.unitId);
                    map?.easeTo({ center: [v.lon, v.lat], zoom: Math.max(map.getZoom(), 13), duration: 400 });
                  }}
                  data-testid="live-item"
                  data-stale={String(v.stale)}
                >
                  <Space size={6} wrap>
                    <strong>{v.callSign}</strong>
                    <TypeTag type={v.type} t={t} />
                    {v.stale ? <Tag>{t('units.common.stale')}</Tag> : null}
                  </Space>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {ageText((now - Date.parse(v.t)) / 1000, t)}
                  </Typography.Text>
                </List.Item>
              )}
            />
          </Card>
        </Col>
      </Row>
    </Space>
  );
}
