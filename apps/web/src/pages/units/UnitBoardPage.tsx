import { useEffect, useMemo, useState, type HTMLAttributes } from 'react';
import {
  Alert, App, Button, Card, Drawer, Empty, Input, List, Popconfirm, Select, Space, Switch, Table, Tag, Tooltip, Typography,
} from 'antd';
import { DeleteOutlined, EditOutlined, HistoryOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { useApi, useErrorMessage } from '../../api/hooks';
import type { JurisdictionDetail } from '../../api/types';
import { useSession } from '../../auth/session';
import {
  DUTY_ROLES, INCIDENT_READERS, UNIT_MANAGERS, UNIT_TYPES, formatTime, loadCurrentAssignments, usePolling, type CurrentAssignment, type ShiftView, type UnitView,
} from './api';
import { LiveTag, TypeTag, ageText, nodeNamer, useNode } from './common';
import { UnitForm } from './UnitForm';
import { UnitDetails } from './UnitDetails';

/** The unit board: every unit of the jurisdiction with duty, members, last position and current assignment. */
export default function UnitBoardPage() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const { message } = App.useApp();
  const showError = useErrorMessage();
  const role = session.user.role;
  const canDuty = DUTY_ROLES.includes(role);
  const canManage = UNIT_MANAGERS.includes(role);

  const [units, setUnits] = useState<UnitView[]>();
  const [loadError, setLoadError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  usePolling(
    async (signal) => {
      try {
        const r = await api.get<{ items: UnitView[] }>('/api/units', { signal });
        if (!signal.aborted) {
          setUnits(r.items);
          setLoadError(null);
        }
      } catch (err) {
        if (!signal.aborted) setLoadError(err instanceof Error ? err.message : String(err));
      }
    },
    10_000,
    [tick],
  );
  const reload = () => setTick((n) => n + 1);

  const node = useNode(session.user.nodeId);
  const [extraNames, setExtraNames] = useState<Map<string, string>>(new Map());
  const baseName = useMemo(() => nodeNamer(node.data), [node.data]);
  // Units may sit deeper than the children of the user's node (an administrator above counties): name them too.
  useEffect(() => {
    if (!units || !node.data) return;
    const missing = [...new Set(units.map((u) => u.homeNodeId))].filter((id) => !baseName(id) && !extraNames.has(id)).slice(0, 40);
    if (missing.length === 0) return;
    void Promise.all(
      missing.map((id) => api.get<JurisdictionDetail>(`/api/jurisdictions/${id}`, { query: { childGeometry: false } }).catch(() => null)),
    ).then((found) => {
      setExtraNames((prev) => {
        const next = new Map(prev);
        found.forEach((d, i) => next.set(missing[i]!, d?.name ?? '—'));
        return next;
      });
    });
  }, [units, node.data, baseName, extraNames]);
  const stationName = (id: string) => baseName(id) || extraNames.get(id) || '';

  const assignments = useApi<Map<string, CurrentAssignment>>(
    (signal) => (INCIDENT_READERS.includes(role) ? loadCurrentAssignments(signal).catch(() => new Map()) : Promise.resolve(new Map())),
    [role, tick],
  );

  const [search, setSearch] = useState('');
  const [type, setType] = useState<string>();
  const [duty, setDuty] = useState<'on' | 'off'>();
  const [station, setStation] = useState<string>();
  const [editing, setEditing] = useState<UnitView | 'new' | null>(null);
  const [open, setOpen] = useState<UnitView | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const rows = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (units ?? []).filter(
      (u) =>
        (!type || u.type === type) &&
        (!duty || u.onDuty === (duty === 'on')) &&
        (!station || u.homeNodeId === station) &&
        (!q || u.callSign.toLowerCase().includes(q) || u.name.toLowerCase().includes(q) || u.members.some((m) => m.displayName.toLowerCase().includes(q))),
    );
  }, [units, search, type, duty, station]);

  const stations = useMemo(() => [...new Set((units ?? []).map((u) => u.homeNodeId))], [units]);
  const counts = useMemo(() => {
    const all = units ?? [];
    return {
      total: all.length,
      onDuty: all.filter((u) => u.onDuty).length,
      fresh: all.filter((u) => u.live && !u.live.stale).length,
      stale: all.filter((u) => u.live?.stale).length,
    };
  }, [units]);

  async function toggleDuty(u: UnitView, onDuty: boolean) {
    setBusy(u.id);
    try {
      const r = await api.post<{ onDuty: boolean; dutyChangedAt: string }>(`/api/units/${u.id}/duty`, { onDuty });
      setUnits((prev) => prev?.map((x) => (x.id === u.id ? { ...x, onDuty: r.onDuty, dutyChangedAt: r.dutyChangedAt } : x)));
      void message.success(t(onDuty ? 'units.board.dutyOn' : 'units.board.dutyOff', { callSign: u.callSign }));
      reload();
    } catch (err) {
      showError(err);
    } finally {
      setBusy(null);
    }
  }

  async function retire(u: UnitView) {
    try {
      await api.delete(`/api/units/${u.id}`);
      void message.success(t('units.board.retired', { callSign: u.callSign }));
      reload();
    } catch (err) {
      showError(err);
    }
  }

  const now = Date.now();
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="page-units">
      <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
        <Space align="baseline" wrap>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('units.board.title')}
          </Typography.Title>
          <Typography.Text type="secondary" data-testid="units-counts">
            {t('units.board.counts', counts)}
          </Typography.Text>
        </Space>
        <Space wrap>
          <Link to="/units/live">
            <Button>{t('units.board.openLive')}</Button>
          </Link>
          <Button icon={<ReloadOutlined />} onClick={reload}>
            {t('common.refresh')}
          </Button>
          {canManage ? (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="units-create">
              {t('units.board.create')}
            </Button>
          ) : null}
        </Space>
      </Space>
      {loadError ? <Alert type="error" showIcon message={loadError} /> : null}
      <Card size="small">
        <Space wrap>
          <Input.Search allowClear placeholder={t('units.board.search')} style={{ width: 240 }} onChange={(e) => setSearch(e.target.value)} data-testid="units-search" />
          <Select
            allowClear
            placeholder={t('units.board.type')}
            style={{ width: 140 }}
            value={type}
            onChange={setType}
            options={UNIT_TYPES.map((x) => ({ value: x, label: t(`units.types.${x}`) }))}
            data-testid="units-filter-type"
          />
          <Select
            allowClear
            placeholder={t('units.board.duty')}
            style={{ width: 120 }}
            value={duty}
            onChange={setDuty}
            options={[
              { value: 'on', label: t('units.common.onDuty') },
              { value: 'off', label: t('units.common.offDuty') },
            ]}
            data-testid="units-filter-duty"
          />
          {stations.length > 1 ? (
            <Select
              allowClear
              showSearch
              optionFilterProp="label"
              placeholder={t('units.board.station')}
              style={{ width: 180 }}
              value={station}
              onChange={setStation}
              options={stations.map((id) => ({ value: id, label: stationName(id) || id.slice(0, 8) }))}
            />
          ) : null}
        </Space>
      </Card>
      <Table<UnitView>
        data-testid="units-table"
        rowKey="id"
        size="small"
        loading={!units && !loadError}
        dataSource={rows}
        pagination={{ pageSize: 50, hideOnSinglePage: true, showSizeChanger: false }}
        scroll={{ x: 1100 }}
        onRow={(u) => ({ 'data-callsign': u.callSign }) as HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: t('units.board.callSign'),
            dataIndex: 'callSign',
            fixed: 'left',
            width: 120,
            sorter: (a, b) => a.callSign.localeCompare(b.callSign, 'zh-CN'),
            render: (_, u) => (
              <Button type="link" size="small" style={{ padding: 0 }} onClick={() => setOpen(u)} data-testid="unit-open">
                <strong>{u.callSign}</strong>
              </Button>
            ),
          },
          { title: t('units.board.name'), dataIndex: 'name', width: 140, ellipsis: true },
          { title: t('units.board.type'), dataIndex: 'type', width: 100, render: (v: string) => <TypeTag type={v} t={t} /> },
          { title: t('units.board.station'), dataIndex: 'homeNodeId', width: 110, render: (id: string) => stationName(id) },
          {
            title: t('units.board.duty'),
            dataIndex: 'onDuty',
            width: 170,
            render: (_, u) => (
              <Space size={6} direction="vertical" style={{ rowGap: 0 }}>
                <Space size={6}>
                  {canDuty ? (
                    <Switch
                      size="small"
                      checked={u.onDuty}
                      loading={busy === u.id}
                      onChange={(v) => void toggleDuty(u, v)}
                      data-testid="unit-duty-switch"
                    />
                  ) : null}
                  <Tag color={u.onDuty ? 'blue' : 'default'} data-testid="unit-duty-tag">
                    {u.onDuty ? t('units.common.onDuty') : t('units.common.offDuty')}
                  </Tag>
                </Space>
                {u.dutyChangedAt ? (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {t('units.common.since', { t: formatTime(u.dutyChangedAt) })}
                  </Typography.Text>
                ) : null}
              </Space>
            ),
          },
          {
            title: t('units.board.members'),
            dataIndex: 'members',
            width: 150,
            render: (_, u) =>
              u.type === 'service_station' && u.station ? (
                <Space direction="vertical" size={0}>
                  <span>{u.members.map((m) => m.displayName).join('、') || '—'}</span>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {t('units.board.staffNow')}: {u.station.staffNow}
                  </Typography.Text>
                </Space>
              ) : (
                u.members.map((m) => m.displayName).join('、') || <Typography.Text type="secondary">{t('units.board.noMembers')}</Typography.Text>
              ),
          },
          {
            title: t('units.board.lastSeen'),
            key: 'lastSeen',
            width: 170,
            sorter: (a, b) => (a.live ? Date.parse(a.live.t) : 0) - (b.live ? Date.parse(b.live.t) : 0),
            render: (_, u) => (
              <Space size={6}>
                <LiveTag unit={u} t={t} />
                {u.live ? (
                  <Tooltip title={formatTime(u.live.t)}>
                    <span>{ageText((now - Date.parse(u.live.t)) / 1000, t)}</span>
                  </Tooltip>
                ) : null}
              </Space>
            ),
          },
          {
            title: t('units.board.assignment'),
            key: 'assignment',
            width: 180,
            render: (_, u) => {
              const a = assignments.data?.get(u.id);
              return a ? (
                <Tooltip title={a.number}>
                  <Tag color="volcano" data-testid="unit-assignment" style={{ maxWidth: 168, overflow: 'hidden', textOverflow: 'ellipsis' }}>
                    {i18n.language === 'en' ? a.categoryEn : a.category} · {t(`units.assignment.${a.status}`, { defaultValue: a.status })}
                  </Tag>
                </Tooltip>
              ) : (
                <Typography.Text type="secondary">—</Typography.Text>
              );
            },
          },
          {
            title: t('units.board.actions'),
            key: 'actions',
            width: 150,
            fixed: 'right',
            render: (_, u) => (
              <Space size={0}>
                <Tooltip title={t('units.board.openReplay')}>
                  <Link to={`/units/replay?unit=${u.id}`}>
                    <Button type="text" size="small" icon={<HistoryOutlined />} />
                  </Link>
                </Tooltip>
                {canManage ? (
                  <>
                    <Tooltip title={t('units.common.edit')}>
                      <Button type="text" size="small" icon={<EditOutlined />} onClick={() => setEditing(u)} data-testid="unit-edit" />
                    </Tooltip>
                    <Popconfirm title={t('units.board.retireConfirm', { callSign: u.callSign })} onConfirm={() => void retire(u)}>
                      <Button type="text" size="small" danger icon={<DeleteOutlined />} />
                    </Popconfirm>
                  </>
                ) : null}
              </Space>
            ),
          },
        ]}
      />
      {editing ? (
        <UnitForm
          unit={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(u) => {
            setEditing(null);
            reload();
            if (open?.id === u.id) setOpen(u);
          }}
        />
      ) : null}
      <UnitDrawer unit={open} stationName={stationName} onClose={() => setOpen(null)} assignment={open ? assignments.data?.get(open.id) : undefined} />
    </Space>
  );
}

function UnitDrawer(props: { unit: UnitView | null; stationName: (id: string) => string; onClose: () => void; assignment?: CurrentAssignment }) {
  const { unit, onClose } = props;
  const { t } = useTranslation();
  const session = useSession();
  const showError = useErrorMessage();
  const [ticket, setTicket] = useState<{ ticket: string; expiresAt: string } | null>(null);
  useEffect(() => setTicket(null), [unit?.id]);
  const shifts = useApi<{ items: ShiftView[] } | null>(
    (signal) => (unit ? api.get<{ items: ShiftView[] }>(`/api/units/${unit.id}/shifts`, { query: { limit: 10 }, signal }) : Promise.resolve(null)),
    [unit?.id],
  );
  return (
    <Drawer open={!!unit} onClose={onClose} width={480} title={unit ? `${unit.callSign} · ${unit.name}` : ''} data-testid="unit-drawer">
      {unit ? <UnitDetails unit={unit} stationName={props.stationName} assignment={props.assignment} /> : null}
      {unit ? (
        <Card size="small" title={t('units.board.shifts')} style={{ marginTop: 12 }}>
          <List
            size="small"
            loading={shifts.loading}
            dataSource={shifts.data?.items ?? []}
            locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} /> }}
            renderItem={(s) => (
              <List.Item>
                {formatTime(s.startedAt)} → {s.endedAt ? formatTime(s.endedAt) : <Tag color="blue">{t('units.board.shiftOpen')}</Tag>}
              </List.Item>
            )}
          />
        </Card>
      ) : null}
      {unit && DUTY_ROLES.includes(session.user.role) ? (
        <Card size="small" title={t('units.board.ticket')} style={{ marginTop: 12 }}>
          {ticket ? (
            <Space direction="vertical" style={{ width: '100%' }}>
              <Typography.Paragraph copyable={{ text: ticket.ticket }} ellipsis={{ rows: 2 }} style={{ fontFamily: 'monospace', marginBottom: 0 }}>
                {ticket.ticket}
              </Typography.Paragraph>
              <Typography.Text type="secondary">{t('units.board.ticketUntil', { t: formatTime(ticket.expiresAt) })}</Typography.Text>
            </Space>
          ) : (
            <Button
              onClick={() => {
                api
                  .post<{ ticket: string; expiresAt: string }>(`/api/units/${unit.id}/ticket`)
                  .then(setTicket)
                  .catch(showError);
              }}
            >
              {t('units.board.getTicket')}
            </Button>
          )}
        </Card>
      ) : null}
    </Drawer>
  );
}
