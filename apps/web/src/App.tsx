import { lazy, Suspense } from 'react';
import { App as AntApp, ConfigProvider } from 'antd';
import zhCN from 'antd/locale/zh_CN';
import enUS from 'antd/locale/en_US';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { SessionProvider, useSessionApi } from './auth/session';
import { LoginPage } from './pages/login/LoginPage';
import { AppShell } from './shell/AppShell';
import { Guarded } from './shell/Guarded';
import { ForbiddenPage, NotFoundPage } from './shell/ErrorPages';
import { Loading } from './shell/Loading';
import { homePathFor, navRegistry } from './nav/registry';

/** Public pages (no login): a grid's contact card from its QR code, and the resident's card lookup. */
const CardPage = lazy(() => import('./pages/card/CardPage'));
const CardLookupPage = lazy(() => import('./pages/card/CardLookupPage'));

function RequireAuth({ children }: { children: React.ReactNode }) {
  const { state } = useSessionApi();
  const location = useLocation();
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'anonymous') {
    const from = location.pathname + location.search;
    const params = new URLSearchParams();
    if (from !== '/' && from !== '/login') params.set('from', from);
    if (state.reason === 'expired') params.set('expired', '1');
    const qs = params.toString();
    return <Navigate to={`/login${qs ? `?${qs}` : ''}`} replace />;
  }
  return <>{children}</>;
}

function HomeRedirect() {
  const { state } = useSessionApi();
  if (state.status !== 'authenticated') return <Loading />;
  return <Navigate to={homePathFor(state.session.user.role)} replace />;
}

function Routed() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/card" element={<CardLookupPage />} />
      <Route path="/card/:slug" element={<CardPage />} />
      <Route
        element={
          <RequireAuth>
            <AppShell />
          </RequireAuth>
        }
      >
        <Route index element={<HomeRedirect />} />
        {navRegistry.map((entry) => (
          <Route
            key={entry.key}
            path={entry.prefix === false ? entry.path : `${entry.path}/*`}
            element={<Guarded entry={entry} />}
          />
        ))}
        <Route path="/403" element={<ForbiddenPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

export function App() {
  const { i18n } = useTranslation();
  const locale = i18n.language === 'en' ? enUS : zhCN;
  return (
    <ConfigProvider locale={locale} theme={{ token: { colorPrimary: '#1d4ed8', borderRadius: 6 } }}>
      <AntApp>
        <SessionProvider>
          <BrowserRouter>
            <Suspense fallback={<Loading />}>
              <Routed />
            </Suspense>
          </BrowserRouter>
        </SessionProvider>
      </AntApp>
    </ConfigProvider>
  );
}
