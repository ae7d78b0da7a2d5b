import { createElement, lazy, type ComponentType, type LazyExoticComponent, type ReactNode } from 'react';
import { AlertOutlined, AuditOutlined, DashboardOutlined, EnvironmentOutlined, HomeOutlined, MobileOutlined, TeamOutlined } from '@ant-design/icons';
import { roles as allRoles, type Role } from '@pingan/contracts';
import { unitsNavEntries } from '../pages/units/nav';
import { mediationNavEntries } from '../pages/mediation/nav';
import { gridsNavEntries } from '../pages/grids/nav';

/**
 * Every page of the app that appears in the side navigation. A capability plugs in by adding one entry:
 * its path, its label (an i18n key), the roles that may open it and its lazily loaded page. The router,
 * the side menu, the home page's cards and the route guards (403) are all built from this list.
 */
export interface NavEntry {
  key: string;
  /** Absolute path; nested pages of the entry live below it (`/cases/:id` under `/cases`). */
  path: string;
  /** i18n key of the label, e.g. `nav.audit`. */
  labelKey: string;
  /** i18n key of a one-line description shown on the home page's cards. */
  descriptionKey?: string;
  icon?: ReactNode;
  roles: readonly Role[];
  element: LazyExoticComponent<ComponentType>;
  /** Also match every path below `path` (detail pages). Default true. */
  prefix?: boolean;
}

const everyone = allRoles;

export const navRegistry: NavEntry[] = [
  {
    key: 'home',
    path: '/home',
    labelKey: 'nav.home',
    icon: createElement(HomeOutlined),
    roles: everyone,
    element: lazy(() => import('../pages/home/HomePage')),
    prefix: false,
  },
  {
    key: 'map',
    path: '/map',
    labelKey: 'nav.map',
    descriptionKey: 'map.description',
    icon: createElement(EnvironmentOutlined),
    roles: everyone,
    element: lazy(() => import('../pages/map/MapPage')),
  },
  ...gridsNavEntries,
  {
    key: 'command',
    path: '/command',
    labelKey: 'nav.command',
    descriptionKey: 'dispatch.description',
    icon: createElement(AlertOutlined),
    roles: ['admin', 'dispatcher', 'station_leader'],
    element: lazy(() => import('../pages/command/CommandPage')),
  },
  {
    key: 'terminal',
    path: '/terminal',
    labelKey: 'nav.terminal',
    icon: createElement(MobileOutlined),
    roles: ['community_officer', 'auxiliary', 'grid_worker', 'volunteer', 'security_guard'],
    element: lazy(() => import('../pages/terminal/TerminalPage')),
  },
  {
    key: 'bigscreen',
    path: '/bigscreen',
    labelKey: 'nav.bigscreen',
    descriptionKey: 'bigscreen.description',
    icon: createElement(DashboardOutlined),
    roles: ['admin', 'dispatcher', 'station_leader', 'inspector'],
    element: lazy(() => import('../pages/bigscreen/BigScreenPage')),
  },
  {
    key: 'audit',
    path: '/audit',
    labelKey: 'nav.audit',
    descriptionKey: 'audit.description',
    icon: createElement(AuditOutlined),
    roles: ['admin', 'inspector'],
    element: lazy(() => import('../pages/audit/AuditPage')),
  },
  {
    key: 'users',
    path: '/admin/users',
    labelKey: 'nav.users',
    descriptionKey: 'users.description',
    icon: createElement(TeamOutlined),
    roles: ['admin', 'station_leader'],
    element: lazy(() => import('../pages/users/UsersPage')),
  },
  ...unitsNavEntries,
  ...mediationNavEntries,
];

/**
 * Where each role lands after login. A path that no registered entry serves for the role falls back to
 * /home, so a capability that registers `/command` or `/terminal` becomes the home of those roles at once.
 */
export const preferredHome: Record<Role, string> = {
  admin: '/admin/users',
  dispatcher: '/command',
  station_leader: '/home',
  community_officer: '/terminal',
  auxiliary: '/terminal',
  grid_worker: '/terminal',
  volunteer: '/terminal',
  security_guard: '/terminal',
  mediator: '/home',
  partner_staff: '/home',
  inspector: '/audit',
};

export function entriesFor(role: Role): NavEntry[] {
  return navRegistry.filter((e) => e.roles.includes(role));
}

function matches(entry: NavEntry, pathname: string): boolean {
  if (pathname === entry.path) return true;
  return entry.prefix !== false && pathname.startsWith(entry.path + '/');
}

/** The entry serving a path (longest path wins), whatever the role. */
export function entryForPath(pathname: string): NavEntry | undefined {
  return navRegistry
    .filter((e) => matches(e, pathname))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

export function homePathFor(role: Role): string {
  const preferred = preferredHome[role];
  const entry = entryForPath(preferred);
  return entry && entry.roles.includes(role) ? preferred : '/home';
}
