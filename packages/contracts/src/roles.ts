import { z } from 'zod';

/** Roles of Ping'an users (see PRODUCT.md "Who uses it"). */
export const roles = [
  'admin', // 系统管理员
  'dispatcher', // 情指中心 / 综合指挥室 接警调度员
  'station_leader', // 所长 / 带班领导
  'community_officer', // 社区民警
  'auxiliary', // 辅警
  'grid_worker', // 网格员
  'volunteer', // 志愿者
  'security_guard', // 保安
  'mediator', // 人民调解员 / 司法所 / 律师
  'partner_staff', // 联动部门 (城管, 交警, 消防 …)
  'inspector', // 督察
] as const;
export const Role = z.enum(roles);
export type Role = z.infer<typeof Role>;

export const roleLabels: Record<Role, { zh: string; en: string }> = {
  admin: { zh: '系统管理员', en: 'Administrator' },
  dispatcher: { zh: '接警调度员', en: 'Dispatcher' },
  station_leader: { zh: '所长/带班领导', en: 'Station leader' },
  community_officer: { zh: '社区民警', en: 'Community officer' },
  auxiliary: { zh: '辅警', en: 'Auxiliary officer' },
  grid_worker: { zh: '网格员', en: 'Grid worker' },
  volunteer: { zh: '志愿者', en: 'Volunteer' },
  security_guard: { zh: '保安', en: 'Security guard' },
  mediator: { zh: '调解员', en: 'Mediator' },
  partner_staff: { zh: '联动部门', en: 'Partner department' },
  inspector: { zh: '督察', en: 'Inspector' },
};
