import { useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Button, Card, Checkbox, Col, Descriptions, InputNumber, Row, Select, Space, Table, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Marker, type MapMouseEvent } from 'maplibre-gl';
import { api } from '../../api/client';
import { useErrorMessage } from '../../api/hooks';
import { useSession } from '../../auth/session';
import { circleRing, type ReachAnswer } from './api';
import { typeLabel, useNode, useUnits } from './common';
import { setSource, useBaseMap } from './mapkit';

const MINUTES = [1, 3, 5];
const ringColors: Record<string, string> = { '1': '#16a34a', '3': '#f59e0b', '5': '#3b82f6' };

function pct(v: number | undefined): string {
  return v === undefined ? '—' : `${(v * 100).toFixed(1)}%`;
}

/** Red (nothing reached) → green (all reached). */
function shareColor(s: number): string {
  const hue = Math.round(120 * Math.max(0, Math.min(1, s)));
  return `hsl(${hue}, 70%, 45%)`;
}

/** Which share of each grid (and of core areas) chosen stations and units reach within 1/3/5 minutes. */
export default function ReachPage() {
  const { t } = useTranslation();
  const session = useSession();
  const showError = useErrorMessage();
  const node = useNode(session.user.nodeId);
  const units = useUnits();
  const container = useRef<HTMLDivElement>(null);
  const base = useBaseMap(container, node.data, { labels: false });
  const { map } = base;

  const [stations, setStations] = useState<string[]>([]);
  const [unitIds, setUnitIds] = useState<string[]>([]);
  const [liveUnits, setLiveUnits] = useState(true);
  const [points, setPoints] = useState<{ lon: number; lat: number }[]>([]);
  const [speed, setSpeed] = useState<number | null>(null);
  const [result, setResult] = useState<ReachAnswer | null>(null);
  const [loading, setLoading] = useState(false);

  const stationOptions = useMemo(() => (units.data?.items ?? []).filter((u) => u.type === 'service_station'), [units.data]);
  const unitOptions = useMemo(() => (units.data?.items ?? []).filter((u) => u.type !== 'service_station' && u.onDuty), [units.data]);

  // Stations are chosen by default once they are known.
  const defaulted = useRef(false);
  useEffect(() => {
    if (!defaulted.current && units.data) {
      defaulted.current = true;
      setStations(stationOptions.map((u) => u.id));
    }
  }, [units.data, stationOptions]);

  useEffect(() => {
    if (!map) return;
    const onClick = (e: MapMouseEvent) => {
      if ((e.originalEvent.target as HTMLElement | null)?.closest('.maplibregl-marker')) return;
      setPoints((p) => [...p, { lon: Number(e.lngLat.lng.toFixed(6)), lat: Number(e.lngLat.lat.toFixed(6)) }]);
    };
    map.on('click', onClick);
    return () => {
      map.off('click', onClick);
    };
  }, [map]);

  // Picked points (not yet computed) as markers; right-click removes one.
  useEffect(() => {
    if (!map) return;
    const ms = points.map((p, i) => {
      const el = document.createElement('div');
      el.className = 'pa-source';
      el.style.background = '#e11d48';
      el.title = `${p.lon}, ${p.lat}`;
      el.addEventListener('contextmenu', (e) => {
        e.preventDefault();
        setPoints((all) => all.filter((_, j) => j !== i));
      });
      return new Marker({ element: el }).setLngLat([p.lon, p.lat]).addTo(map);
    });
    return () => ms.forEach((m) => m.remove());
  }, [map, points]);

  // The answer on the map: 5/3/1-minute circles around every source, grids tinted by their 3-minute share.
  useEffect(() => {
    if (!map || !base.loaded || !result || !node.data) return;
    const circles: GeoJSON.Feature[] = [];
    for (const m of [...MINUTES].reverse()) {
      const r = result.radiiM[String(m)];
      if (!r) continue;
      for (const s of result.sources) {
        circles.push({ type: 'Feature', properties: { color: ringColors[String(m)], opacity: 0.12 }, geometry: { type: 'Polygon', coordinates: [circleRing(s.lon, s.lat, r)] } });
      }
    }
    setSource(map, 'circles', circles);
    const share = new Map(result.grids.map((g) => [g.id, g.shares['3'] ?? 0]));
    setSource(
      map,
      'grids',
      node.data.children.flatMap((c): GeoJSON.Feature[] =>
        c.geometry && share.has(c.id)
          ? [{ type: 'Feature', properties: { id: c.id, color: shareColor(share.get(c.id)!), opacity: 0.3 }, geometry: c.geometry as GeoJSON.Geometry }]
          : [],
      ),
    );
    const ms = result.sources.map((s) => {
      const el = document.createElement('div');
      el.className = 'pa-unit-marker';
      el.innerHTML = '<span class="pa-source"></span><span class="pa-unit-label"></span>';
      const label = el.querySelector<HTMLElement>('.pa-unit-label')!;
      if (s.callSign) label.textContent = s.callSign;
      else label.remove();
      return new Marker({ element: el, anchor: 'left', offset: [-6, 0] }).setLngLat([s.lon, s.lat]).addTo(map);
    });
    return () => ms.forEach((m) => m.remove());
  }, [map, base.loaded, result, node.data]);

  async function compute() {
    setLoading(true);
    try {
      const r = await api.post<ReachAnswer>('/api/units/reach', {
        nodeId: session.user.nodeId,
        unitIds: [...stations, ...unitIds],
        liveUnits,
        points,
        minutes: MINUTES,
        ...(speed ? { speedKmh: speed } : {}),
      });
      setResult(r);
    } catch (err) {
      showError(err);
    } finally {
      setLoading(false);
    }
  }

  const rows = result?.grids ?? [];
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-reach">
      <Space align="baseline" wrap>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t('units.reach.title')}
        </Typography.Title>
        {node.data ? <Typography.Text strong>{node.data.name}</Typography.Text> : null}
      </Space>
      <Card size="small">
        <Space wrap size={12}>
          {stationOptions.length ? (
            <Select
              mode="multiple"
              allowClear
              maxTagCount="responsive"
              placeholder={t('units.reach.stations')}
              style={{ minWidth: 220 }}
              value={stations}
              onChange={setStations}
              options={stationOptions.map((u) => ({ value: u.id, label: u.callSign }))}
              data-testid="reach-stations"
            />
          ) : null}
          <Select
            mode="multiple"
            allowClear
            maxTagCount="responsive"
            placeholder={t('units.reach.units')}
            style={{ minWidth: 220 }}
            value={unitIds}
            onChange={setUnitIds}
            options={unitOptions.map((u) => ({ value: u.id, label: `${u.callSign}（${typeLabel(u.type, t)}）` }))}
            data-testid="reach-units"
          />
          <Checkbox checked={liveUnits} onChange={(e) => setLiveUnits(e.target.checked)} data-testid="reach-live">
            {t('units.reach.liveUnits')}
          </Checkbox>
          <Space size={4}>
            <span>{t('units.reach.speed')}</span>
            <InputNumber min={1} max={200} value={speed} onChange={(v) => setSpeed(v)} placeholder={result ? String(result.speedKmh) : '30'} style={{ width: 90 }} />
          </Space>
          <Button type="primary" loading={loading} onClick={() => void compute()} data-testid="reach-compute">
            {t('units.reach.compute')}
          </Button>
        </Space>
        <div style={{ marginTop: 8 }}>
          <Space wrap>
            <Typography.Text type="secondary">{t('units.reach.pointsHint')}</Typography.Text>
            <Tag>{t('units.reach.points', { n: points.length })}</Tag>
            {points.length ? (
              <Button size="small" onClick={() => setPoints([])}>
                {t('units.reach.clearPoints')}
              </Button>
            ) : null}
          </Space>
        </div>
      </Card>
      {base.glError ? <Alert type="warning" showIcon message={t('units.common.noMap', { reason: base.glError })} /> : null}
      {result && result.sources.length === 0 ? <Alert type="warning" showIcon message={t('units.reach.noSources')} /> : null}
      <Row gutter={12}>
        <Col xs={24} xl={12}>
          <div ref={container} className="pa-map" data-testid="reach-map" data-drawn={base.drawn ?? ''} />
          <Space size={12} style={{ marginTop: 6 }}>
            {MINUTES.map((m) => (
              <Space key={m} size={4}>
                <span style={{ width: 12, height: 12, borderRadius: 6, display: 'inline-block', background: ringColors[String(m)] }} />
                {t('units.reach.within', { m })}
              </Space>
            ))}
          </Space>
        </Col>
        <Col xs={24} xl={12}>
          {result ? (
            <Space direction="vertical" style={{ width: '100%' }}>
              <Typography.Text type="secondary" data-testid="reach-model">
                {t('units.reach.model', {
                  speed: result.speedKmh,
                  radii: Object.entries(result.radiiM)
                    .map(([m, r]) => `${m}′ ${r} m`)
                    .join(' · '),
                })}{' '}
                · {t('units.reach.sources', { n: result.sources.length })}
              </Typography.Text>
              <Descriptions size="small" bordered column={1} data-testid="reach-summary">
                {([['core', result.core], ['all', result.all]] as const).map(([k, v]) => (
                  <Descriptions.Item key={k} label={`${t(`units.reach.${k}`)}（${v.areaKm2} km²）`}>
                    <Space size={12}>
                      {MINUTES.map((m) => (
                        <span key={m}>
                          {t('units.reach.within', { m })}: <strong>{pct(v.shares[String(m)])}</strong>
                        </span>
                      ))}
                    </Space>
                  </Descriptions.Item>
                ))}
              </Descriptions>
              <Table
                size="small"
                rowKey="id"
                data-testid="reach-table"
                dataSource={rows}
                pagination={{ pageSize: 12, hideOnSinglePage: true, showSizeChanger: false }}
                columns={[
                  {
                    title: t('units.reach.grid'),
                    dataIndex: 'name',
                    ellipsis: true,
                    render: (v: string, g) => (
                      <Space size={4}>
                        <span>{v}</span>
                        {g.core ? <Tag color="red">{t('units.reach.core')}</Tag> : null}
                      </Space>
                    ),
                  },
                  { title: t('units.reach.area'), dataIndex: 'areaKm2', width: 110 },
                  ...MINUTES.map((m) => ({
                    title: t('units.reach.within', { m }),
                    key: String(m),
                    width: 90,
                    sorter: (a: ReachAnswer['grids'][number], b: ReachAnswer['grids'][number]) => (a.shares[String(m)] ?? 0) - (b.shares[String(m)] ?? 0),
                    render: (_: unknown, g: ReachAnswer['grids'][number]) => {
                      const s = g.shares[String(m)] ?? 0;
                      return <span style={{ color: shareColor(s), fontWeight: 600 }}>{pct(s)}</span>;
                    },
                  })),
                ]}
              />
            </Space>
          ) : (
            <Card size="small">
              <Typography.Text type="secondary">{t('units.desc.reach')}</Typography.Text>
            </Card>
          )}
        </Col>
      </Row>
    </Space>
  );
}
