import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  Alert, App, Button, Card, Checkbox, Col, Descriptions, Empty, Form, Input, InputNumber, List, Popconfirm, Row, Select, Space, Switch, Table, Tabs, Tag, Tooltip, Typography,
} from 'antd';
import { DeleteOutlined, EditOutlined, PlayCircleOutlined, PlusOutlined, StopOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Marker, type MapMouseEvent } from 'maplibre-gl';
import { api } from '../../api/client';
import { useApi, useErrorMessage } from '../../api/hooks';
import { useSession } from '../../auth/session';
import { labelPoint } from '../../map/geo';
import type { AreaGeometry } from '../../api/types';
import {
  DUTY_ROLES, UNIT_MANAGERS, circleRing, formatTime, useIdempotencyKey, type Checkpoint, type PlanView, type RunDetail, type RunSummary, type ScheduleSlot, type ZoneView,
} from './api';
import { useNode, useUnits } from './common';
import { setSource, useBaseMap } from './mapkit';

type Mode = 'idle' | 'zone' | 'plan';

interface ZoneDraft {
  id?: string;
  name: string;
  vertices: [number, number][];
}

interface PlanDraft {
  id?: string;
  name: string;
  zoneId: string | null;
  unitId: string | null;
  ordered: boolean;
  active: boolean;
  checkpoints: Checkpoint[];
  schedule: ScheduleSlot[];
}

const zoneColors = ['#f97316', '#0ea5e9', '#a855f7', '#22c55e', '#eab308', '#ec4899'];

function outerRing(g: ZoneView['geometry']): [number, number][] {
  const coords = g.type === 'Polygon' ? (g.coordinates as number[][][]) : ((g.coordinates as number[][][][])[0] ?? []);
  const ring = (coords[0] ?? []).map((p) => [Number(p[0]), Number(p[1])] as [number, number]);
  return ring.length > 1 ? ring.slice(0, -1) : ring;
}

function checkpointFeatures(cps: Checkpoint[], color: (i: number) => string): GeoJSON.Feature[] {
  return cps.map((c, i) => ({
    type: 'Feature',
    properties: { color: color(i), opacity: 0.18 },
    geometry: { type: 'Polygon', coordinates: [circleRing(c.lon, c.lat, c.radiusM)] },
  }));
}

/** Patrol zones (drawn on the map), plans with checkpoints and schedules, and the runs of those plans. */
export default function PatrolPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useErrorMessage();
  const session = useSession();
  const keyFor = useIdempotencyKey();
  const canManage = UNIT_MANAGERS.includes(session.user.role);
  const canRun = DUTY_ROLES.includes(session.user.role);
  const node = useNode(session.user.nodeId);
  const units = useUnits();
  const [tick, setTick] = useState(0);
  const reload = () => setTick((n) => n + 1);
  const zones = useApi((signal) => api.get<{ items: ZoneView[] }>('/api/patrol/zones', { signal }), [tick]);
  const plans = useApi((signal) => api.get<{ items: PlanView[] }>('/api/patrol/plans', { signal }), [tick]);
  const runs = useApi((signal) => api.get<{ items: RunSummary[] }>('/api/patrol/runs', { query: { limit: 100 }, signal }), [tick]);

  const container = useRef<HTMLDivElement>(null);
  const base = useBaseMap(container, node.data, { labels: false });
  const { map } = base;

  const [tab, setTab] = useState('zones');
  const [mode, setMode] = useState<Mode>('idle');
  const [zoneDraft, setZoneDraft] = useState<ZoneDraft | null>(null);
  const [planDraft, setPlanDraft] = useState<PlanDraft | null>(null);
  const [viewPlan, setViewPlan] = useState<string | null>(null);
  const [run, setRun] = useState<RunDetail | null>(null);
  const [saving, setSaving] = useState(false);

  const unitName = useCallback((id: string | null) => units.data?.items.find((u) => u.id === id)?.callSign ?? '—', [units.data]);
  const planName = useCallback((id: string) => plans.data?.items.find((p) => p.id === id)?.name ?? id.slice(0, 8), [plans.data]);

  // ---- map clicks: add a corner (zone) or a checkpoint (plan) ----------------------------------------
  const modeRef = useRef(mode);
  modeRef.current = mode;
  useEffect(() => {
    if (!map) return;
    const onClick = (e: MapMouseEvent) => {
      if ((e.originalEvent.target as HTMLElement | null)?.closest('.maplibregl-marker')) return;
      const p: [number, number] = [Number(e.lngLat.lng.toFixed(6)), Number(e.lngLat.lat.toFixed(6))];
      if (modeRef.current === 'zone') setZoneDraft((d) => (d ? { ...d, vertices: [...d.vertices, p] } : d));
      if (modeRef.current === 'plan') {
        setPlanDraft((d) =>
          d ? { ...d, checkpoints: [...d.checkpoints, { name: t('units.patrol.defaultCheckpoint', { n: d.checkpoints.length + 1 }), lon: p[0], lat: p[1], radiusM: 50, dwellS: 60 }] } : d,
        );
      }
    };
    map.on('click', onClick);
    return () => {
      map.off('click', onClick);
    };
  }, [map, t]);
  useEffect(() => {
    container.current?.classList.toggle('pa-map-crosshair', mode !== 'idle');
  }, [mode]);

  // ---- zones on the map ---------------------------------------------------------------------------
  useEffect(() => {
    if (!map || !base.loaded) return;
    const list = (zones.data?.items ?? []).filter((z) => z.id !== zoneDraft?.id);
    setSource(
      map,
      'zones',
      list.map((z, i) => ({ type: 'Feature', properties: { id: z.id, color: zoneColors[i % zoneColors.length] }, geometry: z.geometry as GeoJSON.Geometry })),
    );
    const labels = list.flatMap((z) => {
      const at = labelPoint(z.geometry as AreaGeometry);
      if (!at) return [];
      const el = document.createElement('div');
      el.className = 'pa-map-label';
      el.textContent = z.name;
      return [new Marker({ element: el }).setLngLat(at).addTo(map)];
    });
    return () => labels.forEach((m) => m.remove());
  }, [map, base.loaded, zones.data, zoneDraft?.id]);

  // ---- the zone being drawn: polygon, outline and draggable corners --------------------------------
  const drawZone = useCallback(
    (vertices: [number, number][]) => {
      if (!map) return;
      const closed = vertices.length >= 3 ? [...vertices, vertices[0]!] : vertices;
      setSource(map, 'edit', vertices.length >= 3 ? [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [closed] } }] : []);
      setSource(map, 'editLine', closed.length >= 2 ? [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: closed } }] : []);
    },
    [map],
  );
  useEffect(() => {
    if (!map || !base.loaded) return;
    if (mode !== 'zone' || !zoneDraft) {
      setSource(map, 'edit', []);
      setSource(map, 'editLine', []);
      return;
    }
    const live = zoneDraft.vertices.map((v) => [...v] as [number, number]);
    drawZone(live);
    const markers = zoneDraft.vertices.map((v, i) => {
      const el = document.createElement('div');
      el.className = 'pa-vertex';
      el.dataset.testid = 'zone-vertex';
      el.addEventListener('contextmenu', (e) => {
        e.preventDefault();
        e.stopPropagation();
        setZoneDraft((d) => (d ? { ...d, vertices: d.vertices.filter((_, j) => j !== i) } : d));
      });
      const m = new Marker({ element: el, draggable: true }).setLngLat(v).addTo(map);
      m.on('drag', () => {
        const ll = m.getLngLat();
        live[i] = [ll.lng, ll.lat];
        drawZone(live);
      });
      m.on('dragend', () => {
        const ll = m.getLngLat();
        setZoneDraft((d) => (d ? { ...d, vertices: d.vertices.map((x, j) => (j === i ? [Number(ll.lng.toFixed(6)), Number(ll.lat.toFixed(6))] : x)) } : d));
      });
      return m;
    });
    return () => markers.forEach((m) => m.remove());
  }, [map, base.loaded, mode, zoneDraft, drawZone]);

  // ---- checkpoints: the plan being edited (draggable), a plan viewed, or a run's result -----------
  const shownPlan = useMemo<{ cps: Checkpoint[]; editable: boolean; reached?: boolean[] } | null>(() => {
    if (mode === 'plan' && planDraft) return { cps: planDraft.checkpoints, editable: true };
    if (run) {
      const p = plans.data?.items.find((x) => x.id === run.planId);
      if (p) return { cps: p.checkpoints, editable: false, reached: p.checkpoints.map((_, i) => run.detection.checkpoints[i]?.reached ?? false) };
    }
    const p = plans.data?.items.find((x) => x.id === viewPlan);
    return p ? { cps: p.checkpoints, editable: false } : null;
  }, [mode, planDraft, run, plans.data, viewPlan]);

  useEffect(() => {
    if (!map || !base.loaded) return;
    if (!shownPlan) {
      setSource(map, 'circles', []);
      return;
    }
    const { cps, editable, reached } = shownPlan;
    const color = (i: number) => (reached ? (reached[i] ? '#16a34a' : '#dc2626') : editable ? '#16a34a' : '#0d9488');
    const live = cps.map((c) => ({ ...c }));
    setSource(map, 'circles', checkpointFeatures(live, color));
    const markers = cps.map((c, i) => {
      const el = document.createElement('div');
      el.className = `pa-checkpoint${editable ? '' : ' pa-checkpoint-static'}${reached && !reached[i] ? ' pa-checkpoint-missed' : ''}`;
      el.dataset.testid = 'checkpoint-marker';
      el.textContent = String(i + 1);
      el.title = c.name;
      const m = new Marker({ element: el, draggable: editable }).setLngLat([c.lon, c.lat]).addTo(map);
      if (editable) {
        m.on('drag', () => {
          const ll = m.getLngLat();
          live[i] = { ...live[i]!, lon: ll.lng, lat: ll.lat };
          setSource(map, 'circles', checkpointFeatures(live, color));
        });
        m.on('dragend', () => {
          const ll = m.getLngLat();
          setPlanDraft((d) =>
            d ? { ...d, checkpoints: d.checkpoints.map((x, j) => (j === i ? { ...x, lon: Number(ll.lng.toFixed(6)), lat: Number(ll.lat.toFixed(6)) } : x)) } : d,
          );
        });
      }
      return m;
    });
    return () => markers.forEach((m) => m.remove());
  }, [map, base.loaded, shownPlan]);

  // ---- zone actions ------------------------------------------------------------------------------
  function startZone(z?: ZoneView) {
    setPlanDraft(null);
    setRun(null);
    setZoneDraft(z ? { id: z.id, name: z.name, vertices: outerRing(z.geometry) } : { name: '', vertices: [] });
    setMode('zone');
  }
  async function saveZone() {
    if (!zoneDraft) return;
    if (!zoneDraft.name.trim()) {
      void message.error(t('units.board.required'));
      return;
    }
    if (zoneDraft.vertices.length < 3) {
      void message.error(t('units.patrol.needVertices'));
      return;
    }
    const geometry = { type: 'Polygon', coordinates: [[...zoneDraft.vertices, zoneDraft.vertices[0]!]] };
    setSaving(true);
    try {
      if (zoneDraft.id) await api.patch(`/api/patrol/zones/${zoneDraft.id}`, { name: zoneDraft.name.trim(), geometry });
      else {
        const body = { name: zoneDraft.name.trim(), nodeId: session.user.nodeId, geometry };
        await api.post('/api/patrol/zones', body, { headers: { 'Idempotency-Key': keyFor(body) } });
      }
      void message.success(t('units.patrol.zoneSaved', { name: zoneDraft.name.trim() }));
      setZoneDraft(null);
      setMode('idle');
      reload();
    } catch (err) {
      showError(err);
    } finally {
      setSaving(false);
    }
  }
  async function retireZone(z: ZoneView) {
    try {
      await api.delete(`/api/patrol/zones/${z.id}`);
      void message.success(t('units.patrol.zoneRetired'));
      reload();
    } catch (err) {
      showError(err);
    }
  }

  // ---- plan actions ------------------------------------------------------------------------------
  function fitZone(zoneId: string | null | undefined, duration = 300) {
    const z = zones.data?.items.find((x) => x.id === zoneId);
    const ring = z ? outerRing(z.geometry) : [];
    if (!map || ring.length === 0) return;
    const xs = ring.map((p) => p[0]);
    const ys = ring.map((p) => p[1]);
    map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 60, duration, maxZoom: 16 });
  }
  function startPlan(p?: PlanView) {
    setZoneDraft(null);
    setRun(null);
    setPlanDraft(
      p
        ? { id: p.id, name: p.name, zoneId: p.zoneId, unitId: p.unitId, ordered: p.ordered, active: p.active, checkpoints: p.checkpoints, schedule: p.schedule }
        : { name: '', zoneId: zones.data?.items[0]?.id ?? null, unitId: null, ordered: false, active: true, checkpoints: [], schedule: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], start: '08:00', end: '12:00' }] },
    );
    setMode('plan');
    fitZone(p ? p.zoneId : zones.data?.items[0]?.id, 0);
  }
  async function savePlan() {
    if (!planDraft) return;
    if (!planDraft.name.trim()) {
      void message.error(t('units.board.required'));
      return;
    }
    if (planDraft.checkpoints.length === 0) {
      void message.error(t('units.patrol.needCheckpoint'));
      return;
    }
    const body = {
      name: planDraft.name.trim(),
      zoneId: planDraft.zoneId,
      unitId: planDraft.unitId,
      ordered: planDraft.ordered,
      checkpoints: planDraft.checkpoints.map((c) => ({ name: c.name.trim() || '—', lon: c.lon, lat: c.lat, radiusM: c.radiusM, dwellS: c.dwellS })),
      schedule: planDraft.schedule,
    };
    setSaving(true);
    try {
      let saved: PlanView;
      if (planDraft.id) saved = await api.patch<PlanView>(`/api/patrol/plans/${planDraft.id}`, { ...body, active: planDraft.active });
      else {
        const create = { ...body, nodeId: session.user.nodeId };
        saved = await api.post<PlanView>('/api/patrol/plans', create, { headers: { 'Idempotency-Key': keyFor(create) } });
      }
      void message.success(t('units.patrol.planSaved', { name: saved.name }));
      setPlanDraft(null);
      setMode('idle');
      setViewPlan(saved.id);
      reload();
    } catch (err) {
      showError(err);
    } finally {
      setSaving(false);
    }
  }

  // ---- runs --------------------------------------------------------------------------------------
  const [runPlan, setRunPlan] = useState<string>();
  const [runUnit, setRunUnit] = useState<string>();
  async function openRun(id: string) {
    try {
      setRun(await api.get<RunDetail>(`/api/patrol/runs/${id}`));
      setViewPlan(null);
    } catch (err) {
      showError(err);
    }
  }
  async function startRun() {
    if (!runPlan) return;
    const body = { planId: runPlan, ...(runUnit ? { unitId: runUnit } : {}) };
    try {
      const r = await api.post<RunDetail>('/api/patrol/runs', body, { headers: { 'Idempotency-Key': crypto.randomUUID() } });
      void message.success(t('units.patrol.runStarted'));
      setRun(r);
      reload();
    } catch (err) {
      showError(err);
    }
  }
  async function endRun(id: string) {
    try {
      setRun(await api.post<RunDetail>(`/api/patrol/runs/${id}/end`));
      void message.success(t('units.patrol.runEnded'));
      reload();
    } catch (err) {
      showError(err);
    }
  }

  const weekdayNames = t('units.patrol.wd').split(',');
  const cancelEdit = () => {
    setMode('idle');
    setZoneDraft(null);
    setPlanDraft(null);
  };

  // ---- panels ------------------------------------------------------------------------------------
  const zonePanel =
    mode === 'zone' && zoneDraft ? (
      <Card size="small" title={zoneDraft.id ? `${t('units.common.edit')} · ${zoneDraft.name}` : t('units.patrol.newZone')} data-testid="zone-editor">
        <Space direction="vertical" style={{ width: '100%' }}>
          <Alert type="info" showIcon message={t('units.patrol.drawHint')} />
          <Input
            placeholder={t('units.patrol.zoneName')}
            value={zoneDraft.name}
            maxLength={80}
            onChange={(e) => setZoneDraft({ ...zoneDraft, name: e.target.value })}
            data-testid="zone-name"
          />
          <Space>
            <Tag data-testid="zone-vertex-count">{t('units.patrol.vertices', { n: zoneDraft.vertices.length })}</Tag>
            <Button size="small" onClick={() => setZoneDraft({ ...zoneDraft, vertices: [] })}>
              {t('units.patrol.clear')}
            </Button>
          </Space>
          <Space>
            <Button type="primary" loading={saving} onClick={() => void saveZone()} data-testid="zone-save">
              {t('units.common.save')}
            </Button>
            <Button onClick={cancelEdit}>{t('units.common.cancel')}</Button>
          </Space>
        </Space>
      </Card>
    ) : (
      <Space direction="vertical" style={{ width: '100%' }}>
        {canManage ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => startZone()} disabled={mode !== 'idle'} data-testid="zone-new">
            {t('units.patrol.newZone')}
          </Button>
        ) : null}
        <List
          size="small"
          bordered
          loading={zones.loading}
          dataSource={zones.data?.items ?? []}
          data-testid="zone-list"
          locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} /> }}
          renderItem={(z, i) => (
            <List.Item
              actions={
                canManage
                  ? [
                      <Button key="e" type="text" size="small" icon={<EditOutlined />} onClick={() => startZone(z)} disabled={mode !== 'idle'} />,
                      <Popconfirm key="d" title={t('units.common.confirmDelete')} onConfirm={() => void retireZone(z)}>
                        <Button type="text" size="small" danger icon={<DeleteOutlined />} />
                      </Popconfirm>,
                    ]
                  : []
              }
            >
              <Space>
                <span style={{ width: 10, height: 10, borderRadius: 2, display: 'inline-block', background: zoneColors[i % zoneColors.length] }} />
                <a onClick={() => fitZone(z.id)}>
                  {z.name}
                </a>
              </Space>
            </List.Item>
          )}
        />
      </Space>
    );

  const planPanel =
    mode === 'plan' && planDraft ? (
      <Card size="small" title={planDraft.id ? `${t('units.common.edit')} · ${planDraft.name}` : t('units.patrol.newPlan')} data-testid="plan-editor">
        <Form layout="vertical" size="small">
          <Form.Item label={t('units.patrol.planName')} required>
            <Input value={planDraft.name} maxLength={80} onChange={(e) => setPlanDraft({ ...planDraft, name: e.target.value })} data-testid="plan-name" />
          </Form.Item>
          <Row gutter={8}>
            <Col span={12}>
              <Form.Item label={t('units.patrol.zone')}>
                <Select
                  allowClear
                  value={planDraft.zoneId ?? undefined}
                  onChange={(v) => {
                    setPlanDraft({ ...planDraft, zoneId: v ?? null });
                    fitZone(v);
                  }}
                  options={(zones.data?.items ?? []).map((z) => ({ value: z.id, label: z.name }))}
                  data-testid="plan-zone"
                />
              </Form.Item>
            </Col>
            <Col span={12}>
              <Form.Item label={t('units.patrol.unit')}>
                <Select
                  allowClear
                  showSearch
                  optionFilterProp="label"
                  value={planDraft.unitId ?? undefined}
                  onChange={(v) => setPlanDraft({ ...planDraft, unitId: v ?? null })}
                  options={(units.data?.items ?? []).filter((u) => u.type !== 'service_station').map((u) => ({ value: u.id, label: u.callSign }))}
                  data-testid="plan-unit"
                />
              </Form.Item>
            </Col>
          </Row>
          <Space size={16} style={{ marginBottom: 8 }}>
            <Space size={6}>
              <Switch size="small" checked={planDraft.ordered} onChange={(v) => setPlanDraft({ ...planDraft, ordered: v })} />
              {t('units.patrol.ordered')}
            </Space>
            {planDraft.id ? (
              <Space size={6}>
                <Switch size="small" checked={planDraft.active} onChange={(v) => setPlanDraft({ ...planDraft, active: v })} />
                {t('units.patrol.active')}
              </Space>
            ) : null}
          </Space>
          <div>
            <Typography.Text strong>
              {t('units.patrol.checkpoints')} ({planDraft.checkpoints.length})
            </Typography.Text>
          </div>
          <Alert type="info" showIcon message={t('units.patrol.checkpointHint')} style={{ margin: '4px 0 8px' }} />
          <Table<Checkpoint & { i: number }>
            size="small"
            pagination={false}
            rowKey="i"
            data-testid="plan-checkpoints"
            dataSource={planDraft.checkpoints.map((c, i) => ({ ...c, i }))}
            columns={[
              { title: '#', dataIndex: 'i', width: 32, render: (i: number) => i + 1 },
              {
                title: t('units.patrol.checkpointName'),
                dataIndex: 'name',
                render: (v: string, c) => (
                  <Input
                    size="small"
                    value={v}
                    maxLength={80}
                    onChange={(e) => setPlanDraft({ ...planDraft, checkpoints: planDraft.checkpoints.map((x, j) => (j === c.i ? { ...x, name: e.target.value } : x)) })}
                  />
                ),
              },
              {
                title: t('units.patrol.radius'),
                dataIndex: 'radiusM',
                width: 84,
                render: (v: number, c) => (
                  <InputNumber
                    size="small"
                    min={5}
                    max={5000}
                    value={v}
                    style={{ width: 76 }}
                    onChange={(n) => setPlanDraft({ ...planDraft, checkpoints: planDraft.checkpoints.map((x, j) => (j === c.i ? { ...x, radiusM: Number(n ?? 50) } : x)) })}
                  />
                ),
              },
              {
                title: t('units.patrol.dwell'),
                dataIndex: 'dwellS',
                width: 84,
                render: (v: number, c) => (
                  <InputNumber
                    size="small"
                    min={0}
                    max={14400}
                    value={v}
                    style={{ width: 76 }}
                    onChange={(n) => setPlanDraft({ ...planDraft, checkpoints: planDraft.checkpoints.map((x, j) => (j === c.i ? { ...x, dwellS: Number(n ?? 0) } : x)) })}
                  />
                ),
              },
              {
                key: 'x',
                width: 32,
                render: (_, c) => (
                  <Button
                    type="text"
                    size="small"
                    danger
                    icon={<DeleteOutlined />}
                    onClick={() => setPlanDraft({ ...planDraft, checkpoints: planDraft.checkpoints.filter((_, j) => j !== c.i) })}
                  />
                ),
              },
            ]}
          />
          <div style={{ marginTop: 12 }}>
            <Typography.Text strong>{t('units.patrol.schedule')}</Typography.Text>
          </div>
          <Space direction="vertical" style={{ width: '100%', marginTop: 4 }} data-testid="plan-schedule">
            {planDraft.schedule.map((s, i) => {
              const set = (patch: Partial<ScheduleSlot>) => setPlanDraft({ ...planDraft, schedule: planDraft.schedule.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
              return (
                <Card key={i} size="small" styles={{ body: { padding: 8 } }}>
                  <Space direction="vertical" size={4} style={{ width: '100%' }}>
                    <Checkbox.Group
                      value={s.weekdays}
                      onChange={(v) => set({ weekdays: (v as number[]).sort() })}
                      options={weekdayNames.map((n, d) => ({ value: d + 1, label: n }))}
                    />
                    <Space>
                      <Input size="small" style={{ width: 72 }} value={s.start} onChange={(e) => set({ start: e.target.value })} placeholder={t('units.patrol.start')} />
                      <span>–</span>
                      <Input size="small" style={{ width: 72 }} value={s.end} onChange={(e) => set({ end: e.target.value })} placeholder={t('units.patrol.end')} />
                      <Button type="text" size="small" danger icon={<DeleteOutlined />} onClick={() => setPlanDraft({ ...planDraft, schedule: planDraft.schedule.filter((_, j) => j !== i) })} />
                    </Space>
                  </Space>
                </Card>
              );
            })}
            <Button
              size="small"
              type="dashed"
              icon={<PlusOutlined />}
              onClick={() => setPlanDraft({ ...planDraft, schedule: [...planDraft.schedule, { weekdays: [1, 2, 3, 4, 5], start: '14:00', end: '18:00' }] })}
            >
              {t('units.patrol.addSlot')}
            </Button>
          </Space>
          <Space style={{ marginTop: 12 }}>
            <Button type="primary" loading={saving} onClick={() => void savePlan()} data-testid="plan-save">
              {t('units.common.save')}
            </Button>
            <Button onClick={cancelEdit}>{t('units.common.cancel')}</Button>
          </Space>
        </Form>
      </Card>
    ) : (
      <Space direction="vertical" style={{ width: '100%' }}>
        {canManage ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => startPlan()} disabled={mode !== 'idle'} data-testid="plan-new">
            {t('units.patrol.newPlan')}
          </Button>
        ) : null}
        <List
          size="small"
          bordered
          loading={plans.loading}
          dataSource={plans.data?.items ?? []}
          data-testid="plan-list"
          locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} /> }}
          renderItem={(p) => (
            <List.Item
              style={{ background: viewPlan === p.id ? '#e6f4ff' : undefined, cursor: 'pointer' }}
              onClick={() => {
                setRun(null);
                setViewPlan(p.id);
              }}
              actions={
                canManage
                  ? [
                      <Button
                        key="e"
                        type="text"
                        size="small"
                        icon={<EditOutlined />}
                        disabled={mode !== 'idle'}
                        onClick={(e) => {
                          e.stopPropagation();
                          startPlan(p);
                        }}
                      />,
                    ]
                  : []
              }
            >
              <List.Item.Meta
                title={
                  <Space size={6}>
                    <span>{p.name}</span>
                    {p.active ? null : <Tag>{t('units.patrol.inactive')}</Tag>}
                  </Space>
                }
                description={
                  <Space size={[6, 2]} wrap style={{ fontSize: 12 }}>
                    <span>
                      {t('units.patrol.checkpoints')} {p.checkpoints.length}
                    </span>
                    <span>· {t('units.patrol.unit')} {unitName(p.unitId)}</span>
                    <span>· {zones.data?.items.find((z) => z.id === p.zoneId)?.name ?? '—'}</span>
                    {p.schedule.map((s, i) => (
                      <Tag key={i} style={{ fontSize: 11 }}>
                        {s.weekdays.map((d) => weekdayNames[d - 1]).join('')} {s.start}–{s.end}
                      </Tag>
                    ))}
                  </Space>
                }
              />
            </List.Item>
          )}
        />
      </Space>
    );

  const runsPanel = (
    <Space direction="vertical" style={{ width: '100%' }}>
      {canRun ? (
        <Space wrap>
          <Select
            placeholder={t('units.patrol.plan')}
            style={{ width: 160 }}
            value={runPlan}
            onChange={(v) => {
              setRunPlan(v);
              setRunUnit(plans.data?.items.find((p) => p.id === v)?.unitId ?? undefined);
            }}
            options={(plans.data?.items ?? []).filter((p) => p.active).map((p) => ({ value: p.id, label: p.name }))}
            data-testid="run-plan"
          />
          <Select
            allowClear
            placeholder={t('units.patrol.unit')}
            style={{ width: 130 }}
            value={runUnit}
            onChange={setRunUnit}
            options={(units.data?.items ?? []).filter((u) => u.onDuty && u.type !== 'service_station').map((u) => ({ value: u.id, label: u.callSign }))}
          />
          <Button icon={<PlayCircleOutlined />} disabled={!runPlan} onClick={() => void startRun()} data-testid="run-start">
            {t('units.patrol.startRun')}
          </Button>
        </Space>
      ) : null}
      <Table<RunSummary>
        size="small"
        rowKey="id"
        data-testid="run-table"
        loading={runs.loading}
        dataSource={runs.data?.items ?? []}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        onRow={(r) => ({ onClick: () => void openRun(r.id), style: { cursor: 'pointer', background: run?.id === r.id ? '#e6f4ff' : undefined } })}
        columns={[
          { title: t('units.patrol.plan'), dataIndex: 'planId', render: (id: string) => planName(id), ellipsis: true },
          { title: t('units.patrol.unit'), dataIndex: 'unitId', width: 90, render: (id: string) => unitName(id) },
          { title: t('units.patrol.startedAt'), dataIndex: 'startedAt', width: 90, render: (v: string) => formatTime(v, false) },
          {
            title: t('units.patrol.reached'),
            dataIndex: 'reached',
            width: 80,
            render: (v: number | null, r) => (r.endedAt ? (v ?? '—') : <Tag color="processing">{t('units.patrol.running')}</Tag>),
          },
        ]}
      />
      {run ? <RunCard run={run} plan={plans.data?.items.find((p) => p.id === run.planId)} unitName={unitName} onEnd={canRun ? endRun : undefined} /> : null}
    </Space>
  );

  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-patrol">
      <Space align="baseline" wrap>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t('units.patrol.title')}
        </Typography.Title>
        {node.data ? <Typography.Text strong>{node.data.name}</Typography.Text> : null}
        {mode !== 'idle' ? <Tag color="red">{t('units.patrol.editing')}</Tag> : null}
      </Space>
      {base.glError ? <Alert type="warning" showIcon message={t('units.common.noMap', { reason: base.glError })} /> : null}
      <Row gutter={12}>
        <Col xs={24} lg={14}>
          <div ref={container} className="pa-map" data-testid="patrol-map" data-drawn={base.drawn ?? ''} data-mode={mode} />
        </Col>
        <Col xs={24} lg={10}>
          <Tabs
            activeKey={tab}
            onChange={(k) => {
              if (mode === 'idle') setTab(k);
            }}
            items={[
              { key: 'zones', label: <span data-testid="tab-zones">{t('units.patrol.zones')}</span>, children: zonePanel },
              { key: 'plans', label: <span data-testid="tab-plans">{t('units.patrol.plans')}</span>, children: planPanel },
              { key: 'runs', label: <span data-testid="tab-runs">{t('units.patrol.runs')}</span>, children: runsPanel },
            ]}
          />
        </Col>
      </Row>
    </Space>
  );
}

function RunCard(props: { run: RunDetail; plan?: PlanView; unitName: (id: string) => string; onEnd?: (id: string) => Promise<void> }) {
  const { run, plan, onEnd } = props;
  const { t } = useTranslation();
  const d = run.detection;
  const deviations: string[] = [];
  if (run.lateStartMinutes !== null && run.lateStartMinutes > 0) deviations.push(t('units.patrol.lateStart', { n: run.lateStartMinutes }));
  if (run.lateStartMinutes === null && plan && plan.schedule.length) deviations.push(t('units.patrol.noSchedule'));
  if (d.missed.length) deviations.push(`${t('units.patrol.missed')} ${d.missed.length}`);
  if (d.outOfOrder.length) deviations.push(`${t('units.patrol.outOfOrder')} ${d.outOfOrder.length}`);
  if (d.minutesOutsideZone) deviations.push(t('units.patrol.outsideZone', { n: Math.round(d.minutesOutsideZone) }));
  return (
    <Card
      size="small"
      data-testid="run-detail"
      title={`${plan?.name ?? ''} · ${props.unitName(run.unitId)}`}
      extra={
        !run.endedAt && onEnd ? (
          <Button size="small" danger icon={<StopOutlined />} onClick={() => void onEnd(run.id)}>
            {t('units.patrol.endRun')}
          </Button>
        ) : null
      }
    >
      <Descriptions size="small" column={2}>
        <Descriptions.Item label={t('units.patrol.startedAt')}>{formatTime(run.startedAt)}</Descriptions.Item>
        <Descriptions.Item label={t('units.patrol.endedAt')}>{run.endedAt ? formatTime(run.endedAt) : <Tag color="processing">{t('units.patrol.running')}</Tag>}</Descriptions.Item>
        <Descriptions.Item label={t('units.patrol.reached')}>
          {d.reached} / {d.checkpoints.length}
        </Descriptions.Item>
        <Descriptions.Item label={t('units.patrol.distance')}>{(d.distanceM / 1000).toFixed(2)} km</Descriptions.Item>
        <Descriptions.Item label={t('units.patrol.deviations')} span={2}>
          {deviations.length ? (
            <Space size={[4, 4]} wrap>
              {deviations.map((x) => (
                <Tag key={x} color="orange">
                  {x}
                </Tag>
              ))}
            </Space>
          ) : (
            <Tag color="green">{t('units.patrol.noDeviation')}</Tag>
          )}
        </Descriptions.Item>
      </Descriptions>
      <List
        size="small"
        dataSource={d.checkpoints}
        renderItem={(c) => (
          <List.Item>
            <Space>
              <Tag color={c.reached ? 'green' : 'red'}>{c.index + 1}</Tag>
              <span>{c.name}</span>
              {d.outOfOrder.includes(c.index) ? <Tag color="orange">{t('units.patrol.outOfOrder')}</Tag> : null}
            </Space>
            {c.reached ? (
              <Tooltip title={t('units.patrol.dwelled', { n: Math.round(c.dwellS) })}>
                <span>{formatTime(c.reachedAt, false)}</span>
              </Tooltip>
            ) : (
              <Typography.Text type="danger">{t('units.patrol.missed')}</Typography.Text>
            )}
          </List.Item>
        )}
      />
    </Card>
  );
}
