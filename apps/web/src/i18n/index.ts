import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { zhCN } from './zh-CN';
import { en } from './en';
import { dispatchEn, dispatchZh } from './dispatch';

export const languages = ['zh-CN', 'en'] as const;
export type Language = (typeof languages)[number];
export const LANGUAGE_KEY = 'pingan.lang';

function storedLanguage(): Language {
  try {
    const v = localStorage.getItem(LANGUAGE_KEY);
    if (v === 'en' || v === 'zh-CN') return v;
  } catch {
    // storage may be unavailable (private mode): use the default
  }
  return 'zh-CN';
}

void i18n.use(initReactI18next).init({
  resources: {
    'zh-CN': { translation: { ...zhCN, ...dispatchZh, nav: { ...zhCN.nav, ...dispatchZh.nav } } },
    en: { translation: { ...en, ...dispatchEn, nav: { ...en.nav, ...dispatchEn.nav } } },
  },
  lng: storedLanguage(),
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
  returnNull: false,
});

export function currentLanguage(): Language {
  return i18n.language === 'en' ? 'en' : 'zh-CN';
}

export async function setLanguage(lang: Language): Promise<void> {
  try {
    localStorage.setItem(LANGUAGE_KEY, lang);
  } catch {
    // not persisted; still switch for this page
  }
  document.documentElement.lang = lang;
  await i18n.changeLanguage(lang);
}

document.documentElement.lang = storedLanguage();

export default i18n;
