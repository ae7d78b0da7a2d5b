/** Small pieces the units pages share: labels, age text, status tags. */
import { Tag } from 'antd';
import type { TFunction } from 'i18next';
import { api } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { JurisdictionDetail } from '../../api/types';
import { typeColors, type UnitView } from './api';

export function typeLabel(type: string, t: TFunction): string {
  return t(`units.types.${type}`, { defaultValue: type });
}

export function functionLabel(fn: string, t: TFunction): string {
  return t(`units.functions.${fn}`, { defaultValue: fn });
}

export function ageText(seconds: number, t: TFunction): string {
  if (seconds < 90) return t('units.common.secondsAgo', { n: Math.max(0, Math.round(seconds)) });
  if (seconds < 5400) return t('units.common.minutesAgo', { n: Math.round(seconds / 60) });
  return t('units.common.hoursAgo', { n: Math.round(seconds / 3600) });
}

export function TypeTag({ type, t }: { type: string; t: TFunction }) {
  return (
    <Tag color={typeColors[type] ?? 'default'} style={{ marginInlineEnd: 0 }}>
      {typeLabel(type, t)}
    </Tag>
  );
}

/** Online / stale / no position, from the unit's live view. */
export function LiveTag({ unit, t }: { unit: Pick<UnitView, 'live' | 'onDuty'>; t: TFunction }) {
  if (!unit.live) return <Tag>{t('units.common.noPosition')}</Tag>;
  return unit.live.stale ? (
    <Tag color="default" data-testid="stale-tag">
      {t('units.common.stale')}
    </Tag>
  ) : (
    <Tag color="green">{t('units.common.fresh')}</Tag>
  );
}

/** The node and its children (grids or stations) with polygons. */
export function useNode(nodeId: string) {
  return useApi((signal) => api.get<JurisdictionDetail>(`/api/jurisdictions/${nodeId}`, { signal }), [nodeId]);
}

/** Units of a node (default: the user's jurisdiction). */
export function useUnits(nodeId?: string) {
  return useApi((signal) => api.get<{ items: UnitView[] }>('/api/units', { query: { nodeId }, signal }), [nodeId]);
}

/** Name of a node id among a node and its children (units sit on stations, grids or the node itself). */
export function nodeNamer(node: JurisdictionDetail | undefined): (id: string) => string {
  const names = new Map<string, string>();
  if (node) {
    names.set(node.id, node.name);
    for (const c of node.children) names.set(c.id, c.name);
  }
  return (id) => names.get(id) ?? '';
}
