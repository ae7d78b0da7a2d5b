import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Badge, Button, Empty, Segmented, Space, Switch, Tag, Typography } from 'antd';
import { AimOutlined, EnvironmentOutlined, LogoutOutlined, PhoneOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../../api/client';
import { useErrorMessage } from '../../api/hooks';
import { useSession, useSessionApi } from '../../auth/session';
import { LanguageSwitch } from '../../shell/LanguageSwitch';
import { newKey, useIncidentStream, useSoloPage } from '../../realtime/stream';
import type { Briefing, StreamMessage, UnitView } from '../../realtime/types';
import { Outbox, type OutboxItem } from './outbox';
import './terminal.css';

/** The steps a unit moves through, one tap each. */
const STEPS = ['dispatched', 'acknowledged', 'en_route', 'on_scene', 'returning', 'cleared'] as const;
const FINISHED = new Set(['cleared', 'cancelled', 'unavailable']);

interface Task {
  assignmentId: string;
  unitId: string;
  incidentId: string;
  number: string;
  dispatchedAt: string;
  /** Last status the server confirmed. */
  status: string;
  /** Status tapped here and not yet confirmed (queued or in flight). */
  localStatus: string | null;
  briefing: Briefing | null;
  instructions: string[];
  closed: boolean;
}

const rank = (s: string | null) => (s ? STEPS.indexOf(s as (typeof STEPS)[number]) : -1);
const shown = (t: Task) => (FINISHED.has(t.status) ? t.status : rank(t.localStatus) > rank(t.status) ? t.localStatus! : t.status);
const nextStep = (s: string) => (FINISHED.has(s) ? null : (STEPS[rank(s) + 1] ?? null));

function load<T>(key: string, fallback: T): T {
  try {
    const v = localStorage.getItem(key);
    return v ? (JSON.parse(v) as T) : fallback;
  } catch {
    return fallback;
  }
}

let audio: AudioContext | null = null;
/** Unlock the audio on a tap (browsers allow sound only after a gesture). */
function unlockAudio() {
  try {
    audio ??= new AudioContext();
    if (audio.state === 'suspended') void audio.resume();
  } catch {
    audio = null;
  }
}
/** Three short beeps (WebAudio, no file to download) and a vibration. */
function alarm() {
  try {
    audio ??= new AudioContext();
    const ctx = audio;
    for (let i = 0; i < 3; i++) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      osc.type = 'square';
      gain.gain.value = 0.15;
      osc.connect(gain).connect(ctx.destination);
      const at = ctx.currentTime + i * 0.3;
      osc.start(at);
      osc.stop(at + 0.18);
    }
  } catch {
    // no audio device
  }
  navigator.vibrate?.([200, 100, 200, 100, 200]);
}

/** Installable: the manifest and the service worker (network-first for the app shell). */
function useInstallable() {
  useEffect(() => {
    if (!document.querySelector('link[rel="manifest"]')) {
      const link = document.createElement('link');
      link.rel = 'manifest';
      link.href = '/manifest.webmanifest';
      document.head.appendChild(link);
    }
    if (!document.querySelector('meta[name="theme-color"]')) {
      const meta = document.createElement('meta');
      meta.name = 'theme-color';
      meta.content = '#0b2a5b';
      document.head.appendChild(meta);
    }
    if ('serviceWorker' in navigator && location.protocol !== 'file:') {
      void navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
    }
  }, []);
}

/** The officer terminal (单警终端): duty, position, dispatches with everything needed, one tap per step, offline queue. */
export default function TerminalPage() {
  const { t } = useTranslation();
  const { user } = useSession();
  const { logout } = useSessionApi();
  const navigate = useNavigate();
  const showError = useErrorMessage();
  useInstallable();
  useSoloPage();

  const prefix = `pingan.terminal.${user.id}`;
  const outbox = useMemo(() => new Outbox(`${prefix}.outbox`), [prefix]);
  const [tasks, setTasks] = useState<Record<string, Task>>(() => load(`${prefix}.tasks`, {}));
  const [unitIds, setUnitIds] = useState<string[]>(() => load(`${prefix}.units`, []));
  const [units, setUnits] = useState<Record<string, UnitView>>({});
  const [pending, setPending] = useState<OutboxItem[]>(() => outbox.items());
  const [online, setOnline] = useState(navigator.onLine);
  const [sharing, setSharing] = useState<boolean>(() => load(`${prefix}.sharing`, false));
  const [lastFix, setLastFix] = useState<{ lon: number; lat: number; accuracy: number | null; at: number } | null>(null);
  const [geoError, setGeoError] = useState<string | null>(null);
  const [view, setView] = useState<'open' | 'history'>('open');
  const [beeps, setBeeps] = useState(0);
  const [flash, setFlash] = useState<string | null>(null);
  const unit = unitIds[0] ? units[unitIds[0]] : undefined;

  useEffect(() => localStorage.setItem(`${prefix}.tasks`, JSON.stringify(tasks)), [tasks, prefix]);
  useEffect(() => localStorage.setItem(`${prefix}.units`, JSON.stringify(unitIds)), [unitIds, prefix]);
  useEffect(() => localStorage.setItem(`${prefix}.sharing`, JSON.stringify(sharing)), [sharing, prefix]);
  useEffect(() => outbox.subscribe(() => setPending(outbox.items())), [outbox]);

  const flush = useCallback(() => {
    void outbox.flush((item, ok) => {
      if (!ok) {
        // Refused (already there, or no longer allowed): fall back to what the server says.
        setTasks((m) => {
          const task = m[item.assignmentId];
          return task && task.localStatus === item.status ? { ...m, [item.assignmentId]: { ...task, localStatus: null } } : m;
        });
      }
    });
  }, [outbox]);

  useEffect(() => {
    const up = () => {
      setOnline(true);
      flush();
    };
    const down = () => setOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    const h = setInterval(flush, 3000);
    flush();
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
      clearInterval(h);
    };
  }, [flush]);

  const loadUnits = useCallback(
    async (ids: string[]) => {
      const found = await Promise.all(ids.map((id) => api.get<UnitView>(`/api/units/${id}`).catch(() => null)));
      setUnits(Object.fromEntries(found.filter((u): u is UnitView => !!u).map((u) => [u.id, u])));
    },
    [],
  );
  useEffect(() => {
    if (unitIds.length) void loadUnits(unitIds);
  }, [unitIds, loadUnits]);

  const onEvent = useCallback(
    (m: StreamMessage) => {
      const data = m.data ?? {};
      if (m.event === 'dispatch') {
        const mine = ((data.assignments as { assignmentId: string; unitId: string }[] | undefined) ?? []).filter((a) => unitIds.length === 0 || unitIds.includes(a.unitId));
        if (!mine.length) return;
        const fresh = Date.now() - Date.parse(m.at ?? '') < 120_000;
        setTasks((cur) => {
          const next = { ...cur };
          for (const a of mine) {
            if (next[a.assignmentId]) continue;
            next[a.assignmentId] = {
              assignmentId: a.assignmentId,
              unitId: a.unitId,
              incidentId: m.incidentId!,
              number: m.briefing?.incident.number ?? '',
              dispatchedAt: m.at ?? new Date().toISOString(),
              status: 'dispatched',
              localStatus: null,
              briefing: m.briefing ?? null,
              instructions: [],
              closed: false,
            };
          }
          return next;
        });
        if (fresh) {
          alarm();
          setBeeps((n) => n + 1);
          setFlash(m.incidentId ?? null);
          setView('open');
        }
      } else if (m.event === 'unit_status') {
        const id = data.assignmentId as string;
        const status = data.status as string;
        setTasks((cur) => {
          const task = cur[id];
          if (!task) return cur;
          const confirmed = rank(status) >= rank(task.status) || FINISHED.has(status) ? status : task.status;
          return { ...cur, [id]: { ...task, status: confirmed, localStatus: task.localStatus && rank(task.localStatus) <= rank(confirmed) ? null : task.localStatus } };
        });
      } else if (m.event === 'closed' || m.event === 'merged') {
        setTasks((cur) => {
          const next = { ...cur };
          for (const task of Object.values(next)) if (task.incidentId === m.incidentId) next[task.assignmentId] = { ...task, closed: true };
          return next;
        });
      } else if (m.event === 'instruction' && typeof data.text === 'string') {
        setTasks((cur) => {
          const next = { ...cur };
          for (const task of Object.values(next)) if (task.incidentId === m.incidentId) next[task.assignmentId] = { ...task, instructions: [...task.instructions, data.text as string] };
          return next;
        });
      }
    },
    [unitIds],
  );
  // Too far behind for a replay: the server's open tasks replace ours; any other task of ours has ended.
  const onResync = useCallback((m: StreamMessage) => {
    const open = m.snapshot?.tasks ?? [];
    setTasks((cur) => {
      const next: Record<string, Task> = {};
      for (const task of Object.values(cur)) next[task.assignmentId] = open.some((o) => o.assignmentId === task.assignmentId) ? task : { ...task, closed: true };
      for (const o of open) {
        const had = cur[o.assignmentId];
        next[o.assignmentId] = {
          assignmentId: o.assignmentId,
          unitId: o.unitId,
          incidentId: o.incidentId,
          number: o.briefing?.incident.number ?? had?.number ?? '',
          dispatchedAt: o.dispatchedAt,
          status: o.status,
          localStatus: had?.localStatus && rank(had.localStatus) > rank(o.status) ? had.localStatus : null,
          briefing: o.briefing ?? had?.briefing ?? null,
          instructions: o.instructions,
          closed: false,
        };
      }
      return next;
    });
  }, []);
  const stream = useIncidentStream({
    mode: 'terminal',
    storageKey: `${prefix}.seq`,
    initialSince: 0,
    onEvent,
    onResync,
    onHello: (m) => {
      if (m.units && m.units.join() !== unitIds.join()) setUnitIds(m.units);
    },
    onLive: flush,
  });

  // ---- position
  const lastSent = useRef(0);
  useEffect(() => {
    if (!sharing || !unitIds[0] || !('geolocation' in navigator)) return;
    const unitId = unitIds[0];
    const id = navigator.geolocation.watchPosition(
      (p) => {
        setGeoError(null);
        const fix = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy ?? null, at: p.timestamp || Date.now() };
        setLastFix(fix);
        if (Date.now() - lastSent.current < 5000) return;
        lastSent.current = Date.now();
        outbox.push({
          id: newKey(),
          kind: 'position',
          unitId,
          t: new Date(fix.at).toISOString(),
          lon: fix.lon,
          lat: fix.lat,
          accuracy: fix.accuracy,
          speed: p.coords.speed ?? null,
          heading: Number.isFinite(p.coords.heading) ? p.coords.heading : null,
        });
        flush();
      },
      (err) => setGeoError(err.message || t('terminal.geoError')),
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 20_000 },
    );
    return () => navigator.geolocation.clearWatch(id);
  }, [sharing, unitIds, outbox, flush, t]);

  const [dutyLocal, setDutyLocal] = useState<boolean | null>(null);
  const onDuty = unit ? unit.onDuty : !!dutyLocal;
  const setDuty = async (value: boolean) => {
    unlockAudio();
    const unitId = unitIds[0];
    if (!unitId) return;
    try {
      await api.post(`/api/units/${unitId}/duty`, { onDuty: value });
      setDutyLocal(value);
      if (!value) setSharing(false);
      await loadUnits(unitIds);
    } catch (err) {
      showError(err);
    }
  };

  const step = (task: Task) => {
    unlockAudio();
    const next = nextStep(shown(task));
    if (!next) return;
    setTasks((m) => ({ ...m, [task.assignmentId]: { ...task, localStatus: next } }));
    outbox.push({
      id: newKey(),
      kind: 'status',
      assignmentId: task.assignmentId,
      status: next,
      ...(lastFix && Date.now() - lastFix.at < 120_000 ? { lon: lastFix.lon, lat: lastFix.lat } : {}),
      at: new Date().toISOString(),
    });
    flush();
  };

  const list = Object.values(tasks).sort((a, b) => b.dispatchedAt.localeCompare(a.dispatchedAt));
  const open = list.filter((x) => !x.closed && !FINISHED.has(shown(x)));
  const done = list.filter((x) => x.closed || FINISHED.has(shown(x)));
  const statusQueued = pending.filter((p) => p.kind === 'status').length;
  const positionsQueued = pending.length - statusQueued;

  return (
    <div className="pa-term" data-testid="page-terminal" data-beeps={beeps}>
      <header className="pa-term-head">
        <div>
          <div className="pa-term-title">{t('terminal.title')}</div>
          <div className="pa-term-sub">
            {user.displayName} · {unit ? unit.callSign : unitIds[0] ? t('terminal.title') : t('terminal.noUnit')}
          </div>
        </div>
        <Space size={6}>
          <LanguageSwitch dark />
          <Button
            size="small"
            icon={<LogoutOutlined />}
            aria-label={t('header.logout')}
            onClick={() => void logout().then(() => navigate('/login', { replace: true }))}
          />
        </Space>
      </header>

      <div className="pa-term-bar">
        <Badge
          status={!online ? 'error' : stream.state === 'live' ? 'success' : 'processing'}
          text={!online ? t('terminal.offline') : t(`dispatch.stream.${stream.state}`)}
          data-testid="terminal-conn"
          data-state={!online ? 'offline' : stream.state}
        />
        <span data-testid="outbox" data-count={pending.length} data-status-count={statusQueued}>
          {pending.length ? t('terminal.queued', { status: statusQueued, positions: positionsQueued }) : t('terminal.synced')}
        </span>
      </div>

      {stream.state === 'denied' ? <Alert type="warning" showIcon message={t('terminal.notMember')} style={{ margin: 8 }} /> : null}

      <section className="pa-term-duty">
        <div>
          <span>{t('terminal.onDuty')}</span>
          <Switch checked={onDuty} disabled={!unitIds[0]} onChange={(v) => void setDuty(v)} data-testid="duty-switch" />
        </div>
        <div>
          <span>
            <AimOutlined /> {t('terminal.sharePosition')}
          </span>
          <Switch
            checked={sharing}
            disabled={!onDuty}
            onChange={(v) => {
              unlockAudio();
              setSharing(v);
            }}
            data-testid="share-switch"
          />
        </div>
        {sharing && lastFix ? (
          <div className="pa-term-fix" data-testid="last-fix">
            {lastFix.lon.toFixed(5)}, {lastFix.lat.toFixed(5)} ±{Math.round(lastFix.accuracy ?? 0)} m
          </div>
        ) : null}
        {geoError ? <Typography.Text type="danger">{geoError}</Typography.Text> : null}
      </section>

      <Segmented
        block
        value={view}
        onChange={(v) => setView(v as 'open' | 'history')}
        options={[
          { value: 'open', label: `${t('terminal.openTasks')} (${open.length})` },
          { value: 'history', label: `${t('terminal.history')} (${done.length})` },
        ]}
        style={{ margin: '8px 8px 0' }}
      />

      <main className="pa-term-list">
        {(view === 'open' ? open : done).length === 0 ? <Empty description={view === 'open' ? t('terminal.noTasks') : t('terminal.noHistory')} /> : null}
        {(view === 'open' ? open : done).map((task) => {
          const b = task.briefing;
          const status = shown(task);
          const next = task.closed ? null : nextStep(status);
          const inc = b?.incident;
          return (
            <article key={task.assignmentId} className={`pa-term-task${flash === task.incidentId ? ' flash' : ''}`} data-testid="task" data-number={task.number} data-status={status}>
              <div className="pa-term-task-head">
                <Tag color="red">P{inc?.priority ?? '?'}</Tag>
                <strong>{task.number}</strong>
                <Tag color={task.localStatus && task.localStatus !== task.status ? 'orange' : 'blue'} data-testid="task-status">
                  {t(`dispatch.astatus.${status}`)}
                  {task.localStatus && task.localStatus !== task.status ? ` · ${t('terminal.pending')}` : ''}
                </Tag>
              </div>
              <p className="pa-term-content" data-testid="task-content">
                {inc?.content}
              </p>
              {inc?.address ? <div className="pa-term-line">{inc.address}</div> : null}
              {b?.calls.map((c) => (
                <div key={c.id} className="pa-term-call">
                  {c.callerPhone ? (
                    <a href={`tel:${c.callerPhone}`} data-testid="caller-tel">
                      <PhoneOutlined /> {c.callerPhone}
                    </a>
                  ) : (
                    <span>—</span>
                  )}
                  {c.callerName ? <span> {c.callerName}</span> : null}
                  {c.audioUrl ? <audio controls preload="none" src={c.audioUrl} data-testid="task-audio" /> : null}
                </div>
              ))}
              {inc?.lon != null && inc.lat != null ? (
                <a className="pa-term-line" href={`geo:${inc.lat},${inc.lon}?q=${inc.lat},${inc.lon}`} data-testid="task-location">
                  <EnvironmentOutlined /> {inc.lon.toFixed(5)}, {inc.lat.toFixed(5)} · {t('terminal.openMap')}
                </a>
              ) : null}
              {b?.placeHistory.length ? (
                <div className="pa-term-line">
                  {t('dispatch.placeHistory')}: {b.placeHistory.slice(0, 3).map((h) => h.content.slice(0, 16)).join('；')}
                </div>
              ) : null}
              {task.instructions.map((x, i) => (
                <Alert key={i} type="info" showIcon message={x} style={{ marginTop: 4 }} />
              ))}
              {next ? (
                <Button type="primary" size="large" block className="pa-term-step" data-testid="task-step" data-next={next} onClick={() => step(task)}>
                  {t(`terminal.step.${next}`)}
                </Button>
              ) : null}
            </article>
          );
        })}
      </main>
    </div>
  );
}
