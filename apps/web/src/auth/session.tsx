import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { SessionInfo } from '@pingan/contracts';
import { api, setCsrfToken, setUnauthorizedHandler } from '../api/client';

type SessionState =
  | { status: 'loading' }
  | { status: 'anonymous'; reason?: 'expired' | 'logged_out' }
  | { status: 'authenticated'; session: SessionInfo };

interface SessionApi {
  state: SessionState;
  login(username: string, password: string): Promise<SessionInfo>;
  logout(): Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const authenticated = useRef(false);

  const accept = useCallback((s: SessionInfo) => {
    setCsrfToken(s.csrfToken);
    authenticated.current = true;
    setState({ status: 'authenticated', session: s });
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      // Any 401 after login means the session ended (expired, revoked, logged out elsewhere).
      setCsrfToken(null);
      const was = authenticated.current;
      authenticated.current = false;
      setState({ status: 'anonymous', reason: was ? 'expired' : undefined });
    });
    const ctrl = new AbortController();
    api
      .get<SessionInfo>('/api/auth/me', { quiet401: true, signal: ctrl.signal })
      .then(accept)
      .catch((err: unknown) => {
        if (err instanceof DOMException && err.name === 'AbortError') return;
        setState({ status: 'anonymous' });
      });
    return () => {
      ctrl.abort();
      setUnauthorizedHandler(null);
    };
  }, [accept]);

  const login = useCallback(
    async (username: string, password: string) => {
      const s = await api.post<SessionInfo>('/api/auth/login', { username, password }, { quiet401: true });
      accept(s);
      return s;
    },
    [accept],
  );

  const logout = useCallback(async () => {
    try {
      await api.post<void>('/api/auth/logout', undefined, { quiet401: true });
    } finally {
      setCsrfToken(null);
      authenticated.current = false;
      setState({ status: 'anonymous', reason: 'logged_out' });
    }
  }, []);

  const value = useMemo(() => ({ state, login, logout }), [state, login, logout]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionApi(): SessionApi {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSessionApi must be used inside <SessionProvider>');
  return ctx;
}

/** The current session; only for components rendered behind <RequireAuth>. */
export function useSession(): SessionInfo {
  const { state } = useSessionApi();
  if (state.status !== 'authenticated') throw new Error('useSession used outside an authenticated route');
  return state.session;
}
