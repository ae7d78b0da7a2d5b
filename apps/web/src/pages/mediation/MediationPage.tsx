import { useMemo, useRef, useState } from 'react';
import { Badge, Button, Card, Checkbox, Form, Input, Modal, Radio, Select, Space, Table, Tabs, Tag, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined, ReloadOutlined, RiseOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useNavigate } from 'react-router';
import { ApiError, api } from '../../api/client';
import { useApi, useErrorMessage } from '../../api/hooks';
import { useSession } from '../../auth/session';
import { NodePicker } from '../../shell/NodePicker';
import {
  DISPUTE_SOURCES, DISPUTE_TYPES, type DisputeListItem, INCIDENT_READERS, REGISTRARS, RISK_COLOURS, RISK_FACTORS, RISK_LEVELS, STATUS_COLOURS, when,
} from './api';
import CasePage from './CasePage';

/** /mediation: the case list and rolling screening; /mediation/cases/:id: one case. */
export default function MediationPage() {
  return (
    <Routes>
      <Route index element={<CaseList />} />
      <Route path="cases/:id" element={<CasePage />} />
    </Routes>
  );
}

interface Filters {
  state: 'active' | 'closed' | 'all';
  type?: string;
  risk?: string;
  overdue: boolean;
  mine: boolean;
  q: string;
}

function CaseList() {
  const { t, i18n } = useTranslation();
  const { user } = useSession();
  const navigate = useNavigate();
  const [filters, setFilters] = useState<Filters>({ state: 'active', overdue: false, mine: user.role === 'mediator', q: '' });
  const [registering, setRegistering] = useState(false);
  const list = useApi(
    (signal) =>
      api.get<{ items: DisputeListItem[]; reviewIntervalDays: number }>('/api/mediation/disputes', {
        signal,
        query: { state: filters.state, type: filters.type, risk: filters.risk, overdue: filters.overdue ? 'true' : undefined, mine: filters.mine ? 'true' : undefined, q: filters.q || undefined },
      }),
    [filters],
  );
  const canRegister = REGISTRARS.includes(user.role);
  const canScreen = [...REGISTRARS, 'inspector'].includes(user.role);

  const columns: ColumnsType<DisputeListItem> = [
    {
      title: t('mediation.list.number'),
      dataIndex: 'number',
      render: (n: string, r) => (
        <Link to={`/mediation/cases/${r.id}`} data-testid="case-link">
          {n}
        </Link>
      ),
    },
    {
      title: t('mediation.list.caseTitle'),
      dataIndex: 'title',
      render: (v: string, r) => (
        <Space direction="vertical" size={0}>
          <span>{v}</span>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t(`mediation.types.${r.type}`)} · {t(`mediation.sources.${r.source}`)}
          </Typography.Text>
        </Space>
      ),
    },
    { title: t('mediation.list.risk'), dataIndex: 'riskLevel', render: (v: string) => <Tag color={RISK_COLOURS[v]} data-testid="risk-tag">{t(`mediation.risk.${v}`)}</Tag> },
    {
      title: t('mediation.detail.outcome'),
      dataIndex: 'status',
      render: (v: string, r) => (
        <Space size={4}>
          <Tag color={STATUS_COLOURS[v]}>{t(`mediation.status.${v}`)}</Tag>
          {r.reviewOverdue && <Tag color="volcano">{t('mediation.list.overdue')}</Tag>}
        </Space>
      ),
    },
    { title: t('mediation.list.grid'), dataIndex: 'gridName', render: (v: string | null, r) => [r.stationName, v].filter(Boolean).join(' / ') },
    { title: t('mediation.list.parties'), dataIndex: 'parties', render: (v: string[]) => v.join('、') },
    { title: t('mediation.list.mediators'), dataIndex: 'mediators', render: (v: string[]) => v.join('、') || '—' },
    { title: t('mediation.list.registeredAt'), dataIndex: 'registeredAt', render: (v: string) => when(v, i18n.language) },
    { title: t('mediation.list.nextFollowUp'), dataIndex: 'nextFollowUpAt', render: (v: string | null) => when(v, i18n.language) },
  ];

  const table = (
    <Space direction="vertical" size={12} style={{ width: '100%' }}>
      <Card size="small">
        <Space wrap>
          <Radio.Group value={filters.state} onChange={(e) => setFilters({ ...filters, state: e.target.value as Filters['state'] })} optionType="button">
            <Radio.Button value="active">{t('mediation.list.active')}</Radio.Button>
            <Radio.Button value="closed">{t('mediation.list.closed')}</Radio.Button>
            <Radio.Button value="all">{t('mediation.list.all')}</Radio.Button>
          </Radio.Group>
          <Select allowClear placeholder={t('mediation.list.type')} style={{ width: 160 }} value={filters.type} onChange={(v) => setFilters({ ...filters, type: v })}
            options={DISPUTE_TYPES.map((x) => ({ value: x, label: t(`mediation.types.${x}`) }))} />
          <Select allowClear placeholder={t('mediation.list.risk')} style={{ width: 120 }} value={filters.risk} onChange={(v) => setFilters({ ...filters, risk: v })}
            options={RISK_LEVELS.map((x) => ({ value: x, label: <Tag color={RISK_COLOURS[x]}>{t(`mediation.risk.${x}`)}</Tag> }))} />
          <Checkbox checked={filters.overdue} onChange={(e) => setFilters({ ...filters, overdue: e.target.checked })}>{t('mediation.list.overdue')}</Checkbox>
          <Checkbox checked={filters.mine} onChange={(e) => setFilters({ ...filters, mine: e.target.checked })}>{t('mediation.list.mine')}</Checkbox>
          <Input.Search allowClear placeholder={t('mediation.list.search')} style={{ width: 200 }} onSearch={(q) => setFilters({ ...filters, q })} />
          <Button icon={<ReloadOutlined />} onClick={list.reload} />
        </Space>
      </Card>
      <Table<DisputeListItem>
        data-testid="cases-table"
        rowKey="id"
        size="small"
        loading={list.loading}
        columns={columns}
        dataSource={list.data?.items ?? []}
        pagination={{ pageSize: 20 }}
        onRow={(r) => ({ style: { borderLeft: `4px solid ${r.riskLevel === 'critical' ? '#ef4444' : r.riskLevel === 'high' ? '#f97316' : r.riskLevel === 'medium' ? '#eab308' : '#22c55e'}` } })}
        locale={{ emptyText: t('mediation.list.empty') }}
      />
    </Space>
  );

  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-mediation">
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t('mediation.list.title')}
        </Typography.Title>
        {canRegister && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setRegistering(true)} data-testid="register-dispute">
            {t('mediation.list.register')}
          </Button>
        )}
      </Space>
      {canScreen ? (
        <Tabs
          items={[
            { key: 'cases', label: t('mediation.list.cases'), children: table },
            { key: 'screening', label: t('mediation.list.screening'), children: <Screening /> },
          ]}
        />
      ) : (
        table
      )}
      {registering && (
        <RegisterModal
          onClose={() => setRegistering(false)}
          onCreated={(id) => {
            setRegistering(false);
            navigate(`/mediation/cases/${id}`);
          }}
        />
      )}
    </Space>
  );
}

interface ScreeningGrid {
  gridId: string | null;
  gridName: string | null;
  stationName: string | null;
  open: number;
  overdue: number;
  highRisk: number;
  newLast30: number;
  newPrevious30: number;
  rising: boolean;
}

function Screening() {
  const { t } = useTranslation();
  const s = useApi((signal) => api.get<{ reviewIntervalDays: number; grids: ScreeningGrid[] }>('/api/mediation/screening', { signal }), []);
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Typography.Text type="secondary">{t('mediation.list.reviewInterval', { days: s.data?.reviewIntervalDays ?? 30 })}</Typography.Text>
      <Table<ScreeningGrid>
        data-testid="screening-table"
        size="small"
        rowKey={(g) => g.gridId ?? 'none'}
        loading={s.loading}
        dataSource={s.data?.grids ?? []}
        pagination={{ pageSize: 20 }}
        columns={[
          { title: t('mediation.list.grid'), render: (_v, g) => [g.stationName, g.gridName].filter(Boolean).join(' / ') || '—' },
          { title: t('mediation.list.open'), dataIndex: 'open' },
          { title: t('mediation.list.overdue'), dataIndex: 'overdue', render: (v: number) => (v > 0 ? <Badge count={v} /> : 0) },
          { title: t('mediation.list.highRisk'), dataIndex: 'highRisk', render: (v: number) => (v > 0 ? <Tag color="red">{v}</Tag> : 0) },
          { title: t('mediation.list.new30'), dataIndex: 'newLast30' },
          { title: t('mediation.list.prev30'), dataIndex: 'newPrevious30' },
          { title: t('mediation.list.rising'), dataIndex: 'rising', render: (v: boolean) => (v ? <Tag color="volcano" icon={<RiseOutlined />}>{t('mediation.list.rising')}</Tag> : '') },
        ]}
      />
    </Space>
  );
}

interface RegisterForm {
  incidentId?: string;
  source: string;
  type: string;
  title: string;
  description: string;
  history?: string;
  nodeId?: string;
  address?: string;
  parties: { kind: 'person' | 'organisation'; side: string; name: string; phone?: string; idNumber?: string; demand?: string }[];
  factors: string[];
  level?: string;
  riskNote?: string;
}

function RegisterModal({ onClose, onCreated }: { onClose: () => void; onCreated: (id: string) => void }) {
  const { t } = useTranslation();
  const { user } = useSession();
  const showError = useErrorMessage();
  const [form] = Form.useForm<RegisterForm>();
  const [saving, setSaving] = useState(false);
  const pending = useRef<{ key: string; body: string } | null>(null);
  const incidents = useApi(
    (signal) =>
      INCIDENT_READERS.includes(user.role)
        ? api.get<{ items: { id: string; number: string; content: string; category: string }[] }>('/api/incidents', { signal, query: { state: 'all', limit: 200 } })
        : Promise.resolve({ items: [] }),
    [],
  );
  const incidentOptions = useMemo(
    () => (incidents.data?.items ?? []).map((i) => ({ value: i.id, label: `${i.number} ${i.content.slice(0, 30)}` })),
    [incidents.data],
  );

  async function submit(v: RegisterForm) {
    if (!v.incidentId && !v.nodeId) {
      form.setFields([{ name: 'nodeId', errors: [t('mediation.form.placeRequired')] }]);
      return;
    }
    const body = {
      type: v.type,
      source: v.source,
      title: v.title,
      description: v.description,
      ...(v.history ? { history: v.history } : {}),
      ...(v.incidentId ? { incidentId: v.incidentId } : {}),
      ...(v.nodeId && !v.incidentId ? { nodeId: v.nodeId } : {}),
      ...(v.address ? { address: v.address } : {}),
      parties: v.parties.map((p) => ({
        kind: p.kind,
        side: p.side,
        name: p.name,
        ...(p.phone ? { phone: p.phone } : {}),
        ...(p.idNumber ? { idNumber: p.idNumber } : {}),
        ...(p.demand ? { demand: p.demand } : {}),
      })),
      ...(v.factors.length || v.level
        ? { risk: { factors: Object.fromEntries(RISK_FACTORS.map((f) => [f, v.factors.includes(f)])), ...(v.level ? { level: v.level } : {}), ...(v.riskNote ? { note: v.riskNote } : {}) } }
        : {}),
    };
    const text = JSON.stringify(body);
    const key = pending.current?.body === text ? pending.current.key : crypto.randomUUID();
    pending.current = { key, body: text };
    setSaving(true);
    try {
      const created = await api.post<{ id: string }>('/api/mediation/disputes', body, { headers: { 'idempotency-key': key } });
      pending.current = null;
      onCreated(created.id);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 0)) pending.current = null;
      if (err instanceof ApiError && err.issues.length) {
        form.setFields(err.issues.map((i) => ({ name: i.field.replace(/^body\./, '').split('.') as never, errors: [i.message] })));
      }
      showError(err);
    } finally {
      setSaving(false);
    }
  }

  return (
    <Modal open title={t('mediation.list.register')} onCancel={onClose} width={760} okText={t('mediation.form.submit')} cancelText={t('mediation.form.cancel')}
      confirmLoading={saving} onOk={() => form.submit()} okButtonProps={{ 'data-testid': 'register-submit' } as never} destroyOnHidden>
      <Form<RegisterForm>
        form={form}
        layout="vertical"
        onFinish={submit}
        initialValues={{ source: 'walk_in', type: 'neighbours', parties: [{ kind: 'person', side: 'applicant', name: '' }, { kind: 'person', side: 'respondent', name: '' }], factors: [] }}
        data-testid="register-form"
      >
        <Form.Item name="incidentId" label={t('mediation.form.incident')} extra={t('mediation.form.incidentHint')}>
          <Select allowClear showSearch optionFilterProp="label" options={incidentOptions} loading={incidents.loading} data-testid="register-incident"
            onChange={(v) => v && form.setFieldValue('source', 'call')} />
        </Form.Item>
        <Space wrap>
          <Form.Item name="source" label={t('mediation.form.source')} rules={[{ required: true }]}>
            <Select style={{ width: 160 }} options={DISPUTE_SOURCES.map((x) => ({ value: x, label: t(`mediation.sources.${x}`) }))} />
          </Form.Item>
          <Form.Item name="type" label={t('mediation.form.type')} rules={[{ required: true }]}>
            <Select style={{ width: 180 }} data-testid="register-type" options={DISPUTE_TYPES.map((x) => ({ value: x, label: t(`mediation.types.${x}`) }))} />
          </Form.Item>
          <Form.Item name="nodeId" label={t('mediation.form.grid')}>
            <NodePicker rootId={user.nodeId} rootName={user.nodeName} data-testid="register-grid" />
          </Form.Item>
        </Space>
        <Form.Item name="title" label={t('mediation.form.title')} rules={[{ required: true, min: 2 }]}>
          <Input maxLength={120} data-testid="register-title" />
        </Form.Item>
        <Form.Item name="description" label={t('mediation.form.description')} rules={[{ required: true, min: 2 }]}>
          <Input.TextArea rows={3} maxLength={4000} data-testid="register-description" />
        </Form.Item>
        <Form.Item name="history" label={t('mediation.form.history')}>
          <Input.TextArea rows={2} maxLength={4000} />
        </Form.Item>
        <Typography.Text strong>{t('mediation.form.parties')}</Typography.Text>
        <Form.List name="parties">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f) => (
                <Space key={f.key} align="baseline" wrap>
                  <Form.Item name={[f.name, 'side']} rules={[{ required: true }]}>
                    <Select style={{ width: 110 }} options={(['applicant', 'respondent', 'other'] as const).map((x) => ({ value: x, label: t(`mediation.sides.${x}`) }))} />
                  </Form.Item>
                  <Form.Item name={[f.name, 'kind']}>
                    <Select style={{ width: 90 }} options={[{ value: 'person', label: t('mediation.form.person') }, { value: 'organisation', label: t('mediation.form.organisation') }]} />
                  </Form.Item>
                  <Form.Item name={[f.name, 'name']} rules={[{ required: true, message: t('mediation.form.name') }]}>
                    <Input placeholder={t('mediation.form.name')} style={{ width: 130 }} data-testid={`party-name-${f.name}`} />
                  </Form.Item>
                  <Form.Item name={[f.name, 'phone']}>
                    <Input placeholder={t('mediation.form.phone')} style={{ width: 130 }} data-testid={`party-phone-${f.name}`} />
                  </Form.Item>
                  <Form.Item name={[f.name, 'demand']}>
                    <Input placeholder={t('mediation.form.demand')} style={{ width: 160 }} />
                  </Form.Item>
                  {fields.length > 1 && <MinusCircleOutlined onClick={() => remove(f.name)} />}
                </Space>
              ))}
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ kind: 'person', side: 'other', name: '' })} style={{ marginBottom: 12 }}>
                {t('mediation.form.addParty')}
              </Button>
            </>
          )}
        </Form.List>
        <Form.Item name="factors" label={t('mediation.form.riskCheck')}>
          <Checkbox.Group options={RISK_FACTORS.map((f) => ({ value: f, label: t(`mediation.factors.${f}`) }))} />
        </Form.Item>
        <Space wrap>
          <Form.Item name="level" label={t('mediation.form.level')} extra={t('mediation.form.levelHint')}>
            <Select allowClear style={{ width: 140 }} options={RISK_LEVELS.map((x) => ({ value: x, label: t(`mediation.risk.${x}`) }))} />
          </Form.Item>
          <Form.Item name="riskNote" label={t('mediation.form.note')}>
            <Input style={{ width: 300 }} />
          </Form.Item>
        </Space>
      </Form>
    </Modal>
  );
}
