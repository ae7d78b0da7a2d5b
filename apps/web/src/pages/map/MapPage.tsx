import { useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Button, Card, Col, List, Row, Space, Switch, Tag, Typography } from 'antd';
import { ArrowUpOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { JurisdictionDetail } from '../../api/types';
import { useSession } from '../../auth/session';
import { levelLabel } from '../../shell/labels';
import { boundsOf, labelPoint, palette } from '../../map/geo';
import { geojsonSources, hoverFeatures, setSource, useLabels, useMapLibre, type MapLabel, type Style } from '../../map/kit';

/** No tiles, no glyphs: a plain background (and the operator's basemap, if any); the polygons are the map. */
const style = (): Style => ({
  version: 8,
  sources: geojsonSources('node', 'children'),
  layers: [
    { id: 'background', type: 'background', paint: { 'background-color': '#eef2f7' } },
    { id: 'node-fill', type: 'fill', source: 'node', paint: { 'fill-color': '#1d4ed8', 'fill-opacity': 0.06 } },
    {
      id: 'children-fill',
      type: 'fill',
      source: 'children',
      paint: { 'fill-color': ['get', 'color'], 'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 0.45, 0.25] },
    },
    { id: 'children-line', type: 'line', source: 'children', paint: { 'line-color': ['get', 'color'], 'line-width': 1.2 } },
    { id: 'node-line', type: 'line', source: 'node', paint: { 'line-color': '#0b2a5b', 'line-width': 2.5 } },
  ],
});

/** Your jurisdiction and the units below it, drawn from GET /api/jurisdictions/:id. */
export default function MapPage() {
  const { t } = useTranslation();
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const nodeId = params.get('node') ?? session.user.nodeId;
  const node = useApi((signal) => api.get<JurisdictionDetail>(`/api/jurisdictions/${nodeId}`, { signal }), [nodeId]);

  const container = useRef<HTMLDivElement>(null);
  const [drawn, setDrawn] = useState<string | null>(null);
  const [showLabels, setShowLabels] = useState(true);
  const open = (id: string) => setParams(id === session.user.nodeId ? {} : { node: id });
  const openRef = useRef(open);
  openRef.current = open;

  const { map, loaded, glError } = useMapLibre(container, style, {
    zoom: 8,
    onCreate: (m) => {
      hoverFeatures(m, 'children-fill', 'children');
      m.on('click', 'children-fill', (e) => {
        const id = e.features?.[0]?.properties?.id;
        if (typeof id === 'string') openRef.current(id);
      });
    },
  });

  // The data: replaced on every drill-down.
  useEffect(() => {
    const data = node.data;
    if (!map || !loaded || !data) return;
    const children = data.children.flatMap((c, i): GeoJSON.Feature[] =>
      c.geometry ? [{ type: 'Feature', id: i + 1, properties: { id: c.id, name: c.name, color: palette[i % palette.length] }, geometry: c.geometry as GeoJSON.Geometry }] : [],
    );
    setSource(map, 'node', data.geometry ? [{ type: 'Feature', properties: { id: data.id }, geometry: data.geometry as GeoJSON.Geometry }] : []);
    setSource(map, 'children', children);
    const bounds = boundsOf([data.geometry, ...data.children.map((c) => c.geometry)]);
    if (bounds) map.fitBounds(bounds, { padding: 32, duration: 0, maxZoom: 16 });
    setDrawn(null);
    map.once('idle', () => setDrawn(data.id));
  }, [node.data, map, loaded]);

  // Names that would overlap an earlier one are hidden until the user zooms in.
  const labels = useMemo((): MapLabel[] | null => {
    const data = node.data;
    if (!data || !showLabels) return null;
    const shown = data.children.length ? data.children : [data];
    return shown.flatMap((c) => {
      const at = labelPoint(c.geometry);
      return at ? [{ at, text: c.name, className: c.core ? 'pa-map-label pa-map-label-core' : 'pa-map-label' }] : [];
    });
  }, [node.data, showLabels]);
  useLabels(map, loaded, labels);

  const data = node.data;
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-map">
      <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
        <Space align="baseline" wrap>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('map.title')}
          </Typography.Title>
          {data ? (
            <>
              <Typography.Text strong data-testid="map-node-name">
                {data.name}
              </Typography.Text>
              <Tag>{levelLabel(data.level, t)}</Tag>
              <Typography.Text type="secondary">{data.code}</Typography.Text>
            </>
          ) : null}
        </Space>
        <Space>
          <Space size={6}>
            <Switch size="small" checked={showLabels} onChange={setShowLabels} />
            <span>{t('map.showLabels')}</span>
          </Space>
          {data?.parentId && nodeId !== session.user.nodeId ? (
            <Button icon={<ArrowUpOutlined />} onClick={() => open(data.parentId ?? session.user.nodeId)}>
              {t('map.up')}
            </Button>
          ) : null}
        </Space>
      </Space>
      {glError ? <Alert type="warning" showIcon message={glError} /> : null}
      {data && !data.geometry && data.children.every((c) => !c.geometry) ? (
        <Alert type="info" showIcon message={t('map.noGeometry')} />
      ) : null}
      <Row gutter={12}>
        <Col xs={24} lg={18}>
          <div ref={container} className="pa-map" data-testid="map" data-drawn={drawn ?? ''} />
        </Col>
        <Col xs={24} lg={6}>
          <Card size="small" title={`${t('map.children')} (${data?.children.length ?? 0})`} loading={node.loading && !data}>
            <List
              size="small"
              style={{ maxHeight: 'calc(100vh - 260px)', overflow: 'auto' }}
              dataSource={data?.children ?? []}
              renderItem={(c, i) => (
                <List.Item
                  actions={[
                    <Button key="open" type="link" size="small" onClick={() => open(c.id)}>
                      {t('map.openChild')}
                    </Button>,
                  ]}
                >
                  <Space size={6}>
                    <span style={{ width: 10, height: 10, borderRadius: 2, display: 'inline-block', background: palette[i % palette.length] }} />
                    <span>{c.name}</span>
                    {c.core ? <Tag color="red">{t('map.core')}</Tag> : null}
                  </Space>
                </List.Item>
              )}
            />
          </Card>
        </Col>
      </Row>
    </Space>
  );
}
