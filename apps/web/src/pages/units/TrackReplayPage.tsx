import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Button, Card, Col, DatePicker, Empty, Row, Segmented, Select, Slider, Space, Statistic, Typography } from 'antd';
import { CaretRightOutlined, PauseOutlined, StepBackwardOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { Marker } from 'maplibre-gl';
import { api } from '../../api/client';
import { useErrorMessage } from '../../api/hooks';
import { useSession } from '../../auth/session';
import { formatTime, type TrackAnswer } from './api';
import { typeLabel, useNode, useUnits } from './common';
import { fitPoints, setSource, useBaseMap } from './mapkit';

const SPEEDS = [1, 5, 10, 30, 60];

interface Prepared {
  times: number[];
  coords: [number, number][];
}

/** Where the unit was at `t`: linear between the recorded points around it. */
function positionAt(p: Prepared, t: number): { at: [number, number]; index: number } {
  const { times, coords } = p;
  if (t <= times[0]!) return { at: coords[0]!, index: 0 };
  const last = times.length - 1;
  if (t >= times[last]!) return { at: coords[last]!, index: last };
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= t) lo = mid;
    else hi = mid;
  }
  const f = (t - times[lo]!) / (times[hi]! - times[lo]! || 1);
  const a = coords[lo]!;
  const b = coords[hi]!;
  return { at: [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f], index: lo };
}

/** Replay a unit's recorded track for a time range: the line, a moving head, play/pause, 1×–60× and a time slider. */
export default function TrackReplayPage() {
  const { t } = useTranslation();
  const session = useSession();
  const showError = useErrorMessage();
  const [params, setParams] = useSearchParams();
  const units = useUnits();
  const node = useNode(session.user.nodeId);
  const container = useRef<HTMLDivElement>(null);
  const base = useBaseMap(container, node.data, { labels: false });
  const { map } = base;

  const [unitId, setUnitId] = useState<string | undefined>(params.get('unit') ?? undefined);
  const [range, setRange] = useState<[Dayjs, Dayjs]>(() => [dayjs().subtract(1, 'hour'), dayjs()]);
  const [track, setTrack] = useState<TrackAnswer | null>(null);
  const [loading, setLoading] = useState(false);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(10);
  const [shown, setShown] = useState<number>(0);
  const cur = useRef(0);
  const head = useRef<Marker | null>(null);

  const prepared = useMemo<Prepared | null>(() => {
    if (!track || track.points.length === 0) return null;
    return { times: track.points.map((p) => Date.parse(p.t)), coords: track.points.map((p) => [p.lon, p.lat]) };
  }, [track]);

  const load = useCallback(async () => {
    if (!unitId) return;
    setLoading(true);
    setPlaying(false);
    try {
      const r = await api.get<TrackAnswer>(`/api/units/${unitId}/track`, {
        query: { from: range[0].toDate().toISOString(), to: range[1].toDate().toISOString(), maxPoints: 5000 },
      });
      setTrack(r);
    } catch (err) {
      showError(err);
    } finally {
      setLoading(false);
    }
  }, [unitId, range, showError]);

  // Opened from the board with ?unit=…: load the last hour at once.
  const autoLoaded = useRef(false);
  useEffect(() => {
    if (!autoLoaded.current && params.get('unit') && unitId) {
      autoLoaded.current = true;
      void load();
    }
  }, [params, unitId, load]);

  /** Draw the head and the part already travelled for time `tm`. */
  const drawAt = useCallback(
    (tm: number) => {
      if (!map || !prepared) return;
      const { at, index } = positionAt(prepared, tm);
      const done = [...prepared.coords.slice(0, index + 1), at];
      setSource(map, 'trackDone', done.length > 1 ? [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: done } }] : []);
      if (!head.current) {
        const el = document.createElement('div');
        el.className = 'pa-replay-head';
        el.dataset.testid = 'replay-head';
        head.current = new Marker({ element: el }).setLngLat(at).addTo(map);
      } else head.current.setLngLat(at);
    },
    [map, prepared],
  );

  // A new track: draw it whole, fit the map, put the head at its start.
  useEffect(() => {
    if (!map || !base.loaded) return;
    head.current?.remove();
    head.current = null;
    if (!prepared) {
      setSource(map, 'track', []);
      setSource(map, 'trackDone', []);
      return;
    }
    setSource(map, 'track', [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: prepared.coords.length > 1 ? prepared.coords : [prepared.coords[0]!, prepared.coords[0]!] } }]);
    fitPoints(map, prepared.coords, 60);
    cur.current = prepared.times[0]!;
    setShown(cur.current);
    drawAt(cur.current);
  }, [map, base.loaded, prepared, drawAt]);

  useEffect(
    () => () => {
      head.current?.remove();
      head.current = null;
    },
    [map],
  );

  // Playback: advance the clock by real time × speed; the slider and the time label follow at ~10 Hz.
  // A timer rather than requestAnimationFrame, so playback goes on while the tab is in the background.
  useEffect(() => {
    if (!playing || !prepared) return;
    const end = prepared.times[prepared.times.length - 1]!;
    let last = performance.now();
    let lastUi = 0;
    const id = setInterval(() => {
      const nowMs = performance.now();
      const dt = Math.max(0, nowMs - last);
      last = nowMs;
      cur.current = Math.min(end, cur.current + dt * speed);
      drawAt(cur.current);
      if (nowMs - lastUi > 100 || cur.current >= end) {
        lastUi = nowMs;
        setShown(cur.current);
      }
      if (cur.current >= end) setPlaying(false);
    }, 40);
    return () => clearInterval(id);
  }, [playing, prepared, speed, drawAt]);

  const start = prepared?.times[0] ?? 0;
  const end = prepared?.times[prepared.times.length - 1] ?? 0;
  const selectedUnit = units.data?.items.find((u) => u.id === unitId);
  const currentPoint = prepared && track ? track.points[positionAt(prepared, shown).index] : undefined;

  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-units-replay">
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('units.replay.title')}
      </Typography.Title>
      <Card size="small">
        <Space wrap>
          <Select
            showSearch
            optionFilterProp="label"
            placeholder={t('units.replay.unit')}
            style={{ width: 220 }}
            loading={units.loading}
            value={unitId}
            onChange={(v) => {
              setUnitId(v);
              setParams(v ? { unit: v } : {}, { replace: true });
            }}
            options={(units.data?.items ?? []).map((u) => ({ value: u.id, label: `${u.callSign}（${typeLabel(u.type, t)}）` }))}
            data-testid="replay-unit"
          />
          <DatePicker.RangePicker
            showTime={{ format: 'HH:mm' }}
            format="YYYY-MM-DD HH:mm"
            value={range}
            onChange={(v) => {
              if (v?.[0] && v[1]) setRange([v[0], v[1]]);
            }}
            presets={[
              { label: t('units.replay.lastHour'), value: () => [dayjs().subtract(1, 'hour'), dayjs()] },
              { label: t('units.replay.last3h'), value: () => [dayjs().subtract(3, 'hour'), dayjs()] },
              { label: t('units.replay.today'), value: () => [dayjs().startOf('day'), dayjs()] },
            ]}
            data-testid="replay-range"
          />
          <Button type="primary" onClick={() => void load()} loading={loading} disabled={!unitId} data-testid="replay-load">
            {t('units.replay.load')}
          </Button>
        </Space>
      </Card>
      {base.glError ? <Alert type="warning" showIcon message={t('units.common.noMap', { reason: base.glError })} /> : null}
      <Row gutter={12}>
        <Col xs={24} lg={18}>
          <div ref={container} className="pa-map" style={{ height: 'calc(100vh - 64px - 40px - 260px)' }} data-testid="replay-map" data-points={track?.points.length ?? ''} />
          <Card size="small" style={{ marginTop: 8 }}>
            {prepared ? (
              <Space direction="vertical" style={{ width: '100%' }} size={4}>
                <Space wrap>
                  <Button
                    type="primary"
                    icon={playing ? <PauseOutlined /> : <CaretRightOutlined />}
                    onClick={() => {
                      if (!playing && cur.current >= end) cur.current = start;
                      setPlaying(!playing);
                    }}
                    data-testid="replay-play"
                  >
                    {playing ? t('units.replay.pause') : t('units.replay.play')}
                  </Button>
                  <Button
                    icon={<StepBackwardOutlined />}
                    onClick={() => {
                      cur.current = start;
                      setShown(start);
                      drawAt(start);
                    }}
                  >
                    {t('units.replay.restart')}
                  </Button>
                  <span>{t('units.replay.speed')}</span>
                  <Segmented<number> value={speed} onChange={setSpeed} options={SPEEDS.map((s) => ({ value: s, label: `${s}×` }))} data-testid="replay-speed" />
                  <Typography.Text strong data-testid="replay-time">
                    {formatTime(new Date(shown).toISOString())}
                  </Typography.Text>
                </Space>
                <Slider
                  min={start}
                  max={Math.max(end, start + 1)}
                  step={1000}
                  value={shown}
                  onChange={(v) => {
                    cur.current = v;
                    setShown(v);
                    drawAt(v);
                  }}
                  tooltip={{ formatter: (v) => (v ? formatTime(new Date(v).toISOString(), false) : '') }}
                  data-testid="replay-slider"
                />
              </Space>
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={track ? t('units.replay.empty') : t('units.replay.pick')} />
            )}
          </Card>
        </Col>
        <Col xs={24} lg={6}>
          <Card size="small" title={selectedUnit ? `${selectedUnit.callSign} · ${selectedUnit.name}` : t('units.replay.unit')}>
            {track ? (
              <Space direction="vertical" style={{ width: '100%' }}>
                <Typography.Text type="secondary" data-testid="replay-count">
                  {t('units.replay.points', { shown: track.points.length, total: track.total, tol: Math.round(track.toleranceM) })}
                </Typography.Text>
                {prepared ? (
                  <>
                    <Statistic title={t('units.replay.current')} value={formatTime(new Date(shown).toISOString(), false)} />
                    <Typography.Text type="secondary">
                      {formatTime(track.points[0]!.t)} → {formatTime(track.points[track.points.length - 1]!.t, false)}
                    </Typography.Text>
                    {currentPoint?.speed != null ? (
                      <Statistic title={t('units.live.speed')} value={Math.round(currentPoint.speed * 3.6)} suffix="km/h" />
                    ) : null}
                  </>
                ) : null}
              </Space>
            ) : (
              <Typography.Text type="secondary">{t('units.replay.pick')}</Typography.Text>
            )}
          </Card>
        </Col>
      </Row>
    </Space>
  );
}
