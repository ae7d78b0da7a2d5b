import { Segmented } from 'antd';
import { useTranslation } from 'react-i18next';
import { currentLanguage, setLanguage, type Language } from '../i18n';

/** 中文 / EN; the choice is kept in localStorage. */
export function LanguageSwitch({ dark = false }: { dark?: boolean }) {
  const { t, i18n } = useTranslation();
  const value: Language = i18n.language === 'en' ? 'en' : currentLanguage();
  return (
    <Segmented<Language>
      data-testid="lang-switch"
      aria-label={t('header.language')}
      size="small"
      value={value}
      style={dark ? { background: '#dbe4f3' } : undefined}
      options={[
        { label: '中文', value: 'zh-CN' },
        { label: 'EN', value: 'en' },
      ]}
      onChange={(v) => void setLanguage(v)}
    />
  );
}
