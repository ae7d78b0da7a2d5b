/**
 * A year of disputes in the demo county (广饶县), deterministic for a seed: registration, mediators,
 * sessions, agreements, follow-up visits (7 and 30 days), recurrences, transfers and failures, each with
 * its timeline, written in bulk. The demo seed calls `insertDemoMediation`; the script adds it to an
 * existing database (seeding the demo county first when the database is empty) and prints the figures.
 *
 *   npm run demo:mediation [-- --end 2026-01-01] [--seed 8] [--force]   (default end: today, China time)
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { appendAudit } from '../apps/server/src/platform/audit/service.js';
import type { Executor } from '../apps/server/src/platform/db/index.js';
import { rows } from '../apps/server/src/platform/db/rows.js';

/** Small seeded PRNG (mulberry32): the same seed gives the same year. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    weighted: <T extends string>(w: Record<T, number>): T => {
      const entries = Object.entries(w) as [T, number][];
      let r = next() * entries.reduce((s, [, v]) => s + v, 0);
      for (const [k, v] of entries) if ((r -= v) < 0) return k;
      return entries.at(-1)![0];
    },
  };
}

const TYPES = { neighbours: 22, noise: 9, family: 12, marriage: 7, labour: 12, land_housing: 11, debt: 10, traffic_accident: 9, consumer: 5, other: 3 };
const SOURCES = { patrol_visit: 30, village_stay: 15, call: 30, walk_in: 20, partner: 5 };
/** Chance that mediation ends in a signed agreement, by type. */
const AGREE: Record<string, number> = { labour: 0.82, land_housing: 0.86, debt: 0.88, traffic_accident: 0.9 };
const TITLES: Record<string, string[]> = {
  neighbours: ['宅基地院墙边界纠纷', '邻里排水沟堵塞纠纷', '楼道堆物引发邻里矛盾', '树木遮挡采光纠纷'],
  noise: ['楼上装修噪声扰民', '广场舞音响扰民', '夜间犬吠扰民'],
  family: ['赡养老人费用分担纠纷', '兄弟分家析产纠纷', '婆媳矛盾'],
  marriage: ['离婚后子女抚养费纠纷', '彩礼返还纠纷'],
  labour: ['工地拖欠农民工工资', '工伤赔偿纠纷', '企业辞退补偿纠纷'],
  land_housing: ['土地承包经营权纠纷', '房屋租赁押金纠纷', '农村宅基地使用纠纷'],
  debt: ['民间借贷纠纷', '货款拖欠纠纷'],
  traffic_accident: ['电动车与行人碰撞赔偿', '农用车剐蹭赔偿'],
  consumer: ['装修质量纠纷', '预付卡退费纠纷'],
  other: ['养殖异味纠纷', '停车位争议'],
};
const SURNAMES = '王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤';
const GIVEN = ['建国', '秀英', '桂兰', '志强', '丽娟', '海燕', '春生', '玉梅', '国庆', '晓东', '红霞', '德胜', '淑珍', '立新', '军', '敏', '伟', '芳', '磊', '静'];

export interface DemoMediationOptions {
  /** The year ends here (exclusive); default: the start of the current day, China time. */
  end?: Date;
  seed?: number;
  /** Disputes per station per year on average (李鹊 gets twice as many). */
  perStation?: number;
}

interface Grid {
  id: string;
  path: string;
  station_id: string;
  station_code: string;
  lon: number;
  lat: number;
  name: string;
}

/**
 * Insert a year of disputes into a seeded demo county (inside the caller's transaction). Returns counts.
 * Cases still running at `end` stay open; follow-ups due after `end` stay scheduled.
 */
export async function insertDemoMediation(tx: Executor, opts: DemoMediationOptions = {}) {
  const rnd = prng(opts.seed ?? 8);
  const end = opts.end ?? new Date(Date.UTC(new Date(Date.now() + 8 * 3600_000).getUTCFullYear(), new Date(Date.now() + 8 * 3600_000).getUTCMonth(), new Date(Date.now() + 8 * 3600_000).getUTCDate()) - 8 * 3600_000);
  const start = new Date(end.getTime() - 365 * 86400_000);
  const perStation = opts.perStation ?? 110;
  const grids = await rows<Grid>(
    tx,
    sql`select g.id, g.path, s.id as station_id, s.code as station_code, g.name,
          ST_X(ST_PointOnSurface(g.geom)) as lon, ST_Y(ST_PointOnSurface(g.geom)) as lat
        from jurisdiction_node g join jurisdiction_node s on s.id = g.parent_id
        where g.level = 'grid' and s.level = 'station' and g.retired_at is null and g.geom is not null and g.code like '370523%'
        order by g.code`,
  );
  if (grids.length === 0) throw new Error('No grids of the demo county 370523: seed the demo first.');
  const users = await rows<{ id: string; username: string; role: string; station_code: string | null }>(
    tx,
    sql`select u.id, u.username, u.role, n.code as station_code from app_user u join jurisdiction_node n on n.id = u.node_id
        where u.username = any(${'{officer.lique,mediator.lique,leader.lique,grid.lique}'}::text[]) or u.username like 'unit.%.1' order by u.username`,
  );
  const byName = new Map(users.map((u) => [u.username, u]));
  const officerOf = (stationCode: string) => (stationCode === '370523106' ? byName.get('officer.lique') : byName.get(`unit.${stationCode}.1`)) ?? null;
  const mediator = byName.get('mediator.lique') ?? null;
  const stations = [...new Set(grids.map((g) => g.station_code))];
  const gridsOf = new Map(stations.map((s) => [s, grids.filter((g) => g.station_code === s)]));

  const disputes: Record<string, unknown>[] = [];
  const parties: Record<string, unknown>[] = [];
  const assignments: Record<string, unknown>[] = [];
  const sessions: Record<string, unknown>[] = [];
  const agreements: Record<string, unknown>[] = [];
  const terms: Record<string, unknown>[] = [];
  const followUps: Record<string, unknown>[] = [];
  const events: Record<string, unknown>[] = [];
  const counters = new Map<string, number>();
  const dayMs = 86400_000;
  const at = (t: number) => new Date(Math.min(t, end.getTime() - 60_000)).toISOString();
  const person = () => `${rnd.pick([...SURNAMES])}${rnd.pick(GIVEN)}`;

  for (const stationCode of stations) {
    const n = Math.round((stationCode === '370523106' ? 2 : 1) * perStation * (0.75 + rnd.next() * 0.5));
    const officer = officerOf(stationCode);
    const list: number[] = [];
    for (let i = 0; i < n; i++) list.push(start.getTime() + rnd.next() * (end.getTime() - start.getTime()));
    list.sort((a, b) => a - b);
    for (const regRaw of list) {
      // Office hours, China time.
      const dayStart = Math.floor((regRaw + 8 * 3600_000) / dayMs) * dayMs - 8 * 3600_000;
      const reg = dayStart + (8 + rnd.int(0, 9)) * 3600_000 + rnd.int(0, 59) * 60_000;
      if (reg >= end.getTime()) continue;
      const grid = rnd.pick(gridsOf.get(stationCode)!);
      const type = rnd.weighted(TYPES);
      const id = randomUUID();
      const dayKey = new Date(reg + 8 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '');
      const seq = (counters.get(dayKey) ?? 0) + 1;
      counters.set(dayKey, seq);
      const r = rnd.next();
      const risk = r < 0.01 ? 'critical' : r < 0.07 ? 'high' : r < 0.3 ? 'medium' : 'low';
      const factors = risk === 'critical' ? { selfHarm: true } : risk === 'high' ? { threats: true } : risk === 'medium' ? { moneyAtStake: true } : {};
      const ev = (t: number, kind: string, data: Record<string, unknown> = {}, actor: string | null = officer?.id ?? null) => {
        if (t < end.getTime()) events.push({ dispute_id: id, at: at(t), type: kind, actor_id: actor, data });
      };
      ev(reg, 'registered', { number: `370523-TJ-${dayKey}-${String(seq).padStart(4, '0')}`, type, demo: true });
      if (risk !== 'low') ev(reg, 'risk', { from: 'low', to: risk, factors });
      for (const [i, side] of (['applicant', 'respondent'] as const).entries()) {
        const org = side === 'respondent' && (type === 'labour' || type === 'consumer') && rnd.next() < 0.6;
        parties.push({
          dispute_id: id, kind: org ? 'organisation' : 'person', side, sort: i,
          name: org ? `${grid.name.replace(/(村|社区)?(村民委员会|居民委员会|网格)$/, '')}${rnd.pick(['建筑公司', '家具厂', '商贸公司'])}` : person(),
          phone: org ? null : `13${rnd.int(0, 9)}${String(rnd.int(0, 99999999)).padStart(8, '0')}`,
          demand: side === 'applicant' ? rnd.pick(['赔偿损失', '停止侵害', '赔礼道歉', '返还款项']) : rnd.pick(['不同意全部赔偿', '要求分期', '认为责任在对方']),
        });
      }
      // Mediation: first session within days; agreement or not.
      const useMediator = stationCode === '370523106' && mediator && rnd.next() < 0.5;
      const worker = useMediator ? mediator : officer;
      const firstSession = reg + rnd.int(1, 5) * dayMs;
      if (useMediator && firstSession - dayMs < end.getTime()) {
        assignments.push({ dispute_id: id, user_id: mediator!.id, body: 'committee', organisation: '李鹊镇人民调解委员会', status: 'accepted', proposed_by: officer?.id ?? null, proposed_at: at(reg + 3600_000), responded_at: at(reg + 5 * 3600_000) });
        ev(reg + 3600_000, 'mediator_proposed', { userId: mediator!.id, body: 'committee' });
        ev(reg + 5 * 3600_000, 'mediator_accepted', {}, mediator!.id);
      }
      let status = 'open';
      let closedAt: number | null = null;
      let outcome: string | null = null;
      let transferredTo: string | null = null;
      let reopen = 0;
      let lastReview = reg;
      if (firstSession < end.getTime()) {
        status = 'mediating';
        const nSessions = rnd.int(1, 3);
        for (let s = 0; s < nSessions; s++) {
          const t = firstSession + s * rnd.int(2, 6) * dayMs;
          if (t >= end.getTime()) break;
          sessions.push({ dispute_id: id, held_at: at(t), place: rnd.pick(['村委会调解室', '派出所调解室', '当事人家中', '司法所']), attendees: JSON.stringify(['双方当事人', worker ? '调解员' : '民警']), notes: '听取双方诉求，释法说理', recorded_by: worker?.id ?? null, created_at: at(t) });
          ev(t, 'session', {}, worker?.id ?? null);
          lastReview = t;
        }
        const agrees = rnd.next() < (AGREE[type] ?? 0.95);
        let signed = firstSession + Math.round((rnd.next() ** 2) * 20 * dayMs) + rnd.int(0, 3) * dayMs;
        if (!agrees) {
          const t = firstSession + rnd.int(5, 30) * dayMs;
          if (t < end.getTime()) {
            const k = rnd.next();
            outcome = k < 0.7 ? 'transferred' : k < 0.9 ? 'failed' : 'withdrawn';
            status = outcome;
            closedAt = t;
            if (outcome === 'transferred') transferredTo = type === 'labour' ? 'labour_arbitration' : rnd.pick(['court', 'justice_office']);
            ev(t, outcome === 'transferred' ? 'transferred' : 'closed', { outcome, to: transferredTo });
          }
        } else {
          for (let round = 0; round < 2 && signed < end.getTime(); round++) {
            const agreementId = randomUUID();
            agreements.push({ id: agreementId, dispute_id: id, status: 'signed', summary: '双方自愿达成调解协议', proposed_at: at(signed - dayMs), signed_at: at(signed), recorded_by: worker?.id ?? null });
            const amount = ['labour', 'debt', 'traffic_accident', 'consumer'].includes(type) ? rnd.int(5, 300) * 100 : null;
            terms.push({ agreement_id: agreementId, seq: 1, text: amount ? `一次性支付${amount}元` : '停止侵害、恢复原状', amount, status: signed + 14 * dayMs < end.getTime() ? 'fulfilled' : 'pending' });
            ev(signed, 'agreement_signed', { agreementId, followUpDays: [7, 30] }, worker?.id ?? null);
            status = 'agreed';
            let recurred = false;
            let lastDone = signed;
            for (const d of [7, 30]) {
              const due = signed + d * dayMs;
              const done = due + rnd.int(0, 2) * dayMs + rnd.int(1, 6) * 3600_000;
              if (recurred) {
                followUps.push({ dispute_id: id, agreement_id: agreementId, after_days: d, due_at: at(due), status: 'cancelled' });
                continue;
              }
              if (done >= end.getTime()) {
                followUps.push({ dispute_id: id, agreement_id: agreementId, after_days: d, due_at: new Date(due).toISOString(), status: 'scheduled' });
                continue;
              }
              recurred = round === 0 && rnd.next() < 0.035;
              followUps.push({ dispute_id: id, agreement_id: agreementId, after_days: d, due_at: at(due), status: 'done', done_at: at(done), done_by: officer?.id ?? null, holds: !recurred, recurred, note: recurred ? '矛盾再次发生' : '协议履行良好，未再发生' });
              ev(done, 'follow_up', { afterDays: d, holds: !recurred, recurred });
              lastDone = done;
              lastReview = done;
            }
            if (recurred) {
              reopen++;
              status = 'mediating';
              ev(lastDone, 'reopened', { reason: 'recurrence' });
              signed = lastDone + rnd.int(5, 15) * dayMs;
              continue;
            }
            if (lastDone > signed && followUps.filter((f) => f.dispute_id === id && f.agreement_id === agreementId && f.status === 'scheduled').length === 0) {
              status = 'resolved';
              outcome = 'agreement_held';
              closedAt = lastDone;
              ev(lastDone, 'closed', { outcome });
            }
            break;
          }
        }
      }
      disputes.push({
        id, number: `370523-TJ-${dayKey}-${String(seq).padStart(4, '0')}`, type, source: rnd.weighted(SOURCES), status,
        title: rnd.pick(TITLES[type]!), description: `${grid.name}${rnd.pick(TITLES[type]!)}，经排查登记。`,
        lon: Number(grid.lon), lat: Number(grid.lat), node_id: grid.id, grid_id: grid.id, station_id: grid.station_id, node_path: grid.path,
        risk_level: risk, risk_factors: JSON.stringify(factors), officer_id: officer?.id ?? null, registered_by: officer?.id ?? null,
        registered_at: at(reg), last_reviewed_at: at(lastReview), closed_at: closedAt === null ? null : at(closedAt), outcome, transferred_to: transferredTo,
        reopen_count: reopen, updated_at: at(Math.max(reg, closedAt ?? lastReview)),
      });
    }
  }

  const bulk = async (table: string, cols: string, types: string, data: Record<string, unknown>[]) => {
    for (let i = 0; i < data.length; i += 1000) {
      const batch = JSON.stringify(data.slice(i, i + 1000));
      await tx.execute(sql`insert into ${sql.raw(table)} (${sql.raw(cols)}) select ${sql.raw(cols)} from jsonb_to_recordset(${batch}::jsonb) as r(${sql.raw(types)})`);
    }
  };
  await bulk(
    'dispute',
    'id, number, type, source, status, title, description, lon, lat, node_id, grid_id, station_id, node_path, risk_level, risk_factors, officer_id, registered_by, registered_at, last_reviewed_at, closed_at, outcome, transferred_to, reopen_count, updated_at',
    'id uuid, number text, type text, source text, status text, title text, description text, lon float8, lat float8, node_id uuid, grid_id uuid, station_id uuid, node_path text, risk_level text, risk_factors jsonb, officer_id uuid, registered_by uuid, registered_at timestamptz, last_reviewed_at timestamptz, closed_at timestamptz, outcome text, transferred_to text, reopen_count int, updated_at timestamptz',
    disputes,
  );
  await bulk('dispute_party', 'dispute_id, kind, side, name, phone, demand, sort', 'dispute_id uuid, kind text, side text, name text, phone text, demand text, sort int', parties);
  await bulk('dispute_mediator', 'dispute_id, user_id, body, organisation, status, proposed_by, proposed_at, responded_at', 'dispute_id uuid, user_id uuid, body text, organisation text, status text, proposed_by uuid, proposed_at timestamptz, responded_at timestamptz', assignments);
  await bulk('mediation_session', 'dispute_id, held_at, place, attendees, notes, recorded_by, created_at', 'dispute_id uuid, held_at timestamptz, place text, attendees jsonb, notes text, recorded_by uuid, created_at timestamptz', sessions);
  await bulk('mediation_agreement', 'id, dispute_id, status, summary, proposed_at, signed_at, recorded_by', 'id uuid, dispute_id uuid, status text, summary text, proposed_at timestamptz, signed_at timestamptz, recorded_by uuid', agreements);
  await bulk('mediation_agreement_term', 'agreement_id, seq, text, amount, status', 'agreement_id uuid, seq int, text text, amount numeric, status text', terms);
  await bulk('dispute_follow_up', 'dispute_id, agreement_id, after_days, due_at, status, done_at, done_by, holds, recurred, note', 'dispute_id uuid, agreement_id uuid, after_days int, due_at timestamptz, status text, done_at timestamptz, done_by uuid, holds boolean, recurred boolean, note text', followUps);
  events.sort((a, b) => String(a.at).localeCompare(String(b.at)));
  await bulk('dispute_event', 'dispute_id, at, type, actor_id, data', 'dispute_id uuid, at timestamptz, type text, actor_id uuid, data jsonb', events);
  const counts = { disputes: disputes.length, sessions: sessions.length, agreements: agreements.length, followUps: followUps.length, events: events.length, from: start.toISOString(), to: end.toISOString(), seed: opts.seed ?? 8 };
  const [county] = await rows<{ path: string }>(tx, sql`select path from jurisdiction_node where code = '370523'`);
  await appendAudit(tx, null, { action: 'demo.mediation', entityType: 'dispute', nodePath: county?.path ?? null, details: counts });
  return counts;
}

async function cli() {
  const { loadConfig } = await import('../apps/server/src/platform/config.js');
  const { applyMigrations, openDatabase } = await import('../apps/server/src/platform/db/index.js');
  const { isEmpty, seedDemo } = await import('../apps/server/src/demo/seed.js');
  const { buildDemoCounty } = await import('./demo-county/county.js');
  const { figuresFor } = await import('../apps/server/src/modules/mediation/figures.js');
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const endArg = arg('end');
  const chinaToday = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  const end = new Date(`${endArg ?? chinaToday}T00:00:00+08:00`);
  const seed = Number(arg('seed') ?? 8);
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.PINGAN_DATA_DIR });
  try {
    await applyMigrations(database, config.DATABASE_URL);
    if (await isEmpty(database)) {
      console.log('demo:mediation: empty database, seeding the demo county first …');
      await seedDemo(database, buildDemoCounty());
    }
    const [done] = await database.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'demo.mediation'`);
    if ((done?.n ?? 0) > 0 && !process.argv.includes('--force')) {
      console.log('demo:mediation: the demo disputes are already there (--force adds another year).');
    } else {
      const t0 = Date.now();
      const counts = await database.db.transaction((tx) => insertDemoMediation(tx, { end, seed }));
      console.log(`demo:mediation: ${counts.disputes} disputes, ${counts.sessions} sessions, ${counts.agreements} agreements, ${counts.followUps} follow-ups in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    const [county] = await database.query<{ id: string; path: string }>(`select id, path from jurisdiction_node where code = '370523'`);
    const actor = { userId: '00000000-0000-0000-0000-000000000000', username: 'demo', displayName: 'demo', role: 'admin' as const, nodeId: county!.id, nodePath: county!.path, sessionId: null, ip: null };
    const r = await figuresFor(database.db, actor, { from: new Date(end.getTime() - 365 * 86400_000), to: end }, new Date());
    const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
    const cn = (iso: string) => new Date(new Date(iso).getTime() + 8 * 3600_000).toISOString().slice(0, 10);
    console.log(`\n${r.node.name} ${cn(r.from)} – ${cn(r.to)} (end exclusive, China time)`);
    console.log('unit'.padEnd(14), 'screened closed resolved transferred success median recurrence');
    for (const row of [{ name: '合计 total', ...r.total }, ...r.children]) {
      console.log(row.name.padEnd(14), String(row.screened).padStart(8), String(row.closed).padStart(6), String(row.resolved).padStart(8), String(row.transferred).padStart(11), pct(row.successRate).padStart(7), String(row.medianDays ?? '—').padStart(6), pct(row.recurrenceRate).padStart(10));
    }
  } finally {
    await database.close();
  }
}

// Not a top-level await: the demo seed imports this module, and the CLI imports the seed.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  cli().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
