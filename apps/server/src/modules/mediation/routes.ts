import { z } from 'zod';
import type { Role } from '@pingan/contracts';
import type { AppContext, ZodApp } from '../../platform/context.js';
import type { Tx } from '../../platform/db/index.js';
import { DomainError, unprocessable } from '../../platform/errors.js';
import { actorOf } from '../../platform/http/access-hook.js';
import { runIdempotent } from '../../platform/http/idempotency.js';
import { ApiErrorSchemas } from '../../platform/http/schemas.js';
import { assertCoversNode } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import { figuresFor, figuresWorkbook } from './figures.js';
import {
  AGREEMENT_FILE_MAX_BYTES, AGREEMENT_FILE_TYPES, AgreementBody, AssignBody, CASE_MANAGERS, CASE_READERS, CASE_WORKERS, CloseBody, FIGURE_READERS, FiguresQuery,
  FollowUpBody, ListQuery, REGISTRARS, RegisterBody, ReopenBody, RespondBody, ReviewBody, RISK_ASSESSORS, RiskInput, SessionBody, SETTING_EDITORS, SettingsBody,
  SignBody, TASK_HOLDERS, TaskDoneBody, TermBody, TransferBody,
} from './model.js';
import { disputeDetail, listDisputes, myTasks, screening } from './read.js';
import { type Announcements, createMediationService, settingsFor } from './service.js';
import { sendStoredFile } from '../../platform/http/files.js';

const IdParams = z.object({ id: z.string().uuid() });
const Ok = z.object({}).passthrough();
const SCREENERS: readonly Role[] = [...REGISTRARS, 'inspector'];
export const RISK_RAISED = 'mediation.risk_raised';

export function mediationRoutes(app: ZodApp, ctx: AppContext): void {
  const { database, bus } = ctx;
  const svc = createMediationService(ctx);
  const tags = ['mediation'];

  const announce = async (out: Announcements) => {
    for (const r of out.riskRaised) await bus.publish(RISK_RAISED, { disputeId: r.disputeId, nodePath: r.nodePath, level: r.level });
  };
  /** One transaction for a command; bus events only after it commits. */
  async function command<T>(work: (tx: Tx, out: Announcements) => Promise<T>): Promise<T> {
    const out: Announcements = { riskRaised: [] };
    const result = await database.db.transaction((tx) => work(tx, out));
    await announce(out);
    return result;
  }

  app.get(
    '/api/mediation/disputes',
    {
      config: { access: { roles: CASE_READERS } },
      schema: { tags, summary: 'Disputes of your jurisdiction (mediators: only those assigned to them), highest risk first; parties masked', querystring: ListQuery, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => listDisputes(database.db, actorOf(req), req.query, ctx.now()),
  );

  app.post(
    '/api/mediation/disputes',
    {
      config: { access: { roles: REGISTRARS } },
      schema: { tags, summary: 'Register a dispute (from a visit, a village stay, a call/incident, a walk-in or a partner); place resolved to grid and station (honours Idempotency-Key)', body: RegisterBody, response: { 201: Ok, ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const out: Announcements = { riskRaised: [] };
      const answer = await runIdempotent(database, req, reply, async (tx) => ({ status: 201, body: await svc.register(tx, actor, req.body, out) }));
      await announce(out);
      return answer;
    },
  );

  app.get(
    '/api/mediation/disputes/:id',
    {
      config: { access: { roles: CASE_READERS } },
      schema: { tags, summary: 'A case with parties (masked unless reveal=parties, audited), mediators, sessions, agreements, follow-ups and its timeline', params: IdParams, querystring: z.object({ reveal: z.enum(['parties']).optional() }), response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => disputeDetail(database, actorOf(req), req.params.id, req.query.reveal === 'parties', ctx.now()),
  );

  app.post(
    '/api/mediation/disputes/:id/risk',
    {
      config: { access: { roles: RISK_ASSESSORS } },
      schema: { tags, summary: 'Assess the risk (checklist + judgement); raising it to high/critical makes an urgent task for the grid officer and notifies the station leader', params: IdParams, body: RiskInput, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx, out) => svc.updateRisk(tx, actorOf(req), req.params.id, req.body, out)),
  );

  app.post(
    '/api/mediation/disputes/:id/review',
    {
      config: { access: { roles: REGISTRARS } },
      schema: { tags, summary: 'Rolling screening: record that the case was looked at again', params: IdParams, body: ReviewBody, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx) => svc.review(tx, actorOf(req), req.params.id, req.body)),
  );

  app.get(
    '/api/mediation/disputes/:id/mediator-candidates',
    {
      config: { access: { roles: CASE_MANAGERS } },
      schema: { tags, summary: 'Who may be asked to mediate this case (mediators and officers of its place)', params: IdParams, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => ({ items: await svc.candidates(database.db, actorOf(req), req.params.id) }),
  );

  app.post(
    '/api/mediation/disputes/:id/mediators',
    {
      config: { access: { roles: CASE_MANAGERS } },
      schema: { tags, summary: 'Ask a mediator (station, committee, justice office, law firm) to take the case; they must consent', params: IdParams, body: AssignBody, response: { 201: Ok, ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const res = await command((tx) => svc.assignMediator(tx, actorOf(req), req.params.id, req.body));
      return reply.code(201).send(res);
    },
  );

  app.post(
    '/api/mediation/assignments/:id/respond',
    {
      config: { access: { roles: CASE_WORKERS } },
      schema: { tags, summary: 'The asked mediator accepts or declines the case', params: IdParams, body: RespondBody, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx) => svc.respond(tx, actorOf(req), req.params.id, req.body)),
  );

  app.post(
    '/api/mediation/disputes/:id/sessions',
    {
      config: { access: { roles: CASE_WORKERS } },
      schema: { tags, summary: 'Record a mediation session: date, place, attendees, notes (honours Idempotency-Key)', params: IdParams, body: SessionBody, response: { 201: Ok, ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      return runIdempotent(database, req, reply, async (tx) => ({ status: 201, body: await svc.addSession(tx, actor, req.params.id, req.body) }));
    },
  );

  app.post(
    '/api/mediation/disputes/:id/agreements',
    {
      config: { access: { roles: CASE_WORKERS } },
      schema: { tags, summary: 'Propose an agreement: terms with amounts and deadlines (honours Idempotency-Key)', params: IdParams, body: AgreementBody, response: { 201: Ok, ...ApiErrorSchemas } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      return runIdempotent(database, req, reply, async (tx) => ({ status: 201, body: await svc.proposeAgreement(tx, actor, req.params.id, req.body) }));
    },
  );

  app.post(
    '/api/mediation/agreements/:id/sign',
    {
      config: { access: { roles: CASE_WORKERS } },
      schema: { tags, summary: 'The parties signed: the case is agreed and follow-up visits are scheduled (per the node settings, default 7 and 30 days)', params: IdParams, body: SignBody, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx) => svc.signAgreement(tx, actorOf(req), req.params.id, req.body)),
  );

  for (const type of AGREEMENT_FILE_TYPES) {
    if (!app.hasContentTypeParser(type)) app.addContentTypeParser(type, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  }
  app.put(
    '/api/mediation/agreements/:id/file',
    {
      config: { access: { roles: CASE_WORKERS } },
      // The route's limit wins over any parser's (an image parser may be registered with a smaller one).
      bodyLimit: AGREEMENT_FILE_MAX_BYTES,
      schema: {
        tags,
        summary: `Upload the signed agreement (raw body: ${AGREEMENT_FILE_TYPES.join(', ')}; ≤ 10 MiB; file name in x-file-name, URI-encoded)`,
        params: IdParams,
        response: { 204: z.null(), ...ApiErrorSchemas },
      },
    },
    async (req, reply) => {
      const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (!(AGREEMENT_FILE_TYPES as readonly string[]).includes(type)) {
        throw new DomainError(415, 'unsupported_media_type', `Send the signed document as the raw body with one of these content types: ${AGREEMENT_FILE_TYPES.join(', ')}.`);
      }
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw unprocessable('The file is empty.');
      const rawName = req.headers['x-file-name'];
      let name: string | null = null;
      if (typeof rawName === 'string' && rawName) {
        try {
          name = decodeURIComponent(rawName).slice(0, 200);
        } catch {
          name = rawName.slice(0, 200);
        }
      }
      const data = req.body;
      await command((tx) => svc.uploadAgreementFile(tx, actorOf(req), req.params.id, { data, type, name }));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/mediation/agreements/:id/file',
    { config: { access: { roles: CASE_READERS } }, schema: { tags, summary: 'The signed agreement document (the read is audited: it names the parties)', params: IdParams } },
    async (req, reply) => {
      const actor = actorOf(req);
      const f = await svc.agreementFile(database.db, actor, req.params.id);
      await database.db.transaction((tx) => appendAudit(tx, actor, { action: 'personal_data.read', entityType: 'dispute', entityId: f.dispute.id, nodePath: f.dispute.node_path, details: { fields: ['agreement.file'], agreementId: req.params.id } }));
      return sendStoredFile(reply, f);
    },
  );

  app.post(
    '/api/mediation/terms/:id/status',
    {
      config: { access: { roles: CASE_WORKERS } },
      schema: { tags, summary: 'Fulfilment of one agreement term (pending, fulfilled, breached)', params: IdParams, body: TermBody, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx) => svc.updateTerm(tx, actorOf(req), req.params.id, req.body)),
  );

  app.post(
    '/api/mediation/follow-ups/:id',
    {
      config: { access: { roles: CASE_WORKERS } },
      schema: { tags, summary: 'Record a follow-up visit: does the agreement hold, did the dispute recur (a recurrence reopens the case; the last holding visit closes it)', params: IdParams, body: FollowUpBody, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx) => svc.recordFollowUp(tx, actorOf(req), req.params.id, req.body)),
  );

  app.post(
    '/api/mediation/disputes/:id/transfer',
    {
      config: { access: { roles: CASE_MANAGERS } },
      schema: { tags, summary: 'Mediation failed: transfer to a court, labour arbitration, the justice office … (recorded as a transfer, not a success)', params: IdParams, body: TransferBody, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx) => svc.transfer(tx, actorOf(req), req.params.id, req.body)),
  );

  app.post(
    '/api/mediation/disputes/:id/close',
    {
      config: { access: { roles: CASE_MANAGERS } },
      schema: { tags, summary: 'Close without agreement (failed, withdrawn)', params: IdParams, body: CloseBody, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx) => svc.close(tx, actorOf(req), req.params.id, req.body)),
  );

  app.post(
    '/api/mediation/disputes/:id/reopen',
    {
      config: { access: { roles: CASE_MANAGERS } },
      schema: { tags, summary: 'Reopen a closed case', params: IdParams, body: ReopenBody, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx) => svc.reopenCase(tx, actorOf(req), req.params.id, req.body.note)),
  );

  app.get(
    '/api/mediation/tasks',
    {
      config: { access: { roles: TASK_HOLDERS } },
      schema: { tags, summary: 'My worklist: urgent risk tasks, follow-up visits now due, cases awaiting my consent', response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => myTasks(database.db, actorOf(req), ctx.now()),
  );

  app.post(
    '/api/mediation/tasks/:id/done',
    {
      config: { access: { roles: TASK_HOLDERS } },
      schema: { tags, summary: 'Mark an urgent task done (its assignee, or the station leader)', params: IdParams, body: TaskDoneBody, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx) => svc.completeTask(tx, actorOf(req), req.params.id, req.body.note)),
  );

  app.get(
    '/api/mediation/screening',
    {
      config: { access: { roles: SCREENERS } },
      schema: { tags, summary: 'Rolling screening per grid: open cases, not reviewed within the interval, high risk, rising trend', querystring: z.object({ nodeId: z.string().uuid().optional() }), response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => screening(database.db, actorOf(req), req.query.nodeId, ctx.now()),
  );

  app.get(
    '/api/mediation/figures',
    {
      config: { access: { roles: FIGURE_READERS } },
      schema: { tags, summary: 'Screened, resolved, success rate, median days, recurrence: for the node, its children, by type and by month (docs/decisions/015)', querystring: FiguresQuery, response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => figuresFor(database.db, actorOf(req), req.query, ctx.now()),
  );

  app.get(
    '/api/mediation/figures.xlsx',
    {
      config: { access: { roles: FIGURE_READERS } },
      // nodeId is required here: a download names its unit.
      schema: { tags, summary: 'The figures of a node as an Excel workbook (summary with children, by type, by month, definitions)', querystring: FiguresQuery.extend({ nodeId: z.string().uuid() }) },
    },
    async (req, reply) => {
      const report = await figuresFor(database.db, actorOf(req), req.query, ctx.now());
      const buf = await figuresWorkbook(report);
      const name = `mediation-figures-${report.from.slice(0, 7)}-${report.to.slice(0, 7)}.xlsx`;
      reply.header('content-disposition', `attachment; filename="${name}"`);
      return reply.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet').send(buf);
    },
  );

  app.get(
    '/api/mediation/settings',
    {
      config: { access: { roles: CASE_READERS } },
      schema: { tags, summary: 'Follow-up days and review interval in force at a node (own row or nearest ancestor)', querystring: z.object({ nodeId: z.string().uuid().optional() }), response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => {
      const actor = actorOf(req);
      const path = req.query.nodeId ? await assertCoversNode(database.db, actor, req.query.nodeId) : actor.nodePath;
      const s = await settingsFor(database.db, path);
      return { nodeId: req.query.nodeId ?? actor.nodeId, followUpDays: s.followUpDays, reviewIntervalDays: s.reviewIntervalDays, inheritedFrom: s.nodeId };
    },
  );

  app.put(
    '/api/mediation/settings',
    {
      config: { access: { roles: SETTING_EDITORS } },
      schema: { tags, summary: 'Set follow-up days (after signing) and the review interval for a node and below', body: SettingsBody.extend({ nodeId: z.string().uuid() }), response: { 200: Ok, ...ApiErrorSchemas } },
    },
    async (req) => command((tx) => svc.putSettings(tx, actorOf(req), req.body.nodeId, req.body)),
  );
}
