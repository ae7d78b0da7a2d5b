import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, Button, Card, Form, Input, Space, Table, Tag, Typography } from 'antd';
import { SafetyCertificateOutlined, SearchOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { useErrorMessage } from '../../api/hooks';
import type { AuditRecord, AuditVerify, Page } from '../../api/types';

interface Filters {
  action?: string;
  entityType?: string;
}

const PAGE_SIZE = 50;

/** The audit trail of your jurisdiction, newest first, with cursor paging and a hash-chain check. */
export default function AuditPage() {
  const { t, i18n } = useTranslation();
  const showError = useErrorMessage();
  const [filters, setFilters] = useState<Filters>({});
  const [items, setItems] = useState<AuditRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [verifying, setVerifying] = useState(false);
  const [verify, setVerify] = useState<AuditVerify | null>(null);
  const generation = useRef(0);

  const load = useCallback(
    async (f: Filters, after: string | null) => {
      const gen = ++generation.current;
      setLoading(true);
      try {
        const page = await api.get<Page<AuditRecord>>('/api/audit', {
          query: { limit: PAGE_SIZE, cursor: after ?? undefined, action: f.action?.trim(), entityType: f.entityType?.trim() },
        });
        if (gen !== generation.current) return;
        setItems((prev) => (after ? [...prev, ...page.items] : page.items));
        setCursor(page.nextCursor);
      } catch (err) {
        if (gen === generation.current) showError(err);
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [showError],
  );

  useEffect(() => {
    void load(filters, null);
  }, [filters, load]);

  async function runVerify() {
    setVerifying(true);
    try {
      setVerify(await api.get<AuditVerify>('/api/audit/verify'));
    } catch (err) {
      showError(err);
    } finally {
      setVerifying(false);
    }
  }

  const columns: ColumnsType<AuditRecord> = [
    { title: t('audit.seq'), dataIndex: 'seq', width: 80 },
    {
      title: t('audit.at'),
      dataIndex: 'at',
      width: 180,
      render: (v: string) => new Date(v).toLocaleString(i18n.language),
    },
    { title: t('audit.action'), dataIndex: 'action', render: (v: string) => <Tag>{v}</Tag> },
    { title: t('audit.entity'), dataIndex: 'entityType' },
    {
      title: t('audit.entityId'),
      dataIndex: 'entityId',
      ellipsis: true,
      render: (v: string | null) => (v ? <Typography.Text code>{v.slice(0, 8)}</Typography.Text> : '—'),
    },
    { title: t('audit.actorRole'), dataIndex: 'actorRole', render: (v: string | null) => v ?? '—' },
    { title: t('audit.ip'), dataIndex: 'ip', render: (v: string | null) => v ?? '—' },
    {
      title: t('audit.details'),
      dataIndex: 'details',
      ellipsis: true,
      render: (v: Record<string, unknown>) => {
        const text = JSON.stringify(v);
        return text === '{}' ? '—' : <Typography.Text style={{ fontSize: 12 }}>{text}</Typography.Text>;
      },
    },
  ];

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }} data-testid="page-audit">
      <div>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t('audit.title')}
        </Typography.Title>
        <Typography.Text type="secondary">{t('audit.description')}</Typography.Text>
      </div>
      <Card size="small">
        <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
          <Form<Filters> layout="inline" onFinish={(v) => setFilters({ ...v })}>
            <Form.Item name="action" label={t('audit.action')}>
              <Input allowClear placeholder={t('audit.actionPlaceholder')} style={{ width: 220 }} data-testid="audit-action" />
            </Form.Item>
            <Form.Item name="entityType" label={t('audit.entity')}>
              <Input allowClear placeholder={t('audit.entityPlaceholder')} style={{ width: 180 }} />
            </Form.Item>
            <Form.Item>
              <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
                {t('common.search')}
              </Button>
            </Form.Item>
          </Form>
          <Button icon={<SafetyCertificateOutlined />} loading={verifying} onClick={() => void runVerify()} data-testid="audit-verify">
            {t('audit.verify')}
          </Button>
        </Space>
        {verify ? (
          <Alert
            style={{ marginTop: 12 }}
            data-testid="audit-verify-result"
            type={verify.ok ? 'success' : 'error'}
            showIcon
            closable
            onClose={() => setVerify(null)}
            message={
              verify.ok
                ? t('audit.verifyOk', { checked: verify.checked })
                : verify.firstBad
                  ? t('audit.verifyBad', { seq: verify.firstBad.seq, reason: verify.firstBad.reason })
                  : t('audit.verifyBadUnknown', { checked: verify.checked })
            }
          />
        ) : null}
      </Card>
      <Table<AuditRecord>
        rowKey="seq"
        size="small"
        columns={columns}
        dataSource={items}
        loading={loading}
        pagination={false}
        scroll={{ x: 900 }}
        data-testid="audit-table"
      />
      <div style={{ textAlign: 'center' }}>
        {cursor ? (
          <Button onClick={() => void load(filters, cursor)} loading={loading} data-testid="audit-more">
            {t('common.loadMore')}
          </Button>
        ) : items.length > 0 ? (
          <Typography.Text type="secondary">{t('common.noMore')}</Typography.Text>
        ) : null}
      </div>
    </Space>
  );
}
