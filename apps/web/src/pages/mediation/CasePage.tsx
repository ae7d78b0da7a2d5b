import { useState } from 'react';
import { Alert, App, Button, Card, Checkbox, Col, DatePicker, Descriptions, Form, Input, InputNumber, Modal, Row, Select, Space, Switch, Table, Tag, Timeline, Typography, Upload } from 'antd';
import { EyeOutlined, MinusCircleOutlined, PlusOutlined, UploadOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ApiError, api } from '../../api/client';
import { useApi, useErrorMessage } from '../../api/hooks';
import { useSession, useSessionApi } from '../../auth/session';
import {
  CASE_MANAGERS, CASE_WORKERS, type DisputeDetail, MEDIATOR_BODIES, newKey, PARTY_REVEALERS, REGISTRARS, RISK_COLOURS, RISK_FACTORS, RISK_LEVELS, STATUS_COLOURS,
  TRANSFER_TARGETS, when,
} from './api';

type Action = 'assign' | 'session' | 'agreement' | 'risk' | 'review' | 'transfer' | 'close' | 'reopen' | { followUp: string } | null;

const ACTIVE = ['open', 'mediating', 'agreed'];

/** One case: facts, parties (masked unless revealed), mediators, sessions, agreements, follow-ups, timeline, and the forms that move it. */
export default function CasePage() {
  const { id = '' } = useParams();
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const { user } = useSession();
  const sessionApi = useSessionApi();
  const csrfToken = sessionApi.state.status === 'authenticated' ? sessionApi.state.session.csrfToken : '';
  const showError = useErrorMessage();
  const [reveal, setReveal] = useState(false);
  const [action, setAction] = useState<Action>(null);
  const c = useApi((signal) => api.get<DisputeDetail>(`/api/mediation/disputes/${id}`, { signal, query: { reveal: reveal ? 'parties' : undefined } }), [id, reveal]);
  const d = c.data;
  if (!d) return <Card loading data-testid="page-case" />;

  const active = ACTIVE.includes(d.status);
  const manager = CASE_MANAGERS.includes(user.role);
  const worker = CASE_WORKERS.includes(user.role) && (user.role !== 'mediator' || d.myAssignment?.status === 'accepted');
  const run = async (work: () => Promise<unknown>, done?: string) => {
    try {
      await work();
      if (done) void message.success(done);
      setAction(null);
      c.reload();
    } catch (err) {
      showError(err);
    }
  };

  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-case">
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Space wrap>
          <Link to="/mediation">{t('mediation.nav.cases')}</Link>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {d.number} {d.title}
          </Typography.Title>
          <Tag color={STATUS_COLOURS[d.status]} data-testid="case-status" data-status={d.status}>{t(`mediation.status.${d.status}`)}</Tag>
          <Tag color={RISK_COLOURS[d.risk.level]} data-testid="case-risk">{t(`mediation.risk.${d.risk.level}`)}</Tag>
        </Space>
        <Space wrap>
          {d.myAssignment?.status === 'proposed' && (
            <>
              <Button type="primary" data-testid="accept-case" onClick={() => run(() => api.post(`/api/mediation/assignments/${d.myAssignment!.id}/respond`, { accept: true }))}>{t('mediation.detail.accept')}</Button>
              <Button onClick={() => run(() => api.post(`/api/mediation/assignments/${d.myAssignment!.id}/respond`, { accept: false }))}>{t('mediation.detail.decline')}</Button>
            </>
          )}
          {active && manager && <Button data-testid="action-assign" onClick={() => setAction('assign')}>{t('mediation.detail.assign')}</Button>}
          {active && worker && <Button data-testid="action-session" onClick={() => setAction('session')}>{t('mediation.detail.session')}</Button>}
          {(d.status === 'open' || d.status === 'mediating') && worker && <Button data-testid="action-agreement" onClick={() => setAction('agreement')}>{t('mediation.detail.agreement')}</Button>}
          {active && (REGISTRARS.includes(user.role) || worker) && <Button onClick={() => setAction('risk')}>{t('mediation.detail.assess')}</Button>}
          {REGISTRARS.includes(user.role) && <Button onClick={() => setAction('review')}>{t('mediation.detail.review')}</Button>}
          {active && manager && <Button onClick={() => setAction('transfer')}>{t('mediation.detail.transfer')}</Button>}
          {active && manager && <Button danger onClick={() => setAction('close')}>{t('mediation.detail.close')}</Button>}
          {!active && manager && <Button onClick={() => setAction('reopen')}>{t('mediation.detail.reopen')}</Button>}
        </Space>
      </Space>

      <Row gutter={12}>
        <Col xs={24} lg={15}>
          <Space direction="vertical" size={12} style={{ width: '100%' }}>
            <Card size="small">
              <Descriptions size="small" column={2}>
                <Descriptions.Item label={t('mediation.form.type')}>{t(`mediation.types.${d.type}`)}</Descriptions.Item>
                <Descriptions.Item label={t('mediation.form.source')}>{t(`mediation.sources.${d.source}`)}</Descriptions.Item>
                <Descriptions.Item label={t('mediation.detail.place')}>{[d.stationName, d.gridName].filter(Boolean).join(' / ')}{d.address ? `（${d.address}）` : ''}</Descriptions.Item>
                <Descriptions.Item label={t('mediation.detail.officer')}>{d.officerName ?? '—'}</Descriptions.Item>
                <Descriptions.Item label={t('mediation.detail.registered')}>{when(d.registeredAt, i18n.language)}</Descriptions.Item>
                <Descriptions.Item label={t('mediation.detail.lastReview')}>
                  {when(d.lastReviewedAt, i18n.language)} {d.reviewOverdue && <Tag color="volcano">{t('mediation.detail.overdue')}</Tag>}
                </Descriptions.Item>
                {d.incidentNumber && <Descriptions.Item label={t('mediation.detail.incident')}><span data-testid="case-incident">{d.incidentNumber}</span></Descriptions.Item>}
                {d.outcome && <Descriptions.Item label={t('mediation.detail.outcome')}>{t(`mediation.status.${d.status}`)}{d.transferredTo ? ` → ${t(`mediation.targets.${d.transferredTo}`)}` : ''} {d.closeNote ?? ''}</Descriptions.Item>}
                <Descriptions.Item label={t('mediation.form.description')} span={2}>{d.description}</Descriptions.Item>
                {d.history && <Descriptions.Item label={t('mediation.form.history')} span={2}>{d.history}</Descriptions.Item>}
                <Descriptions.Item label={t('mediation.detail.risk')} span={2}>
                  {RISK_FACTORS.filter((f) => d.risk.factors[f]).map((f) => <Tag key={f}>{t(`mediation.factors.${f}`)}</Tag>)} {d.risk.note}
                </Descriptions.Item>
              </Descriptions>
            </Card>

            <Card size="small" title={t('mediation.form.parties')}
              extra={PARTY_REVEALERS.includes(user.role) && !reveal ? <Button size="small" icon={<EyeOutlined />} onClick={() => setReveal(true)} data-testid="reveal-parties">{t('mediation.detail.reveal')}</Button> : d.revealed ? <Tag color="orange">{t('mediation.detail.revealed')}</Tag> : null}>
              <Table size="small" rowKey="id" pagination={false} dataSource={d.parties} data-testid="parties-table"
                columns={[
                  { title: t('mediation.form.side'), dataIndex: 'side', render: (v: string) => t(`mediation.sides.${v}`) },
                  { title: t('mediation.form.name'), dataIndex: 'name' },
                  { title: t('mediation.form.phone'), dataIndex: 'phone', render: (v: string | null) => v ?? '—' },
                  { title: t('mediation.form.idNumber'), dataIndex: 'idNumber', render: (v: string | null) => v ?? '—' },
                  { title: t('mediation.form.demand'), dataIndex: 'demand', render: (v: string | null) => v ?? '—' },
                ]} />
            </Card>

            <Card size="small" title={t('mediation.detail.sessions')}>
              <Table size="small" rowKey="id" pagination={false} dataSource={d.sessions} data-testid="sessions-table"
                columns={[
                  { title: t('mediation.detail.heldAt'), dataIndex: 'heldAt', render: (v: string) => when(v, i18n.language) },
                  { title: t('mediation.detail.placeOfSession'), dataIndex: 'place' },
                  { title: t('mediation.detail.attendees'), dataIndex: 'attendees', render: (v: string[]) => v.join('、') },
                  { title: t('mediation.detail.notes'), dataIndex: 'notes' },
                ]} />
            </Card>

            <Card size="small" title={t('mediation.detail.agreements')} data-testid="agreements">
              {d.agreements.map((a) => (
                <Card key={a.id} type="inner" size="small" style={{ marginBottom: 8 }}
                  title={<Space><Tag color={a.status === 'signed' ? 'green' : a.status === 'proposed' ? 'blue' : 'default'} data-testid="agreement-status" data-status={a.status}>{t(`mediation.agreement.${a.status}`)}</Tag>{a.summary}</Space>}
                  extra={
                    <Space>
                      {a.status === 'proposed' && worker && d.status !== 'agreed' && (
                        <Button size="small" type="primary" data-testid="sign-agreement" onClick={() => run(() => api.post(`/api/mediation/agreements/${a.id}/sign`, {}))}>{t('mediation.detail.sign')}</Button>
                      )}
                      {a.file && <a href={a.file.url} target="_blank" rel="noreferrer" data-testid="agreement-file">{t('mediation.detail.file')}{a.file.name ? `：${a.file.name}` : ''}</a>}
                      {worker && a.status !== 'superseded' && (
                        <Upload accept="application/pdf,image/jpeg,image/png" showUploadList={false}
                          customRequest={({ file, onSuccess, onError }) => {
                            const f = file as File;
                            void upload(a.id, f, csrfToken)
                              .then(() => {
                                onSuccess?.({});
                                c.reload();
                              })
                              .catch((err: unknown) => {
                                onError?.(err as Error);
                                showError(err);
                              });
                          }}>
                          <Button size="small" icon={<UploadOutlined />} data-testid="upload-agreement">{t('mediation.detail.upload')}</Button>
                        </Upload>
                      )}
                    </Space>
                  }>
                  <Table size="small" rowKey="id" pagination={false} dataSource={a.terms}
                    columns={[
                      { title: '#', dataIndex: 'seq', width: 40 },
                      { title: t('mediation.detail.term'), dataIndex: 'text' },
                      { title: t('mediation.detail.amount'), dataIndex: 'amount', render: (v: number | null) => (v === null ? '—' : v.toLocaleString()) },
                      { title: t('mediation.detail.deadline'), dataIndex: 'deadline', render: (v: string | null) => v ?? '—' },
                      {
                        title: t('mediation.detail.outcome'),
                        dataIndex: 'status',
                        render: (v: string, term) => (
                          <Space>
                            <Tag color={v === 'fulfilled' ? 'green' : v === 'breached' ? 'red' : 'default'}>{t(`mediation.terms.${v}`)}</Tag>
                            {a.status === 'signed' && worker && v === 'pending' && (
                              <>
                                <Button size="small" onClick={() => run(() => api.post(`/api/mediation/terms/${term.id}/status`, { status: 'fulfilled' }))}>{t('mediation.detail.markFulfilled')}</Button>
                                <Button size="small" danger onClick={() => run(() => api.post(`/api/mediation/terms/${term.id}/status`, { status: 'breached' }))}>{t('mediation.detail.markBreached')}</Button>
                              </>
                            )}
                          </Space>
                        ),
                      },
                    ]} />
                </Card>
              ))}
            </Card>

            <Card size="small" title={t('mediation.detail.followUps')}>
              <Table size="small" rowKey="id" pagination={false} dataSource={d.followUps} data-testid="followups-table"
                columns={[
                  { title: t('mediation.detail.followUps'), dataIndex: 'afterDays', render: (v: number) => t('mediation.detail.afterDays', { days: v }) },
                  { title: t('mediation.detail.deadline'), dataIndex: 'dueAt', render: (v: string, f) => <Space>{when(v, i18n.language)}{f.due && <Tag color="red">{t('mediation.detail.due')}</Tag>}</Space> },
                  { title: t('mediation.detail.outcome'), dataIndex: 'status', render: (v: string, f) => (
                    <Space>
                      <Tag>{t(`mediation.followUp.${v}`)}</Tag>
                      {f.status === 'done' && <span>{f.holds ? t('mediation.detail.holds') : ''} {f.recurred ? <Tag color="red">{t('mediation.detail.recurred')}</Tag> : ''} {f.note}</span>}
                      {f.status === 'scheduled' && worker && <Button size="small" data-testid="record-follow-up" onClick={() => setAction({ followUp: f.id })}>{t('mediation.detail.record')}</Button>}
                    </Space>
                  ) },
                ]} />
            </Card>
          </Space>
        </Col>
        <Col xs={24} lg={9}>
          <Space direction="vertical" size={12} style={{ width: '100%' }}>
            <Card size="small" title={t('mediation.detail.mediators')}>
              {d.mediators.length === 0 ? '—' : d.mediators.map((m) => (
                <div key={m.id} data-testid="mediator-row">
                  {m.name} · {t(`mediation.bodies.${m.body}`)}{m.organisation ? `（${m.organisation}）` : ''} <Tag>{t(`mediation.assign.${m.status}`)}</Tag>
                </div>
              ))}
            </Card>
            {d.tasks.length > 0 && (
              <Card size="small" title={t('mediation.detail.tasks')}>
                {d.tasks.map((x) => (
                  <div key={x.id}>
                    <Tag color={x.status === 'open' ? 'red' : 'default'}>{t(`mediation.tasks.${x.kind}`)}</Tag> {x.assignee} · {when(x.dueAt, i18n.language)}
                  </div>
                ))}
              </Card>
            )}
            <Card size="small" title={t('mediation.detail.timeline')}>
              <Timeline data-testid="case-timeline"
                items={d.timeline.map((e) => ({
                  color: e.type === 'risk_raised' || e.type === 'reopened' ? 'red' : e.type === 'closed' || e.type === 'agreement_signed' ? 'green' : 'blue',
                  children: (
                    <div data-testid="timeline-item" data-type={e.type}>
                      <Typography.Text strong>{t(`mediation.events.${e.type}`, { defaultValue: e.type })}</Typography.Text>{' '}
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>{when(e.at, i18n.language)} {e.actor ?? ''}</Typography.Text>
                      {typeof e.data.note === 'string' && <div>{e.data.note}</div>}
                    </div>
                  ),
                }))} />
            </Card>
          </Space>
        </Col>
      </Row>
      {action && <ActionModal action={action} d={d} onClose={() => setAction(null)} run={run} />}
    </Space>
  );
}

/** The signed document goes as the raw body with its own type (the API client sends JSON only). */
async function upload(agreementId: string, file: File, csrfToken: string): Promise<void> {
  const res = await fetch(`/api/mediation/agreements/${agreementId}/file`, {
    method: 'PUT',
    credentials: 'same-origin',
    headers: { 'content-type': file.type || 'application/pdf', 'x-file-name': encodeURIComponent(file.name), 'x-csrf-token': csrfToken },
    body: file,
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
    throw new ApiError(res.status, body.error ?? `http_${res.status}`, body.message ?? `The server answered ${res.status}.`);
  }
}

function ActionModal({ action, d, onClose, run }: { action: Exclude<Action, null>; d: DisputeDetail; onClose: () => void; run: (w: () => Promise<unknown>, done?: string) => Promise<void> }) {
  const { t } = useTranslation();
  const [form] = Form.useForm();
  const candidates = useApi(
    (signal) => (action === 'assign' ? api.get<{ items: { id: string; displayName: string; role: string; nodeName: string }[] }>(`/api/mediation/disputes/${d.id}/mediator-candidates`, { signal }) : Promise.resolve({ items: [] })),
    [action],
  );
  const key = typeof action === 'string' ? action : 'followUp';
  const titles: Record<string, string> = {
    assign: t('mediation.detail.assign'), session: t('mediation.detail.session'), agreement: t('mediation.detail.agreement'), risk: t('mediation.detail.assess'),
    review: t('mediation.detail.review'), transfer: t('mediation.detail.transfer'), close: t('mediation.detail.close'), reopen: t('mediation.detail.reopen'), followUp: t('mediation.detail.record'),
  };
  const idem = { headers: { 'idempotency-key': newKey() } };
  const submit = async (v: Record<string, unknown>) => {
    switch (key) {
      case 'assign':
        return run(() => api.post(`/api/mediation/disputes/${d.id}/mediators`, { userId: v.userId, body: v.body, ...(v.organisation ? { organisation: v.organisation } : {}) }));
      case 'session':
        return run(() => api.post(`/api/mediation/disputes/${d.id}/sessions`, {
          heldAt: (v.heldAt as Dayjs).toISOString(), place: v.place, attendees: String(v.attendees).split(/\n|、|,/).map((s) => s.trim()).filter(Boolean), notes: v.notes,
        }, idem));
      case 'agreement':
        return run(() => api.post(`/api/mediation/disputes/${d.id}/agreements`, {
          ...(v.summary ? { summary: v.summary } : {}),
          terms: (v.terms as { text: string; amount?: number; deadline?: Dayjs }[]).map((x) => ({ text: x.text, ...(x.amount !== undefined && x.amount !== null ? { amount: x.amount } : {}), ...(x.deadline ? { deadline: x.deadline.format('YYYY-MM-DD') } : {}) })),
        }, idem));
      case 'risk':
        return run(() => api.post(`/api/mediation/disputes/${d.id}/risk`, {
          factors: Object.fromEntries(RISK_FACTORS.map((f) => [f, (v.factors as string[]).includes(f)])), ...(v.level ? { level: v.level } : {}), ...(v.note ? { note: v.note } : {}),
        }));
      case 'review':
        return run(() => api.post(`/api/mediation/disputes/${d.id}/review`, { note: v.note }));
      case 'transfer':
        return run(() => api.post(`/api/mediation/disputes/${d.id}/transfer`, { to: v.to, note: v.note }));
      case 'close':
        return run(() => api.post(`/api/mediation/disputes/${d.id}/close`, { outcome: v.outcome, note: v.note }));
      case 'reopen':
        return run(() => api.post(`/api/mediation/disputes/${d.id}/reopen`, { note: v.note }));
      default:
        return run(() => api.post(`/api/mediation/follow-ups/${(action as { followUp: string }).followUp}`, { holds: v.holds, recurred: v.recurred, note: v.note }));
    }
  };
  const note = (
    <Form.Item name="note" label={t('mediation.form.note')} rules={[{ required: key !== 'risk' }]}>
      <Input.TextArea rows={2} data-testid="action-note" />
    </Form.Item>
  );
  return (
    <Modal open title={titles[key]} onCancel={onClose} onOk={() => form.submit()} okText={t('mediation.form.submit')} cancelText={t('mediation.form.cancel')}
      okButtonProps={{ 'data-testid': 'action-submit' } as never} width={640} destroyOnHidden>
      <Form form={form} layout="vertical" onFinish={(v: Record<string, unknown>) => void submit(v).catch(() => undefined)} data-testid="action-form"
        initialValues={{ body: 'committee', heldAt: dayjs(), terms: [{ text: '' }], factors: RISK_FACTORS.filter((f) => d.risk.factors[f]), to: 'court', outcome: 'failed', holds: true, recurred: false }}>
        {key === 'assign' && (
          <>
            <Form.Item name="userId" label={t('mediation.detail.mediator')} rules={[{ required: true }]}>
              <Select showSearch optionFilterProp="label" loading={candidates.loading} data-testid="assign-user"
                options={(candidates.data?.items ?? []).map((m) => ({ value: m.id, label: `${m.displayName}（${m.nodeName}）` }))} />
            </Form.Item>
            <Form.Item name="body" label={t('mediation.detail.body')}>
              <Select options={MEDIATOR_BODIES.map((b) => ({ value: b, label: t(`mediation.bodies.${b}`) }))} />
            </Form.Item>
            <Form.Item name="organisation" label={t('mediation.detail.organisation')}><Input /></Form.Item>
          </>
        )}
        {key === 'session' && (
          <>
            <Form.Item name="heldAt" label={t('mediation.detail.heldAt')} rules={[{ required: true }]}><DatePicker showTime /></Form.Item>
            <Form.Item name="place" label={t('mediation.detail.placeOfSession')} rules={[{ required: true }]}><Input data-testid="session-place" /></Form.Item>
            <Form.Item name="attendees" label={t('mediation.detail.attendees')} extra={t('mediation.detail.attendeesHint')} rules={[{ required: true }]}><Input.TextArea rows={3} data-testid="session-attendees" /></Form.Item>
            <Form.Item name="notes" label={t('mediation.detail.notes')} rules={[{ required: true }]}><Input.TextArea rows={4} data-testid="session-notes" /></Form.Item>
          </>
        )}
        {key === 'agreement' && (
          <>
            <Form.Item name="summary" label={t('mediation.detail.summary')}><Input.TextArea rows={2} data-testid="agreement-summary" /></Form.Item>
            <Form.List name="terms">
              {(fields, { add, remove }) => (
                <>
                  {fields.map((f) => (
                    <Space key={f.key} align="baseline" wrap>
                      <Form.Item name={[f.name, 'text']} rules={[{ required: true, message: t('mediation.detail.term') }]}><Input placeholder={t('mediation.detail.term')} style={{ width: 260 }} data-testid={`term-text-${f.name}`} /></Form.Item>
                      <Form.Item name={[f.name, 'amount']}><InputNumber min={0} placeholder={t('mediation.detail.amount')} data-testid={`term-amount-${f.name}`} /></Form.Item>
                      <Form.Item name={[f.name, 'deadline']}><DatePicker placeholder={t('mediation.detail.deadline')} /></Form.Item>
                      {fields.length > 1 && <MinusCircleOutlined onClick={() => remove(f.name)} />}
                    </Space>
                  ))}
                  <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ text: '' })}>{t('mediation.detail.addTerm')}</Button>
                </>
              )}
            </Form.List>
          </>
        )}
        {key === 'risk' && (
          <>
            <Form.Item name="factors" label={t('mediation.form.riskCheck')}>
              <Checkbox.Group options={RISK_FACTORS.map((f) => ({ value: f, label: t(`mediation.factors.${f}`) }))} />
            </Form.Item>
            <Form.Item name="level" label={t('mediation.form.level')} extra={t('mediation.form.levelHint')}>
              <Select allowClear options={RISK_LEVELS.map((x) => ({ value: x, label: t(`mediation.risk.${x}`) }))} />
            </Form.Item>
            {note}
          </>
        )}
        {key === 'transfer' && (
          <>
            <Form.Item name="to" label={t('mediation.detail.to')}><Select options={TRANSFER_TARGETS.map((x) => ({ value: x, label: t(`mediation.targets.${x}`) }))} /></Form.Item>
            {note}
          </>
        )}
        {key === 'close' && (
          <>
            <Form.Item name="outcome" label={t('mediation.detail.outcome')}><Select options={(['failed', 'withdrawn'] as const).map((x) => ({ value: x, label: t(`mediation.status.${x}`) }))} /></Form.Item>
            {note}
          </>
        )}
        {(key === 'review' || key === 'reopen') && note}
        {key === 'followUp' && (
          <>
            <Alert type="info" showIcon style={{ marginBottom: 12 }} message={t('mediation.figures.definition')} />
            <Form.Item name="holds" label={t('mediation.detail.holds')} valuePropName="checked"><Switch data-testid="follow-up-holds" /></Form.Item>
            <Form.Item name="recurred" label={t('mediation.detail.recurred')} valuePropName="checked"><Switch data-testid="follow-up-recurred" /></Form.Item>
            {note}
          </>
        )}
      </Form>
    </Modal>
  );
}

