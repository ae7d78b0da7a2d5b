import { useEffect, useRef, useState } from 'react';
import { Card, Col, DatePicker, Row, Segmented, Space, Table, Tag, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { api } from '../../api/client';
import { useApi } from '../../api/hooks';
import { useSession } from '../../auth/session';
import { formatTime, localDate, type CoverageAnswer, type CoverageItem } from './api';

echarts.use([BarChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

const CHART_ROWS = 15;

/** Patrol coverage per grid or per zone for a day or a week, least covered first: table and bar chart. */
export default function CoveragePage() {
  const { t } = useTranslation();
  const session = useSession();
  const [by, setBy] = useState<'grid' | 'zone'>('grid');
  const [period, setPeriod] = useState<'day' | 'week'>('day');
  const [date, setDate] = useState<Dayjs>(() => dayjs());
  const cov = useApi(
    (signal) =>
      api.get<CoverageAnswer>('/api/patrol/coverage', {
        query: { nodeId: session.user.nodeId, date: localDate(date.toDate()), period, by },
        signal,
      }),
    [session.user.nodeId, by, period, date.valueOf()],
  );

  const chartEl = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!chartEl.current) return;
    const c = echarts.init(chartEl.current);
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
    const c = chart.current;
    if (!c) return;
    // Least covered at the top of the chart: the API answers least covered first.
    const rows = (cov.data?.items ?? []).slice(0, CHART_ROWS).reverse();
    c.setOption(
      {
        animation: false,
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        legend: { top: 0, data: [t('units.coverage.minutes'), t('units.coverage.distance')] },
        grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
        xAxis: [{ type: 'value', name: '' }],
        yAxis: { type: 'category', data: rows.map((r) => r.name), axisLabel: { width: 110, overflow: 'truncate' } },
        series: [
          { name: t('units.coverage.minutes'), type: 'bar', data: rows.map((r) => r.minutes), itemStyle: { color: '#1d4ed8' }, barMaxWidth: 14 },
          { name: t('units.coverage.distance'), type: 'bar', data: rows.map((r) => r.distanceKm), itemStyle: { color: '#f59e0b' }, barMaxWidth: 14 },
        ],
      },
      true,
    );
  }, [cov.data, t]);

  const items = cov.data?.items ?? [];
  const uncovered = items.filter((i) => i.minutes === 0).length;
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-coverage">
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('units.coverage.title')}
      </Typography.Title>
      <Card size="small">
        <Space wrap size={16}>
          <Space>
            <span>{t('units.coverage.by')}</span>
            <Segmented
              value={by}
              onChange={(v) => setBy(v as 'grid' | 'zone')}
              options={[
                { value: 'grid', label: t('units.coverage.byGrid') },
                { value: 'zone', label: t('units.coverage.byZone') },
              ]}
              data-testid="coverage-by"
            />
          </Space>
          <Space>
            <span>{t('units.coverage.period')}</span>
            <Segmented
              value={period}
              onChange={(v) => setPeriod(v as 'day' | 'week')}
              options={[
                { value: 'day', label: t('units.coverage.day') },
                { value: 'week', label: t('units.coverage.week') },
              ]}
              data-testid="coverage-period"
            />
          </Space>
          <Space>
            <span>{t('units.coverage.date')}</span>
            <DatePicker value={date} onChange={(d) => d && setDate(d)} allowClear={false} />
          </Space>
          {cov.data ? (
            <Typography.Text type="secondary">
              {t('units.coverage.range', { from: formatTime(cov.data.from), to: formatTime(cov.data.to) })}
            </Typography.Text>
          ) : null}
          {cov.data ? <Tag color={uncovered ? 'red' : 'green'}>{t('units.coverage.uncovered', { n: uncovered })}</Tag> : null}
        </Space>
      </Card>
      <Row gutter={12}>
        <Col xs={24} xl={14}>
          <Table<CoverageItem>
            size="small"
            rowKey="id"
            data-testid="coverage-table"
            loading={cov.loading}
            dataSource={items}
            pagination={{ pageSize: 20, hideOnSinglePage: true, showSizeChanger: false }}
            columns={[
              { title: '#', key: 'rank', width: 44, render: (_, __, i) => i + 1 },
              ...(by === 'grid' ? [{ title: t('units.coverage.code'), dataIndex: 'code', width: 130 }] : []),
              { title: t('units.coverage.name'), dataIndex: 'name', ellipsis: true },
              {
                title: t('units.coverage.minutes'),
                dataIndex: 'minutes',
                width: 120,
                sorter: (a: CoverageItem, b: CoverageItem) => a.minutes - b.minutes,
                render: (v: number) => (v === 0 ? <Tag color="red">0</Tag> : v.toFixed(1)),
              },
              { title: t('units.coverage.distance'), dataIndex: 'distanceKm', width: 110, sorter: (a: CoverageItem, b: CoverageItem) => a.distanceKm - b.distanceKm },
              {
                title: t('units.coverage.hours'),
                dataIndex: 'distinctHours',
                width: 110,
                render: (v: number, r: CoverageItem) => <span title={r.hours.map((h) => `${h}:00`).join(' ')}>{v}</span>,
              },
              { title: t('units.coverage.units'), dataIndex: 'units', width: 70 },
            ]}
          />
        </Col>
        <Col xs={24} xl={10}>
          <Card size="small" title={t('units.coverage.chart', { n: Math.min(CHART_ROWS, items.length) })}>
            <div ref={chartEl} style={{ width: '100%', height: 460 }} data-testid="coverage-chart" />
          </Card>
        </Col>
      </Row>
    </Space>
  );
}
