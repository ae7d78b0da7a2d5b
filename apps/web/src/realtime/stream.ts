import { useEffect, useRef, useState } from 'react';
import type { PositionsMessage, StreamMessage } from './types';

export type StreamState = 'connecting' | 'live' | 'offline' | 'denied';

export interface StreamOptions {
  mode: 'command' | 'terminal';
  /** Where the last seen seq is kept between page loads (resume without gaps); none: in memory only. */
  storageKey?: string;
  /** Seq to start from when nothing is stored (null: only what happens from now on). */
  initialSince?: number | null;
  onEvent: (m: StreamMessage) => void;
  /** Called on every (re)connection once the replay is done. */
  onLive?: (seq: number) => void;
  /**
   * The server could not replay what was missed (too far behind, or a seq it does not know): rebuild
   * from the snapshot it sends (open incidents, or the units' tasks); events continue after it.
   */
  onResync?: (m: StreamMessage) => void;
  /** The server's greeting (terminal mode names the units it streams). */
  onHello?: (m: StreamMessage) => void;
  /** Command screens: live unit positions of the jurisdiction, pushed (a snapshot on every connection). */
  onPositions?: (m: PositionsMessage) => void;
  enabled?: boolean;
}

function wsUrl(mode: string, since: number | null): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = new URLSearchParams({ mode });
  if (since !== null) q.set('since', String(since));
  return `${proto}//${location.host}/api/ws?${q.toString()}`;
}

/**
 * The incident stream of /api/ws with the session cookie: reconnects with backoff and resumes with
 * `since=<last seq>` so nothing is missed across a dropped connection (the server replays the gap, or,
 * when too far behind, sends a snapshot to rebuild from).
 */
export function useIncidentStream(opts: StreamOptions): { state: StreamState; lastSeq: number | null } {
  const [state, setState] = useState<StreamState>('connecting');
  const [lastSeq, setLastSeq] = useState<number | null>(null);
  const ref = useRef(opts);
  ref.current = opts;
  const enabled = opts.enabled ?? true;

  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let socket: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let attempt = 0;
    const key = ref.current.storageKey;
    let seq: number | null = (() => {
      if (key) {
        const v = Number(localStorage.getItem(key));
        if (localStorage.getItem(key) !== null && Number.isFinite(v)) return v;
      }
      return ref.current.initialSince ?? null;
    })();
    const remember = (s: number) => {
      seq = s;
      if (key) localStorage.setItem(key, String(s));
      setLastSeq(s);
    };

    const open = () => {
      if (stopped) return;
      setState('connecting');
      const ws = new WebSocket(wsUrl(ref.current.mode, seq));
      socket = ws;
      ws.onmessage = (raw) => {
        let m: StreamMessage;
        try {
          m = JSON.parse(String(raw.data)) as StreamMessage;
        } catch {
          return;
        }
        if (m.type === 'event' && typeof m.seq === 'number') {
          if (seq !== null && m.seq <= seq) return;
          ref.current.onEvent(m);
          remember(m.seq);
        } else if (m.type === 'resync' && typeof m.seq === 'number') {
          remember(m.seq);
          ref.current.onResync?.(m);
        } else if (m.type === 'positions') {
          ref.current.onPositions?.(m as unknown as PositionsMessage);
        } else if (m.type === 'hello') {
          ref.current.onHello?.(m);
        } else if (m.type === 'live') {
          attempt = 0;
          if (seq === null && typeof m.seq === 'number') remember(m.seq);
          setState('live');
          ref.current.onLive?.(seq ?? 0);
        }
      };
      ws.onclose = (ev) => {
        if (socket !== ws) return;
        socket = null;
        if (stopped) return;
        if (ev.code === 4403) {
          // Not a member of any unit / no command screen for this role: retrying will not help.
          setState('denied');
          return;
        }
        setState('offline');
        const delay = Math.min(10_000, 500 * 2 ** attempt++);
        retry = setTimeout(open, delay);
      };
      ws.onerror = () => ws.close();
    };
    open();
    const wake = () => {
      // Coming back online: reconnect at once instead of waiting for the backoff.
      if (!socket && !stopped) {
        if (retry) clearTimeout(retry);
        attempt = 0;
        open();
      }
    };
    window.addEventListener('online', wake);
    return () => {
      stopped = true;
      window.removeEventListener('online', wake);
      if (retry) clearTimeout(retry);
      socket?.close();
      socket = null;
    };
  }, [enabled]);

  return { state, lastSeq };
}

/** Ticks every `ms` so countdowns re-render. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(h);
  }, [ms]);
  return now;
}

/** "m:ss" of a number of seconds; negative → "-m:ss". */
export function clock(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  return `${seconds < 0 ? '-' : ''}${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function newKey(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

/**
 * A page that takes the whole screen (terminal, big screen): the shell's header and menu are hidden
 * while it is shown, so a phone's layout viewport stays at the phone's width.
 */
export function useSoloPage(): void {
  useEffect(() => {
    document.body.classList.add('pa-solo');
    return () => document.body.classList.remove('pa-solo');
  }, []);
}
