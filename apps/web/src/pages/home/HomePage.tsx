import { Card, Col, Descriptions, Row, Space, Tag, Typography } from 'antd';
import { RightOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { JurisdictionDetail } from '../../api/types';
import { useSession } from '../../auth/session';
import { entriesFor } from '../../nav/registry';
import { levelLabel, roleLabel } from '../../shell/labels';

/** Who you are, your jurisdiction, and what your role can open. */
export default function HomePage() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const { user } = session;
  const node = useApi(
    (signal) => api.get<JurisdictionDetail>(`/api/jurisdictions/${user.nodeId}`, { signal }),
    [user.nodeId],
  );
  const cards = entriesFor(user.role).filter((e) => e.key !== 'home');
  const expires = new Date(session.expiresAt);

  return (
    <Space direction="vertical" size={20} style={{ width: '100%' }} data-testid="page-home">
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('home.welcome', { name: user.displayName })}
      </Typography.Title>
      <Card title={t('home.whoYouAre')}>
        <Descriptions column={{ xs: 1, sm: 2, lg: 3 }} size="small">
          <Descriptions.Item label={t('home.username')}>{user.username}</Descriptions.Item>
          <Descriptions.Item label={t('home.role')}>
            <Tag color="blue">{roleLabel(user.role, i18n.language)}</Tag>
          </Descriptions.Item>
          <Descriptions.Item label={t('home.jurisdiction')}>
            <span data-testid="home-node">{user.nodeName}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('home.level')}>{levelLabel(user.nodeLevel, t)}</Descriptions.Item>
          {node.data ? <Descriptions.Item label={t('home.code')}>{node.data.code}</Descriptions.Item> : null}
          {node.data ? (
            <Descriptions.Item label={t('map.children')}>{node.data.children.length}</Descriptions.Item>
          ) : null}
          <Descriptions.Item label={t('home.sessionUntil')}>
            {Number.isNaN(expires.getTime()) ? session.expiresAt : expires.toLocaleString(i18n.language)}
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <div>
        <Typography.Title level={5}>{t('home.youCanOpen')}</Typography.Title>
        <Row gutter={[16, 16]}>
          {cards.map((e) => (
            <Col key={e.key} xs={24} sm={12} lg={8} xl={6}>
              <Link to={e.path} data-testid={`home-card-${e.key}`}>
                <Card hoverable size="small">
                  <Space align="start">
                    <span style={{ fontSize: 22, color: '#1d4ed8' }}>{e.icon}</span>
                    <div>
                      <Typography.Text strong>{t(e.labelKey)}</Typography.Text>
                      {e.descriptionKey ? (
                        <Typography.Paragraph type="secondary" style={{ margin: 0, fontSize: 12 }}>
                          {t(e.descriptionKey)}
                        </Typography.Paragraph>
                      ) : null}
                    </div>
                    <RightOutlined style={{ color: '#999', marginTop: 4 }} />
                  </Space>
                </Card>
              </Link>
            </Col>
          ))}
        </Row>
      </div>
    </Space>
  );
}
