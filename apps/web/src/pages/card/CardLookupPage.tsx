import { useState } from 'react';
import { Alert, Button, Card, Input, List, Space, Tag, Typography } from 'antd';
import { AimOutlined, SearchOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError } from '../../api/client';
import { levelLabel } from '../../shell/labels';
import { gridsApi, type PublicCard } from '../grids/api';
import { CardView, PublicFrame } from './CardView';

/** /card — a resident finds the contact card of their grid by address text or their location; no login. */
export default function CardLookupPage() {
  const { t } = useTranslation();
  const [address, setAddress] = useState('');
  const [busy, setBusy] = useState<'address' | 'location' | null>(null);
  const [result, setResult] = useState<{ items: PublicCard[]; message: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async (kind: 'address' | 'location', q: Promise<{ items: PublicCard[]; message: string | null }>) => {
    setBusy(kind);
    setError(null);
    try {
      setResult(await q);
    } catch (err) {
      setResult(null);
      setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(null);
    }
  };

  const byAddress = () => {
    if (address.trim().length < 2) return;
    void run('address', gridsApi.publicCards({ address: address.trim() }));
  };

  const byLocation = () => {
    if (!navigator.geolocation) {
      setError(t('grids.card.noLocation', { reason: 'geolocation unavailable' }));
      return;
    }
    setBusy('location');
    navigator.geolocation.getCurrentPosition(
      (pos) => void run('location', gridsApi.publicCards({ lon: pos.coords.longitude, lat: pos.coords.latitude })),
      (err) => {
        setBusy(null);
        setError(t('grids.card.noLocation', { reason: err.message }));
      },
      { enableHighAccuracy: true, timeout: 15_000 },
    );
  };

  const single = result?.items.length === 1 ? result.items[0] : null;
  return (
    <PublicFrame>
      <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="public-lookup">
        <Card>
          <Typography.Title level={4} style={{ marginTop: 0 }}>
            {t('grids.card.lookupTitle')}
          </Typography.Title>
          <Typography.Paragraph type="secondary">{t('grids.card.lookupIntro')}</Typography.Paragraph>
          <Space direction="vertical" style={{ width: '100%' }}>
            <Input.Search
              value={address}
              onChange={(e) => setAddress(e.target.value)}
              onSearch={byAddress}
              placeholder={t('grids.card.addressPlaceholder')}
              enterButton={<><SearchOutlined /> {t('grids.card.find')}</>}
              loading={busy === 'address'}
              maxLength={120}
              aria-label={t('grids.card.address')}
              data-testid="public-lookup-address"
            />
            <Button block icon={<AimOutlined />} loading={busy === 'location'} onClick={byLocation} data-testid="public-lookup-location">
              {busy === 'location' ? t('grids.card.locating') : t('grids.card.useLocation')}
            </Button>
          </Space>
        </Card>
        {error ? <Alert type="error" showIcon message={error} /> : null}
        {result && result.items.length === 0 ? <Alert type="info" showIcon message={result.message ?? t('grids.card.notFound')} data-testid="public-lookup-none" /> : null}
        {single ? <CardView card={single} /> : null}
        {result && result.items.length > 1 ? (
          <Card size="small" title={t('grids.card.results')}>
            <List
              dataSource={result.items}
              renderItem={(c) => (
                <List.Item
                  data-testid="public-lookup-result"
                  actions={[
                    <Link key="open" to={`/card/${c.slug}`}>
                      {t('grids.card.open')}
                    </Link>,
                  ]}
                >
                  <Space direction="vertical" size={0}>
                    <Space size={6}>
                      <strong>{c.name}</strong>
                      <Tag>{levelLabel(c.level, t)}</Tag>
                    </Space>
                    {c.station ? <Typography.Text type="secondary">{c.station.name}</Typography.Text> : null}
                  </Space>
                </List.Item>
              )}
            />
          </Card>
        ) : null}
      </Space>
    </PublicFrame>
  );
}
