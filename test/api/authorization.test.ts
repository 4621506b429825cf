/**
 * Who may call what: one table, written here independently of the routes' own
 * declarations, walked against every route the app serves × every kind of caller.
 * A refused request answers 401 (no credentials) or 403 (wrong ones) and changes nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { SignJWT } from 'jose';
import type { Response, Test } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenSigner } from '../../src/auth/tokens.ts';
import type { RouteSpec } from '../../src/api/route-spec.ts';
import { stateQuery } from '../../workflows/initiative.ts';
import { meetingStateQuery, type panelMeetingWorkflow } from '../../workflows/meeting.ts';
import { extraMeetingIdOf, upcomingMeetings, type PlannedMeeting } from '../../src/domain/meetings.ts';
import { calendarRules, meetingInput } from '../../src/temporal/schedule.ts';
import { createTestContext, DEMO_PASSWORD, eventually, type TestContext } from '../helpers/context.ts';
import { pdfBytes, pngBytes, validApplication } from '../helpers/fixtures.ts';
import { grant, grantWithDocument, waitForStatus, type Granted } from '../helpers/grants.ts';

let ctx: TestContext;
const staffTokens = {} as Record<StaffRole, string>;

beforeAll(async () => {
  ctx = await createTestContext();
  staffTokens.panel = await ctx.staff.panel();
  staffTokens.welfare = await ctx.staff.welfare();
  staffTokens.admin = await ctx.staff.admin();
  staffTokens.finance = await ctx.login('financien@buurtfonds.test');
  const upcoming = upcomingMeetings(calendarRules(ctx.config), [], new Date(), 13);
  [meeting, toSkip, toMove] = [upcoming[10]!, upcoming[11]!, upcoming[12]!];
  // An extra meeting three days after `meeting` (no other test file adds one that day): its cut-off months ahead.
  extraMeeting = { date: plusDays(meeting.date, 3), time: '10:17', cutoffTime: '10:00' };
});
afterAll(async () => {
  if (meetingStarted) await ctx.client.workflow.getHandle(meeting.meetingId).terminate('test over').catch(() => undefined);
  if (extraMeeting) await ctx.client.workflow.getHandle(extraMeetingIdOf(extraMeeting.date, extraMeeting.time)).terminate('test over').catch(() => undefined);
  await ctx?.close();
});

/** The callers the table distinguishes. `applicant`: the applicant of the application in the path. */
const roles = ['anonymous', 'applicant', 'other_applicant', 'panel', 'welfare', 'admin', 'finance'] as const;
type Role = (typeof roles)[number];
type StaffRole = 'panel' | 'welfare' | 'admin' | 'finance';
/**
 * In a row's `allow`, `welfare_case`: the `welfare` caller (welzijn1, of Woej) only on
 * applications of their cases. On the row's own application (no support case) it gets
 * 404 not_found, as if it did not exist, and changes nothing; on `ownCase` (a grant in
 * Woej's support queue) the row's `ok`. A list shows them only their cases.
 */
type Allowed = Role | 'welfare_case';
const everyone: readonly Role[] = roles;

interface Fixture {
  id: string;
  reference: string;
  token: string;
  documentId: string;
}

interface Case {
  allow: readonly Allowed[];
  /** Brings the application to the state in which an allowed call succeeds. */
  prepare?: (app: Fixture) => Promise<void>;
  /** Runs before each allowed call (after the refusals): for a call that succeeds only once per state (a batch takes every pending payout). */
  prepareEach?: (app: Fixture) => Promise<void>;
  /** A request that succeeds for an allowed caller, so a refusal is the only reason nothing happens. */
  send: (app: Fixture) => Test;
  /** The status an allowed caller gets. */
  ok: number;
  /** Waits until what the allowed calls set going has landed, so later rows compare a still state. */
  settle?: (app: Fixture) => Promise<void>;
}

/**
 * The meeting the meeting rows act on: a regular date months ahead (no other test file's
 * meeting workflow has that id), its agenda frozen at once (cut-off now). Its agenda holds
 * the fixtures of the rows that vote, recuse, invite and close, so "applicant" is the
 * applicant of an item on the agenda. Skip and move use later regular dates whose
 * cut-off is still ahead.
 */
let meeting: PlannedMeeting;
let toSkip: PlannedMeeting;
let toMove: PlannedMeeting;
let meetingStarted = false;
let extraMeeting: { date: string; time: string; cutoffTime: string } | undefined;
const plusDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
let opened: Promise<void> | undefined;
/** Fixtures of the rows whose application is on the meeting's agenda (set by the walk). */
const agendaFixtures: Fixture[] = [];
const agendaRows = ['votes', 'recusals', 'invitations', 'close'].map((a) => `POST /api/v1/meetings/:id/${a}`);

const openMeeting = () => (opened ??= startMeeting());
async function startMeeting(): Promise<void> {
  const panel = staffTokens.panel;
  for (const app of agendaFixtures) {
    const res = await ctx.http().post(`/api/v1/applications/${app.id}/screening/complete`).set('Authorization', `Bearer ${panel}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  await ctx.client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', {
    taskQueue: ctx.config.temporal.taskQueue,
    workflowId: meeting.meetingId,
    args: [{ ...meetingInput(ctx.config, meeting), cutoffAt: new Date().toISOString() }],
  });
  meetingStarted = true;
  const handle = ctx.client.workflow.getHandle(meeting.meetingId);
  const state = await eventually(async () => {
    const s = await handle.query(meetingStateQuery);
    return s.status === 'open' ? s : undefined;
  }, 15_000, 'meeting agenda frozen');
  expect(state.agenda.map((i) => i.applicationId)).toEqual(expect.arrayContaining(agendaFixtures.map((a) => a.id)));
  expect(state.chairId).toBeDefined();
  // Everything the freeze set going has landed: every item scheduled, its applicant mailed, the members mailed.
  for (const item of state.agenda) {
    await eventually(async () => {
      const [doc, mail] = await Promise.all([
        ctx.models.Application.findById(item.applicationId, { status: 1 }).lean(),
        ctx.models.Outbox.findById(`${item.applicationId}:meeting:${meeting.meetingId}`, { status: 1 }).lean(),
      ]);
      return doc?.status === 'scheduled' && mail?.status === 'sent';
    }, 15_000, `${item.applicationId} scheduled and mailed`);
  }
  await eventually(async () => (await ctx.models.Outbox.countDocuments({ _id: new RegExp(`^${meeting.meetingId}:agenda:`), status: 'sent' })) === state.members.length, 15_000, 'agenda mailed');
}

/** A panel member made for one row (deactivating or naming the demo members would change the other rows' callers). */
async function extraMember(label: string): Promise<string> {
  const id = randomUUID();
  await ctx.models.StaffUser.create({ _id: id, email: `${label}@buurtfonds.test`, name: `Panellid ${label}`, role: 'panel', chair: false, active: true, passwordHash: 'x', createdAt: new Date() });
  return id;
}
const members: Record<string, string> = {};

/**
 * The money rows act on real grants: submitted, screened and granted through the worker
 * (test/helpers/grants.ts), so each has a reserved budget and a pending payout. Budget
 * year 2027 (the fixture's activity date).
 */
const granted: Granted[] = [];
async function newGrant(): Promise<Granted> {
  const g = await grant(ctx, { title: `Toekenning ${granted.length + 1}`, accountHolder: `Ontvanger ${granted.length + 1}` });
  granted.push(g);
  return g;
}
/** A batch made by finance through the API from a fresh grant (and whatever else is pending). */
async function newBatch(): Promise<string> {
  await newGrant();
  const res = await ctx.http().post('/api/v1/payouts/batches').set('Authorization', `Bearer ${staffTokens.finance}`);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}
/** The batch the GET rows read, and the batch the next allowed "executed" call executes. */
const batches: { toRead?: string; toExecute?: string } = {};
async function ensurePending(): Promise<void> {
  if ((await ctx.models.Payout.countDocuments({ status: 'pending' })) === 0) await newGrant();
}
async function ensureUnexecutedBatch(): Promise<void> {
  const id = batches.toExecute;
  if (id && !(await ctx.models.PayoutEvent.exists({ kind: 'executed', batchId: id }))) return;
  batches.toExecute = await newBatch();
}
/** Everything the executed batches set going has landed: each grant paid in the ledger and its initiative `paid`. */
async function allPaidSettled(): Promise<void> {
  const paid = new Set((await ctx.models.Payout.find({ status: 'paid' }, { applicationId: 1 }).lean()).map((p) => p.applicationId));
  for (const g of granted.filter((g) => paid.has(g.id))) {
    await waitForStatus(ctx, g, 'paid');
    await eventually(async () => (await ctx.models.Outbox.findById(`${g.id}:paid`, { status: 1 }).lean())?.status === 'sent', 15_000, `${g.reference} paid mail`);
  }
}
const finance: readonly Role[] = ['finance', 'admin'];

/**
 * The support rows act on the support case a grant opens (the fixture applicant asked
 * for help), held or not by welzijn1 (the table's `welfare` caller) as each row needs.
 */
let supportCase: Granted | undefined;
const staffId = async (email: string) => (await ctx.models.StaffUser.findOne({ email }, { _id: 1 }).lean())!._id;
async function ensureSupportCase(): Promise<Granted> {
  if (!supportCase) {
    const g = await newGrant();
    await eventually(async () => (await ctx.deps.support.get(g.id))?.state === 'unclaimed', 20_000, 'the support case queued');
    supportCase = g;
  }
  return supportCase;
}
async function supportUnclaimed(): Promise<void> {
  const g = await ensureSupportCase();
  if ((await ctx.deps.support.get(g.id))?.state === 'claimed') await ctx.deps.support.release(g.id, { id: await staffId('admin@buurtfonds.test'), role: 'admin' });
}
let welzijn2Id = '';
async function supportHeldByWelfare(): Promise<void> {
  const g = await ensureSupportCase();
  welzijn2Id ||= await staffId('welzijn2@buurtfonds.test');
  const welzijn1 = await staffId('welzijn1@buurtfonds.test');
  const c = await ctx.deps.support.get(g.id);
  if (c?.claimedBy?.id === welzijn1) return;
  if (c?.state === 'claimed') await ctx.deps.support.handover(g.id, { id: await staffId('admin@buurtfonds.test'), role: 'admin' }, welzijn1);
  else await ctx.deps.support.claim(g.id, { id: welzijn1, role: 'welfare' });
}

/** The rule, stated here. A route without a row fails the walk, so a new route cannot be forgotten. */
const table: Record<string, Case> = {
  'GET /healthz': { allow: everyone, ok: 200, send: () => ctx.http().get('/healthz') },
  'GET /readyz': { allow: everyone, ok: 200, send: () => ctx.http().get('/readyz') },
  'GET /api/openapi.json': { allow: everyone, ok: 200, send: () => ctx.http().get('/api/openapi.json') },
  'POST /api/v1/auth/login': {
    allow: everyone,
    ok: 200,
    send: () => ctx.http().post('/api/v1/auth/login').send({ email: 'panel2@buurtfonds.test', password: DEMO_PASSWORD }),
  },
  'POST /api/v1/applications': { allow: everyone, ok: 201, send: () => ctx.http().post('/api/v1/applications').send(validApplication()) },
  // Welfare workers read only the applications of their cases (least privilege).
  'GET /api/v1/applications': { allow: ['panel', 'admin', 'welfare_case'], ok: 200, send: () => ctx.http().get('/api/v1/applications?pageSize=100') },
  'GET /api/v1/applications/:id': { allow: ['applicant', 'panel', 'admin', 'welfare_case'], ok: 200, send: (a) => ctx.http().get(`/api/v1/applications/${a.id}`) },
  'POST /api/v1/applications/:id/documents': {
    allow: ['applicant', 'panel', 'admin'],
    ok: 201,
    send: (a) => ctx.http().post(`/api/v1/applications/${a.id}/documents`).attach('documents', pngBytes, { filename: 'foto.png' }),
  },
  'GET /api/v1/applications/:id/documents/:documentId': {
    allow: ['applicant', 'panel', 'admin', 'welfare_case'],
    ok: 200,
    send: (a) => ctx.http().get(`/api/v1/applications/${a.id}/documents/${a.documentId}`),
  },
  'POST /api/v1/applications/:id/information-requests': {
    allow: ['panel'],
    ok: 201,
    send: (a) => ctx.http().post(`/api/v1/applications/${a.id}/information-requests`).send({ missing: 'Een offerte van de tentverhuurder.' }),
  },
  'POST /api/v1/applications/:id/information': {
    allow: ['applicant'],
    ok: 200,
    prepare: requestInformation,
    send: (a) => ctx.http().post(`/api/v1/applications/${a.id}/information`).send({ answer: 'De offerte komt van Tentverhuur Voorburg.' }),
  },
  'POST /api/v1/applications/:id/screening/complete': {
    allow: ['panel'],
    ok: 200,
    send: (a) => ctx.http().post(`/api/v1/applications/${a.id}/screening/complete`),
  },
  'POST /api/v1/applications/:id/withdraw': {
    allow: ['applicant'],
    ok: 200,
    send: (a) => ctx.http().post(`/api/v1/applications/${a.id}/withdraw`).send({ reason: 'Het feest gaat niet door.' }),
  },
  // After the payout. These fixtures never get there (their activity is in 2027), so an
  // allowed caller gets past authorisation to the workflow's 409 invalid_state; the
  // successes (200) for exactly these callers are in test/api/report.test.ts.
  'POST /api/v1/applications/:id/report': {
    allow: ['applicant'],
    ok: 409,
    send: (a) =>
      ctx.http().post(`/api/v1/applications/${a.id}/report`).send({
        text: 'Het feest was een succes en de buren kennen elkaar nu beter.',
        participants: 100,
        volunteers: 5,
        selfAssessment: 'green',
        costLines: [{ description: 'Tent', amountCents: 45_000 }],
      }),
  },
  'POST /api/v1/applications/:id/report/review': {
    allow: ['panel'],
    ok: 409,
    send: (a) => ctx.http().post(`/api/v1/applications/${a.id}/report/review`).send({ outcome: 'accept' }),
  },
  'POST /api/v1/applications/:id/refunds': {
    allow: ['finance', 'admin'],
    ok: 409,
    send: (a) => ctx.http().post(`/api/v1/applications/${a.id}/refunds`).send({ amountCents: 100 }),
  },
  'GET /api/v1/applications/:id/export': { allow: ['applicant', 'admin'], ok: 200, send: (a) => ctx.http().get(`/api/v1/applications/${a.id}/export`) },
  'GET /api/v1/meetings': { allow: ['panel', 'admin'], ok: 200, send: () => ctx.http().get('/api/v1/meetings') },
  'GET /api/v1/meetings/:id': {
    allow: ['panel', 'admin'],
    ok: 200,
    prepare: openMeeting,
    send: () => ctx.http().get(`/api/v1/meetings/${meeting.meetingId}`),
  },
  'POST /api/v1/meetings/:id/votes': {
    allow: ['panel'],
    ok: 200,
    prepare: openMeeting,
    send: (a) => ctx.http().post(`/api/v1/meetings/${meeting.meetingId}/votes`).send({ applicationId: a.id, vote: 'approve' }),
  },
  'POST /api/v1/meetings/:id/recusals': {
    allow: ['panel'],
    ok: 200,
    prepare: openMeeting,
    send: (a) => ctx.http().post(`/api/v1/meetings/${meeting.meetingId}/recusals`).send({ applicationId: a.id, reason: 'De aanvrager is mijn buurman.' }),
  },
  'POST /api/v1/meetings/:id/invitations': {
    allow: ['panel'],
    ok: 200,
    prepare: openMeeting,
    send: (a) => ctx.http().post(`/api/v1/meetings/${meeting.meetingId}/invitations`).send({ applicationId: a.id }),
    settle: (a) =>
      eventually(async () => (await ctx.models.Outbox.findById(`${a.id}:invited:${meeting.meetingId}`, { status: 1 }).lean())?.status === 'sent', 15_000, 'invitation mailed').then(() => undefined),
  },
  'POST /api/v1/meetings/:id/close': {
    allow: ['panel'], // the demo token is panel1, the chair
    ok: 200,
    prepare: openMeeting,
    send: () => ctx.http().post(`/api/v1/meetings/${meeting.meetingId}/close`),
    // The outcome reaches the read model and every initiative after the close returns.
    settle: async () => {
      await eventually(async () => (await ctx.models.Meeting.findById(meeting.meetingId, { status: 1 }).lean())?.status === 'closed', 15_000, 'meeting closed in the read model');
      await eventually(async () => (await ctx.client.workflow.getHandle(meeting.meetingId).describe()).status.name === 'COMPLETED', 15_000, 'meeting workflow completed');
      // Without a quorum every item rolls over: back to ready_for_meeting.
      const { agenda } = await ctx.client.workflow.getHandle(meeting.meetingId).query(meetingStateQuery);
      for (const item of agenda) {
        await eventually(async () => (await ctx.models.Application.findById(item.applicationId, { status: 1 }).lean())?.status === 'ready_for_meeting', 15_000, `${item.applicationId} rolled over`);
      }
    },
  },
  'POST /api/v1/meetings/extra': { allow: ['admin'], ok: 201, send: () => ctx.http().post('/api/v1/meetings/extra').send(extraMeeting) },
  'POST /api/v1/meetings/:id/skip': { allow: ['admin'], ok: 200, send: () => ctx.http().post(`/api/v1/meetings/${toSkip.meetingId}/skip`) },
  'POST /api/v1/meetings/:id/move': {
    allow: ['admin'],
    ok: 200,
    send: () => ctx.http().post(`/api/v1/meetings/${toMove.meetingId}/move`).send({ date: toMove.regularDate, time: '20:00' }),
  },
  'GET /api/v1/panel/members': { allow: ['admin'], ok: 200, send: () => ctx.http().get('/api/v1/panel/members') },
  'POST /api/v1/panel/members': {
    allow: ['admin'],
    ok: 201,
    send: () => ctx.http().post('/api/v1/panel/members').send({ email: 'nieuw-lid@buurtfonds.test', name: 'Nieuw Panellid', password: 'een-lang-wachtwoord' }),
  },
  'POST /api/v1/panel/members/:id/deactivate': {
    allow: ['admin'],
    ok: 200,
    prepare: async () => void (members.deactivate ??= await extraMember('vertrekt')),
    send: () => ctx.http().post(`/api/v1/panel/members/${members.deactivate}/deactivate`),
  },
  'POST /api/v1/panel/members/:id/chair': {
    allow: ['admin'],
    ok: 200,
    prepare: async () => void (members.chair ??= await extraMember('voorzitter')),
    send: () => ctx.http().post(`/api/v1/panel/members/${members.chair}/chair`),
  },
  // The budget: public figures, the total set by the admin, the journal for finance and the admin.
  'GET /api/v1/budget/:year': { allow: everyone, ok: 200, send: () => ctx.http().get('/api/v1/budget/2027') },
  'PUT /api/v1/budget/:year': {
    allow: ['admin'],
    ok: 200,
    // A grant first, so the year's journal exists and a refused PUT has a total to leave alone.
    prepare: async () => {
      if (!granted.length) await newGrant();
    },
    send: () => ctx.http().put('/api/v1/budget/2027').send({ totalCents: 9_500_000 }),
  },
  'GET /api/v1/budget/:year/journal': { allow: finance, ok: 200, send: () => ctx.http().get('/api/v1/budget/2027/journal') },
  // Payouts: finance (and the admin) only. Refused calls run while a payout is pending / a batch is open.
  'GET /api/v1/payouts': { allow: finance, ok: 200, prepare: ensurePending, send: () => ctx.http().get('/api/v1/payouts') },
  'GET /api/v1/payouts/batches': { allow: finance, ok: 200, send: () => ctx.http().get('/api/v1/payouts/batches') },
  'POST /api/v1/payouts/batches': {
    allow: finance,
    ok: 201,
    // A batch takes every pending payout: each allowed call needs a pending one of its own.
    prepare: ensurePending,
    prepareEach: ensurePending,
    send: () => ctx.http().post('/api/v1/payouts/batches'),
  },
  'GET /api/v1/payouts/batches/:id': {
    allow: finance,
    ok: 200,
    prepare: async () => void (batches.toRead ??= await newBatch()),
    send: () => ctx.http().get(`/api/v1/payouts/batches/${batches.toRead}`),
  },
  'POST /api/v1/payouts/batches/:id/executed': {
    allow: finance,
    ok: 200,
    // A batch is executed once: each allowed call executes a batch of its own.
    prepare: ensureUnexecutedBatch,
    prepareEach: ensureUnexecutedBatch,
    send: () => ctx.http().post(`/api/v1/payouts/batches/${batches.toExecute}/executed`),
    settle: allPaidSettled,
  },
  'GET /api/v1/audit': { allow: ['admin'], ok: 200, send: () => ctx.http().get('/api/v1/audit') },
  // Monitoring: the municipality's figures, for the admin and the panel.
  'GET /api/v1/reports/summary': { allow: ['admin', 'panel'], ok: 200, send: () => ctx.http().get('/api/v1/reports/summary?year=2026') },
  'GET /api/v1/reports/initiatives.csv': { allow: ['admin', 'panel'], ok: 200, send: () => ctx.http().get('/api/v1/reports/initiatives.csv?year=2026') },
  'GET /api/v1/reports/stories': { allow: ['admin', 'panel'], ok: 200, send: () => ctx.http().get('/api/v1/reports/stories?year=2026') },
  // Welfare support: the queue and the case for welfare (and admin; the panel reads a case).
  'GET /api/v1/support/queue': { allow: ['welfare', 'admin'], ok: 200, prepare: async () => void (await ensureSupportCase()), send: () => ctx.http().get('/api/v1/support/queue') },
  'GET /api/v1/support/:applicationId': {
    allow: ['welfare', 'panel', 'admin'],
    ok: 200,
    prepare: async () => void (await ensureSupportCase()),
    send: () => ctx.http().get(`/api/v1/support/${supportCase!.id}`),
  },
  'POST /api/v1/support/:applicationId/flag': {
    allow: ['panel', 'admin'],
    // The case is there already (the fixture's applicant asked for support): the case as it is.
    ok: 200,
    prepare: async () => void (await ensureSupportCase()),
    send: () => ctx.http().post(`/api/v1/support/${supportCase!.id}/flag`),
  },
  'POST /api/v1/support/:applicationId/claim': {
    allow: ['welfare'],
    ok: 200,
    prepare: supportUnclaimed,
    send: () => ctx.http().post(`/api/v1/support/${supportCase!.id}/claim`),
  },
  'POST /api/v1/support/:applicationId/release': {
    allow: ['welfare', 'admin'],
    ok: 200,
    prepare: supportHeldByWelfare,
    prepareEach: supportHeldByWelfare,
    send: () => ctx.http().post(`/api/v1/support/${supportCase!.id}/release`),
  },
  'POST /api/v1/support/:applicationId/handover': {
    allow: ['welfare', 'admin'],
    ok: 200,
    prepare: supportHeldByWelfare,
    prepareEach: supportHeldByWelfare,
    send: () => ctx.http().post(`/api/v1/support/${supportCase!.id}/handover`).send({ toUserId: welzijn2Id }),
  },
  'POST /api/v1/support/:applicationId/notes': {
    allow: ['welfare'],
    ok: 201,
    prepare: supportHeldByWelfare,
    send: () => ctx.http().post(`/api/v1/support/${supportCase!.id}/notes`).send({ kind: 'contact', text: 'Gebeld met de initiatiefnemer.' }),
  },
};

const keyOf = (r: Pick<RouteSpec, 'method' | 'path'>) => `${r.method.toUpperCase()} ${r.path}`;

/** What a route's own `access` declaration means for each kind of caller. */
function declaredRoles(route: RouteSpec): Allowed[] {
  if (route.access.includes('anonymous')) return [...roles];
  const declared: Allowed[] = roles.filter((role) => {
    if (role === 'applicant') return route.access.includes('applicant_self') && route.path.includes('/:id');
    if (role === 'anonymous' || role === 'other_applicant') return false;
    return route.access.includes(role);
  });
  if (route.access.includes('welfare_case') && !route.access.includes('welfare')) declared.push('welfare_case');
  return declared;
}

/** An application in the support queue of welzijn1's organisation (Woej: Bovenveen), with a document: one of the `welfare` caller's cases. */
let ownCase: Promise<Fixture> | undefined;
function welfareOwnCase(): Promise<Fixture> {
  return (ownCase ??= (async () => {
    const g = await grantWithDocument(ctx, { wijken: ['Bovenveen'], title: 'Een initiatief in de wachtrij van Woej' });
    const c = await eventually(async () => ctx.deps.support.get(g.id), 20_000, 'its support case queued');
    expect(c.organisation).toBe('Woej');
    await eventually(async () => ctx.models.Payout.exists({ applicationId: g.id }), 15_000, 'its payout');
    await eventually(async () => (await ctx.models.Outbox.countDocuments({ applicationId: g.id, status: { $ne: 'sent' } })) === 0, 15_000, 'its mails sent');
    return { id: g.id, reference: g.reference, token: g.token, documentId: g.documentId };
  })());
}

/** The `welfare` caller on a `welfare_case` row: 404 (or a list without it) on the row's own application, the row's `ok` on one of their cases. */
async function walkWelfareCases(key: string, route: RouteSpec, c: Case, app: Fixture, other: Fixture, failures: string[]): Promise<void> {
  const list = !route.path.includes('/:id');
  const before = await snapshot(app);
  const notTheirs = await as(c.send(app), 'welfare', app, other);
  if (list) {
    const ids = (notTheirs.body?.items ?? []).map((i: { id: string }) => i.id);
    if (notTheirs.status !== 200 || ids.includes(app.id)) failures.push(`${key} as welfare: expected 200 without ${app.reference} (not one of their cases), got ${describeResponse(notTheirs)}`);
  } else if (notTheirs.status !== 404 || notTheirs.body?.error?.code !== 'not_found' || JSON.stringify(notTheirs.body).includes(app.reference)) {
    failures.push(`${key} as welfare on an application that is not one of their cases: expected 404 {error:{code:'not_found'}}, got ${describeResponse(notTheirs)}`);
  }
  if (!isDeepStrictEqual(before, await snapshot(app))) failures.push(`${key} as welfare: the request on an application not theirs changed something`);
  const mine = await welfareOwnCase();
  const theirs = await as(c.send(mine), 'welfare', mine, other);
  if (theirs.status !== c.ok) failures.push(`${key} as welfare on one of their cases: expected ${c.ok}, got ${describeResponse(theirs)}`);
  if (list && !(theirs.body?.items ?? []).some((i: { id: string }) => i.id === mine.id)) failures.push(`${key} as welfare: their case ${mine.reference} is not in the list`);
}

async function submit(email = 'aanvrager@example.nl'): Promise<Fixture> {
  const res = await ctx
    .http()
    .post('/api/v1/applications')
    .field('application', JSON.stringify(validApplication({ applicant: { ...validApplication().applicant, email } })))
    .attach('documents', pdfBytes, { filename: 'offerte.pdf' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  // Wait until the workflow is idle in screening, so nothing moves while we compare before and after.
  const view = await eventually(async () => {
    const r = await ctx.http().get(`/api/v1/applications/${res.body.id}`).set('Authorization', `Bearer ${res.body.accessToken}`);
    return r.body.status === 'screening' ? r.body : undefined;
  }, 15_000, `application ${res.body.id} in screening`);
  return { id: res.body.id, reference: res.body.reference, token: res.body.accessToken, documentId: view.documents[0].id };
}

async function requestInformation(app: Fixture): Promise<void> {
  const res = await ctx
    .http()
    .post(`/api/v1/applications/${app.id}/information-requests`)
    .set('Authorization', `Bearer ${staffTokens.panel}`)
    .send({ missing: 'Wie verhuurt de tent?' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

function as(req: Test, role: Role, app: Fixture, other: Fixture): Test {
  const token = role === 'anonymous' ? undefined : role === 'applicant' ? app.token : role === 'other_applicant' ? other.token : staffTokens[role];
  return token ? req.set('Authorization', `Bearer ${token}`) : req;
}

async function listBlobs(): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(ctx.store.dir)) {
    if (d !== 'tmp') out.push(...(await readdir(`${ctx.store.dir}/${d}`)));
  }
  return out.sort();
}

/** Everything a request could have changed: the read model, the workflows, mails, stored files, the panel, the calendar, the budget and the payouts. */
async function snapshot(app: Fixture) {
  const { Application, Event, Document, Outbox, AccessToken, Meeting, MeetingOverride, ExtraMeeting, StaffUser, Audit, LedgerEntry, Payout, PayoutEvent, PayoutBatch } = ctx.models;
  const [doc, workflow, events, documents, applications, accessTokens, mails, blobs, meetingState, meetings, overrides, extraMeetings, staffUsers, audit, ledger, payouts, payoutEvents, payoutBatches, support] = await Promise.all([
    Application.findById(app.id).lean(),
    ctx.client.workflow.getHandle(`initiative-${app.id}`).query(stateQuery),
    Event.countDocuments({ applicationId: app.id }),
    Document.countDocuments({ applicationId: app.id }),
    Application.countDocuments(),
    AccessToken.countDocuments(),
    // Per application: workflows started by earlier allowed submissions still send their own mails meanwhile.
    Outbox.countDocuments({ applicationId: app.id }),
    listBlobs(),
    meetingStarted ? ctx.client.workflow.getHandle(meeting.meetingId).query(meetingStateQuery) : undefined,
    Meeting.find().sort({ _id: 1 }).lean(),
    MeetingOverride.find().sort({ _id: 1 }).lean(),
    ExtraMeeting.find().sort({ _id: 1 }).lean(),
    StaffUser.find().sort({ email: 1 }).lean(),
    Audit.countDocuments(),
    // Every journal entry with its balances (a set total, a reservation, a payment).
    LedgerEntry.find({}, { balances: 1 }).sort({ _id: 1 }).lean(),
    Payout.find({}, { status: 1, batchId: 1, paidAt: 1 }).sort({ _id: 1 }).lean(),
    PayoutEvent.find({}, { kind: 1, batchId: 1 }).sort({ _id: 1 }).lean(),
    PayoutBatch.find({}, { sha256: 1 }).sort({ _id: 1 }).lean(),
    supportCase ? ctx.deps.support.get(supportCase.id) : undefined,
  ]);
  return {
    status: doc?.status,
    statusSeq: doc?.statusSeq,
    updatedAt: doc ? new Date(doc.updatedAt).toISOString() : undefined,
    informationRequests: doc?.informationRequests,
    workflow,
    events,
    documents,
    applications,
    accessTokens,
    mails,
    blobs,
    meetingState,
    meetings,
    overrides,
    extraMeetings,
    staffUsers,
    audit,
    ledger,
    payouts,
    payoutEvents,
    payoutBatches,
    support,
  };
}

function describeResponse(res: Response): string {
  return `${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
}

describe('every route × every caller', () => {
  it('allows exactly the callers the table names; refuses the others with 401/403 and changes nothing', async () => {
    const failures: string[] = [];
    const served = new Set(ctx.routes.map(keyOf));
    for (const key of Object.keys(table)) if (!served.has(key)) failures.push(`${key}: row in the table, but the app has no such route`);

    const welfareCase = welfareOwnCase();
    const other = await submit('ander@example.nl');
    const fixtures = await Promise.all(ctx.routes.map(() => submit()));
    agendaFixtures.push(...fixtures.filter((_, i) => agendaRows.includes(keyOf(ctx.routes[i]!))));
    await welfareCase;

    for (const [i, route] of ctx.routes.entries()) {
      const key = keyOf(route);
      const c = table[key];
      if (!c) {
        failures.push(`${key}: no row in the authorization table (add one stating who may call it)`);
        continue;
      }
      const declared = declaredRoles(route);
      if (!isDeepStrictEqual([...declared].sort(), [...c.allow].sort())) {
        failures.push(`${key}: route.access [${route.access.join(', ')}] lets in [${declared.join(', ')}], the table says [${c.allow.join(', ')}]`);
      }

      const app = fixtures[i]!;
      await c.prepare?.(app);
      // A welfare worker under `welfare_case` is neither simply refused nor simply allowed.
      const caseScoped = c.allow.includes('welfare_case');
      if (caseScoped) await walkWelfareCases(key, route, c, app, other, failures);
      // Refusals first: each must leave the application exactly as it was.
      for (const role of roles.filter((r) => !c.allow.includes(r) && !(caseScoped && r === 'welfare'))) {
        const before = await snapshot(app);
        const res = await as(c.send(app), role, app, other);
        const [status, code] = role === 'anonymous' ? [401, 'unauthenticated'] : [403, 'forbidden'];
        if (res.status !== status || res.body?.error?.code !== code || typeof res.body.error.message !== 'string' || !Array.isArray(res.body.error.details)) {
          failures.push(`${key} as ${role}: expected ${status} {error:{code:'${code}'}}, got ${describeResponse(res)}`);
        }
        const after = await snapshot(app);
        if (!isDeepStrictEqual(before, after)) {
          failures.push(`${key} as ${role}: the refused request changed something: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
        }
      }
      for (const role of roles.filter((r) => c.allow.includes(r))) {
        await c.prepareEach?.(app);
        const res = await as(c.send(app), role, app, other);
        if (res.status !== c.ok) failures.push(`${key} as ${role}: allowed, expected ${c.ok}, got ${describeResponse(res)}`);
      }
      await c.settle?.(app);
    }
    const tmp = await readdir(ctx.store.tmpDir);
    if (tmp.length) failures.push(`upload temp files left behind: ${tmp.join(', ')}`);
    expect(failures, failures.join('\n')).toEqual([]);
  }, 180_000);
});

describe('credentials', () => {
  let a: Fixture;
  let b: Fixture;
  beforeAll(async () => {
    [a, b] = await Promise.all([submit('a@example.nl'), submit('b@example.nl')]);
  });

  /** The signing key of this app's tokens (the test context keeps the secret to itself). */
  const key = () => ctx.deps.signer['key'];

  function jwt(claims: { aud: string; sub: string; iss?: string; exp: number; role?: string; name?: string }, signingKey: Uint8Array = key()) {
    const { aud, sub, iss = 'buurtfonds', exp, ...rest } = claims;
    return new SignJWT(rest).setProtectedHeader({ alg: 'HS256' }).setAudience(aud).setSubject(sub).setIssuer(iss).setIssuedAt().setExpirationTime(exp).sign(signingKey);
  }
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  async function expectUntouched(app: Fixture, status = 'screening') {
    const view = await ctx.http().get(`/api/v1/applications/${app.id}`).set('Authorization', `Bearer ${staffTokens.admin}`);
    expect(view.body.status, `application ${app.reference} was changed by a refused request`).toBe(status);
    const workflow = await ctx.client.workflow.getHandle(`initiative-${app.id}`).query(stateQuery);
    expect(workflow.status).toBe(status);
  }

  it('signed test tokens are accepted when valid (so the refusals below are about the flaw each one has)', async () => {
    const admin = await ctx.models.StaffUser.findOne({ email: 'admin@buurtfonds.test' }).lean();
    const staffToken = await jwt({ aud: 'staff', sub: admin!._id, role: 'admin', name: 'Test', exp: nowSeconds() + 60 });
    expect((await ctx.http().get('/api/v1/applications').set('Authorization', `Bearer ${staffToken}`)).status).toBe(200);
    const link = await jwt({ aud: 'applicant', sub: a.id, exp: nowSeconds() + 60 });
    expect((await ctx.http().get(`/api/v1/applications/${a.id}?token=${link}`)).status).toBe(200);
  });

  it('refuses malformed, forged and expired tokens with 401 unauthenticated, on reads and writes', async () => {
    const panel = staffTokens.panel;
    const [header, payload, signature] = panel.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    const asAdmin = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const otherSigner = new TokenSigner(randomBytes(32).toString('hex'), 30);
    const [aId, aSecret] = a.token.split('.');
    const [, bSecret] = b.token.split('.');
    const flipped = aSecret!.slice(0, -1) + (aSecret!.endsWith('A') ? 'B' : 'A');

    const authorizations: Record<string, string> = {
      'Basic scheme': `Basic ${Buffer.from(`panel1@buurtfonds.test:${DEMO_PASSWORD}`).toString('base64')}`,
      'Bearer without token': 'Bearer',
      'Bearer with two words': `Bearer ${panel} extra`,
      'garbage': 'Bearer not-a-token',
      'staff token with role changed to admin': `Bearer ${header}.${asAdmin}.${signature}`,
      'staff token re-signed with alg none': `Bearer ${noneHeader}.${asAdmin}.`,
      'staff token with its signature cut off': `Bearer ${header}.${payload}.`,
      'expired staff token': `Bearer ${await jwt({ aud: 'staff', sub: claims.sub, role: 'admin', name: 'x', exp: nowSeconds() - 60 })}`,
      'staff token from another installation': `Bearer ${(await otherSigner.signStaff({ id: claims.sub, role: 'admin', name: 'x' })).token}`,
      'staff token from another issuer': `Bearer ${await jwt({ aud: 'staff', sub: claims.sub, iss: 'elders', role: 'admin', name: 'x', exp: nowSeconds() + 60 })}`,
      'staff token for another audience': `Bearer ${await jwt({ aud: 'intranet', sub: claims.sub, role: 'admin', name: 'x', exp: nowSeconds() + 60 })}`,
      'staff token with an unknown role': `Bearer ${await jwt({ aud: 'staff', sub: claims.sub, role: 'superuser', name: 'x', exp: nowSeconds() + 60 })}`,
      'applicant token with a made-up secret': `Bearer ${aId}.${randomBytes(32).toString('base64url')}`,
      "applicant token with another application's secret": `Bearer ${aId}.${bSecret}`,
      'applicant token with one character changed': `Bearer ${aId}.${flipped}`,
      'expired status link': `Bearer ${await jwt({ aud: 'applicant', sub: a.id, exp: nowSeconds() - 60 })}`,
    };
    for (const [what, authorization] of Object.entries(authorizations)) {
      for (const send of [
        () => ctx.http().get(`/api/v1/applications/${a.id}`),
        () => ctx.http().get('/api/v1/applications'),
        () => ctx.http().post(`/api/v1/applications/${a.id}/screening/complete`),
        () => ctx.http().post(`/api/v1/applications/${a.id}/withdraw`).send({}),
      ]) {
        const res = await send().set('Authorization', authorization);
        expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({ what, status: 401, code: 'unauthenticated' });
      }
    }
    await expectUntouched(a);
  });

  it("refuses an applicant token on another application's id with 403, for reads and writes", async () => {
    const bearer = `Bearer ${a.token}`;
    const requests = [
      ctx.http().get(`/api/v1/applications/${b.id}`),
      ctx.http().get(`/api/v1/applications/${b.id}/documents/${b.documentId}`),
      // a's own document, asked for under b's id
      ctx.http().get(`/api/v1/applications/${b.id}/documents/${a.documentId}`),
      ctx.http().post(`/api/v1/applications/${b.id}/documents`).attach('documents', pngBytes, { filename: 'foto.png' }),
      ctx.http().post(`/api/v1/applications/${b.id}/withdraw`).send({ reason: 'Niet van mij' }),
      ctx.http().get('/api/v1/applications'),
    ];
    for (const req of requests) {
      const res = await req.set('Authorization', bearer);
      expect(res.status, `${req.method} ${req.url}`).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(JSON.stringify(res.body)).not.toContain(b.reference);
    }
    await expectUntouched(b);
    expect(await ctx.models.Document.countDocuments({ applicationId: b.id })).toBe(1);
  });

  it('the status link (?token=) opens its own application for reading, and nothing else', async () => {
    const link = await ctx.deps.signer.signApplicantLink(a.id);

    const own = await ctx.http().get(`/api/v1/applications/${a.id}?token=${link}`);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ id: a.id, reference: a.reference, status: 'screening' });
    const doc = await ctx.http().get(`/api/v1/applications/${a.id}/documents/${a.documentId}?token=${link}`).buffer(true);
    expect(doc.status).toBe(200);
    expect(Buffer.compare(doc.body as Buffer, pdfBytes)).toBe(0);

    // Other applications and staff lists stay closed.
    for (const path of [`/api/v1/applications/${b.id}`, `/api/v1/applications/${b.id}/documents/${b.documentId}`, '/api/v1/applications']) {
      const res = await ctx.http().get(`${path}?token=${link}`);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 403, code: 'forbidden' });
    }

    // It never acts for the applicant: not from the query string …
    const viaQuery = await ctx.http().post(`/api/v1/applications/${a.id}/withdraw?token=${link}`).send({});
    expect(viaQuery.status).toBe(401);
    expect(viaQuery.body.error.code).toBe('unauthenticated');
    // … and not as a bearer token either.
    const writes = [
      ctx.http().post(`/api/v1/applications/${a.id}/withdraw`).send({ reason: 'via de link' }),
      ctx.http().post(`/api/v1/applications/${a.id}/documents`).attach('documents', pngBytes, { filename: 'foto.png' }),
      ctx.http().post(`/api/v1/applications/${a.id}/information`).send({ answer: 'via de link' }),
    ];
    for (const req of writes) {
      const res = await req.set('Authorization', `Bearer ${link}`);
      expect({ url: req.url, status: res.status, code: res.body.error?.code }).toEqual({ url: req.url, status: 403, code: 'forbidden' });
    }
    await expectUntouched(a);
    expect(await ctx.models.Document.countDocuments({ applicationId: a.id })).toBe(1);

    // A link signed elsewhere, or for a made-up application, does not open anything.
    const foreign = await new TokenSigner(randomBytes(32).toString('hex'), 30).signApplicantLink(a.id);
    const r1 = await ctx.http().get(`/api/v1/applications/${a.id}?token=${foreign}`);
    expect([r1.status, r1.body.error?.code]).toEqual([401, 'unauthenticated']);
    const expired = await jwt({ aud: 'applicant', sub: a.id, exp: nowSeconds() - 60 });
    const r2 = await ctx.http().get(`/api/v1/applications/${a.id}?token=${expired}`);
    expect([r2.status, r2.body.error?.code]).toEqual([401, 'unauthenticated']);
  });
});
