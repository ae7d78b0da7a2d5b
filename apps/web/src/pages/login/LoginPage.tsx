import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Navigate, useSearchParams } from 'react-router';
import type { Role } from '@pingan/contracts';
import { ApiError } from '../../api/client';
import { useSessionApi } from '../../auth/session';
import { homePathFor } from '../../nav/registry';
import { LanguageSwitch } from '../../shell/LanguageSwitch';
import { Loading } from '../../shell/Loading';

interface LoginForm {
  username: string;
  password: string;
}

interface Failure {
  title: string;
  detail: string;
  code: string;
}

const KNOWN = new Set(['invalid_credentials', 'locked', 'rate_limited', 'network']);
const byStatus: Record<number, string> = { 0: 'network', 401: 'invalid_credentials', 423: 'locked', 429: 'rate_limited' };

export function LoginPage() {
  const { t } = useTranslation();
  const { state, login } = useSessionApi();
  const [params] = useSearchParams();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);

  const from = params.get('from');
  const expired = params.get('expired') === '1';
  /** Back to the page the user was sent away from, else the role's home. */
  const targetFor = (role: Role) => (from && from.startsWith('/') && !from.startsWith('//') ? from : homePathFor(role));

  if (state.status === 'loading') return <Loading />;
  if (state.status === 'authenticated') return <Navigate to={targetFor(state.session.user.role)} replace />;

  async function submit(values: LoginForm) {
    setBusy(true);
    setFailure(null);
    try {
      // The session state change re-renders this page, which then redirects (see targetFor above).
      await login(values.username.trim(), values.password);
    } catch (err) {
      if (err instanceof ApiError) {
        // Decide by status: the code string is for machines and may change; the status is the contract.
        const code = byStatus[err.status] ?? err.code;
        setFailure({
          code,
          title: KNOWN.has(code) ? t(`login.${code}`) : t('login.failed'),
          detail: err.message,
        });
      } else {
        setFailure({ code: 'unknown', title: t('login.failed'), detail: err instanceof Error ? err.message : String(err) });
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="pa-login">
      <div className="pa-login-lang">
        <LanguageSwitch />
      </div>
      <Card className="pa-login-card" data-testid="login-card">
        <div style={{ textAlign: 'center', marginBottom: 24 }}>
          <img src="/favicon.svg" alt="" width={48} height={48} />
          <Typography.Title level={3} style={{ margin: '8px 0 0' }}>
            {t('app.fullName')}
          </Typography.Title>
          <Typography.Text type="secondary">{t('app.tagline')}</Typography.Text>
        </div>
        {expired && !failure ? (
          <Alert style={{ marginBottom: 16 }} type="warning" showIcon message={t('common.sessionEnded')} />
        ) : null}
        {failure ? (
          <Alert
            data-testid="login-error"
            data-code={failure.code}
            style={{ marginBottom: 16 }}
            type={failure.code === 'locked' ? 'warning' : 'error'}
            showIcon
            message={failure.title}
            description={failure.detail}
          />
        ) : null}
        <Form<LoginForm> layout="vertical" onFinish={(v) => void submit(v)} requiredMark={false} disabled={busy}>
          <Form.Item
            name="username"
            label={t('login.username')}
            rules={[{ required: true, whitespace: true, message: t('login.usernameRequired') }]}
          >
            <Input prefix={<UserOutlined />} autoComplete="username" autoFocus data-testid="login-username" />
          </Form.Item>
          <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.passwordRequired') }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" data-testid="login-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
            {t('login.submit')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
