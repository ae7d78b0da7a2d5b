import { createElement, lazy } from 'react';
import { ApartmentOutlined, CloudUploadOutlined } from '@ant-design/icons';
import { roles } from '@pingan/contracts';
import type { NavEntry } from '../../nav/registry';
import { GRID_EDITORS } from './api';

/** The grids map and the grid import (capability 1), spread into the nav registry. */
export const gridsNavEntries: NavEntry[] = [
  {
    key: 'grids',
    path: '/grids',
    labelKey: 'grids.nav.grids',
    descriptionKey: 'grids.desc.grids',
    icon: createElement(ApartmentOutlined),
    roles,
    element: lazy(() => import('./GridsPage')),
  },
  {
    key: 'grids-import',
    path: '/grids/import',
    labelKey: 'grids.nav.import',
    descriptionKey: 'grids.desc.import',
    icon: createElement(CloudUploadOutlined),
    roles: GRID_EDITORS,
    element: lazy(() => import('./ImportPage')),
  },
];
