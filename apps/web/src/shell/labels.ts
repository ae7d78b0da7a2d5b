import { roleLabels, type Role } from '@pingan/contracts';
import type { TFunction } from 'i18next';

export function roleLabel(role: Role, language: string): string {
  const l = roleLabels[role];
  return language === 'en' ? l.en : l.zh;
}

export function levelLabel(level: string, t: TFunction): string {
  if (!level) return '';
  return t(`levels.${level}`, { defaultValue: level });
}
