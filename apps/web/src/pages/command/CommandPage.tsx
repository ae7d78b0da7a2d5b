import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Badge, Button, Card, Col, Empty, Input, List, Popover, Row, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { EyeOutlined, QuestionCircleOutlined, SendOutlined, ThunderboltOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { useApi, useErrorMessage } from '../../api/hooks';
import type { JurisdictionDetail } from '../../api/types';
import { useSession } from '../../auth/session';
import { clock, newKey, useIncidentStream, useNow } from '../../realtime/stream';
import {
  CALLER_REVEAL_ROLES, type Call, type Category, type IncidentDetail, type IncidentSummary, type IntakeAnswer, type LivePosition, type PlaceHistoryItem,
  type PositionsMessage, type Recommendation, type StreamMessage, type UnitPick, type UnitView, applyPositions,
} from '../../realtime/types';
import { labelPoint } from '../../map/geo';
import { CommandMap } from './CommandMap';
import { CATEGORY_CODES, STATUS_COLORS, categoryName, defaultPriority, inferCategory, parseCode } from './codes';
import './command.css';

interface SearchHit {
  id: string;
  code: string;
  name: string;
  level: string;
  parentName: string | null;
}

interface Place {
  label: string;
  lon: number;
  lat: number;
}

const ACTIVE = new Set(['dispatched', 'acknowledged', 'en_route', 'on_scene', 'returning']);
/** How often the unit board and positions are read again, as a fallback to the pushes. */
const UNITS_RESYNC_MS = 60_000;

function isTyping(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

/** Seconds left on the most urgent clock of an incident (negative: overdue) and which clock it is. */
export function urgencyOf(i: IncidentSummary, d: IncidentDetail | undefined, now: number): { left: number; kind: string; breached: boolean } {
  if (i.status === 'new') {
    const left = 60 - (now - Date.parse(i.createdAt)) / 1000;
    return { left, kind: 'dispatch', breached: left < 0 };
  }
  const open = (d?.timers ?? []).filter((t) => t.state === 'running' || t.state === 'warning' || t.state === 'breached');
  if (!open.length) return { left: Number.POSITIVE_INFINITY, kind: '', breached: false };
  const first = open.reduce((a, b) => (Date.parse(a.dueAt) <= Date.parse(b.dueAt) ? a : b));
  const left = (Date.parse(first.dueAt) - now) / 1000;
  return { left, kind: first.kind, breached: first.state === 'breached' || left < 0 };
}

function parseCoords(s: string): Place | null {
  const m = /^\s*(-?\d{1,3}\.\d+)\s*[,，\s]\s*(-?\d{1,2}\.\d+)\s*$/.exec(s);
  if (!m) return null;
  return { label: `${m[1]}, ${m[2]}`, lon: Number(m[1]), lat: Number(m[2]) };
}

const REASONS: Record<string, string> = {
  nearest: 'dispatch.reason.nearest',
  'in zone': 'dispatch.reason.inZone',
  'cross-boundary support': 'dispatch.reason.crossBoundary',
  'joint force (联防)': 'dispatch.reason.joint',
};

/** The command screen (指挥室): map, queue, units, detail, keyboard-first intake and dispatch, live. */
export default function CommandPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const session = useSession();
  const { user } = session;
  const showError = useErrorMessage();
  const now = useNow(1000);

  // ---- scope: the user's node, or one station below it
  const home = useApi((signal) => api.get<JurisdictionDetail>(`/api/jurisdictions/${user.nodeId}`, { signal, query: { childGeometry: 'false' } }), [user.nodeId]);
  const [stationFilter, setStationFilter] = useState<string | null>(null);
  const nodeId = stationFilter ?? user.nodeId;
  const stations = (home.data?.children ?? []).filter((c) => c.level === 'station');

  const categories = useApi((signal) => api.get<{ items: Category[] }>('/api/incident-categories', { signal }), []);
  const cats = categories.data?.items ?? [];
  const mapCategoryName = useCallback((code: string) => categoryName(code, categories.data?.items ?? [], lang), [categories.data, lang]);

  // ---- incidents, their details, units
  const [incidents, setIncidents] = useState<IncidentSummary[]>([]);
  const [details, setDetails] = useState<Record<string, IncidentDetail>>({});
  const [units, setUnits] = useState<UnitView[]>([]);
  const [live, setLive] = useState<LivePosition[]>([]);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [recs, setRecs] = useState<Record<string, Recommendation>>({});
  const [drafts, setDrafts] = useState<Record<string, string[]>>({});
  const [history, setHistory] = useState<Record<string, PlaceHistoryItem[]>>({});
  const [dupes, setDupes] = useState<Record<string, IntakeAnswer['possibleDuplicates']>>({});
  const [revealed, setRevealed] = useState<Record<string, Call[]>>({});
  const [busy, setBusy] = useState(false);
  const [help, setHelp] = useState(false);

  const loadIncidents = useCallback(async () => {
    const r = await api.get<{ items: IncidentSummary[] }>('/api/incidents', { query: { state: 'open', nodeId, limit: 200 } });
    setIncidents(r.items);
    return r.items;
  }, [nodeId]);
  const loadDetail = useCallback(async (id: string) => {
    const d = await api.get<IncidentDetail>(`/api/incidents/${id}`);
    setDetails((m) => ({ ...m, [id]: d }));
    return d;
  }, []);
  const loadUnits = useCallback(async () => {
    const [u, l] = await Promise.all([
      api.get<{ items: UnitView[] }>('/api/units', { query: { nodeId } }),
      api.get<{ items: LivePosition[] }>('/api/units/live', { query: { nodeId } }),
    ]);
    setUnits(u.items);
    setLive(l.items);
  }, [nodeId]);

  useEffect(() => {
    void loadIncidents()
      .then((items) => Promise.all(items.slice(0, 80).map((i) => loadDetail(i.id))))
      .catch(showError);
    void loadUnits().catch(() => undefined);
    // Positions are pushed (onPositions below); this slow read only resyncs the board and the map.
    const h = setInterval(() => void loadUnits().catch(() => undefined), UNITS_RESYNC_MS);
    return () => clearInterval(h);
  }, [loadIncidents, loadDetail, loadUnits, showError]);

  // Pushed positions cover the viewer's whole jurisdiction; with a station filter only its units are kept.
  const shownUnits = useRef<Set<string> | null>(null);
  shownUnits.current = stationFilter ? new Set(units.map((u) => u.id)) : null;
  const onPositions = useCallback((m: PositionsMessage) => {
    const keep = shownUnits.current;
    const items = keep ? m.items.filter((p) => keep.has(p.unitId)) : m.items;
    setLive((cur) => applyPositions(cur, { ...m, items }, (p) => p));
  }, []);

  // ---- live: every event refreshes the list and the incident it names
  const refreshList = useRef<ReturnType<typeof setTimeout> | null>(null);
  const onEvent = useCallback(
    (m: StreamMessage) => {
      const data = m.data ?? {};
      if (m.event === 'unit_status' && m.incidentId && typeof data.assignmentId === 'string' && typeof data.status === 'string') {
        // Show the new status at once; the refetch below brings the timers and the log.
        const id = m.incidentId;
        setDetails((cur) => {
          const d = cur[id];
          if (!d) return cur;
          return { ...cur, [id]: { ...d, assignments: d.assignments.map((a) => (a.id === data.assignmentId ? { ...a, status: data.status as typeof a.status } : a)) } };
        });
      }
      if (m.incidentId) void loadDetail(m.incidentId).catch(() => undefined);
      if (refreshList.current) clearTimeout(refreshList.current);
      refreshList.current = setTimeout(() => void loadIncidents().catch(() => undefined), 150);
      if (m.event === 'unit_status' || m.event === 'dispatch' || m.event === 'closed') void loadUnits().catch(() => undefined);
    },
    [loadDetail, loadIncidents, loadUnits],
  );
  const stream = useIncidentStream({
    mode: 'command',
    onEvent,
    // Too far behind for a replay: the list and every open incident's detail are read afresh.
    onResync: () => void loadIncidents().then((items) => Promise.all(items.slice(0, 80).map((i) => loadDetail(i.id)))).catch(() => undefined),
    onLive: () => void loadIncidents().catch(() => undefined),
    onPositions,
  });

  // ---- intake
  const contentRef = useRef<HTMLTextAreaElement | null>(null);
  const panelRef = useRef<HTMLDivElement | null>(null);
  const [content, setContent] = useState('');
  const [address, setAddress] = useState('');
  const [code, setCode] = useState('');
  const [phone, setPhone] = useState('');
  const [priority, setPriority] = useState<number | null>(null);
  const [pick, setPick] = useState<Place | null>(null);
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [hitIndex, setHitIndex] = useState(0);
  const [idemKey, setIdemKey] = useState(newKey);
  const searching = useRef<Promise<SearchHit[]>>(Promise.resolve([]));

  // Caller ID from the phone switch (CTI): `window.dispatchEvent(new CustomEvent('pingan:call', {detail: {callerPhone}}))`.
  useEffect(() => {
    const onCall = (e: Event) => {
      const d = (e as CustomEvent<{ callerPhone?: string }>).detail;
      if (d?.callerPhone) setPhone(String(d.callerPhone));
    };
    window.addEventListener('pingan:call', onCall);
    return () => window.removeEventListener('pingan:call', onCall);
  }, []);

  const coded = parseCode(code, cats);
  const category = coded.category ?? inferCategory(content);
  const prio = coded.priority ?? priority ?? defaultPriority(category);

  useEffect(() => {
    const q = address.trim();
    if (!q || parseCoords(q)) {
      setHits([]);
      searching.current = Promise.resolve([]);
      return;
    }
    const ctrl = new AbortController();
    const p = new Promise<SearchHit[]>((resolve) => {
      const h = setTimeout(() => {
        api
          .get<{ items: SearchHit[] }>('/api/jurisdictions/search', { query: { q, limit: 8 }, signal: ctrl.signal })
          .then((r) => {
            setHits(r.items);
            setHitIndex(0);
            resolve(r.items);
          })
          .catch(() => resolve([]));
      }, 200);
      ctrl.signal.addEventListener('abort', () => {
        clearTimeout(h);
        resolve([]);
      });
    });
    searching.current = p;
    return () => ctrl.abort();
  }, [address]);

  // Possible duplicates before saving: open incidents of the same category within 300 m in the last 30 min.
  const preDupes = useMemo(() => {
    if (!pick || !category) return [];
    const parent = category.split('.')[0];
    return incidents.filter((i) => {
      if (i.lon === null || i.lat === null || (i.category.split('.')[0] !== parent)) return false;
      if (now - Date.parse(i.createdAt) > 30 * 60_000) return false;
      const dx = (i.lon - pick.lon) * 111_320 * Math.cos((pick.lat * Math.PI) / 180);
      const dy = (i.lat - pick.lat) * 110_540;
      return Math.hypot(dx, dy) <= 300;
    });
  }, [pick, category, incidents, now]);

  const resetIntake = () => {
    setContent('');
    setAddress('');
    setCode('');
    setPhone('');
    setPriority(null);
    setPick(null);
    setHits([]);
    setIdemKey(newKey());
  };

  const resolvePlace = async (): Promise<Place | null> => {
    const coords = parseCoords(address);
    if (coords) return coords;
    const found = hits.length ? hits : await searching.current;
    const hit = found[Math.min(hitIndex, found.length - 1)];
    if (!hit) return pick;
    const node = await api.get<JurisdictionDetail>(`/api/jurisdictions/${hit.id}`, { query: { childGeometry: 'false' } });
    const at = labelPoint(node.geometry);
    return at ? { label: hit.name, lon: at[0], lat: at[1] } : pick;
  };

  const recommendFor = useCallback(
    async (id: string) => {
      const r = await api.post<Recommendation>(`/api/incidents/${id}/recommendation`);
      setRecs((m) => ({ ...m, [id]: r }));
      return r;
    },
    [],
  );

  const save = async (mergeIntoFirst = false) => {
    if (busy) return;
    if (content.trim().length < 2) {
      contentRef.current?.focus();
      return;
    }
    if (!category) {
      document.querySelector<HTMLInputElement>('[data-testid="intake-code"]')?.focus();
      return;
    }
    setBusy(true);
    try {
      const place = await resolvePlace();
      const typed = address.trim();
      const body = {
        content: content.trim(),
        category,
        priority: prio,
        source: 'phone_110',
        ...(phone.trim() ? { callerPhone: phone.trim() } : {}),
        ...(place ? { location: { lon: place.lon, lat: place.lat, crs: 'WGS84' } } : {}),
        ...(typed.length >= 2 ? { address: typed === place?.label ? typed : place && !parseCoords(typed) ? `${typed}（${place.label}）` : typed } : place ? { address: place.label } : {}),
      };
      const answer = await api.post<IntakeAnswer>('/api/incidents', body, { headers: { 'idempotency-key': idemKey } });
      resetIntake();
      setHistory((m) => ({ ...m, [answer.id]: answer.placeHistory }));
      setDupes((m) => ({ ...m, [answer.id]: answer.possibleDuplicates }));
      const into = mergeIntoFirst ? (preDupes[0]?.id ?? answer.possibleDuplicates[0]?.id) : undefined;
      if (into) {
        await api.post(`/api/incidents/${answer.id}/merge`, { intoIncidentId: into });
        setSelectedId(into);
      } else {
        setSelectedId(answer.id);
        void loadDetail(answer.id).catch(() => undefined);
        if (!answer.nonPolice) void recommendFor(answer.id).catch(showError);
      }
      void loadIncidents().catch(() => undefined);
      panelRef.current?.focus();
    } catch (err) {
      showError(err);
    } finally {
      setBusy(false);
    }
  };

  const selected = incidents.find((i) => i.id === selectedId) ?? (selectedId ? details[selectedId] : undefined);
  const detail = selectedId ? details[selectedId] : undefined;
  const rec = selectedId ? recs[selectedId] : undefined;
  const draft = selectedId ? (drafts[selectedId] ?? []) : [];

  const acceptRecommendation = () => {
    if (!selectedId || !rec) return;
    setDrafts((m) => ({ ...m, [selectedId]: [...new Set([...(m[selectedId] ?? []), ...rec.picks.map((p) => p.unitId)])] }));
  };
  const addNext = () => {
    if (!selectedId || !rec) return;
    const have = new Set(draft);
    const next = [...rec.picks, ...rec.others.filter((o) => !o.stale), ...rec.others.filter((o) => o.stale)].find((p) => !have.has(p.unitId));
    if (next) setDrafts((m) => ({ ...m, [selectedId]: [...(m[selectedId] ?? []), next.unitId] }));
  };
  const toggleDraft = (unitId: string) => {
    if (!selectedId) return;
    setDrafts((m) => {
      const cur = m[selectedId] ?? [];
      return { ...m, [selectedId]: cur.includes(unitId) ? cur.filter((u) => u !== unitId) : [...cur, unitId] };
    });
  };
  const dispatchKey = useRef<{ id: string; units: string; key: string } | null>(null);
  const dispatchNow = async () => {
    if (!selectedId || draft.length === 0 || busy) return;
    const all = [...(rec?.picks ?? []), ...(rec?.others ?? [])];
    const unitsKey = draft.join(',');
    if (!dispatchKey.current || dispatchKey.current.id !== selectedId || dispatchKey.current.units !== unitsKey) {
      dispatchKey.current = { id: selectedId, units: unitsKey, key: newKey() };
    }
    setBusy(true);
    try {
      await api.post(
        `/api/incidents/${selectedId}/dispatch`,
        { units: draft.map((unitId) => ({ unitId, reason: all.find((p) => p.unitId === unitId)?.reasons.join('; ').slice(0, 200) })) },
        { headers: { 'idempotency-key': dispatchKey.current.key } },
      );
      dispatchKey.current = null;
      setDrafts((m) => ({ ...m, [selectedId]: [] }));
      await loadDetail(selectedId);
      void recommendFor(selectedId).catch(() => undefined);
    } catch (err) {
      showError(err);
    } finally {
      setBusy(false);
    }
  };
  const mergeSelected = async () => {
    if (!selectedId) return;
    const into = dupes[selectedId]?.[0]?.id;
    if (!into) return;
    try {
      await api.post(`/api/incidents/${selectedId}/merge`, { intoIncidentId: into });
      setSelectedId(into);
      void loadIncidents();
    } catch (err) {
      showError(err);
    }
  };

  const queue = useMemo(
    () =>
      incidents
        .map((i) => ({ i, u: urgencyOf(i, details[i.id], now) }))
        .sort((a, b) => Number(b.u.breached) - Number(a.u.breached) || a.u.left - b.u.left || a.i.priority - b.i.priority || a.i.createdAt.localeCompare(b.i.createdAt)),
    [incidents, details, now],
  );

  // ---- keyboard
  const keys = useRef({ save, acceptRecommendation, addNext, dispatchNow, mergeSelected, queue, selectedId, hits, hitIndex });
  keys.current = { save, acceptRecommendation, addNext, dispatchNow, mergeSelected, queue, selectedId, hits, hitIndex };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = keys.current;
      const typing = isTyping(e.target);
      const inIntake = e.target instanceof HTMLElement && !!e.target.closest('[data-intake]');
      if (e.key === 'F2' || (!typing && e.key === '/')) {
        e.preventDefault();
        contentRef.current?.focus();
        return;
      }
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void k.dispatchNow();
        return;
      }
      if (inIntake) {
        if (e.altKey && /^[1-4]$/.test(e.key)) {
          e.preventDefault();
          setPriority(Number(e.key));
          return;
        }
        if (e.altKey && (e.key === 'm' || e.key === 'M' || e.code === 'KeyM')) {
          e.preventDefault();
          void k.save(true);
          return;
        }
        if (e.key === 'Escape') {
          e.preventDefault();
          resetIntake();
          return;
        }
        const isAddress = e.target instanceof HTMLElement && e.target.dataset.testid === 'intake-address';
        if (isAddress && (e.key === 'ArrowDown' || e.key === 'ArrowUp') && k.hits.length) {
          e.preventDefault();
          setHitIndex((n) => (n + (e.key === 'ArrowDown' ? 1 : k.hits.length - 1)) % k.hits.length);
          return;
        }
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          void k.save(false);
        }
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      const move = (d: number) => {
        const idx = k.queue.findIndex((q) => q.i.id === k.selectedId);
        const next = k.queue[Math.max(0, Math.min(k.queue.length - 1, idx + d))];
        if (next) setSelectedId(next.i.id);
      };
      switch (e.key) {
        case 'r':
        case 'R':
          e.preventDefault();
          k.acceptRecommendation();
          break;
        case 'a':
        case 'A':
        case '+':
        case '=':
          e.preventDefault();
          k.addNext();
          break;
        case 'm':
        case 'M':
          e.preventDefault();
          void k.mergeSelected();
          break;
        case 'j':
        case 'ArrowDown':
          e.preventDefault();
          move(1);
          break;
        case 'k':
        case 'ArrowUp':
          e.preventDefault();
          move(-1);
          break;
        case '?':
          setHelp((h) => !h);
          break;
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
  }, []);

  // Recommendation for an incident opened from the queue (not just taken).
  useEffect(() => {
    if (!selectedId || recs[selectedId]) return;
    const s = incidents.find((i) => i.id === selectedId);
    if (s && (s.status === 'new' || s.status === 'dispatched') && s.lon !== null && CATEGORY_CODES[s.category]?.num[0] !== '9') {
      void recommendFor(selectedId).catch(() => undefined);
    }
  }, [selectedId, recs, incidents, recommendFor]);

  const unitBusy = useMemo(() => {
    const m = new Map<string, { status: string; number: string }>();
    for (const d of Object.values(details)) {
      for (const a of d.assignments) if (ACTIVE.has(a.status)) m.set(a.unitId, { status: a.status, number: d.number });
    }
    return m;
  }, [details]);

  const shortcuts: [string, string][] = [
    ['F2 /', t('dispatch.keys.focus')],
    ['Tab', t('dispatch.keys.tab')],
    ['dj · 21 · dj1', t('dispatch.keys.code')],
    ['Alt+1…4', t('dispatch.keys.priority')],
    ['↓ ↑', t('dispatch.keys.address')],
    ['Enter', t('dispatch.keys.save')],
    ['Alt+M · M', t('dispatch.keys.merge')],
    ['R', t('dispatch.keys.accept')],
    ['A', t('dispatch.keys.add')],
    ['Ctrl+Enter', t('dispatch.keys.dispatch')],
    ['J K', t('dispatch.keys.move')],
    ['Esc', t('dispatch.keys.clear')],
  ];

  const unitName = (id: string) => units.find((u) => u.id === id)?.callSign ?? [...(rec?.picks ?? []), ...(rec?.others ?? [])].find((p) => p.unitId === id)?.callSign ?? id.slice(0, 8);
  const reasonText = (r: string) => {
    if (REASONS[r]) return t(REASONS[r]);
    const plan = /^required by plan \((.+)\)$/.exec(r);
    if (plan) return t('dispatch.reason.plan', { type: t(`dispatch.unitType.${plan[1]}`, { defaultValue: plan[1] }) });
    const age = /^position (\d+) min old$/.exec(r);
    if (age) return t('dispatch.reason.stale', { min: age[1] });
    return r;
  };
  const pickRow = (p: UnitPick, picked: boolean) => (
    <List.Item
      key={p.unitId}
      data-testid={`rec-${p.callSign}`}
      actions={[
        <Button key="add" size="small" type={draft.includes(p.unitId) ? 'primary' : 'default'} onClick={() => toggleDraft(p.unitId)}>
          {draft.includes(p.unitId) ? t('dispatch.chosen') : t('dispatch.choose')}
        </Button>,
      ]}
    >
      <Space direction="vertical" size={0}>
        <Space size={6}>
          <Typography.Text strong>{p.callSign}</Typography.Text>
          <Tag>{t(`dispatch.unitType.${p.type}`, { defaultValue: p.type })}</Tag>
          <Typography.Text type="secondary">
            {(p.distanceM / 1000).toFixed(1)} km · ETA {clock(p.etaSeconds)}
          </Typography.Text>
          {picked ? <Tag color="blue">{t('dispatch.recommended')}</Tag> : null}
          {p.stale ? <Tag color="default">{t('dispatch.stale')}</Tag> : null}
        </Space>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {p.reasons.map(reasonText).join(' · ')}
        </Typography.Text>
      </Space>
    </List.Item>
  );

  const calls = selectedId && revealed[selectedId] ? revealed[selectedId] : (detail?.calls ?? []);
  const sortedEvents = [...(detail?.events ?? [])].reverse();

  return (
    <div className="pa-cmd" data-testid="page-command">
      <div className="pa-cmd-top">
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('dispatch.commandTitle')}
        </Typography.Title>
        <Badge status={stream.state === 'live' ? 'success' : stream.state === 'connecting' ? 'processing' : 'error'} text={t(`dispatch.stream.${stream.state}`)} data-testid="stream-state" data-state={stream.state} />
        {stations.length ? (
          <Select
            allowClear
            style={{ minWidth: 200 }}
            placeholder={t('dispatch.allStations')}
            value={stationFilter ?? undefined}
            onChange={(v) => setStationFilter(v ?? null)}
            options={stations.map((s) => ({ value: s.id, label: s.name }))}
            data-testid="station-filter"
          />
        ) : null}
        <div style={{ flex: 1 }} />
        <div className="pa-cmd-keys" data-testid="shortcuts">
          {shortcuts.slice(0, 10).map(([k, label]) => (
            <span key={k}>
              <kbd>{k}</kbd> {label}
            </span>
          ))}
        </div>
        <Popover
          open={help}
          onOpenChange={setHelp}
          trigger="click"
          title={t('dispatch.keys.title')}
          content={
            <table className="pa-cmd-help">
              <tbody>
                {shortcuts.map(([k, label]) => (
                  <tr key={k}>
                    <td>
                      <kbd>{k}</kbd>
                    </td>
                    <td>{label}</td>
                  </tr>
                ))}
                <tr>
                  <td colSpan={2}>
                    <Typography.Text type="secondary">
                      {Object.entries(CATEGORY_CODES)
                        .filter(([c]) => c.includes('.'))
                        .map(([c, v]) => `${v.num}/${v.letters} ${categoryName(c, cats, lang)}`)
                        .join(' · ')}
                    </Typography.Text>
                  </td>
                </tr>
              </tbody>
            </table>
          }
        >
          <Button icon={<QuestionCircleOutlined />} size="small">
            ?
          </Button>
        </Popover>
      </div>

      <Row gutter={10}>
        <Col xs={24} xl={7}>
          <Card size="small" title={t('dispatch.intake')} className="pa-cmd-card" data-intake="1" extra={<Typography.Text type="secondary">F2</Typography.Text>}>
            <Space direction="vertical" style={{ width: '100%' }} size={6}>
              <Input.TextArea
                ref={(el) => {
                  contentRef.current = el?.resizableTextArea?.textArea ?? null;
                }}
                data-testid="intake-content"
                placeholder={t('dispatch.contentPlaceholder')}
                autoSize={{ minRows: 2, maxRows: 4 }}
                value={content}
                onChange={(e) => setContent(e.target.value)}
              />
              <Input
                data-testid="intake-address"
                placeholder={t('dispatch.addressPlaceholder')}
                value={address}
                onChange={(e) => setAddress(e.target.value)}
                suffix={pick && !address ? <Tag color="red">{t('dispatch.mapPoint')}</Tag> : null}
              />
              {hits.length ? (
                <div className="pa-cmd-hits" data-testid="intake-results">
                  {hits.map((h, i) => (
                    <div key={h.id} className={i === hitIndex ? 'on' : ''} onMouseDown={(e) => e.preventDefault()} onClick={() => setHitIndex(i)}>
                      {h.name} <Typography.Text type="secondary">{h.parentName ?? ''} · {t(`levels.${h.level}`, { defaultValue: h.level })}</Typography.Text>
                    </div>
                  ))}
                </div>
              ) : null}
              <Space.Compact style={{ width: '100%' }}>
                <Input data-testid="intake-code" style={{ width: '38%' }} placeholder={t('dispatch.codePlaceholder')} value={code} onChange={(e) => setCode(e.target.value)} />
                <Input data-testid="intake-phone" style={{ width: '62%' }} placeholder={t('dispatch.phonePlaceholder')} value={phone} onChange={(e) => setPhone(e.target.value)} />
              </Space.Compact>
              <Space wrap size={4}>
                <Tag color={category ? 'geekblue' : 'default'} data-testid="intake-category" data-code={category ?? ''}>
                  {category ? `${CATEGORY_CODES[category]?.num ?? ''} ${categoryName(category, cats, lang)}` : t('dispatch.noCategory')}
                </Tag>
                {[1, 2, 3, 4].map((p) => (
                  <Tag.CheckableTag key={p} checked={prio === p} onChange={() => setPriority(p)} data-testid={prio === p ? 'intake-priority' : undefined} data-priority={p}>
                    P{p}
                  </Tag.CheckableTag>
                ))}
                <Button size="small" type="primary" loading={busy} onClick={() => void save(false)} data-testid="intake-save">
                  {t('dispatch.save')} ⏎
                </Button>
              </Space>
              {preDupes.length ? (
                <div className="pa-cmd-dupes" data-testid="pre-duplicates">
                  <Typography.Text type="warning">{t('dispatch.possibleDuplicates')}</Typography.Text>
                  {preDupes.map((d) => (
                    <div key={d.id}>
                      {d.number} · {d.content.slice(0, 30)}
                    </div>
                  ))}
                  <Button size="small" onClick={() => void save(true)}>
                    {t('dispatch.saveAndMerge')} (Alt+M)
                  </Button>
                </div>
              ) : null}
            </Space>
          </Card>

          <Card size="small" title={`${t('dispatch.queue')} (${queue.length})`} className="pa-cmd-card" data-testid="queue">
            <div className="pa-cmd-queue">
              {queue.length === 0 ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('dispatch.noOpen')} /> : null}
              {queue.map(({ i, u }) => (
                <div
                  key={i.id}
                  className={`pa-cmd-qi${i.id === selectedId ? ' on' : ''}${u.breached ? ' late' : ''}`}
                  data-testid="queue-item"
                  data-number={i.number}
                  onClick={() => setSelectedId(i.id)}
                >
                  <div>
                    <Tag color={STATUS_COLORS[i.status]}>{t(`dispatch.status.${i.status}`)}</Tag>
                    <Typography.Text strong>P{i.priority}</Typography.Text> {categoryName(i.category, cats, lang)}
                    <span className="pa-cmd-clock" data-testid="queue-clock">
                      {Number.isFinite(u.left) ? `${t(`dispatch.clock.${u.kind}`)} ${clock(u.left)}` : ''}
                    </span>
                  </div>
                  <div className="pa-cmd-qtext">
                    {i.number.slice(-4)} · {i.address ?? ''} · {i.content}
                  </div>
                </div>
              ))}
            </div>
          </Card>
        </Col>

        <Col xs={24} xl={10}>
          <CommandMap
            nodeId={nodeId}
            incidents={incidents}
            units={live}
            selectedId={selectedId}
            pick={pick ? [pick.lon, pick.lat] : null}
            onSelect={setSelectedId}
            categoryName={mapCategoryName}
            onPick={(p) => {
              setPick({ label: `${p[0]}, ${p[1]}`, lon: p[0], lat: p[1] });
            }}
            height="calc(100vh - 64px - 40px - 300px)"
          />
          <Card size="small" title={`${t('dispatch.units')} (${units.filter((u) => u.onDuty).length}/${units.length})`} className="pa-cmd-card" data-testid="unit-board">
            <div className="pa-cmd-units">
              {units.map((u) => {
                const b = unitBusy.get(u.id);
                const state = !u.onDuty ? 'off' : b ? b.status : 'free';
                return (
                  <Tooltip key={u.id} title={`${u.name}${b ? ` · ${b.number}` : ''}${u.live ? ` · ${u.live.ageSeconds}s` : ''}`}>
                    <span className={`pa-cmd-unit s-${state}`} data-testid={`unit-${u.callSign}`} data-state={state}>
                      {u.callSign}
                      <small>{t(`dispatch.unitState.${state}`)}</small>
                    </span>
                  </Tooltip>
                );
              })}
            </div>
          </Card>
        </Col>

        <Col xs={24} xl={7}>
          <div ref={panelRef} tabIndex={-1} className="pa-cmd-detail" data-testid="incident-detail">
            {!selected ? (
              <Card size="small" className="pa-cmd-card">
                <Empty description={t('dispatch.selectHint')} />
              </Card>
            ) : (
              <>
                <Card
                  size="small"
                  className="pa-cmd-card"
                  title={
                    <Space size={6}>
                      <span data-testid="detail-number">{selected.number}</span>
                      <Tag color={STATUS_COLORS[selected.status]} data-testid="detail-status">
                        {t(`dispatch.status.${selected.status}`)}
                      </Tag>
                      <Tag>P{selected.priority}</Tag>
                    </Space>
                  }
                >
                  <Typography.Paragraph style={{ marginBottom: 4 }}>
                    <Tag color="geekblue">{categoryName(selected.category, cats, lang)}</Tag>
                    {selected.content}
                  </Typography.Paragraph>
                  <Typography.Text type="secondary">{selected.address}</Typography.Text>
                  {dupes[selected.id]?.length ? (
                    <div className="pa-cmd-dupes" data-testid="duplicates">
                      <Typography.Text type="warning">{t('dispatch.possibleDuplicates')} (M)</Typography.Text>
                      {dupes[selected.id]!.map((d) => (
                        <div key={d.id}>
                          {d.number} · {d.distanceM} m · {d.content.slice(0, 24)}
                        </div>
                      ))}
                    </div>
                  ) : null}
                  <div className="pa-cmd-sub">{t('dispatch.callers')}</div>
                  {calls.map((c) => (
                    <div key={c.id} className="pa-cmd-call">
                      <Space size={6} wrap>
                        <span data-testid="caller-phone">{c.callerPhone ?? '—'}</span>
                        <span>{c.callerName ?? ''}</span>
                        <Typography.Text type="secondary">{new Date(c.receivedAt).toLocaleTimeString()}</Typography.Text>
                      </Space>
                      {c.audioUrl ? <audio controls preload="none" src={c.audioUrl} style={{ width: '100%', height: 28 }} data-testid="call-audio" /> : null}
                    </div>
                  ))}
                  {CALLER_REVEAL_ROLES.includes(user.role) && !revealed[selected.id] && calls.length ? (
                    <Button
                      size="small"
                      icon={<EyeOutlined />}
                      data-testid="reveal-caller"
                      onClick={() =>
                        void api
                          .get<IncidentDetail>(`/api/incidents/${selected.id}`, { query: { reveal: 'caller' } })
                          .then((d) => setRevealed((m) => ({ ...m, [selected.id]: d.calls })))
                          .catch(showError)
                      }
                    >
                      {t('dispatch.reveal')}
                    </Button>
                  ) : null}
                  {history[selected.id]?.length ? (
                    <>
                      <div className="pa-cmd-sub">{t('dispatch.placeHistory')}</div>
                      {history[selected.id]!.map((h) => (
                        <div key={h.number} className="pa-cmd-small">
                          {h.createdAt.slice(5, 16).replace('T', ' ')} · {categoryName(h.category, cats, lang)} · {h.content.slice(0, 30)}
                        </div>
                      ))}
                    </>
                  ) : null}
                </Card>

                <Card size="small" className="pa-cmd-card" title={t('dispatch.unitsOnIncident')}>
                  <Table
                    size="small"
                    pagination={false}
                    rowKey="id"
                    dataSource={detail?.assignments ?? []}
                    locale={{ emptyText: t('dispatch.noneSent') }}
                    onRow={(a) => ({ 'data-testid': `asg-${a.callSign ?? a.unitId}`, 'data-status': a.status }) as React.HTMLAttributes<HTMLElement>}
                    columns={[
                      { title: t('dispatch.unit'), dataIndex: 'callSign', key: 'u' },
                      { title: t('dispatch.state'), key: 's', render: (_, a) => <Tag color={ACTIVE.has(a.status) ? 'blue' : 'default'}>{t(`dispatch.astatus.${a.status}`)}</Tag> },
                      {
                        title: t('dispatch.timer'),
                        key: 't',
                        render: (_, a) => {
                          const tm = (detail?.timers ?? []).filter((x) => x.assignmentId === a.id);
                          return tm.map((x) => {
                            const left = (Date.parse(x.dueAt) - now) / 1000;
                            const done = x.state === 'met' || x.state === 'cancelled';
                            const color = x.state === 'met' ? 'green' : x.state === 'breached' || (!done && left < 0) ? 'red' : x.state === 'warning' ? 'orange' : 'default';
                            return (
                              <Tag key={x.id} color={color} data-testid={`timer-${x.kind}`} data-state={x.state}>
                                {t(`dispatch.clock.${x.kind}`)} {done ? (x.state === 'met' ? '✓' : '—') : clock(left)}
                              </Tag>
                            );
                          });
                        },
                      },
                    ]}
                  />
                </Card>

                <Card
                  size="small"
                  className="pa-cmd-card"
                  data-testid="recommendation"
                  title={
                    <Space size={6}>
                      <ThunderboltOutlined />
                      {t('dispatch.recommendation')}
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        R · A · Ctrl+Enter
                      </Typography.Text>
                    </Space>
                  }
                  extra={
                    <Button size="small" onClick={() => selectedId && void recommendFor(selectedId).catch(showError)}>
                      {t('common.refresh')}
                    </Button>
                  }
                >
                  {rec ? (
                    <>
                      <Typography.Text type="secondary" data-testid="rec-plan">
                        {t('dispatch.plan')}: {rec.plan.name}
                      </Typography.Text>
                      {rec.missing.length ? (
                        <div data-testid="rec-missing">
                          {rec.missing.map((m) => (
                            <Tag key={m.unitType} color="red">
                              {t('dispatch.missing', { count: m.count, type: t(`dispatch.unitType.${m.unitType}`, { defaultValue: m.unitType }) })}
                            </Tag>
                          ))}
                        </div>
                      ) : null}
                      <List size="small" dataSource={rec.picks} renderItem={(p) => pickRow(p, true)} data-testid="rec-picks" locale={{ emptyText: t('dispatch.noPick') }} />
                      {rec.others.length ? <div className="pa-cmd-sub">{t('dispatch.others')}</div> : null}
                      <List size="small" dataSource={rec.others.slice(0, 5)} renderItem={(p) => pickRow(p, false)} />
                    </>
                  ) : (
                    <Typography.Text type="secondary">{t('dispatch.noRecommendation')}</Typography.Text>
                  )}
                  <Space style={{ marginTop: 8 }} wrap>
                    <span data-testid="draft" data-count={draft.length}>
                      {draft.map((u) => (
                        <Tag key={u} closable onClose={() => toggleDraft(u)} color="blue" data-testid={`draft-${unitName(u)}`}>
                          {unitName(u)}
                        </Tag>
                      ))}
                    </span>
                    <Button type="primary" danger icon={<SendOutlined />} disabled={!draft.length} loading={busy} onClick={() => void dispatchNow()} data-testid="dispatch-button">
                      {t('dispatch.dispatch')} (Ctrl+Enter)
                    </Button>
                  </Space>
                </Card>

                <Card size="small" className="pa-cmd-card" title={t('dispatch.log')}>
                  <div className="pa-cmd-log" data-testid="event-log">
                    {sortedEvents.map((e) => (
                      <div key={e.seq} data-type={e.type}>
                        <Typography.Text type="secondary">{new Date(e.at).toLocaleTimeString()}</Typography.Text>{' '}
                        {t(`dispatch.event.${e.type}`, { defaultValue: e.type })}
                        {typeof e.data.status === 'string' ? ` · ${t(`dispatch.astatus.${e.data.status}`)}` : ''}
                        {typeof e.data.unitId === 'string' ? ` · ${unitName(e.data.unitId)}` : ''}
                      </div>
                    ))}
                  </div>
                </Card>
              </>
            )}
          </div>
        </Col>
      </Row>
    </div>
  );
}
