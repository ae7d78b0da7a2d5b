/**
 * Dispute mediation in a real browser: the community officer registers a dispute from an incident and
 * asks the station's mediator, who consents, records a session and a signed agreement (with the
 * document); the follow-up visit appears on the worklist when due (the station's follow-up setting is
 * 0 and 30 days, so the first visit is due at once).
 *
 *   node --import tsx --test e2e/mediation.test.ts
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { buildDemoCounty } from '../tools/demo-county/county.js';
import { DEMO_PASSWORD, chooseOption, screenshotDir, skipReason, startHarness, type Harness } from './harness.js';

const skip = skipReason();
if (skip) console.log(skip);

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, name), fullPage: true });
}

describe('dispute mediation', { skip }, () => {
  let h: Harness;
  const api = async <T>(token: string, method: string, url: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${h.baseUrl}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const token = async (username: string) => (await api<{ token: string }>('', 'POST', '/api/auth/token', { username, password: DEMO_PASSWORD })).token;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('registers from an incident, assigns the mediator, who records a session and an agreement; the follow-up appears when due', async () => {
    // A point in a grid of 李鹊 (the demo county is deterministic).
    const dispatcher = await token('dispatcher');
    let point: { lon: number; lat: number } | null = null;
    for (const g of buildDemoCounty().nodes.filter((n) => n.level === 'grid' && n.parentCode === '370523106' && n.geometry)) {
      const ring = g.geometry!.coordinates[0]![0]!;
      const lon = ring.reduce((a, p) => a + p[0]!, 0) / ring.length;
      const lat = ring.reduce((a, p) => a + p[1]!, 0) / ring.length;
      const found = await api<{ chain: { level: string; code: string }[] }>(dispatcher, 'GET', `/api/lookup?lon=${lon}&lat=${lat}`);
      if (found.chain.some((n) => n.level === 'station' && n.code === '370523106')) {
        point = { lon, lat };
        break;
      }
    }
    assert.ok(point, 'a point in 李鹊');
    const incident = await api<{ id: string; number: string }>(dispatcher, 'POST', '/api/incidents', {
      content: '两户邻居因院墙越界争吵，情绪激动', category: 'dispute.neighbour', priority: 3, location: point, callerPhone: '13912340000',
    });
    // The station's follow-up visits: at once (0 days) and after 30 days.
    const leader = await token('leader.lique');
    const me = await api<{ user: { nodeId: string } }>(leader, 'GET', '/api/auth/me');
    await api(leader, 'PUT', '/api/mediation/settings', { nodeId: me.user.nodeId, followUpDays: [0, 30], reviewIntervalDays: 30 });

    // The community officer registers the dispute from the incident.
    const officer = await h.newPage();
    await h.login(officer, 'officer.lique');
    await officer.goto('/mediation');
    await officer.getByTestId('page-mediation').waitFor();
    await officer.getByTestId('register-dispute').click();
    await officer.getByLabel('关联警情').click();
    await officer.keyboard.type(incident.number);
    await chooseOption(officer, incident.number);
    await officer.getByTestId('register-title').fill('院墙越界邻里纠纷');
    await officer.getByTestId('register-description').fill('两户因院墙越界半米多次争吵，一方扬言拆墙。');
    await officer.getByTestId('party-name-0').fill('张建国');
    await officer.getByTestId('party-phone-0').fill('13612345678');
    await officer.getByTestId('party-name-1').fill('李秀英');
    await officer.getByTestId('register-submit').click();
    await officer.waitForURL(/\/mediation\/cases\//);
    await officer.getByTestId('case-incident').waitFor();
    assert.equal(await officer.getByTestId('case-incident').innerText(), incident.number);
    assert.equal(await officer.getByTestId('case-status').getAttribute('data-status'), 'open');
    // Parties are masked by default.
    assert.match(await officer.getByTestId('parties-table').innerText(), /张\*\*/);
    assert.match(await officer.getByTestId('parties-table').innerText(), /136\*\*\*\*5678/);
    const caseUrl = new URL(officer.url()).pathname;

    // … and asks the station's mediator.
    await officer.getByTestId('action-assign').click();
    await officer.locator('.ant-modal #userId').click();
    await officer.keyboard.type('周调解员');
    await chooseOption(officer, '周调解员');
    await officer.getByTestId('action-submit').click();
    await officer.getByTestId('mediator-row').filter({ hasText: '周调解员' }).waitFor();

    // The mediator finds the request on the worklist, consents, records a session and the agreement.
    const mediator = await h.newPage();
    await h.login(mediator, 'mediator.lique');
    await mediator.goto('/mediation/worklist');
    const consent = mediator.locator('[data-testid="task-row"][data-kind="consent"]').filter({ hasText: '院墙越界邻里纠纷' });
    await consent.waitFor();
    await consent.getByTestId('task-open').click();
    await mediator.waitForURL(`**${caseUrl}`);
    await mediator.getByTestId('accept-case').click();
    await mediator.locator('[data-testid="case-status"][data-status="mediating"]').waitFor();

    await mediator.getByTestId('action-session').click();
    await mediator.getByTestId('session-place').fill('李鹊村委会调解室');
    await mediator.getByTestId('session-attendees').fill('张建国\n李秀英\n周调解员\n张警官');
    await mediator.getByTestId('session-notes').fill('双方陈述诉求，经释法说理，同意按宅基地证重新确界。');
    await mediator.getByTestId('action-submit').click();
    await mediator.getByTestId('sessions-table').getByText('李鹊村委会调解室').waitFor();

    await mediator.getByTestId('action-agreement').click();
    await mediator.getByTestId('agreement-summary').fill('按宅基地证确界，拆除越界部分');
    await mediator.getByTestId('term-text-0').fill('李秀英于十日内拆除越界院墙');
    await mediator.getByTestId('term-amount-0').fill('0');
    await mediator.getByTestId('action-submit').click();
    await mediator.getByTestId('sign-agreement').click();
    await mediator.locator('[data-testid="case-status"][data-status="agreed"]').waitFor();
    await mediator.locator('[data-testid="agreements"] input[type=file]').setInputFiles({ name: '调解协议书.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 signed agreement') });
    await mediator.getByTestId('agreement-file').waitFor();
    assert.match(await mediator.getByTestId('agreement-file').innerText(), /调解协议书\.pdf/);
    for (const type of ['registered', 'mediator_accepted', 'session', 'agreement_signed', 'agreement_file']) {
      await mediator.locator(`[data-testid="timeline-item"][data-type="${type}"]`).first().waitFor();
    }
    await shot(mediator, 'mediation-case.png');

    // The first follow-up (0 days) is due now: it is on the worklist of the mediator and of the officer.
    for (const page of [mediator, officer]) {
      await page.goto('/mediation/worklist');
      await page.locator('[data-testid="task-row"][data-kind="follow_up"]').filter({ hasText: '院墙越界邻里纠纷' }).waitFor();
    }
    await shot(officer, 'mediation-worklist.png');

    // The mediator records it from the case page; the 30-day visit stays scheduled.
    await mediator.goto(caseUrl);
    await mediator.getByTestId('record-follow-up').first().click();
    await mediator.getByTestId('action-note').fill('回访：院墙已拆除，双方和好。');
    await mediator.getByTestId('action-submit').click();
    await mediator.locator('[data-testid="timeline-item"][data-type="follow_up"]').waitFor();
    assert.equal(await mediator.getByTestId('case-status').getAttribute('data-status'), 'agreed');

    // The figures page draws its charts.
    const leaderPage = await h.newPage();
    await h.login(leaderPage, 'leader.lique');
    await leaderPage.goto('/mediation/figures');
    await leaderPage.getByTestId('chart-month').locator('canvas').waitFor();
    await leaderPage.getByTestId('figures-children').locator('tbody tr').first().waitFor();
    await shot(leaderPage, 'mediation-figures.png');
  });
});
