import { Button, Card, Space, Table, Tag, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { useApi } from '../../api/hooks';
import { type DisputeListItem, RISK_COLOURS, STATUS_COLOURS, type TaskItem, when } from './api';

const KIND_COLOURS: Record<string, string> = { risk_urgent: 'red', follow_up: 'blue', consent: 'gold' };

/** A mediator's (or officer's) own worklist: tasks due now, then the cases assigned to them. */
export default function WorklistPage() {
  const { t, i18n } = useTranslation();
  const tasks = useApi((signal) => api.get<{ items: TaskItem[] }>('/api/mediation/tasks', { signal }), []);
  const cases = useApi((signal) => api.get<{ items: DisputeListItem[] }>('/api/mediation/disputes', { signal, query: { mine: 'true', state: 'active' } }), []);
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-worklist">
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>{t('mediation.worklist.title')}</Typography.Title>
        <Button icon={<ReloadOutlined />} onClick={() => { tasks.reload(); cases.reload(); }} data-testid="worklist-reload" />
      </Space>
      <Card size="small" title={t('mediation.worklist.tasks')}>
        <Table<TaskItem>
          data-testid="tasks-table"
          size="small"
          rowKey={(r) => `${r.kind}:${r.id}`}
          loading={tasks.loading}
          dataSource={tasks.data?.items ?? []}
          pagination={false}
          locale={{ emptyText: t('mediation.worklist.empty') }}
          onRow={(r) => ({ 'data-kind': r.kind, 'data-testid': 'task-row' }) as never}
          columns={[
            { title: '', dataIndex: 'kind', render: (v: string, r) => <Space><Tag color={KIND_COLOURS[v]}>{t(`mediation.tasks.${v}`)}</Tag>{r.overdue && <Tag color="volcano">{t('mediation.detail.overdue')}</Tag>}</Space> },
            { title: t('mediation.list.number'), dataIndex: 'number' },
            { title: t('mediation.list.caseTitle'), dataIndex: 'title' },
            { title: t('mediation.list.risk'), dataIndex: 'riskLevel', render: (v: string) => <Tag color={RISK_COLOURS[v]}>{t(`mediation.risk.${v}`)}</Tag> },
            { title: t('mediation.detail.deadline'), dataIndex: 'dueAt', render: (v: string) => when(v, i18n.language) },
            { title: '', render: (_v, r) => <Link to={`/mediation/cases/${r.disputeId}`} data-testid="task-open">{t('mediation.worklist.open')}</Link> },
          ]}
        />
      </Card>
      <Card size="small" title={t('mediation.worklist.cases')}>
        <Table<DisputeListItem>
          data-testid="my-cases-table"
          size="small"
          rowKey="id"
          loading={cases.loading}
          dataSource={cases.data?.items ?? []}
          pagination={{ pageSize: 20 }}
          columns={[
            { title: t('mediation.list.number'), dataIndex: 'number', render: (v: string, r) => <Link to={`/mediation/cases/${r.id}`}>{v}</Link> },
            { title: t('mediation.list.caseTitle'), dataIndex: 'title' },
            { title: t('mediation.list.risk'), dataIndex: 'riskLevel', render: (v: string) => <Tag color={RISK_COLOURS[v]}>{t(`mediation.risk.${v}`)}</Tag> },
            { title: t('mediation.detail.outcome'), dataIndex: 'status', render: (v: string) => <Tag color={STATUS_COLOURS[v]}>{t(`mediation.status.${v}`)}</Tag> },
            { title: t('mediation.list.grid'), dataIndex: 'gridName' },
            { title: t('mediation.list.nextFollowUp'), dataIndex: 'nextFollowUpAt', render: (v: string | null) => when(v, i18n.language) },
          ]}
        />
      </Card>
    </Space>
  );
}
