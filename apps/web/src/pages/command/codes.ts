import type { Category } from '../../realtime/types';

/**
 * Short codes of the call categories, typed in the intake's code field: the two-digit number of the
 * category list (11 盗窃, 21 打架斗殴 …) or the pinyin initials (dj 打架, dq 盗窃 …). A digit 1-4 after
 * the code sets the priority (dj1 = fight, priority 1).
 */
export const CATEGORY_CODES: Record<string, { num: string; letters: string; priority: number; keywords: string[] }> = {
  criminal: { num: '10', letters: 'xs', priority: 2, keywords: [] },
  'criminal.theft': { num: '11', letters: 'dq', priority: 2, keywords: ['偷', '盗', '被窃', 'theft', 'stole'] },
  'criminal.robbery': { num: '12', letters: 'qj', priority: 1, keywords: ['抢', 'robbery', 'robbed'] },
  'criminal.fraud': { num: '13', letters: 'zp', priority: 2, keywords: ['诈骗', '被骗', 'fraud', 'scam'] },
  'criminal.assault': { num: '14', letters: 'sh', priority: 1, keywords: ['砍', '捅', '伤人', 'stab', 'assault'] },
  public_order: { num: '20', letters: 'za', priority: 2, keywords: [] },
  'public_order.fight': { num: '21', letters: 'dj', priority: 1, keywords: ['打架', '斗殴', '打人', '群殴', 'fight', 'brawl'] },
  'public_order.noise': { num: '22', letters: 'zy', priority: 3, keywords: ['噪音', '吵闹', '扰民', 'noise'] },
  'public_order.gambling': { num: '23', letters: 'db', priority: 3, keywords: ['赌博', 'gambling'] },
  traffic: { num: '30', letters: 'jt', priority: 2, keywords: [] },
  'traffic.accident': { num: '31', letters: 'sg', priority: 1, keywords: ['车祸', '撞', '交通事故', '剐蹭', 'accident', 'crash'] },
  'traffic.congestion': { num: '32', letters: 'dd', priority: 3, keywords: ['堵车', '拥堵', 'congestion', 'jam'] },
  fire_rescue: { num: '40', letters: 'hz', priority: 1, keywords: ['着火', '火灾', '冒烟', '落水', 'fire', 'smoke'] },
  dispute: { num: '50', letters: 'jf', priority: 3, keywords: ['纠纷'] },
  'dispute.neighbour': { num: '51', letters: 'lj', priority: 3, keywords: ['邻居', '邻里', 'neighbour', 'neighbor'] },
  'dispute.family': { num: '52', letters: 'jt2', priority: 2, keywords: ['家暴', '夫妻', '家庭', 'family'] },
  'dispute.labour': { num: '53', letters: 'ld', priority: 3, keywords: ['工资', '欠薪', '劳资', 'wage'] },
  help: { num: '60', letters: 'qz', priority: 3, keywords: ['求助', 'help'] },
  'help.missing': { num: '61', letters: 'zs', priority: 2, keywords: ['走失', '找不到', '失踪', 'missing'] },
  'help.lost_property': { num: '62', letters: 'sw', priority: 4, keywords: ['丢失', '遗失', '丢了', 'lost'] },
  non_police: { num: '90', letters: 'fj', priority: 4, keywords: [] },
  'non_police.city_management': { num: '91', letters: 'cg', priority: 4, keywords: ['摆摊', '占道', '城管', 'vendor'] },
  'non_police.utilities': { num: '92', letters: 'sd', priority: 4, keywords: ['停水', '停电', '漏水', '燃气', 'power cut'] },
  'non_police.social_aid': { num: '93', letters: 'jz', priority: 4, keywords: ['救助', '流浪', 'homeless'] },
};

export interface CodeLookup {
  category: string | null;
  priority: number | null;
}

/** "dj", "21", "dj1", "211" → category (and priority). */
export function parseCode(input: string, categories: Category[]): CodeLookup {
  const s = input.trim().toLowerCase();
  if (!s) return { category: null, priority: null };
  const known = new Set(categories.map((c) => c.code));
  const entries = Object.entries(CATEGORY_CODES).filter(([code]) => known.size === 0 || known.has(code));
  const exact = (k: string) => entries.find(([, v]) => v.num === k || v.letters === k)?.[0] ?? (known.has(k) ? k : null);
  const direct = exact(s);
  if (direct) return { category: direct, priority: null };
  const m = /^(.+?)([1-4])$/.exec(s);
  if (m) {
    const c = exact(m[1]!);
    if (c) return { category: c, priority: Number(m[2]) };
  }
  return { category: null, priority: null };
}

/** The category the call's words suggest (the dispatcher confirms or overrides with a code). */
export function inferCategory(content: string): string | null {
  const text = content.toLowerCase();
  let best: { code: string; at: number } | null = null;
  for (const [code, v] of Object.entries(CATEGORY_CODES)) {
    for (const k of v.keywords) {
      const at = text.indexOf(k.toLowerCase());
      if (at >= 0 && (!best || at < best.at)) best = { code, at };
    }
  }
  return best?.code ?? null;
}

export function defaultPriority(category: string | null): number {
  return (category && CATEGORY_CODES[category]?.priority) || 3;
}

export function categoryName(code: string, categories: Category[], lang: string): string {
  const c = categories.find((x) => x.code === code);
  if (!c) return code;
  return lang === 'en' ? c.nameEn : c.nameZh;
}

export const STATUS_COLORS: Record<string, string> = {
  new: '#dc2626',
  dispatched: '#f59e0b',
  on_scene: '#2563eb',
  diverted: '#7c3aed',
  merged: '#6b7280',
  closed: '#16a34a',
};
