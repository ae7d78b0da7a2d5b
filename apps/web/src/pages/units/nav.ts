import { createElement, lazy } from 'react';
import { AimOutlined, BarChartOutlined, CarOutlined, FlagOutlined, HistoryOutlined, RadarChartOutlined } from '@ant-design/icons';
import type { NavEntry } from '../../nav/registry';
import { UNIT_READERS } from './api';

/** The units, positions and patrol pages (capability 3), spread into the nav registry. */
export const unitsNavEntries: NavEntry[] = [
  {
    key: 'units',
    path: '/units',
    labelKey: 'units.nav.board',
    descriptionKey: 'units.desc.board',
    icon: createElement(CarOutlined),
    roles: UNIT_READERS,
    element: lazy(() => import('./UnitBoardPage')),
  },
  {
    key: 'units-live',
    path: '/units/live',
    labelKey: 'units.nav.live',
    descriptionKey: 'units.desc.live',
    icon: createElement(AimOutlined),
    roles: UNIT_READERS,
    element: lazy(() => import('./LiveMapPage')),
  },
  {
    key: 'units-replay',
    path: '/units/replay',
    labelKey: 'units.nav.replay',
    descriptionKey: 'units.desc.replay',
    icon: createElement(HistoryOutlined),
    roles: UNIT_READERS,
    element: lazy(() => import('./TrackReplayPage')),
  },
  {
    key: 'patrol',
    path: '/patrol',
    labelKey: 'units.nav.patrol',
    descriptionKey: 'units.desc.patrol',
    icon: createElement(FlagOutlined),
    roles: UNIT_READERS,
    element: lazy(() => import('./PatrolPage')),
  },
  {
    key: 'patrol-coverage',
    path: '/patrol/coverage',
    labelKey: 'units.nav.coverage',
    descriptionKey: 'units.desc.coverage',
    icon: createElement(BarChartOutlined),
    roles: UNIT_READERS,
    element: lazy(() => import('./CoveragePage')),
  },
  {
    key: 'units-reach',
    path: '/units/reach',
    labelKey: 'units.nav.reach',
    descriptionKey: 'units.desc.reach',
    icon: createElement(RadarChartOutlined),
    roles: UNIT_READERS,
    element: lazy(() => import('./ReachPage')),
  },
];
