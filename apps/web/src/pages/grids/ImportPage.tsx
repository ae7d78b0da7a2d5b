import { useEffect, useRef, useState } from 'react';
import {
  Alert, App, Button, Card, Checkbox, Col, Form, Input, Progress, Result, Row, Select, Space, Statistic, Table, Tag, Typography, Upload,
} from 'antd';
import { CheckOutlined, CloseOutlined, EnvironmentOutlined, InboxOutlined, ToolOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../../api/client';
import { useApi, useErrorMessage } from '../../api/hooks';
import { useSession } from '../../auth/session';
import { levelLabel } from '../../shell/labels';
import { gridsApi, importsApi, uploadImport, type ImportFinding, type ImportReport, type ImportState, type SearchHit } from './api';

const LEVELS = ['station', 'grid', 'micro_grid'];
const LEVEL_ORDER = ['province', 'city', 'county', 'station', 'grid', 'micro_grid'];
const POLL_MS = 500;

const fmtM2 = (v: number) => Math.round(v).toLocaleString();

/** Grid import: upload, validation report, optional fixes, commit with progress, cancel. */
export default function ImportPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useErrorMessage();
  const session = useSession();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const parentId = params.get('parent') ?? session.user.nodeId;
  const parent = useApi((signal) => gridsApi.node(parentId, signal, false), [parentId]);

  const [file, setFile] = useState<File | null>(null);
  const [form] = Form.useForm<{ level: string; crs: string; codeField?: string; nameField?: string; fix: boolean }>();
  const [validating, setValidating] = useState(false);
  const [uploadError, setUploadError] = useState<ApiError | null>(null);
  const [importId, setImportId] = useState<string | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [state, setState] = useState<ImportState | null>(null);
  const poll = useRef<ReturnType<typeof setTimeout>>(undefined);

  // The default level: the one below the parent.
  useEffect(() => {
    const level = parent.data?.level;
    if (!level) return;
    const below = LEVEL_ORDER[LEVEL_ORDER.indexOf(level) + 1];
    if (below && LEVELS.includes(below)) form.setFieldValue('level', below);
  }, [parent.data?.level, form]);

  useEffect(() => () => clearTimeout(poll.current), []);

  const validate = async (fix?: boolean) => {
    if (!file) return;
    if (fix !== undefined) form.setFieldValue('fix', fix);
    const v = form.getFieldsValue();
    setValidating(true);
    setUploadError(null);
    setState(null);
    try {
      // A validated import that is not committed is discarded when a new one replaces it.
      if (importId && state?.status !== 'committed') await importsApi.cancel(importId).catch(() => undefined);
      const r = await uploadImport(parentId, file, { level: v.level, crs: v.crs, codeField: v.codeField?.trim(), nameField: v.nameField?.trim(), fix: fix ?? v.fix }, session.csrfToken);
      setImportId(r.importId);
      setReport(r.report);
    } catch (err) {
      setReport(null);
      setImportId(null);
      if (err instanceof ApiError) setUploadError(err);
      else showError(err);
    } finally {
      setValidating(false);
    }
  };

  const follow = (id: string) => {
    clearTimeout(poll.current);
    const tick = async () => {
      try {
        const s = await importsApi.get(id);
        setState(s);
        if (s.status === 'committing') poll.current = setTimeout(() => void tick(), POLL_MS);
        else if (s.status === 'committed') void message.success(t('grids.import.committed', { count: s.created ?? s.progress.done }));
      } catch (err) {
        showError(err);
      }
    };
    void tick();
  };

  const commit = async () => {
    if (!importId) return;
    try {
      const s = await importsApi.commit(importId);
      setState((prev) => (prev ? { ...prev, status: s.status, progress: s.progress } : ({ ...s, report: report!, error: null, created: null } as ImportState)));
      follow(importId);
    } catch (err) {
      showError(err);
    }
  };

  const cancel = async () => {
    if (!importId) return;
    try {
      const s = await importsApi.cancel(importId);
      clearTimeout(poll.current);
      setState((prev) => ({ ...(prev ?? { report: report!, error: null, created: null }), importId: s.importId, status: s.status, progress: s.progress }));
    } catch (err) {
      showError(err);
    }
  };

  const reset = () => {
    clearTimeout(poll.current);
    setFile(null);
    setReport(null);
    setImportId(null);
    setState(null);
    setUploadError(null);
  };

  const status = state?.status ?? (report ? 'validated' : null);
  const committing = status === 'committing';
  const p = state?.progress;
  const percent = p && p.total > 0 ? Math.round((p.done / p.total) * 100) : committing ? 0 : 100;

  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-grid-import">
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('grids.import.title')}
      </Typography.Title>
      <Row gutter={12}>
        <Col xs={24} lg={9}>
          <Card size="small">
            <Form
              form={form}
              layout="vertical"
              initialValues={{ level: 'grid', crs: 'WGS84', fix: false }}
              disabled={committing || validating}
            >
              <Form.Item label={t('grids.import.parent')} extra={t('grids.import.parentHint')}>
                <ParentPicker
                  value={parent.data ? `${parent.data.name}（${parent.data.code}）` : ''}
                  onPick={(id) => {
                    reset();
                    setParams({ parent: id });
                  }}
                />
              </Form.Item>
              <Form.Item label={t('grids.import.file')} required>
                <div data-testid="grid-import-file">
                <Upload.Dragger
                  accept=".geojson,.json,.zip,application/geo+json,application/json,application/zip"
                  multiple={false}
                  maxCount={1}
                  fileList={file ? [{ uid: '1', name: file.name, status: 'done', size: file.size }] : []}
                  beforeUpload={(f) => {
                    setFile(f);
                    setReport(null);
                    setState(null);
                    setUploadError(null);
                    return false;
                  }}
                  onRemove={() => {
                    reset();
                    return true;
                  }}
                >
                  <p className="ant-upload-drag-icon">
                    <InboxOutlined />
                  </p>
                  <p className="ant-upload-text">{t('grids.import.choose')}</p>
                </Upload.Dragger>
                </div>
              </Form.Item>
              <Row gutter={8}>
                <Col span={12}>
                  <Form.Item name="level" label={t('grids.import.level')}>
                    <Select options={LEVELS.map((l) => ({ value: l, label: levelLabel(l, t) }))} data-testid="grid-import-level" />
                  </Form.Item>
                </Col>
                <Col span={12}>
                  <Form.Item name="crs" label={t('grids.import.crs')}>
                    <Select
                      options={[
                        { value: 'WGS84', label: 'WGS-84' },
                        { value: 'GCJ02', label: 'GCJ-02' },
                        { value: 'BD09', label: 'BD-09' },
                      ]}
                    />
                  </Form.Item>
                </Col>
                <Col span={12}>
                  <Form.Item name="codeField" label={t('grids.import.codeField')}>
                    <Input placeholder={t('grids.import.fieldAuto')} maxLength={60} />
                  </Form.Item>
                </Col>
                <Col span={12}>
                  <Form.Item name="nameField" label={t('grids.import.nameField')}>
                    <Input placeholder={t('grids.import.fieldAuto')} maxLength={60} />
                  </Form.Item>
                </Col>
              </Row>
              <Form.Item name="fix" valuePropName="checked">
                <Checkbox data-testid="grid-import-fix">{t('grids.import.fix')}</Checkbox>
              </Form.Item>
              <Button type="primary" disabled={!file} loading={validating} onClick={() => void validate()} data-testid="grid-import-validate">
                {t('grids.import.validate')}
              </Button>
            </Form>
          </Card>
        </Col>
        <Col xs={24} lg={15}>
          {uploadError ? (
            <Alert
              type="error"
              showIcon
              message={uploadError.message}
              description={uploadError.issues.length ? uploadError.issues.map((i) => `${i.field}: ${i.message}`).join('；') : undefined}
              data-testid="grid-import-error"
            />
          ) : null}
          {report ? (
            <ReportView
              report={report}
              busy={validating}
              status={status}
              onFix={() => void validate(true)}
              actions={
                <Space direction="vertical" style={{ width: '100%' }}>
                  {status === 'committing' || status === 'committed' ? (
                    <Progress
                      percent={percent}
                      status={status === 'committing' ? 'active' : 'success'}
                      format={() => `${p?.done ?? 0} / ${p?.total ?? report.summary.importable} · ${t(`grids.import.phase.${p?.phase ?? 'queued'}`, { defaultValue: p?.phase })}`}
                      data-testid="grid-import-progress"
                    />
                  ) : null}
                  {status === 'validated' ? (
                    <Space wrap>
                      <Button
                        type="primary"
                        icon={<CheckOutlined />}
                        disabled={!report.summary.canCommit || validating}
                        onClick={() => void commit()}
                        data-testid="grid-import-commit"
                      >
                        {t('grids.import.commit')}
                      </Button>
                      <Button icon={<CloseOutlined />} onClick={() => void cancel()} data-testid="grid-import-discard">
                        {t('grids.import.cancel')}
                      </Button>
                    </Space>
                  ) : null}
                  {status === 'committing' ? (
                    <Button danger icon={<CloseOutlined />} onClick={() => void cancel()} data-testid="grid-import-cancel">
                      {t('grids.import.cancel')}
                    </Button>
                  ) : null}
                  {status === 'committed' ? (
                    <Result
                      status="success"
                      title={t('grids.import.committed', { count: state?.created ?? p?.done ?? 0 })}
                      data-testid="grid-import-done"
                      extra={[
                        <Button
                          key="map"
                          type="primary"
                          icon={<EnvironmentOutlined />}
                          onClick={() => navigate(parentId === session.user.nodeId ? '/grids' : `/grids?node=${parentId}&sel=${parentId}`)}
                          data-testid="grid-import-view"
                        >
                          {t('grids.import.viewOnMap')}
                        </Button>,
                        <Button key="again" onClick={reset}>
                          {t('grids.import.another')}
                        </Button>,
                      ]}
                    />
                  ) : null}
                  {status === 'cancelled' ? <Alert type="info" showIcon message={t('grids.import.cancelled')} data-testid="grid-import-cancelled" /> : null}
                  {status === 'failed' ? <Alert type="error" showIcon message={t('grids.import.failed', { error: state?.error ?? '' })} /> : null}
                </Space>
              }
            />
          ) : !uploadError ? (
            <Card size="small">
              <Typography.Text type="secondary">{t('grids.desc.import')}</Typography.Text>
            </Card>
          ) : null}
        </Col>
      </Row>
    </Space>
  );
}

function ParentPicker({ value, onPick }: { value: string; onPick: (id: string) => void }) {
  const { t } = useTranslation();
  const [hits, setHits] = useState<SearchHit[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  return (
    <Select<string>
      showSearch={{
        filterOption: false,
        onSearch: (q) => {
          clearTimeout(timer.current);
          if (!q.trim()) return;
          timer.current = setTimeout(() => void gridsApi.search(q.trim()).then((r) => setHits(r.items), () => setHits([])), 250);
        },
      }}
      value={value || undefined}
      placeholder={t('grids.map.search')}
      onChange={onPick}
      notFoundContent={null}
      data-testid="grid-import-parent"
      options={hits.map((h) => ({ value: h.id, label: `${h.name}（${h.code}）· ${levelLabel(h.level, t)}` }))}
    />
  );
}

function ReportView({
  report,
  busy,
  status,
  onFix,
  actions,
}: {
  report: ImportReport;
  busy: boolean;
  status: string | null;
  onFix: () => void;
  actions: React.ReactNode;
}) {
  const { t } = useTranslation();
  const s = report.summary;
  const fixable = report.findings.some((f) => f.fixable);
  const columns = [
    {
      title: t('grids.import.severity'),
      dataIndex: 'severity',
      width: 80,
      render: (v: ImportFinding['severity']) => <Tag color={v === 'error' ? 'red' : 'orange'}>{t(`grids.import.${v}`)}</Tag>,
      filters: [
        { text: t('grids.import.error'), value: 'error' },
        { text: t('grids.import.warning'), value: 'warning' },
      ],
      onFilter: (v: unknown, r: ImportFinding) => r.severity === v,
    },
    { title: t('grids.import.kind'), dataIndex: 'kind', width: 150, render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
    {
      title: t('grids.import.feature'),
      width: 110,
      render: (_: unknown, r: ImportFinding) => (r.featureIndex === null ? '—' : `#${r.featureIndex + 1}${r.code ? ` ${r.code}` : ''}`),
    },
    { title: t('grids.import.message'), dataIndex: 'message' },
    {
      title: t('grids.import.fixable'),
      dataIndex: 'fixable',
      width: 70,
      render: (v: boolean) => (v ? <ToolOutlined style={{ color: '#16a34a' }} /> : null),
    },
  ];
  return (
    <Card
      size="small"
      data-testid="grid-import-report"
      data-can-commit={String(s.canCommit)}
      title={
        <Space wrap>
          <span>{t('grids.import.report')}</span>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {report.fileName} · {report.format} · {report.crs} · {levelLabel(report.level, t)} → {report.parent.name}
            {report.encoding ? ` · ${report.encoding}` : ''}
          </Typography.Text>
          {report.fix ? <Tag color="green">fix</Tag> : null}
        </Space>
      }
    >
      <Space direction="vertical" size={12} style={{ width: '100%' }}>
        <Row gutter={[12, 12]} data-testid="grid-import-summary">
          <Col span={4}>
            <Statistic title={t('grids.import.features')} value={s.features} />
          </Col>
          <Col span={4}>
            <Statistic title={t('grids.import.importable')} value={s.importable} valueStyle={{ color: '#16a34a' }} />
          </Col>
          <Col span={4}>
            <Statistic title={t('grids.import.errors')} value={s.errors} valueStyle={{ color: s.errors ? '#dc2626' : undefined }} />
          </Col>
          <Col span={4}>
            <Statistic title={t('grids.import.warnings')} value={s.warnings} valueStyle={{ color: s.warnings ? '#d97706' : undefined }} />
          </Col>
          <Col span={4}>
            <Statistic title={t('grids.import.fixed')} value={s.fixed} />
          </Col>
          <Col span={4}>
            <Statistic title={t('grids.import.dropped')} value={s.dropped} />
          </Col>
        </Row>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t('grids.import.gap')}：{t('grids.import.m2', { value: fmtM2(s.gapM2) })} / {t('grids.import.m2', { value: fmtM2(s.parentAreaM2) })}
        </Typography.Text>
        {s.canCommit ? (
          <Alert type="success" showIcon message={t('grids.import.canCommit')} />
        ) : (
          <Alert
            type="warning"
            showIcon
            message={t('grids.import.cannotCommit')}
            action={
              fixable && !report.fix && status === 'validated' ? (
                <Button size="small" icon={<ToolOutlined />} loading={busy} onClick={onFix} data-testid="grid-import-fix-button">
                  {t('grids.import.revalidateFix')}
                </Button>
              ) : undefined
            }
          />
        )}
        <Table<ImportFinding>
          size="small"
          rowKey={(r) => `${r.featureIndex ?? 'file'}-${r.kind}-${r.message}`}
          columns={columns}
          dataSource={report.findings}
          pagination={report.findings.length > 10 ? { pageSize: 10, size: 'small' } : false}
          locale={{ emptyText: t('grids.import.noFindings') }}
          title={() => <strong>{t('grids.import.findings')}</strong>}
          data-testid="grid-import-findings"
        />
        {report.fixes.length ? (
          <Table
            size="small"
            rowKey={(r) => `${r.featureIndex}-${r.kind}-${r.message}`}
            dataSource={report.fixes}
            pagination={report.fixes.length > 10 ? { pageSize: 10, size: 'small' } : false}
            title={() => <strong>{t('grids.import.fixes')}</strong>}
            data-testid="grid-import-fixes"
            columns={[
              { title: t('grids.import.kind'), dataIndex: 'kind', width: 170, render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
              { title: t('grids.import.feature'), width: 110, render: (_: unknown, r) => `#${r.featureIndex + 1}${r.code ? ` ${r.code}` : ''}` },
              { title: t('grids.import.message'), dataIndex: 'message' },
            ]}
          />
        ) : null}
        {actions}
      </Space>
    </Card>
  );
}
