import { Button, Result } from 'antd';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';

export function ForbiddenPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <Result
      status="403"
      title={<span data-testid="page-403">403 · {t('errors.forbiddenTitle')}</span>}
      subTitle={t('errors.forbidden')}
      extra={
        <Button type="primary" onClick={() => navigate('/', { replace: true })}>
          {t('common.goHome')}
        </Button>
      }
    />
  );
}

export function NotFoundPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <Result
      status="404"
      title={<span data-testid="page-404">404 · {t('errors.notFoundTitle')}</span>}
      subTitle={t('errors.notFound')}
      extra={
        <Button type="primary" onClick={() => navigate('/', { replace: true })}>
          {t('common.goHome')}
        </Button>
      }
    />
  );
}
