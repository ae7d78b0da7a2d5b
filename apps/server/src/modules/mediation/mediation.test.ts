import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import type { Role } from '@pingan/contracts';
import { createTestApp, type Placement, type TestApp } from '../../testing/app.js';
import { buildReport, computeFigures, type DisputeFact, type FollowUpFact } from './figures.js';
import { checklistLevel } from './model.js';

const A1 = { lon: 118.55, lat: 36.95 };
const B1 = { lon: 118.8, lat: 36.95 };
const day = 86400_000;

type J = Record<string, unknown> & { id: string };

function helpers(t: () => TestApp) {
  const call = async (role: Role, place: Placement, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, status = method === 'GET' ? 200 : undefined) => {
    const res = await t().as(role, place, { method, url, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
    if (status !== undefined) assert.equal(res.statusCode, status, `${method} ${url} as ${role}.${place}: ${res.body}`);
    return res;
  };
  const register = async (extra: Record<string, unknown> = {}, role: Role = 'community_officer', place: Placement = 'self') =>
    (
      await call(role, place, 'POST', '/api/mediation/disputes', {
        type: 'neighbours',
        source: 'walk_in',
        title: '宅基地边界纠纷',
        description: '两户因院墙边界发生争执',
        location: A1,
        parties: [
          { side: 'applicant', name: '张三丰', phone: '13612345678', idNumber: '370523199001011234', address: '李鹊镇李鹊村12号', demand: '拆除越界院墙' },
          { side: 'respondent', name: '李四', phone: '13787654321' },
          { side: 'other', kind: 'organisation', name: '李鹊村村民委员会' },
        ],
        ...extra,
      }, 201)
    ).json() as J;
  const detail = async (id: string, role: Role = 'community_officer', place: Placement = 'self', query = '') =>
    (await call(role, place, 'GET', `/api/mediation/disputes/${id}${query}`)).json() as J & { risk: { level: string } };
  const userId = (role: Role, place: Placement) => t().fx.userIds.get(`${role.replace(/_/g, '-')}.${place}`)!;
  /** Assign a mediator and let them accept. */
  const mediate = async (id: string, place: Placement = 'self', body = 'committee') => {
    const a = (await call('community_officer', 'self', 'POST', `/api/mediation/disputes/${id}/mediators`, { userId: userId('mediator', place), body }, 201)).json() as J;
    await call('mediator', place, 'POST', `/api/mediation/assignments/${a.id}/respond`, { accept: true }, 200);
    return a.id;
  };
  const agree = async (id: string, role: Role = 'mediator', place: Placement = 'self', signedAt?: string) => {
    const a = (await call(role, place, 'POST', `/api/mediation/disputes/${id}/agreements`, { summary: '协议', terms: [{ text: '拆除越界部分', deadline: '2026-12-31' }, { text: '赔偿损失', amount: 800 }] }, 201)).json() as J;
    const signed = (await call(role, place, 'POST', `/api/mediation/agreements/${a.id}/sign`, signedAt ? { signedAt } : {}, 200)).json() as { followUps: { afterDays: number }[] };
    return { agreementId: a.id, followUps: signed.followUps };
  };
  const followUps = async (id: string) =>
    t().ctx.database.query<{ id: string; after_days: number; status: string; due_at: Date }>('select id, after_days, status, due_at from dispute_follow_up where dispute_id = $1 order by due_at, after_days', [id]);
  return { call, register, detail, userId, mediate, agree, followUps };
}

describe('mediation: lifecycle, risk, masking and access', () => {
  let t: TestApp;
  const h = helpers(() => t);
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t?.close());

  it('registers a dispute from an incident: place resolved to grid and station, linked, numbered', async () => {
    const inc = await t.as('dispatcher', 'above', { method: 'POST', url: '/api/incidents', payload: { content: '邻居因院墙吵架', category: 'dispute', priority: 3, location: A1 } });
    assert.equal(inc.statusCode, 201, inc.body);
    const incidentId = (inc.json() as J).id;
    const created = await h.register({ source: 'call', incidentId, location: undefined });
    assert.equal(created.gridId, t.fx.nodes.get('370523106001')!.id);
    assert.equal(created.stationId, t.fx.target.id);
    assert.match(String(created.number), /^370523-TJ-\d{8}-\d{4}$/);
    const d = await h.detail(created.id);
    assert.equal(d.incidentId, incidentId);
    assert.equal(d.status, 'open');
    assert.equal(d.officerName, 'community_officer self');
    // One dispute per incident.
    const again = await t.as('community_officer', 'self', { method: 'POST', url: '/api/mediation/disputes', payload: { type: 'other', source: 'call', incidentId, title: '重复', description: '重复登记', parties: [{ side: 'applicant', name: '王五' }] } });
    assert.equal(again.statusCode, 409);
    // A place outside the officer's station is refused.
    const outside = await t.as('community_officer', 'self', { method: 'POST', url: '/api/mediation/disputes', payload: { type: 'other', source: 'walk_in', title: '外所', description: '外所纠纷', location: B1, parties: [{ side: 'applicant', name: '王五' }] } });
    assert.equal(outside.statusCode, 403);
  });

  it('runs the whole case: consent, session, agreement with terms and file, follow-ups, resolved; timeline in order', async () => {
    const { id } = await h.register();
    const assignment = (await h.call('community_officer', 'self', 'POST', `/api/mediation/disputes/${id}/mediators`, { userId: h.userId('mediator', 'self'), body: 'committee', organisation: '李鹊镇人民调解委员会' }, 201)).json() as J;
    // Asked but not yet consenting: may read, may not work.
    await h.call('mediator', 'self', 'GET', `/api/mediation/disputes/${id}`, undefined, 200);
    await h.call('mediator', 'self', 'POST', `/api/mediation/disputes/${id}/sessions`, { heldAt: new Date().toISOString(), place: '调解室', attendees: ['张三丰'], notes: '听取诉求' }, 403);
    // Only the asked mediator answers.
    await h.call('community_officer', 'self', 'POST', `/api/mediation/assignments/${assignment.id}/respond`, { accept: true }, 403);
    await h.call('mediator', 'self', 'POST', `/api/mediation/assignments/${assignment.id}/respond`, { accept: true }, 200);
    assert.equal((await h.detail(id)).status, 'mediating');
    await h.call('mediator', 'self', 'POST', `/api/mediation/disputes/${id}/sessions`, { heldAt: new Date(Date.now() - 3600_000).toISOString(), place: '村委会调解室', attendees: ['张三丰', '李四', '周调解员'], notes: '双方同意退让半米' }, 201);
    const { agreementId, followUps } = await h.agree(id);
    assert.deepEqual(followUps.map((f) => f.afterDays), [7, 30]);
    const up = await t.as('mediator', 'self', { method: 'PUT', url: `/api/mediation/agreements/${agreementId}/file`, headers: { 'content-type': 'application/pdf', 'x-file-name': encodeURIComponent('调解协议书.pdf') }, payload: Buffer.from('%PDF-1.4 signed') });
    assert.equal(up.statusCode, 204, up.body);
    const file = await t.as('community_officer', 'self', { method: 'GET', url: `/api/mediation/agreements/${agreementId}/file` });
    assert.equal(file.statusCode, 200);
    assert.equal(file.headers['content-type'], 'application/pdf');
    assert.equal(file.rawPayload.toString(), '%PDF-1.4 signed');
    const wrongType = await t.as('mediator', 'self', { method: 'PUT', url: `/api/mediation/agreements/${agreementId}/file`, headers: { 'content-type': 'text/plain' }, payload: 'x' });
    assert.ok([400, 415].includes(wrongType.statusCode), `text/plain refused (${wrongType.statusCode})`);

    let d = await h.detail(id);
    assert.equal(d.status, 'agreed');
    const agreement = (d.agreements as unknown as { terms: { id: string; amount: number | null; deadline: string | null }[]; file: { name: string } }[])[0]!;
    assert.equal(agreement.file.name, '调解协议书.pdf');
    assert.equal(agreement.terms[0]!.deadline, '2026-12-31');
    assert.equal(agreement.terms[1]!.amount, 800);
    for (const term of agreement.terms) await h.call('mediator', 'self', 'POST', `/api/mediation/terms/${term.id}/status`, { status: 'fulfilled' }, 200);

    const [f7, f30] = await h.followUps(id);
    assert.equal(f7!.after_days, 7);
    // Not due yet: not on anyone's worklist.
    const tasks = (await h.call('community_officer', 'self', 'GET', '/api/mediation/tasks')).json() as { items: { id: string }[] };
    assert.ok(!tasks.items.some((x) => x.id === f7!.id));
    assert.equal(((await h.call('mediator', 'self', 'POST', `/api/mediation/follow-ups/${f7!.id}`, { holds: true, recurred: false, note: '已拆除' }, 200)).json() as J).disputeStatus, 'agreed');
    assert.equal(((await h.call('community_officer', 'self', 'POST', `/api/mediation/follow-ups/${f30!.id}`, { holds: true, recurred: false, note: '关系和睦' }, 200)).json() as J).disputeStatus, 'resolved');
    d = await h.detail(id);
    assert.equal(d.status, 'resolved');
    assert.equal(d.outcome, 'agreement_held');
    const types = (d.timeline as unknown as { type: string }[]).map((e) => e.type);
    for (const expected of ['registered', 'mediator_proposed', 'mediator_accepted', 'session', 'agreement_proposed', 'agreement_signed', 'agreement_file', 'term', 'follow_up', 'closed']) {
      assert.ok(types.includes(expected), `timeline has ${expected}: ${types.join(', ')}`);
    }
    const audit = await t.ctx.database.query<{ action: string }>(`select action from audit_log where entity_id = $1 order by seq`, [id]);
    assert.ok(audit.some((a) => a.action === 'dispute.create') && audit.some((a) => a.action === 'dispute.close'));
  });

  it('a recurrence at follow-up reopens the case; remaining visits are cancelled; a new agreement can then hold', async () => {
    const { id } = await h.register({ type: 'noise' });
    await h.mediate(id);
    await h.agree(id);
    const [f7, f30] = await h.followUps(id);
    const r = (await h.call('mediator', 'self', 'POST', `/api/mediation/follow-ups/${f7!.id}`, { holds: true, recurred: true, note: '夜间噪声再次出现' }, 200)).json() as J;
    assert.equal(r.reopened, true);
    let d = await h.detail(id);
    assert.equal(d.status, 'mediating');
    assert.equal(d.reopenCount, 1);
    assert.equal((await h.followUps(id)).find((f) => f.id === f30!.id)!.status, 'cancelled');
    await h.call('mediator', 'self', 'POST', `/api/mediation/follow-ups/${f30!.id}`, { holds: true, recurred: false, note: 'x' }, 409);
    await h.agree(id);
    for (const f of (await h.followUps(id)).filter((x) => x.status === 'scheduled')) {
      await h.call('mediator', 'self', 'POST', `/api/mediation/follow-ups/${f.id}`, { holds: true, recurred: false, note: '已安装隔音' }, 200);
    }
    d = await h.detail(id);
    assert.equal(d.status, 'resolved');
    assert.ok((d.timeline as unknown as { type: string; data: { reason?: string } }[]).some((e) => e.type === 'reopened' && e.data.reason === 'recurrence'));
  });

  it('transfer to the court closes the case as transferred (not a success); close and reopen', async () => {
    const { id } = await h.register({ type: 'labour' });
    await h.mediate(id);
    await h.call('mediator', 'self', 'POST', `/api/mediation/disputes/${id}/transfer`, { to: 'court', note: 'x' }, 403);
    await h.call('community_officer', 'self', 'POST', `/api/mediation/disputes/${id}/transfer`, { to: 'labour_arbitration', note: '工伤认定需仲裁' }, 200);
    let d = await h.detail(id);
    assert.equal(d.status, 'transferred');
    assert.equal(d.outcome, 'transferred');
    assert.equal(d.transferredTo, 'labour_arbitration');
    await h.call('community_officer', 'self', 'POST', `/api/mediation/disputes/${id}/sessions`, { heldAt: new Date().toISOString(), place: 'x', attendees: ['x'], notes: 'x' }, 409);
    await h.call('station_leader', 'self', 'POST', `/api/mediation/disputes/${id}/reopen`, { note: '仲裁前再调一次' }, 200);
    d = await h.detail(id);
    assert.equal(d.status, 'mediating');
    assert.equal(d.outcome, null);
    await h.call('community_officer', 'self', 'POST', `/api/mediation/disputes/${id}/close`, { outcome: 'withdrawn', note: '申请人撤回' }, 200);
    assert.equal((await h.detail(id)).status, 'withdrawn');
  });

  it('raising the risk to high makes an urgent task for the grid officer, notifies the station leader (audit + bus); lowering needs a note', async () => {
    assert.equal(checklistLevel({ weapons: true }), 'critical');
    assert.equal(checklistLevel({ threats: true }), 'high');
    assert.equal(checklistLevel({ moneyAtStake: true }), 'medium');
    assert.equal(checklistLevel({}), 'low');
    const events: Record<string, unknown>[] = [];
    const stop = t.ctx.bus.subscribe('mediation.risk_raised', (p) => events.push(p));
    const { id } = await h.register({ risk: { factors: { moneyAtStake: true } } });
    assert.equal((await h.detail(id)).risk.level, 'medium');
    assert.equal(events.length, 0);
    const low = await t.as('community_officer', 'self', { method: 'POST', url: `/api/mediation/disputes/${id}/risk`, payload: { factors: { threats: true }, level: 'low' } });
    assert.equal(low.statusCode, 422, low.body);
    const raised = (await h.call('grid_worker', 'below', 'POST', `/api/mediation/disputes/${id}/risk`, { factors: { threats: true, priorViolence: true }, note: '扬言报复' }, 200)).json() as J;
    assert.equal(raised.riskLevel, 'high');
    assert.ok(raised.urgentTaskId);
    await new Promise((r) => setImmediate(r));
    stop();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.disputeId, id);
    assert.equal(events[0]!.nodePath, t.fx.nodes.get('370523106001')!.path);
    // The grid officer of A1 (the community officer there) has it on their list; the station's does not.
    const theirs = (await h.call('community_officer', 'below', 'GET', '/api/mediation/tasks')).json() as { items: { id: string; kind: string }[] };
    assert.ok(theirs.items.some((x) => x.id === raised.urgentTaskId && x.kind === 'risk_urgent'));
    const others = (await h.call('community_officer', 'self', 'GET', '/api/mediation/tasks')).json() as { items: { id: string }[] };
    assert.ok(!others.items.some((x) => x.id === raised.urgentTaskId));
    const [audit] = await t.ctx.database.query<{ details: { notifiedLeaders: string[]; gridOfficerId: string } }>(`select details from audit_log where action = 'mediation.risk_raised' and entity_id = $1`, [id]);
    assert.deepEqual(audit!.details.notifiedLeaders, [h.userId('station_leader', 'self')]);
    assert.equal(audit!.details.gridOfficerId, h.userId('community_officer', 'below'));
    // Raising again to critical makes another task; staying high does not.
    await h.call('community_officer', 'self', 'POST', `/api/mediation/disputes/${id}/risk`, { factors: { threats: true, priorViolence: true }, note: '复核' }, 200);
    await h.call('community_officer', 'self', 'POST', `/api/mediation/disputes/${id}/risk`, { factors: { weapons: true } }, 200);
    const [n] = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from mediation_task where dispute_id = $1`, [id]);
    assert.equal(n!.n, 2);
    await h.call('community_officer', 'self', 'POST', `/api/mediation/tasks/${raised.urgentTaskId}/done`, { note: 'x' }, 403);
    await h.call('community_officer', 'below', 'POST', `/api/mediation/tasks/${raised.urgentTaskId}/done`, { note: '已上门稳控，收缴刀具' }, 200);
  });

  it('masks parties by default; reveal for roles that need it, audited as personal_data.read', async () => {
    const { id } = await h.register();
    const masked = await h.detail(id);
    const [p0, , org] = masked.parties as unknown as { name: string; phone: string | null; idNumber: string | null; address: string | null }[];
    assert.equal(p0!.name, '张**');
    assert.equal(p0!.phone, '136****5678');
    assert.equal(p0!.idNumber, '370***********1234');
    assert.equal(p0!.address, '李鹊镇***');
    assert.equal(org!.name, '李鹊村村民委员会', 'organisations are not masked');
    const list = (await h.call('community_officer', 'self', 'GET', `/api/mediation/disputes?state=all`)).json() as { items: { id: string; parties: string[] }[] };
    assert.ok(list.items.find((x) => x.id === id)!.parties.includes('张**'));
    assert.ok(!JSON.stringify(list).includes('张三丰'));
    const before = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'personal_data.read' and entity_id = $1`, [id]);
    const full = await h.detail(id, 'community_officer', 'self', '?reveal=parties');
    assert.equal((full.parties as unknown as { name: string; phone: string }[])[0]!.name, '张三丰');
    assert.equal((full.parties as unknown as { name: string; phone: string }[])[0]!.phone, '13612345678');
    const afterRead = await t.ctx.database.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'personal_data.read' and entity_id = $1`, [id]);
    assert.equal(afterRead[0]!.n, before[0]!.n + 1);
    await h.call('auxiliary', 'self', 'GET', `/api/mediation/disputes/${id}?reveal=parties`, undefined, 403);
    await h.call('inspector', 'above', 'GET', `/api/mediation/disputes/${id}?reveal=parties`, undefined, 403);
  });

  it('a justice-office mediator (at the county) sees only the cases assigned to them', async () => {
    const mine = (await h.register({ type: 'debt' })).id;
    const notMine = (await h.register({ type: 'debt' })).id;
    // Before any assignment: nothing listed, the case is forbidden.
    let list = (await h.call('mediator', 'above', 'GET', '/api/mediation/disputes?state=all')).json() as { items: { id: string }[] };
    assert.ok(!list.items.some((x) => x.id === mine || x.id === notMine));
    await h.call('mediator', 'above', 'GET', `/api/mediation/disputes/${mine}`, undefined, 403);
    await h.mediate(mine, 'above', 'justice_office');
    list = (await h.call('mediator', 'above', 'GET', '/api/mediation/disputes?state=all')).json() as { items: { id: string }[] };
    assert.ok(list.items.some((x) => x.id === mine));
    assert.ok(!list.items.some((x) => x.id === notMine));
    await h.call('mediator', 'above', 'GET', `/api/mediation/disputes/${mine}`, undefined, 200);
    await h.call('mediator', 'above', 'GET', `/api/mediation/disputes/${notMine}`, undefined, 403);
    await h.call('mediator', 'above', 'POST', `/api/mediation/disputes/${notMine}/sessions`, { heldAt: new Date().toISOString(), place: 'x', attendees: ['x'], notes: 'x' }, 403);
    await h.call('mediator', 'above', 'POST', `/api/mediation/disputes/${mine}/sessions`, { heldAt: new Date().toISOString(), place: '司法所', attendees: ['张三丰'], notes: '释法说理' }, 201);
    // A mediator of the sibling station cannot be asked; candidates list says who can.
    const sibling = await t.as('community_officer', 'self', { method: 'POST', url: `/api/mediation/disputes/${notMine}/mediators`, payload: { userId: h.userId('mediator', 'sibling'), body: 'law_firm' } });
    assert.equal(sibling.statusCode, 422, sibling.body);
    const candidates = (await h.call('community_officer', 'self', 'GET', `/api/mediation/disputes/${notMine}/mediator-candidates`)).json() as { items: { id: string }[] };
    const ids = new Set(candidates.items.map((c) => c.id));
    assert.ok(ids.has(h.userId('mediator', 'above')) && ids.has(h.userId('mediator', 'self')) && ids.has(h.userId('mediator', 'below')));
    assert.ok(!ids.has(h.userId('mediator', 'sibling')));
    // The other station sees none of it.
    const b = (await h.call('station_leader', 'sibling', 'GET', '/api/mediation/disputes?state=all')).json() as { items: unknown[] };
    assert.equal(b.items.length, 0);
  });

  it('follow-ups appear as tasks when due (0-day setting); rolling screening flags cases not reviewed', async () => {
    await h.call('station_leader', 'self', 'PUT', '/api/mediation/settings', { nodeId: t.fx.target.id, followUpDays: [0, 30], reviewIntervalDays: 10 }, 200);
    const s = (await h.call('mediator', 'below', 'GET', `/api/mediation/settings?nodeId=${t.fx.nodes.get('370523106001')!.id}`)).json() as J;
    assert.deepEqual(s.followUpDays, [0, 30]);
    assert.equal(s.inheritedFrom, t.fx.target.id);
    const { id } = await h.register({ type: 'family' });
    await h.mediate(id);
    await h.agree(id);
    const [due, later] = await h.followUps(id);
    for (const [role, place] of [['community_officer', 'self'], ['mediator', 'self']] as const) {
      const items = ((await h.call(role, place, 'GET', '/api/mediation/tasks')).json() as { items: { id: string; kind: string; disputeId: string }[] }).items;
      assert.ok(items.some((x) => x.id === due!.id && x.kind === 'follow_up'), `${role} sees the due follow-up`);
      assert.ok(!items.some((x) => x.id === later!.id), 'the 30-day visit is not due');
    }
    // Rolling screening: an old unreviewed case is overdue until someone reviews it.
    const old = await h.register({ registeredAt: new Date(Date.now() - 20 * day).toISOString() });
    let screen = (await h.call('community_officer', 'self', 'GET', `/api/mediation/screening?nodeId=${t.fx.target.id}`)).json() as { reviewIntervalDays: number; grids: { gridId: string; overdue: number; open: number }[] };
    assert.equal(screen.reviewIntervalDays, 10);
    const g = screen.grids.find((x) => x.gridId === t.fx.nodes.get('370523106001')!.id)!;
    assert.ok(g.overdue >= 1 && g.open >= 1);
    const overdueList = (await h.call('community_officer', 'self', 'GET', '/api/mediation/disputes?overdue=true')).json() as { items: { id: string }[] };
    assert.ok(overdueList.items.some((x) => x.id === old.id));
    await h.call('grid_worker', 'below', 'POST', `/api/mediation/disputes/${old.id}/review`, { note: '入户走访，暂无激化' }, 200);
    screen = (await h.call('community_officer', 'self', 'GET', `/api/mediation/screening?nodeId=${t.fx.target.id}`)).json() as typeof screen;
    assert.equal(screen.grids.find((x) => x.gridId === g.gridId)!.overdue, g.overdue - 1);
  });
});

describe('mediation figures', () => {
  it('computes a hand-made case: success over closed, median days, recurrence, by month', () => {
    const at = (s: string) => new Date(`${s}T10:00:00+08:00`);
    const p = '/c/a/';
    const d = (id: string, type: string, reg: string, closed: string | null, outcome: string | null, signed: string | null, path = p): DisputeFact => ({
      id, type, nodePath: path, registeredAt: at(reg), closedAt: closed ? at(closed) : null, outcome, signedAt: signed ? at(signed) : null,
    });
    const disputes = [
      d('1', 'neighbours', '2026-01-05', '2026-02-10', 'agreement_held', '2026-01-09'), // 4 days
      d('2', 'neighbours', '2026-01-20', '2026-03-01', 'agreement_held', '2026-01-30'), // 10 days
      d('3', 'debt', '2026-02-01', '2026-02-20', 'transferred', null),
      d('4', 'debt', '2026-02-03', '2026-02-25', 'failed', null),
      d('5', 'noise', '2026-02-10', null, null, '2026-02-12'), // agreed, recurred, reopened
      d('6', 'family', '2026-03-15', null, null, null, '/c/b/'), // open, other station
      d('7', 'neighbours', '2026-03-02', '2026-03-30', 'agreement_held', '2026-03-09'), // 7 days
    ];
    const f = (id: string, done: string, recurred: boolean, type = 'neighbours', path = p): FollowUpFact => ({ disputeId: id, type, nodePath: path, doneAt: at(done), recurred });
    const followUps = [f('1', '2026-01-16', false), f('1', '2026-02-10', false), f('2', '2026-03-01', false), f('5', '2026-02-19', true, 'noise'), f('7', '2026-03-30', false)];
    const from = new Date('2026-01-01T00:00:00+08:00');
    const to = new Date('2026-04-01T00:00:00+08:00');
    const all = computeFigures(disputes, followUps, from, to);
    // 7 screened; closed 1,2,3,4,7 = 5; resolved 1,2,7 = 3; success 3/5; median of 4,10,7 = 7;
    // followed up 1,2,5,7 = 4 disputes, recurred 5 → 1/4.
    assert.deepEqual(all, { screened: 7, closed: 5, resolved: 3, transferred: 1, failed: 1, successRate: 0.6, medianDays: 7, followedUp: 4, recurred: 1, recurrenceRate: 0.25 });
    const report = buildReport({ id: 'c', name: '县', level: 'county' }, [{ id: 'a', name: 'A', level: 'station', path: p }, { id: 'b', name: 'B', level: 'station', path: '/c/b/' }], disputes, followUps, from, to);
    assert.deepEqual(report.byMonth.map((m) => [m.month, m.screened, m.closed, m.resolved, m.successRate]), [
      ['2026-01', 2, 0, 0, null],
      ['2026-02', 3, 3, 1, 0.3333],
      ['2026-03', 2, 2, 2, 1],
    ]);
    assert.equal(report.children[0]!.screened, 6);
    assert.equal(report.children[1]!.screened, 1);
    assert.equal(report.children[1]!.successRate, null);
    const debt = report.byType.find((x) => x.type === 'debt')!;
    assert.deepEqual([debt.closed, debt.resolved, debt.successRate], [2, 0, 0]);
    assert.equal(report.byType.find((x) => x.type === 'neighbours')!.medianDays, 7);
  });

  describe('through the API', () => {
    let t: TestApp;
    const h = helpers(() => t);
    before(async () => {
      t = await createTestApp();
    });
    after(async () => t?.close());

    it('agrees with the hand count for cases worked through the API, and exports xlsx', async () => {
      await h.call('station_leader', 'self', 'PUT', '/api/mediation/settings', { nodeId: t.fx.target.id, followUpDays: [0], reviewIntervalDays: 30 }, 200);
      const ago = (days: number) => new Date(Date.now() - days * day).toISOString();
      // D1: registered 10 days ago, signed 6 days ago (4 days), the visit holds → resolved.
      const d1 = (await h.register({ registeredAt: ago(10) })).id;
      await h.mediate(d1);
      await h.agree(d1, 'mediator', 'self', ago(6));
      const [f1] = await h.followUps(d1);
      await h.call('mediator', 'self', 'POST', `/api/mediation/follow-ups/${f1!.id}`, { holds: true, recurred: false, note: '良好' }, 200);
      // D2: transferred. D3: failed. D4: open.
      const d2 = (await h.register({ type: 'labour', registeredAt: ago(5) })).id;
      await h.call('community_officer', 'self', 'POST', `/api/mediation/disputes/${d2}/transfer`, { to: 'court', note: '起诉' }, 200);
      const d3 = (await h.register({ type: 'debt', registeredAt: ago(5) })).id;
      await h.call('community_officer', 'self', 'POST', `/api/mediation/disputes/${d3}/close`, { outcome: 'failed', note: '分歧大' }, 200);
      await h.register({ type: 'debt', registeredAt: ago(2) });
      // D5: agreed 8 days after registration, the visit finds a recurrence → reopened.
      const d5 = (await h.register({ type: 'noise', registeredAt: ago(10) })).id;
      await h.mediate(d5);
      await h.agree(d5, 'mediator', 'self', ago(2));
      const [f5] = await h.followUps(d5);
      await h.call('mediator', 'self', 'POST', `/api/mediation/follow-ups/${f5!.id}`, { holds: false, recurred: true, note: '再次争吵' }, 200);

      const fig = (await h.call('station_leader', 'self', 'GET', `/api/mediation/figures?nodeId=${t.fx.target.id}`)).json() as {
        total: Record<string, number | null>;
        children: { id: string; screened: number }[];
        byType: { type: string; closed: number; resolved: number }[];
        byMonth: { month: string }[];
      };
      assert.deepEqual(fig.total, { screened: 5, closed: 3, resolved: 1, transferred: 1, failed: 1, successRate: 0.3333, medianDays: 4, followedUp: 2, recurred: 1, recurrenceRate: 0.5 });
      assert.equal(fig.children.find((c) => c.id === t.fx.nodes.get('370523106001')!.id)!.screened, 5);
      assert.deepEqual(fig.byType.find((x) => x.type === 'labour'), { ...fig.byType.find((x) => x.type === 'labour')!, closed: 1, resolved: 0 });
      assert.equal(fig.byMonth.length, 12);
      // The county sees the same under station A; station B sees nothing.
      const county = (await h.call('admin', 'above', 'GET', `/api/mediation/figures?nodeId=${t.fx.nodes.get('370523')!.id}`)).json() as typeof fig;
      assert.equal(county.children.find((c) => c.id === t.fx.target.id)!.screened, 5);
      assert.equal(county.children.find((c) => c.id === t.fx.sibling.id)!.screened, 0);

      const xlsx = await t.as('station_leader', 'self', { method: 'GET', url: `/api/mediation/figures.xlsx?nodeId=${t.fx.target.id}` });
      assert.equal(xlsx.statusCode, 200);
      assert.match(String(xlsx.headers['content-type']), /spreadsheetml/);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
      const sheet = wb.worksheets[0]!;
      assert.equal(sheet.getRow(2).getCell(2).value, 5);
      assert.equal(sheet.getRow(2).getCell(7).value, 0.3333);
      assert.equal(wb.worksheets.length, 4);
    });
  });
});
