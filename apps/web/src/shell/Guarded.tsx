import { Suspense } from 'react';
import { useSession } from '../auth/session';
import type { NavEntry } from '../nav/registry';
import { ForbiddenPage } from './ErrorPages';
import { Loading } from './Loading';

/** Renders an entry's page for the roles it lists, and the 403 page for everyone else. */
export function Guarded({ entry }: { entry: NavEntry }) {
  const session = useSession();
  if (!entry.roles.includes(session.user.role)) return <ForbiddenPage />;
  const Page = entry.element;
  return (
    <Suspense fallback={<Loading />}>
      <Page />
    </Suspense>
  );
}
