import { Button, Card, Result, Skeleton } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useApi } from '../../api/hooks';
import { gridsApi } from '../grids/api';
import { CardView, PublicFrame } from './CardView';

/** /card/:slug — a grid's public contact card, reached from its QR code; no login. */
export default function CardPage() {
  const { t } = useTranslation();
  const { slug = '' } = useParams();
  const card = useApi((signal) => gridsApi.publicCard(slug, signal), [slug]);
  return (
    <PublicFrame>
      {card.data ? (
        <CardView card={card.data} />
      ) : card.error ? (
        <Card>
          <Result status="404" title={t('grids.card.notFound')} subTitle={card.error.message} />
        </Card>
      ) : (
        <Card>
          <Skeleton active />
        </Card>
      )}
      <div style={{ textAlign: 'center', marginTop: 12 }}>
        <Link to="/card">
          <Button type="link">{t('grids.card.back')}</Button>
        </Link>
      </div>
    </PublicFrame>
  );
}
