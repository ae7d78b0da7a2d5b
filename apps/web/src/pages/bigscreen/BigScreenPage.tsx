import { useCallback, useEffect, useRef, useState } from 'react';
import { Button } from 'antd';
import { CloseOutlined, FullscreenOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { api } from '../../api/client';
import { useSession } from '../../auth/session';
import { useIncidentStream, useSoloPage, useNow } from '../../realtime/stream';
import { applyPositions, type Category, type DispatchStats, type IncidentSummary, type LivePosition } from '../../realtime/types';
import { CommandMap } from '../command/CommandMap';
import { categoryName } from '../command/codes';
import '../terminal/terminal.css';
import './bigscreen.css';

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

function Chart({ option, testId }: { option: echarts.EChartsCoreOption; testId: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current, undefined, { renderer: 'canvas' });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);
  return <div ref={el} className="pa-big-chart" data-testid={testId} />;
}

const pct = (s: { share: number | null } | undefined) => (s?.share == null ? '—' : `${(s.share * 100).toFixed(1)}%`);
const axis = { axisLine: { lineStyle: { color: '#4b6a9b' } }, axisLabel: { color: '#cbd5e1' }, splitLine: { lineStyle: { color: '#1e3a5f' } } };

/** The big screen (大屏): full-screen KPIs, map and trends, refreshed live. */
export default function BigScreenPage() {
  const { t, i18n } = useTranslation();
  const { user } = useSession();
  const navigate = useNavigate();
  const now = useNow(1000);
  useSoloPage();
  const [stats, setStats] = useState<DispatchStats | null>(null);
  const [incidents, setIncidents] = useState<IncidentSummary[]>([]);
  const [live, setLive] = useState<LivePosition[]>([]);
  const [cats, setCats] = useState<Category[]>([]);

  const refresh = useCallback(async () => {
    const [s, i, l] = await Promise.all([
      api.get<DispatchStats>('/api/dispatch/stats'),
      api.get<{ items: IncidentSummary[] }>('/api/incidents', { query: { state: 'open', limit: 500 } }),
      api.get<{ items: LivePosition[] }>('/api/units/live').catch(() => ({ items: [] as LivePosition[] })),
    ]);
    setStats(s);
    setIncidents(i.items);
    setLive(l.items);
  }, []);

  useEffect(() => {
    void api.get<{ items: Category[] }>('/api/incident-categories').then((r) => setCats(r.items)).catch(() => undefined);
    void refresh().catch(() => undefined);
    const h = setInterval(() => void refresh().catch(() => undefined), 15_000);
    return () => clearInterval(h);
  }, [refresh]);

  const pendingRefresh = useRef<ReturnType<typeof setTimeout> | null>(null);
  const stream = useIncidentStream({
    mode: 'command',
    onEvent: () => {
      if (pendingRefresh.current) clearTimeout(pendingRefresh.current);
      pendingRefresh.current = setTimeout(() => void refresh().catch(() => undefined), 500);
    },
    // Units move on the wall as their positions are pushed, between the 15-s refreshes.
    onPositions: (m) => setLive((cur) => applyPositions(cur, m, (p) => p)),
  });

  const lang = i18n.language;
  const mapCategoryName = useCallback((code: string) => categoryName(code, cats, lang), [cats, lang]);
  const hours = (stats?.hourly ?? []).map((h) => new Date(h.hour).toLocaleTimeString(lang === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false }));
  const trend: echarts.EChartsCoreOption = {
    backgroundColor: 'transparent',
    tooltip: { trigger: 'axis' },
    legend: { textStyle: { color: '#e2e8f0' }, top: 0 },
    grid: { left: 36, right: 36, top: 30, bottom: 24 },
    xAxis: { type: 'category', data: hours, ...axis },
    yAxis: [
      { type: 'value', minInterval: 1, ...axis },
      { type: 'value', name: 's', ...axis, splitLine: { show: false } },
    ],
    series: [
      { name: t('bigscreen.calls'), type: 'bar', data: (stats?.hourly ?? []).map((h) => h.calls), itemStyle: { color: '#3b82f6' } },
      { name: t('bigscreen.dispatched'), type: 'bar', data: (stats?.hourly ?? []).map((h) => h.dispatched), itemStyle: { color: '#f59e0b' } },
      { name: t('bigscreen.avgOnScene'), type: 'line', yAxisIndex: 1, smooth: true, data: (stats?.hourly ?? []).map((h) => h.avgOnSceneSeconds), itemStyle: { color: '#10b981' } },
    ],
  };
  const pie: echarts.EChartsCoreOption = {
    backgroundColor: 'transparent',
    tooltip: { trigger: 'item' },
    legend: { orient: 'vertical', right: 0, top: 'middle', textStyle: { color: '#e2e8f0' } },
    series: [
      {
        type: 'pie',
        radius: ['40%', '70%'],
        center: ['35%', '50%'],
        label: { show: false },
        data: (stats?.byCategory ?? []).map((c) => ({ name: categoryName(c.category, cats, lang), value: c.count })),
      },
    ],
  };

  const kpis: { key: string; label: string; value: string; sub?: string }[] = [
    { key: 'calls', label: t('bigscreen.callsToday'), value: String(stats?.callsToday ?? '—') },
    { key: 'ack', label: t('bigscreen.ack30'), value: pct(stats?.acknowledgedWithin30s), sub: stats ? `${stats.acknowledgedWithin30s.met}/${stats.acknowledgedWithin30s.total}` : '' },
    { key: 'out', label: t('bigscreen.out1'), value: pct(stats?.unitsOutWithin1m), sub: stats ? `${stats.unitsOutWithin1m.met}/${stats.unitsOutWithin1m.total}` : '' },
    { key: 'scene', label: t('bigscreen.scene35'), value: pct(stats?.onSceneInTime), sub: stats ? `${t('bigscreen.core3')} ${pct(stats.onSceneCoreWithin3m)} · ${t('bigscreen.other5')} ${pct(stats.onSceneOtherWithin5m)}` : '' },
    { key: 'open', label: t('bigscreen.open'), value: String(stats?.openIncidents ?? '—') },
    { key: 'duty', label: t('bigscreen.onDuty'), value: String(stats?.unitsOnDuty ?? '—') },
  ];

  return (
    <div className="pa-big" data-testid="page-bigscreen" data-ready={stats ? '1' : ''}>
      <header className="pa-big-head">
        <div className="pa-big-title">
          {t('bigscreen.title')} · {user.nodeName}
        </div>
        <div className="pa-big-clock">
          <span className={`pa-big-dot ${stream.state}`} /> {new Date(now).toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', { hour12: false })}
          <Button size="small" ghost icon={<FullscreenOutlined />} onClick={() => void document.documentElement.requestFullscreen?.().catch(() => undefined)} />
          <Button size="small" ghost icon={<CloseOutlined />} onClick={() => navigate(-1)} aria-label={t('common.back')} />
        </div>
      </header>
      <section className="pa-big-kpis">
        {kpis.map((k) => (
          <div key={k.key} className="pa-big-kpi" data-testid={`kpi-${k.key}`}>
            <div className="pa-big-kpi-label">{k.label}</div>
            <div className="pa-big-kpi-value">{k.value}</div>
            <div className="pa-big-kpi-sub">{k.sub}</div>
          </div>
        ))}
      </section>
      <section className="pa-big-main">
        <div className="pa-big-map">
          <CommandMap nodeId={user.nodeId} incidents={incidents} units={live} categoryName={mapCategoryName} dark height="100%" />
        </div>
        <div className="pa-big-side">
          <div className="pa-big-panel">
            <div className="pa-big-panel-title">{t('bigscreen.byCategory')}</div>
            <Chart option={pie} testId="chart-category" />
          </div>
          <div className="pa-big-panel">
            <div className="pa-big-panel-title">{t('bigscreen.trend')}</div>
            <Chart option={trend} testId="chart-trend" />
          </div>
        </div>
      </section>
    </div>
  );
}
