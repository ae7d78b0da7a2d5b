import { Avatar, Button, Card, Space, Tag, Typography } from 'antd';
import { PhoneOutlined, SafetyCertificateOutlined, UserOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { LanguageSwitch } from '../../shell/LanguageSwitch';
import { levelLabel } from '../../shell/labels';
import { CORE_DUTIES, DUTIES, dutyLabel, type PublicCard } from '../grids/api';
import './card.css';

/** The frame of the public pages: brand, language switch, a narrow column that fits a phone. */
export function PublicFrame({ children }: { children: React.ReactNode }) {
  const { t } = useTranslation();
  return (
    <div className="pa-card-page">
      <div className="pa-card-inner">
        <div className="pa-card-top">
          <Link to="/card">
            <img src="/favicon.svg" alt="" />
            <span>{t('app.fullName')}</span>
          </Link>
          <LanguageSwitch dark />
        </div>
        {children}
        <div className="pa-card-footer">{t('grids.card.emergency')}</div>
      </div>
    </div>
  );
}

const tel = (phone: string) => `tel:${phone.replace(/[^0-9+]/g, '')}`;

/** A grid's public contact card: what a resident sees, only what is meant to be public. */
export function CardView({ card }: { card: PublicCard }) {
  const { t, i18n } = useTranslation();
  const members = [...card.members].sort((a, b) => DUTIES.indexOf(a.duty) - DUTIES.indexOf(b.duty));
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="public-card" data-slug={card.slug}>
      <Card className="pa-card-head">
        <Typography.Text type="secondary">{t('grids.card.title')}</Typography.Text>
        <h1 data-testid="public-card-name">{card.name}</h1>
        <Space size={6} wrap>
          <Tag>{levelLabel(card.level, t)}</Tag>
          <Typography.Text type="secondary">{card.code}</Typography.Text>
        </Space>
        {card.station ? (
          <div style={{ marginTop: 8 }}>
            <SafetyCertificateOutlined /> {t('grids.card.station')}：{card.station.name}
          </div>
        ) : null}
        {card.supervisionPhone ? (
          <div style={{ marginTop: 10 }}>
            <Button type="primary" block icon={<PhoneOutlined />} href={tel(card.supervisionPhone)} data-testid="public-card-supervision">
              {t('grids.card.supervision')} {card.supervisionPhone}
            </Button>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('grids.card.slogan')}
            </Typography.Text>
          </div>
        ) : null}
      </Card>
      {card.notice ? (
        <Card size="small" title={t('grids.card.notice')}>
          <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', marginBottom: 0 }} data-testid="public-card-notice">
            {card.notice}
          </Typography.Paragraph>
        </Card>
      ) : null}
      <Card size="small" styles={{ body: { paddingTop: 0, paddingBottom: 0 } }}>
        {members.map((m) => (
          <div className="pa-card-member" key={`${m.personId}-${m.duty}`} data-testid="public-card-member">
            <Avatar size={48} src={m.photoUrl ?? undefined} icon={<UserOutlined />} />
            <div className="pa-card-member-body">
              <div>
                <span className="pa-card-member-name">{m.name}</span>{' '}
                <Tag color={CORE_DUTIES.includes(m.duty) ? 'blue' : undefined}>{dutyLabel(m.duty, i18n.language)}</Tag>
              </div>
              {m.title ? <div className="pa-card-member-desc">{m.title}</div> : null}
              {m.description ? <div className="pa-card-member-desc">{m.description}</div> : null}
              {!m.phone ? <div className="pa-card-member-desc">{t('grids.card.noPhone')}</div> : null}
            </div>
            {m.phone ? (
              <Button className="pa-card-call" shape="round" icon={<PhoneOutlined />} href={tel(m.phone)} aria-label={`${t('grids.card.call')} ${m.name}`}>
                {m.phone}
              </Button>
            ) : null}
          </div>
        ))}
      </Card>
    </Space>
  );
}
