import { useRef, useState } from 'react';
import { App, Button, Form, Input, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { useTranslation } from 'react-i18next';
import { roles, type Role } from '@pingan/contracts';
import { ApiError, api } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { CreateUserInput, UserView } from '../../api/types';
import { NodePicker } from '../../shell/NodePicker';
import { useSession } from '../../auth/session';
import { roleLabel } from '../../shell/labels';

interface CreateForm {
  username: string;
  displayName: string;
  password: string;
  role: Role;
  nodeId: string;
  phone?: string;
}

/** Roles a station leader may hand out; an administrator may hand out every role. */
const stationRoles: Role[] = [
  'community_officer', 'auxiliary', 'grid_worker', 'volunteer', 'security_guard', 'mediator', 'partner_staff',
];

/** Accounts at and below your unit (phones masked), and a form that creates one. */
export default function UsersPage() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const me = session.user;
  const users = useApi((signal) => api.get<{ items: UserView[] }>('/api/users', { signal }), []);
  const [open, setOpen] = useState(false);
  const [saving, setSaving] = useState(false);
  const [form] = Form.useForm<CreateForm>();
  /** The key of a submission that failed on the network: a retry of the same content reuses it. */
  const pending = useRef<{ key: string; body: string } | null>(null);


  const roleOptions = (me.role === 'admin' ? [...roles] : stationRoles).map((r) => ({
    value: r,
    label: roleLabel(r, i18n.language),
  }));

  async function create(values: CreateForm) {
    const body: CreateUserInput = {
      username: values.username.trim(),
      displayName: values.displayName.trim(),
      password: values.password,
      role: values.role,
      nodeId: values.nodeId,
      ...(values.phone?.trim() ? { phone: values.phone.trim() } : {}),
    };
    const text = JSON.stringify(body);
    const key = pending.current?.body === text ? pending.current.key : crypto.randomUUID();
    pending.current = { key, body: text };
    setSaving(true);
    try {
      const created = await api.post<UserView>('/api/users', body, { headers: { 'idempotency-key': key } });
      pending.current = null;
      void message.success(t('users.created', { username: created.username }));
      setOpen(false);
      form.resetFields();
      users.reload();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 0)) pending.current = null;
      if (err instanceof ApiError && err.issues.length > 0) {
        const names = new Set(['username', 'displayName', 'password', 'role', 'nodeId', 'phone']);
        const fields = err.issues
          .map((i) => ({ name: i.field.replace(/^body\./, ''), errors: [i.message] }))
          .filter((f) => names.has(f.name)) as { name: keyof CreateForm; errors: string[] }[];
        form.setFields(fields);
      }
      if (!(err instanceof ApiError && err.status === 401)) {
        void message.error(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setSaving(false);
    }
  }

  const columns: ColumnsType<UserView> = [
    { title: t('users.username'), dataIndex: 'username' },
    { title: t('users.displayName'), dataIndex: 'displayName' },
    {
      title: t('users.role'),
      dataIndex: 'role',
      render: (r: Role) => <Tag color="blue">{roleLabel(r, i18n.language)}</Tag>,
      filters: roles.map((r) => ({ text: roleLabel(r, i18n.language), value: r })),
      onFilter: (value, rec) => rec.role === value,
    },
    { title: t('users.node'), dataIndex: 'nodeName' },
    { title: t('users.phone'), dataIndex: 'phone', render: (p: string | null) => p ?? '—' },
    {
      title: t('users.status'),
      key: 'status',
      render: (_: unknown, u: UserView) => (
        <Space size={4}>
          {u.disabled ? <Tag color="default">{t('users.disabled')}</Tag> : <Tag color="green">{t('users.active')}</Tag>}
          {u.locked ? <Tag color="orange">{t('users.locked')}</Tag> : null}
        </Space>
      ),
    },
  ];

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }} data-testid="page-users">
      <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
        <div>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('users.title')}
          </Typography.Title>
          <Typography.Text type="secondary">{t('users.description')}</Typography.Text>
        </div>
        <Space>
          <Button icon={<ReloadOutlined />} onClick={users.reload}>
            {t('common.refresh')}
          </Button>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="users-create">
            {t('users.create')}
          </Button>
        </Space>
      </Space>
      <Table<UserView>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={users.data?.items ?? []}
        loading={users.loading}
        pagination={{ pageSize: 20, showSizeChanger: false }}
        scroll={{ x: 800 }}
        data-testid="users-table"
      />
      <Modal
        title={t('users.create')}
        open={open}
        onCancel={() => setOpen(false)}
        okText={t('users.submit')}
        cancelText={t('users.cancel')}
        confirmLoading={saving}
        onOk={() => form.submit()}
        destroyOnHidden
      >
        <Form<CreateForm>
          form={form}
          layout="vertical"
          initialValues={{ nodeId: me.nodeId }}
          onFinish={(v) => void create(v)}
          preserve={false}
        >
          <Form.Item
            name="username"
            label={t('users.username')}
            extra={t('users.usernameHelp')}
            rules={[
              { required: true, message: t('users.required') },
              { min: 3, message: t('users.usernameHelp') },
              { pattern: /^[a-z0-9._-]+$/, message: t('users.usernamePattern') },
            ]}
          >
            <Input autoComplete="off" data-testid="users-username" />
          </Form.Item>
          <Form.Item name="displayName" label={t('users.displayName')} rules={[{ required: true, whitespace: true, message: t('users.required') }]}>
            <Input data-testid="users-displayname" />
          </Form.Item>
          <Form.Item
            name="password"
            label={t('users.password')}
            extra={t('users.passwordHelp')}
            rules={[
              { required: true, message: t('users.required') },
              { min: 10, message: t('users.passwordTooShort') },
            ]}
          >
            <Input.Password autoComplete="new-password" data-testid="users-password" />
          </Form.Item>
          <Form.Item name="role" label={t('users.role')} rules={[{ required: true, message: t('users.required') }]}>
            <Select options={roleOptions} data-testid="users-role" />
          </Form.Item>
          <Form.Item name="nodeId" label={t('users.node')} rules={[{ required: true, message: t('users.required') }]}>
            <NodePicker rootId={me.nodeId} rootName={me.nodeName} data-testid="users-node" />
          </Form.Item>
          <Form.Item
            name="phone"
            label={t('users.phone')}
            extra={t('users.phoneHelp')}
            rules={[{ pattern: /^1\d{10}$/, message: t('users.phonePattern') }]}
          >
            <Input inputMode="numeric" maxLength={11} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
