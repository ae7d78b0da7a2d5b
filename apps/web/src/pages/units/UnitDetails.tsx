import { Card, Descriptions, Space, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { formatTime, type CurrentAssignment, type UnitView } from './api';
import { LiveTag, TypeTag, functionLabel } from './common';

/** What a unit is, where it is and what it does now (board drawer and live map). */
export function UnitDetails(props: { unit: UnitView; stationName?: (id: string) => string; assignment?: CurrentAssignment; compact?: boolean }) {
  const { unit: u, assignment } = props;
  const { t, i18n } = useTranslation();
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="unit-details">
      <Descriptions size="small" column={1} bordered={!props.compact}>
        {props.compact ? null : <Descriptions.Item label={t('units.board.callSign')}>{u.callSign}</Descriptions.Item>}
        <Descriptions.Item label={t('units.board.type')}>
          <TypeTag type={u.type} t={t} />
        </Descriptions.Item>
        {props.stationName ? <Descriptions.Item label={t('units.board.station')}>{props.stationName(u.homeNodeId)}</Descriptions.Item> : null}
        <Descriptions.Item label={t('units.board.duty')}>
          <Tag color={u.onDuty ? 'blue' : 'default'}>{u.onDuty ? t('units.common.onDuty') : t('units.common.offDuty')}</Tag>
          {u.dutyChangedAt ? t('units.common.since', { t: formatTime(u.dutyChangedAt) }) : null}
        </Descriptions.Item>
        <Descriptions.Item label={t('units.board.members')}>{u.members.map((m) => m.displayName).join('、') || '—'}</Descriptions.Item>
        <Descriptions.Item label={t('units.board.lastSeen')}>
          <Space size={6}>
            <LiveTag unit={u} t={t} />
            {u.live ? formatTime(u.live.t) : null}
          </Space>
        </Descriptions.Item>
        {u.live ? (
          <Descriptions.Item label={t('units.live.speed')}>
            {u.live.speed !== null ? `${Math.round(u.live.speed * 3.6)} km/h` : '—'}
            {u.live.accuracy !== null ? ` · ±${Math.round(u.live.accuracy)} m` : ''}
          </Descriptions.Item>
        ) : null}
        <Descriptions.Item label={t('units.board.assignment')}>{assignment ? `${assignment.number} · ${i18n.language === 'en' ? assignment.categoryEn : assignment.category} · ${t(`units.assignment.${assignment.status}`, { defaultValue: assignment.status })}` : '—'}</Descriptions.Item>
        {u.notes ? <Descriptions.Item label={t('units.board.notes')}>{u.notes}</Descriptions.Item> : null}
      </Descriptions>
      {u.station ? (
        <Card size="small" title={t('units.board.stationSection')} data-testid="station-details">
          <Descriptions size="small" column={1}>
            <Descriptions.Item label={t('units.board.address')}>{u.station.address ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('units.board.phone')}>{u.station.phone ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('units.board.functions')}>
              <Space size={[4, 4]} wrap>
                {u.station.functions.map((f) => (
                  <Tag key={f}>{functionLabel(f, t)}</Tag>
                ))}
              </Space>
            </Descriptions.Item>
            <Descriptions.Item label={t('units.board.staffing')}>
              <Space direction="vertical" size={0}>
                {u.station.staffing.map((s, i) => (
                  <span key={i}>
                    {s.from}–{s.to}: {s.staff}
                  </span>
                ))}
              </Space>
            </Descriptions.Item>
            <Descriptions.Item label={t('units.board.staffNow')}>
              <Tag color="purple">{u.station.staffNow}</Tag>
            </Descriptions.Item>
          </Descriptions>
        </Card>
      ) : null}
    </Space>
  );
}
