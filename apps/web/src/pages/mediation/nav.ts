import { createElement, lazy } from 'react';
import { BarChartOutlined, ScheduleOutlined, SolutionOutlined } from '@ant-design/icons';
import type { NavEntry } from '../../nav/registry';
import { CASE_READERS, FIGURE_READERS, TASK_HOLDERS } from './api';

/** The dispute screening and mediation pages (capability 4), spread into the nav registry. */
export const mediationNavEntries: NavEntry[] = [
  {
    key: 'mediation',
    path: '/mediation',
    labelKey: 'mediation.nav.cases',
    descriptionKey: 'mediation.desc.cases',
    icon: createElement(SolutionOutlined),
    roles: CASE_READERS,
    element: lazy(() => import('./MediationPage')),
  },
  {
    key: 'mediation-worklist',
    path: '/mediation/worklist',
    labelKey: 'mediation.nav.worklist',
    descriptionKey: 'mediation.desc.worklist',
    icon: createElement(ScheduleOutlined),
    roles: TASK_HOLDERS,
    element: lazy(() => import('./WorklistPage')),
  },
  {
    key: 'mediation-figures',
    path: '/mediation/figures',
    labelKey: 'mediation.nav.figures',
    descriptionKey: 'mediation.desc.figures',
    icon: createElement(BarChartOutlined),
    roles: FIGURE_READERS,
    element: lazy(() => import('./FiguresPage')),
  },
];
