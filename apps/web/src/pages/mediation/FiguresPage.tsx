import { useEffect, useRef, useState } from 'react';
import { Button, Card, Col, DatePicker, Row, Space, Statistic, Table, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { useApi } from '../../api/hooks';
import { useSession } from '../../auth/session';
import { NodePicker } from '../../shell/NodePicker';
import { type FigureRow, type FiguresReport, pct } from './api';

echarts.use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

/** An ECharts chart bound to an option. */
function Chart({ option, height = 280, testId }: { option: echarts.EChartsCoreOption; height?: number; testId: string }) {
  const el = useRef<HTMLDivElement | null>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current);
    chart.current = c;
    const onResize = () => c.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      c.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option, true);
  }, [option]);
  return <div ref={el} style={{ width: '100%', height }} data-testid={testId} />;
}

/** Figures per node (children, type, month) with charts and the xlsx export (definitions: docs/decisions/015). */
export default function FiguresPage() {
  const { t } = useTranslation();
  const { user } = useSession();
  const [nodeId, setNodeId] = useState(user.nodeId);
  const [range, setRange] = useState<[Dayjs, Dayjs]>([dayjs().subtract(11, 'month').startOf('month'), dayjs().endOf('month')]);
  const query = { nodeId, from: range[0].startOf('month').toISOString(), to: range[1].endOf('month').add(1, 'millisecond').toISOString() };
  const r = useApi((signal) => api.get<FiguresReport>('/api/mediation/figures', { signal, query }), [nodeId, range[0].valueOf(), range[1].valueOf()]);
  const data = r.data;
  const xlsxUrl = `/api/mediation/figures.xlsx?${new URLSearchParams(query).toString()}`;
  const months = data?.byMonth ?? [];
  const monthOption: echarts.EChartsCoreOption = {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0, data: [t('mediation.figures.screened'), t('mediation.figures.resolved'), t('mediation.figures.successRate')] },
    grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: months.map((m) => m.month) },
    yAxis: [{ type: 'value' }, { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } }],
    series: [
      { name: t('mediation.figures.screened'), type: 'bar', data: months.map((m) => m.screened), itemStyle: { color: '#93c5fd' } },
      { name: t('mediation.figures.resolved'), type: 'bar', data: months.map((m) => m.resolved), itemStyle: { color: '#1d4ed8' } },
      { name: t('mediation.figures.successRate'), type: 'line', yAxisIndex: 1, data: months.map((m) => (m.successRate === null ? null : Math.round(m.successRate * 1000) / 10)), itemStyle: { color: '#16a34a' } },
    ],
  };
  const types = (data?.byType ?? []).filter((x) => x.screened + x.closed > 0);
  const typeOption: echarts.EChartsCoreOption = {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0, data: [t('mediation.figures.screened'), t('mediation.figures.resolved'), t('mediation.figures.transferred')] },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'value' },
    yAxis: { type: 'category', data: types.map((x) => t(`mediation.types.${x.type}`)) },
    series: [
      { name: t('mediation.figures.screened'), type: 'bar', data: types.map((x) => x.screened), itemStyle: { color: '#93c5fd' } },
      { name: t('mediation.figures.resolved'), type: 'bar', data: types.map((x) => x.resolved), itemStyle: { color: '#1d4ed8' } },
      { name: t('mediation.figures.transferred'), type: 'bar', data: types.map((x) => x.transferred), itemStyle: { color: '#a855f7' } },
    ],
  };
  const cols = [
    { title: t('mediation.figures.screened'), dataIndex: 'screened' },
    { title: t('mediation.figures.closed'), dataIndex: 'closed' },
    { title: t('mediation.figures.resolved'), dataIndex: 'resolved' },
    { title: t('mediation.figures.transferred'), dataIndex: 'transferred' },
    { title: t('mediation.figures.successRate'), dataIndex: 'successRate', render: (v: number | null) => pct(v) },
    { title: t('mediation.figures.medianDays'), dataIndex: 'medianDays', render: (v: number | null) => v ?? '—' },
    { title: t('mediation.figures.recurrenceRate'), dataIndex: 'recurrenceRate', render: (v: number | null) => pct(v) },
  ];
  const total: FigureRow | undefined = data?.total;
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-mediation-figures">
      <Typography.Title level={3} style={{ margin: 0 }}>{t('mediation.figures.title')}</Typography.Title>
      <Card size="small">
        <Space wrap>
          <span>{t('mediation.figures.node')}</span>
          <div style={{ width: 260 }}><NodePicker rootId={user.nodeId} rootName={user.nodeName} value={nodeId} onChange={setNodeId} /></div>
          <span>{t('mediation.figures.period')}</span>
          <DatePicker.RangePicker picker="month" value={range} allowClear={false} onChange={(v) => v?.[0] && v[1] && setRange([v[0], v[1]])} />
          <Button icon={<DownloadOutlined />} href={xlsxUrl} data-testid="figures-export">{t('mediation.figures.export')}</Button>
        </Space>
        <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0' }}>{t('mediation.figures.definition')}</Typography.Paragraph>
      </Card>
      <Row gutter={12}>
        {(['screened', 'closed', 'resolved'] as const).map((k) => (
          <Col key={k} xs={12} md={4}><Card size="small" loading={r.loading}><Statistic title={t(`mediation.figures.${k}`)} value={total?.[k] ?? 0} /></Card></Col>
        ))}
        <Col xs={12} md={4}><Card size="small" loading={r.loading}><Statistic title={t('mediation.figures.successRate')} value={pct(total?.successRate ?? null)} data-testid="figures-success" /></Card></Col>
        <Col xs={12} md={4}><Card size="small" loading={r.loading}><Statistic title={t('mediation.figures.medianDays')} value={total?.medianDays ?? '—'} /></Card></Col>
        <Col xs={12} md={4}><Card size="small" loading={r.loading}><Statistic title={t('mediation.figures.recurrenceRate')} value={pct(total?.recurrenceRate ?? null)} /></Card></Col>
      </Row>
      <Row gutter={12}>
        <Col xs={24} lg={14}><Card size="small" title={t('mediation.figures.byMonth')}><Chart option={monthOption} testId="chart-month" /></Card></Col>
        <Col xs={24} lg={10}><Card size="small" title={t('mediation.figures.byType')}><Chart option={typeOption} testId="chart-type" /></Card></Col>
      </Row>
      <Card size="small" title={t('mediation.figures.children')}>
        <Table size="small" rowKey="id" pagination={{ pageSize: 20 }} loading={r.loading} dataSource={data?.children ?? []} data-testid="figures-children"
          columns={[{ title: t('mediation.figures.unit'), dataIndex: 'name' }, ...cols]} />
      </Card>
    </Space>
  );
}
