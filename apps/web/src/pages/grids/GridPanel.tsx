import { useState } from 'react';
import {
  App, Avatar, Button, Card, Descriptions, Empty, Form, Input, List, Popconfirm, Select, Space, Switch, Tabs, Tag, Typography,
} from 'antd';
import { EditOutlined, EyeInvisibleOutlined, EyeOutlined, LinkOutlined, PhoneOutlined, PlusOutlined, UserOutlined } from '@ant-design/icons';
import type { GridDuty } from '@pingan/contracts';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api/client';
import { useApi, useErrorMessage } from '../../api/hooks';
import { levelLabel } from '../../shell/labels';
import { CORE_DUTIES, DUTIES, cardOfNode, dutyLabel, gridsApi, TEAM_LEVELS, type NodeSummary, type TeamMember } from './api';

interface Props {
  node: NodeSummary;
  childCount?: number;
  editor: boolean;
  /** Start editing this node's polygon on the map. */
  onEditPolygon: () => void;
  /** The node's name, code or core flag changed: reload the map. */
  onChanged: () => void;
}

const dutyOrder = (d: GridDuty) => DUTIES.indexOf(d);

/** The side panel of a selected grid: its 4+N+N team, its public card and (for editors) its edit form. */
export function GridPanel({ node, childCount, editor, onEditPolygon, onChanged }: Props) {
  const { t } = useTranslation();
  const hasTeam = TEAM_LEVELS.includes(node.level);
  const [tab, setTab] = useState('team');
  const items = [
    ...(hasTeam
      ? [
          { key: 'team', label: t('grids.panel.team'), children: <TeamTab node={node} editor={editor} /> },
          { key: 'card', label: t('grids.panel.card'), children: <CardTab node={node} editor={editor} /> },
        ]
      : []),
    ...(editor ? [{ key: 'edit', label: t('grids.panel.edit'), children: <EditTab node={node} onEditPolygon={onEditPolygon} onChanged={onChanged} /> }] : []),
  ];
  return (
    <Card
      size="small"
      data-testid="grid-panel"
      data-node={node.id}
      title={
        <Space size={6} wrap>
          <span data-testid="grid-panel-name">{node.name}</span>
          <Tag>{levelLabel(node.level, t)}</Tag>
          {node.core ? <Tag color="red">{t('grids.map.core')}</Tag> : null}
        </Space>
      }
    >
      <Descriptions size="small" column={1} style={{ marginBottom: 8 }}>
        <Descriptions.Item label={t('grids.panel.code')}>{node.code}</Descriptions.Item>
        {childCount !== undefined ? <Descriptions.Item label={t('grids.panel.children')}>{childCount}</Descriptions.Item> : null}
      </Descriptions>
      {!hasTeam ? <Typography.Paragraph type="secondary">{t('grids.panel.noTeam')}</Typography.Paragraph> : null}
      {items.length ? (
        <Tabs
          size="small"
          activeKey={items.some((i) => i.key === tab) ? tab : items[0]!.key}
          onChange={setTab}
          items={items.map((i) => ({ ...i, label: <span data-testid={`grid-tab-${i.key}`}>{i.label}</span> }))}
          destroyOnHidden
        />
      ) : null}
    </Card>
  );
}

function TeamTab({ node, editor }: { node: NodeSummary; editor: boolean }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const showError = useErrorMessage();
  const [reveal, setReveal] = useState(false);
  const [adding, setAdding] = useState(false);
  const [form] = Form.useForm<{ duty: GridDuty; name: string; phone?: string; phonePublic?: boolean; title?: string; description?: string }>();
  const team = useApi((signal) => gridsApi.team(node.id, reveal, signal), [node.id, reveal]);
  const members = [...(team.data?.items ?? [])].sort((a, b) => dutyOrder(a.duty) - dutyOrder(b.duty));
  const count = (d: GridDuty) => members.filter((m) => m.duty === d).length;
  const missing = CORE_DUTIES.filter((d) => count(d) === 0);

  const remove = async (m: TeamMember) => {
    try {
      await gridsApi.removeMember(node.id, m.dutyId);
      void message.success(t('grids.panel.removed'));
      team.reload();
    } catch (err) {
      showError(err);
    }
  };
  const add = async () => {
    const v = await form.validateFields();
    try {
      await gridsApi.addMember(node.id, {
        duty: v.duty,
        description: v.description || undefined,
        person: { name: v.name, phone: v.phone || undefined, phonePublic: v.phonePublic ?? false, title: v.title || undefined },
      });
      void message.success(t('grids.panel.added', { name: v.name }));
      form.resetFields();
      setAdding(false);
      team.reload();
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) {
        form.setFields(err.issues.map((i) => ({ name: i.field.split('.').pop() as 'name', errors: [i.message] })));
      }
      showError(err);
    }
  };

  return (
    <div data-testid="grid-team">
      <Space direction="vertical" size={6} style={{ width: '100%' }}>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t('grids.panel.shape', { collectors: count('info_collector'), volunteers: count('volunteer') })}
        </Typography.Text>
        {missing.length && !team.loading ? (
          <Tag color="orange">{t('grids.panel.missingCore', { duties: missing.map((d) => dutyLabel(d, i18n.language)).join('、') })}</Tag>
        ) : null}
        {editor ? (
          <Space wrap>
            <Button
              size="small"
              data-testid="grid-team-reveal"
              icon={reveal ? <EyeInvisibleOutlined /> : <EyeOutlined />}
              onClick={() => setReveal((r) => !r)}
            >
              {reveal ? t('grids.panel.hide') : t('grids.panel.reveal')}
            </Button>
            <Button size="small" icon={<PlusOutlined />} data-testid="grid-team-add" onClick={() => setAdding((a) => !a)}>
              {t('grids.panel.add')}
            </Button>
          </Space>
        ) : null}
        {reveal ? (
          <Typography.Text type="warning" style={{ fontSize: 12 }}>
            {t('grids.panel.revealed')}
          </Typography.Text>
        ) : null}
        {adding ? (
          <Card size="small" data-testid="grid-team-form">
            <Form form={form} layout="vertical" size="small" initialValues={{ duty: 'volunteer', phonePublic: false }}>
              <Form.Item name="duty" label={t('grids.panel.duty')} rules={[{ required: true, message: t('grids.panel.required') }]}>
                <Select options={DUTIES.map((d) => ({ value: d, label: dutyLabel(d, i18n.language) }))} />
              </Form.Item>
              <Form.Item name="name" label={t('grids.panel.name')} rules={[{ required: true, message: t('grids.panel.required') }]}>
                <Input maxLength={80} data-testid="grid-team-name" />
              </Form.Item>
              <Form.Item name="phone" label={t('grids.panel.phone')}>
                <Input maxLength={20} />
              </Form.Item>
              <Form.Item name="phonePublic" label={t('grids.panel.phonePublic')} valuePropName="checked">
                <Switch size="small" />
              </Form.Item>
              <Form.Item name="title" label={t('grids.panel.title')}>
                <Input maxLength={40} />
              </Form.Item>
              <Form.Item name="description" label={t('grids.panel.description')}>
                <Input maxLength={200} />
              </Form.Item>
              <Button type="primary" size="small" onClick={() => void add()} data-testid="grid-team-submit">
                {t('grids.panel.add')}
              </Button>
            </Form>
          </Card>
        ) : null}
        <List
          size="small"
          loading={team.loading}
          dataSource={members}
          locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('grids.panel.emptyTeam')} /> }}
          renderItem={(m) => (
            <List.Item
              data-testid="grid-team-member"
              actions={
                editor
                  ? [
                      <Popconfirm
                        key="remove"
                        title={t('grids.panel.removeConfirm', { name: m.name, duty: dutyLabel(m.duty, i18n.language) })}
                        onConfirm={() => void remove(m)}
                      >
                        <Button type="link" size="small" danger>
                          {t('grids.panel.remove')}
                        </Button>
                      </Popconfirm>,
                    ]
                  : []
              }
            >
              <List.Item.Meta
                avatar={
                  <Avatar src={m.hasPhoto ? `/api/public/people/${m.personId}/photo` : undefined} icon={<UserOutlined />} />
                }
                title={
                  <Space size={6} wrap>
                    <span>{m.name}</span>
                    <Tag color={CORE_DUTIES.includes(m.duty) ? 'blue' : undefined}>{dutyLabel(m.duty, i18n.language)}</Tag>
                  </Space>
                }
                description={
                  <Space direction="vertical" size={0}>
                    {m.phone ? (
                      <span data-testid="grid-team-phone">
                        <PhoneOutlined /> {m.phone}{' '}
                        {m.phonePublic ? (
                          <Tag color="green" title={t('grids.panel.publicHint')}>
                            {t('grids.panel.public')}
                          </Tag>
                        ) : null}
                      </span>
                    ) : null}
                    {m.description ? <span style={{ fontSize: 12 }}>{m.description}</span> : null}
                  </Space>
                }
              />
            </List.Item>
          )}
        />
      </Space>
    </div>
  );
}

function CardTab({ node, editor }: { node: NodeSummary; editor: boolean }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const showError = useErrorMessage();
  const card = useApi((signal) => cardOfNode(node, signal), [node.id, node.name]);
  const [form] = Form.useForm<{ supervisionPhone?: string; notice?: string }>();
  const [saving, setSaving] = useState(false);
  const c = card.data;

  const save = async () => {
    const v = await form.validateFields();
    setSaving(true);
    try {
      await gridsApi.updateCard(node.id, { supervisionPhone: v.supervisionPhone?.trim() || null, notice: v.notice?.trim() || null });
      void message.success(t('grids.panel.cardSaved'));
      card.reload();
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) {
        form.setFields(err.issues.map((i) => ({ name: i.field.split('.').pop() as 'notice', errors: [i.message] })));
      }
      showError(err);
    } finally {
      setSaving(false);
    }
  };

  if (card.loading && !c) return <Card size="small" loading />;
  return (
    <div data-testid="grid-card">
      {!c ? (
        <Space direction="vertical">
          <Typography.Text type="secondary">{t('grids.panel.noCard')}</Typography.Text>
          {editor ? (
            <Button size="small" onClick={() => void gridsApi.updateCard(node.id, { notice: null }).then(card.reload, showError)}>
              {t('grids.panel.createCard')}
            </Button>
          ) : null}
        </Space>
      ) : (
        <Space direction="vertical" size={8} style={{ width: '100%' }}>
          <Space align="start" size={12} wrap>
            <img
              src={gridsApi.qrUrl(node.id)}
              alt={t('grids.panel.qr')}
              title={t('grids.panel.qr')}
              width={120}
              height={120}
              data-testid="grid-card-qr"
              style={{ border: '1px solid #e5e7eb', borderRadius: 4, background: '#fff' }}
            />
            <Space direction="vertical" size={2}>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t('grids.panel.qr')}
              </Typography.Text>
              {c.station ? (
                <span>
                  {t('grids.card.station')}：{c.station.name}
                </span>
              ) : null}
              <span data-testid="grid-card-supervision">
                {t('grids.panel.supervisionPhone')}：{c.supervisionPhone ?? '—'}
              </span>
              <a href={`/card/${c.slug}`} target="_blank" rel="noreferrer" data-testid="grid-card-public-link">
                <LinkOutlined /> {t('grids.panel.openPublic')}
              </a>
            </Space>
          </Space>
          {c.notice ? <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', marginBottom: 0 }}>{c.notice}</Typography.Paragraph> : null}
          <Typography.Text strong>{t('grids.panel.members')}</Typography.Text>
          <List
            size="small"
            dataSource={c.members}
            renderItem={(m) => (
              <List.Item>
                <Space size={6} wrap>
                  <Tag>{dutyLabel(m.duty, i18n.language)}</Tag>
                  <span>{m.name}</span>
                  <Typography.Text type="secondary">{m.phone ?? t('grids.card.noPhone')}</Typography.Text>
                </Space>
              </List.Item>
            )}
          />
          {editor ? (
            <Card size="small" title={<><EditOutlined /> {t('grids.panel.card')}</>}>
              <Form
                form={form}
                layout="vertical"
                size="small"
                key={`${c.slug}-${c.supervisionPhone ?? ''}-${c.notice ?? ''}`}
                initialValues={{ supervisionPhone: c.supervisionPhone ?? '', notice: c.notice ?? '' }}
              >
                <Form.Item name="supervisionPhone" label={t('grids.panel.supervisionPhone')}>
                  <Input maxLength={20} data-testid="grid-card-phone-input" />
                </Form.Item>
                <Form.Item name="notice" label={t('grids.panel.notice')}>
                  <Input.TextArea maxLength={500} rows={3} data-testid="grid-card-notice-input" />
                </Form.Item>
                <Button type="primary" size="small" loading={saving} onClick={() => void save()} data-testid="grid-card-save">
                  {t('grids.panel.saveCard')}
                </Button>
              </Form>
            </Card>
          ) : null}
        </Space>
      )}
    </div>
  );
}

function EditTab({ node, onEditPolygon, onChanged }: { node: NodeSummary; onEditPolygon: () => void; onChanged: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useErrorMessage();
  const [form] = Form.useForm<{ name: string; code: string; core: boolean }>();
  const [saving, setSaving] = useState(false);

  const save = async () => {
    const v = await form.validateFields();
    const body: { name?: string; code?: string; core?: boolean } = {};
    if (v.name !== node.name) body.name = v.name;
    if (v.code !== node.code) body.code = v.code;
    if (v.core !== node.core) body.core = v.core;
    if (Object.keys(body).length === 0) return;
    setSaving(true);
    try {
      await gridsApi.update(node.id, body);
      void message.success(t('grids.panel.saved'));
      onChanged();
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) {
        form.setFields(err.issues.map((i) => ({ name: i.field.split('.').pop() as 'name', errors: [i.message] })));
      }
      showError(err);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="grid-edit">
      <Card size="small" title={t('grids.panel.editPolygon')}>
        <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
          {t('grids.panel.editHint')}
        </Typography.Paragraph>
        <Button icon={<EditOutlined />} onClick={onEditPolygon} disabled={!node.geometry} data-testid="grid-edit-polygon">
          {t('grids.panel.editPolygon')}
        </Button>
      </Card>
      <Card size="small" title={t('grids.panel.form')}>
        <Form
          form={form}
          layout="vertical"
          size="small"
          key={`${node.id}-${node.name}-${node.code}-${node.core}`}
          initialValues={{ name: node.name, code: node.code, core: node.core }}
        >
          <Form.Item name="name" label={t('grids.panel.name')} rules={[{ required: true, message: t('grids.panel.required') }]}>
            <Input maxLength={80} data-testid="grid-edit-name" />
          </Form.Item>
          <Form.Item name="code" label={t('grids.panel.code')} rules={[{ required: true, message: t('grids.panel.required') }]}>
            <Input maxLength={40} />
          </Form.Item>
          <Form.Item name="core" label={t('grids.panel.core')} valuePropName="checked">
            <Switch size="small" />
          </Form.Item>
          <Button type="primary" loading={saving} onClick={() => void save()} data-testid="grid-edit-save">
            {t('grids.panel.save')}
          </Button>
        </Form>
      </Card>
    </Space>
  );
}
