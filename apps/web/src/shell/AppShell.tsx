import { useState } from 'react';
import { Button, Layout, Menu, Space, Tag, Tooltip, Typography } from 'antd';
import { LogoutOutlined, UserOutlined, ApartmentOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { useSession, useSessionApi } from '../auth/session';
import { entriesFor, entryForPath } from '../nav/registry';
import { LanguageSwitch } from './LanguageSwitch';
import { roleLabel } from './labels';

const { Header, Sider, Content } = Layout;

export function AppShell() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const { logout } = useSessionApi();
  const location = useLocation();
  const navigate = useNavigate();
  const [collapsed, setCollapsed] = useState(false);
  const { user } = session;

  const entries = entriesFor(user.role);
  const selected = entryForPath(location.pathname)?.key;
  const items = entries.map((e) => ({
        key: e.key,
        icon: e.icon,
        label: (
          <Link to={e.path} data-testid={`nav-${e.key}`}>
            {t(e.labelKey)}
          </Link>
    ),
  }));

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Header className="pa-header">
        <Link to="/" className="pa-brand" data-testid="brand">
          <img src="/favicon.svg" alt="" />
          <span>{t('app.fullName')}</span>
        </Link>
        <div className="pa-header-spacer" />
        <div className="pa-header-user">
          <UserOutlined />
          <Typography.Text style={{ color: '#fff' }} data-testid="user-name">
            {user.displayName}
          </Typography.Text>
          <Tag color="blue" data-testid="user-role" style={{ marginInlineEnd: 0 }}>
            {roleLabel(user.role, i18n.language)}
          </Tag>
          <Tooltip title={t('header.node')}>
            <Space size={4} data-testid="user-node">
              <ApartmentOutlined />
              <span>{user.nodeName}</span>
            </Space>
          </Tooltip>
        </div>
        <LanguageSwitch dark />
        <Button
          data-testid="logout"
          icon={<LogoutOutlined />}
          onClick={() => {
            void logout().then(() => navigate('/login', { replace: true }));
          }}
        >
          {t('header.logout')}
        </Button>
      </Header>
      <Layout>
        <Sider
          theme="light"
          collapsible
          collapsed={collapsed}
          onCollapse={setCollapsed}
          width={200}
          breakpoint="lg"
          aria-label={t('nav.menu')}
        >
          <Menu mode="inline" selectedKeys={selected ? [selected] : []} items={items} data-testid="side-nav" />
        </Sider>
        <Content className="pa-content">
          <Outlet />
        </Content>
      </Layout>
    </Layout>
  );
}
