import { sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { type Actor, assertCoversNode } from '../../platform/access.js';
import type { Executor } from '../../platform/db/index.js';
import { rows } from '../../platform/db/rows.js';
import { unprocessable } from '../../platform/errors.js';
import { DISPUTE_TYPES } from './model.js';

/**
 * Mediation figures (docs/decisions/015-mediation-figures.md). Every count is taken by the month of its
 * own event in China time (UTC+8), within [from, to):
 * - screened: disputes registered;
 * - closed: disputes that reached a final state (resolved, transferred, failed, withdrawn);
 * - resolved: closed because the agreement held at the last follow-up visit (outcome agreement_held);
 * - successRate = resolved / closed (a transfer is a closed case that is not a success);
 * - medianDays: median days from registration to the signing of the agreement that held, over resolved;
 * - recurrenceRate = disputes with a follow-up in the period that found a recurrence / disputes with a
 *   follow-up recorded in the period.
 */
export interface DisputeFact {
  id: string;
  type: string;
  nodePath: string;
  registeredAt: Date;
  closedAt: Date | null;
  outcome: string | null;
  /** Signing of the latest signed agreement (the one that held when the outcome is agreement_held). */
  signedAt: Date | null;
}
export interface FollowUpFact {
  disputeId: string;
  type: string;
  nodePath: string;
  doneAt: Date;
  recurred: boolean;
}

export type Figures = {
  screened: number;
  closed: number;
  resolved: number;
  transferred: number;
  failed: number;
  successRate: number | null;
  medianDays: number | null;
  followedUp: number;
  recurred: number;
  recurrenceRate: number | null;
};

const inRange = (d: Date | null, from: Date, to: Date): d is Date => d !== null && d >= from && d < to;
const round4 = (x: number) => Math.round(x * 10000) / 10000;

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const m = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return Math.round(m * 100) / 100;
}

export function computeFigures(disputes: readonly DisputeFact[], followUps: readonly FollowUpFact[], from: Date, to: Date): Figures {
  const screened = disputes.filter((d) => inRange(d.registeredAt, from, to)).length;
  const closed = disputes.filter((d) => d.outcome !== null && inRange(d.closedAt, from, to));
  const resolved = closed.filter((d) => d.outcome === 'agreement_held');
  const days = resolved.filter((d) => d.signedAt).map((d) => Math.round(((d.signedAt!.getTime() - d.registeredAt.getTime()) / 86400_000) * 10) / 10);
  const visited = new Set<string>();
  const recurredSet = new Set<string>();
  for (const f of followUps) {
    if (!inRange(f.doneAt, from, to)) continue;
    visited.add(f.disputeId);
    if (f.recurred) recurredSet.add(f.disputeId);
  }
  return {
    screened,
    closed: closed.length,
    resolved: resolved.length,
    transferred: closed.filter((d) => d.outcome === 'transferred').length,
    failed: closed.filter((d) => d.outcome === 'failed' || d.outcome === 'withdrawn').length,
    successRate: closed.length ? round4(resolved.length / closed.length) : null,
    medianDays: median(days),
    followedUp: visited.size,
    recurred: recurredSet.size,
    recurrenceRate: visited.size ? round4(recurredSet.size / visited.size) : null,
  };
}

/** '2026-03' in China time. */
export const monthOf = (d: Date) => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 7);

/** Months from `from` to `to` (China time), as [label, start, end). */
export function monthsBetween(from: Date, to: Date): [string, Date, Date][] {
  const out: [string, Date, Date][] = [];
  const start = monthOf(from);
  let y = Number(start.slice(0, 4));
  let m = Number(start.slice(5, 7));
  for (let i = 0; i < 120; i++) {
    const s = new Date(Date.UTC(y, m - 1, 1) - 8 * 3600_000);
    if (s >= to) break;
    const e = new Date(Date.UTC(m === 12 ? y + 1 : y, m === 12 ? 0 : m, 1) - 8 * 3600_000);
    out.push([`${y}-${String(m).padStart(2, '0')}`, s < from ? from : s, e > to ? to : e]);
    m++;
    if (m === 13) {
      m = 1;
      y++;
    }
  }
  return out;
}

export type FiguresReport = {
  node: { id: string; name: string; level: string };
  from: string;
  to: string;
  total: Figures;
  children: ({ id: string; name: string; level: string } & Figures)[];
  byType: ({ type: string } & Figures)[];
  byMonth: ({ month: string } & Figures)[];
};

export function buildReport(
  node: { id: string; name: string; level: string },
  children: { id: string; name: string; level: string; path: string }[],
  disputes: DisputeFact[],
  followUps: FollowUpFact[],
  from: Date,
  to: Date,
): FiguresReport {
  return {
    node,
    from: from.toISOString(),
    to: to.toISOString(),
    total: computeFigures(disputes, followUps, from, to),
    children: children.map((c) => ({
      id: c.id,
      name: c.name,
      level: c.level,
      ...computeFigures(disputes.filter((d) => d.nodePath.startsWith(c.path)), followUps.filter((f) => f.nodePath.startsWith(c.path)), from, to),
    })),
    byType: DISPUTE_TYPES.map((type) => ({ type, ...computeFigures(disputes.filter((d) => d.type === type), followUps.filter((f) => f.type === type), from, to) })),
    byMonth: monthsBetween(from, to).map(([month, s, e]) => ({ month, ...computeFigures(disputes, followUps, s, e) })),
  };
}

/** Figures of a node (default: the actor's) for [from, to), default the last 12 months. */
export async function figuresFor(exec: Executor, actor: Actor, q: { nodeId?: string | undefined; from?: Date | undefined; to?: Date | undefined }, at: Date): Promise<FiguresReport> {
  const nodeId = q.nodeId ?? actor.nodeId;
  const path = await assertCoversNode(exec, actor, nodeId);
  const to = q.to ?? at;
  const from = q.from ?? new Date(Date.UTC(new Date(to.getTime() + 8 * 3600_000).getUTCFullYear() - 1, new Date(to.getTime() + 8 * 3600_000).getUTCMonth() + 1, 1) - 8 * 3600_000);
  if (!(from < to)) throw unprocessable('The period is empty: "from" must come before "to".', [{ field: 'querystring.from', message: 'is not before to' }]);
  if (to.getTime() - from.getTime() > 5 * 366 * 86400_000) throw unprocessable('Ask for at most five years at a time.', [{ field: 'querystring.from', message: 'is more than five years before to' }]);
  const [node] = await rows<{ id: string; name: string; level: string }>(exec, sql`select id, name, level from jurisdiction_node where id = ${nodeId}`);
  const children = await rows<{ id: string; name: string; level: string; path: string }>(
    exec,
    sql`select id, name, level, path from jurisdiction_node where parent_id = ${nodeId} and retired_at is null order by code`,
  );
  const facts = await rows<{ id: string; type: string; node_path: string; registered_at: Date; closed_at: Date | null; outcome: string | null; signed_at: Date | null }>(
    exec,
    sql`select d.id, d.type, d.node_path, d.registered_at, d.closed_at, d.outcome,
          (select max(a.signed_at) from mediation_agreement a where a.dispute_id = d.id and a.status = 'signed') as signed_at
        from dispute d
        where d.node_path like ${`${path}%`}
          and ((d.registered_at >= ${from} and d.registered_at < ${to}) or (d.closed_at >= ${from} and d.closed_at < ${to}))`,
  );
  const fu = await rows<{ dispute_id: string; type: string; node_path: string; done_at: Date; recurred: boolean }>(
    exec,
    sql`select f.dispute_id, d.type, d.node_path, f.done_at, coalesce(f.recurred, false) as recurred
        from dispute_follow_up f join dispute d on d.id = f.dispute_id
        where d.node_path like ${`${path}%`} and f.status = 'done' and f.done_at >= ${from} and f.done_at < ${to}`,
  );
  return buildReport(
    node!,
    children,
    facts.map((f) => ({ id: f.id, type: f.type, nodePath: f.node_path, registeredAt: new Date(f.registered_at), closedAt: f.closed_at ? new Date(f.closed_at) : null, outcome: f.outcome, signedAt: f.signed_at ? new Date(f.signed_at) : null })),
    fu.map((f) => ({ disputeId: f.dispute_id, type: f.type, nodePath: f.node_path, doneAt: new Date(f.done_at), recurred: f.recurred })),
    from,
    to,
  );
}

const TYPE_ZH: Record<string, string> = {
  neighbours: '邻里纠纷', noise: '噪声扰民', family: '家庭纠纷', marriage: '婚姻纠纷', labour: '劳动及工伤赔偿', land_housing: '土地房屋',
  debt: '债务纠纷', traffic_accident: '交通事故', consumer: '消费纠纷', other: '其他',
};

/** The report as an xlsx workbook: summary with the children, by type, by month, and the definitions. */
export async function figuresWorkbook(r: FiguresReport): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = "Ping'an";
  wb.created = new Date();
  const cols = [
    { header: '排查纠纷 Screened', key: 'screened', width: 14 },
    { header: '办结 Closed', key: 'closed', width: 12 },
    { header: '调解成功 Resolved', key: 'resolved', width: 14 },
    { header: '移交 Transferred', key: 'transferred', width: 14 },
    { header: '未成功/撤回 Failed', key: 'failed', width: 14 },
    { header: '成功率 Success rate', key: 'successRate', width: 16, style: { numFmt: '0.0%' } },
    { header: '化解天数中位数 Median days', key: 'medianDays', width: 18 },
    { header: '回访案件 Followed up', key: 'followedUp', width: 16 },
    { header: '复发 Recurred', key: 'recurred', width: 12 },
    { header: '复发率 Recurrence rate', key: 'recurrenceRate', width: 18, style: { numFmt: '0.0%' } },
  ];
  const period = `${monthOf(new Date(r.from))} – ${monthOf(new Date(new Date(r.to).getTime() - 1))}`;
  const summary = wb.addWorksheet('汇总 Summary');
  summary.columns = [{ header: '单位 Unit', key: 'name', width: 24 }, ...cols];
  summary.addRow({ name: `${r.node.name}（合计 total）`, ...r.total }).font = { bold: true };
  for (const c of r.children) summary.addRow(c);
  summary.getRow(1).font = { bold: true };
  const byType = wb.addWorksheet('按类型 By type');
  byType.columns = [{ header: '类型 Type', key: 'type', width: 20 }, ...cols];
  for (const t of r.byType) byType.addRow({ ...t, type: `${TYPE_ZH[t.type] ?? t.type} ${t.type}` });
  byType.getRow(1).font = { bold: true };
  const byMonth = wb.addWorksheet('按月 By month');
  byMonth.columns = [{ header: '月份 Month', key: 'month', width: 12 }, ...cols];
  for (const m of r.byMonth) byMonth.addRow(m);
  byMonth.getRow(1).font = { bold: true };
  const defs = wb.addWorksheet('口径 Definitions');
  defs.columns = [{ header: '指标 Figure', key: 'k', width: 26 }, { header: '定义 Definition', key: 'v', width: 110 }];
  defs.addRows([
    { k: '范围 Scope', v: `${r.node.name}，${period}（北京时间 China time）` },
    { k: '排查纠纷 Screened', v: '期内登记的纠纷 / disputes registered in the period' },
    { k: '办结 Closed', v: '期内进入终态（化解、移交、未成功、撤回）的纠纷 / disputes that reached a final state in the period' },
    { k: '调解成功 Resolved', v: '期内办结且最后一次回访时协议仍在履行、未复发 / closed because the agreement held at the last follow-up' },
    { k: '成功率 Success rate', v: '调解成功 ÷ 办结；移交不计为成功 / resolved ÷ closed; a transfer is not a success' },
    { k: '化解天数中位数 Median days', v: '调解成功案件从登记到签署所履行协议的天数中位数 / median days from registration to the signing of the agreement that held' },
    { k: '复发率 Recurrence rate', v: '期内回访发现复发的纠纷 ÷ 期内有回访记录的纠纷 / disputes whose follow-up found a recurrence ÷ disputes followed up in the period' },
  ]);
  defs.getRow(1).font = { bold: true };
  const buf = await wb.xlsx.writeBuffer();
  return Buffer.from(buf as ArrayBuffer);
}
