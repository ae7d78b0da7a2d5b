import { Spin } from 'antd';
import { useTranslation } from 'react-i18next';

export function Loading() {
  const { t } = useTranslation();
  return (
    <div style={{ padding: 48, textAlign: 'center' }} data-testid="loading">
      <Spin tip={t('common.loading')}>
        <div style={{ minHeight: 48 }} />
      </Spin>
    </div>
  );
}
