/**
 * Who may open which page: one table, written here independently of the pages' own
 * `access` declarations, walked against every page the web interface serves
 * (webPages(ctx.deps, ctx.routes)) × every kind of caller, through the pages as a
 * browser uses them (cookies, the CSRF token of the caller's own forms).
 *
 * - An allowed caller is not refused: no 401/403, no redirect to the login page (GETs
 *   answer 200 or a redirect elsewhere; a POST may answer 4xx for its input or the
 *   state, but not a refusal, and never 5xx).
 * - A refused caller gets 303 → /inloggen?terug=<path> (no session on a staff page),
 *   401 (no applicant cookie on an applicant's page) or 403 (someone else), never the
 *   page's data; a refused POST carries a valid CSRF token, and changes nothing.
 *
 * The callers: `applicant` is the applicant of the application in the path, with the
 * cookie as the apply form sets it (Path=/aanvraag/<id>: the browser sends it on those
 * pages only). `other_applicant` is the applicant of another application whose cookie is
 * sent on every path (as an attacker can), so it is a known visitor and refused with 403.
 * Staff log in on the login page: panel1 (the chair), welzijn1, financien, admin.
 */
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageSpec } from '../../src/web/router.ts';
import { webPages } from '../../src/web/pages/index.ts';
import { amsterdamYear } from '../../src/domain/dates.ts';
import { extraMeetingIdOf, upcomingMeetings, type PlannedMeeting } from '../../src/domain/meetings.ts';
import { calendarRules } from '../../src/temporal/schedule.ts';
import { stateQuery } from '../../workflows/initiative.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { pdfBytes, validApplication } from '../helpers/fixtures.ts';
import { grant, grantWithDocument, type Granted } from '../helpers/grants.ts';
import { webClient, type FormFields, type WebClient } from '../helpers/web.ts';

let ctx: TestContext;
const YEAR = amsterdamYear(new Date());

beforeAll(async () => {
  // Every caller posts the login form once; the limiter must not get in the way of the walk.
  ctx = await createTestContext({ env: { LOGIN_RATE_LIMIT: '1000' } });
});
afterAll(async () => {
  if (extraDay) await ctx.client.workflow.getHandle(extraMeetingIdOf(extraDay, '10:17')).terminate('test over').catch(() => undefined);
  await ctx?.close();
});

const roles = ['anonymous', 'applicant', 'other_applicant', 'panel', 'welfare', 'finance', 'admin'] as const;
type Role = (typeof roles)[number];
const staffRoles = ['panel', 'welfare', 'finance', 'admin'] as const;
type StaffRole = (typeof staffRoles)[number];
const everyone: readonly Role[] = roles;
/**
 * In a row's `allow`, `welfare_case`: the `welfare` caller (welzijn1, of Woej) only on
 * applications of their cases: on the row's own application (no support case) a 404 page
 * without its data, on `ownCase` (a grant in Woej's support queue) allowed; a list shows
 * them only their cases.
 */
type Allowed = Role | 'welfare_case';
const staffEmail: Record<StaffRole, string> = {
  panel: 'panel1@buurtfonds.test',
  welfare: 'welzijn1@buurtfonds.test',
  finance: 'financien@buurtfonds.test',
  admin: 'admin@buurtfonds.test',
};

interface Fixture {
  id: string;
  reference: string;
  title: string;
  token: string;
  documentId: string;
}

interface Row {
  allow: readonly Allowed[];
  /** The request's path with real ids (`f`: the row's own application, in screening). */
  path: (f: Fixture) => string | Promise<string>;
  /** A POST's form fields: what an allowed caller could send, so that the refusal is the only reason nothing happens. */
  fields?: (f: Fixture) => FormFields;
  /** Brings things into the state in which the POST, were it not refused, would change something. */
  prepare?: (f: Fixture) => Promise<void>;
}

// The things the rows act on besides their own application (made in the walk's set-up).
/** Granted, the applicant asked for help: its support case, and its payout in batch `batch`. */
let supported: Granted;
/** Granted without a support case (the flag row makes one); its payout is pending. */
let unsupported: Granted;
/** Granted in the support queue of welzijn1's organisation (Woej: Bovenveen), with a document: one of the `welfare` caller's cases. */
let ownCase: Fixture;
let batch = '';
let meeting: PlannedMeeting;
let toSkip: PlannedMeeting;
let toMove: PlannedMeeting;
/** The day of the extra meeting the admin adds: three days after `meeting` (no other test file adds one that day). */
let extraDay = '';
const members: Record<string, string> = {};
const staffIds: Record<string, string> = {};

async function extraMember(label: string): Promise<string> {
  const id = randomUUID();
  await ctx.models.StaffUser.create({ _id: id, email: `${label}@buurtfonds.test`, name: `Panellid ${label}`, role: 'panel', chair: false, active: true, passwordHash: 'x', createdAt: new Date() });
  return id;
}

async function supportUnclaimed(): Promise<void> {
  if ((await ctx.deps.support.get(supported.id))?.state === 'claimed') await ctx.deps.support.release(supported.id, { id: staffIds.admin!, role: 'admin' });
}
async function supportHeldByWelfare(): Promise<void> {
  const c = await ctx.deps.support.get(supported.id);
  if (c?.claimedBy?.id === staffIds.welzijn1) return;
  if (c?.state === 'claimed') await ctx.deps.support.handover(supported.id, { id: staffIds.admin!, role: 'admin' }, staffIds.welzijn1!);
  else await ctx.deps.support.claim(supported.id, { id: staffIds.welzijn1!, role: 'welfare' });
}
async function requestInformation(f: Fixture): Promise<void> {
  const res = await ctx.http().post(`/api/v1/applications/${f.id}/information-requests`).set('Authorization', `Bearer ${await ctx.staff.panel()}`).send({ missing: 'Wie verhuurt de tent?' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await eventually(async () => (await ctx.models.Application.findById(f.id, { status: 1 }).lean())?.status === 'awaiting_information', 15_000, 'awaiting information');
}

const report = {
  text: 'Het feest was een succes en de buren kennen elkaar nu beter.',
  participants: '100',
  volunteers: '5',
  selfAssessment: 'green',
  'costLines.0.description': 'Tent',
  'costLines.0.amount': '450,00',
};

/** The rule, stated here. A page without a row fails the walk, so a new page cannot be forgotten. */
const table: Record<string, Row> = {
  // For anyone.
  'GET /': { allow: everyone, path: () => '/' },
  'GET /budget': { allow: everyone, path: () => '/budget' },
  'GET /budget/:year': { allow: everyone, path: () => `/budget/${YEAR}` },
  'GET /taal/:lang': { allow: everyone, path: () => '/taal/nl?terug=%2F' },
  'GET /aanvragen': { allow: everyone, path: () => '/aanvragen' },
  'POST /aanvragen': { allow: everyone, path: () => '/aanvragen', fields: () => ({}) },
  'GET /inloggen': { allow: everyone, path: () => '/inloggen' },
  'POST /inloggen': { allow: everyone, path: () => '/inloggen', fields: () => ({}) },
  'POST /uitloggen': { allow: everyone, path: () => '/uitloggen', fields: () => ({}) },
  // The e-mail's link: open to anyone; the token in it decides (test/web/security.test.ts).
  'GET /aanvraag/:id?token=': { allow: everyone, path: async (f) => `/aanvraag/${f.id}?token=${encodeURIComponent(await ctx.deps.signer.signApplicantLink(f.id))}` },
  // The applicant's own pages: the applicant only (staff have their own pages).
  'GET /aanvraag/:id': { allow: ['applicant'], path: (f) => `/aanvraag/${f.id}` },
  'GET /aanvraag/:id/verzonden': { allow: ['applicant'], path: (f) => `/aanvraag/${f.id}/verzonden` },
  'POST /aanvraag/:id/aanvulling': {
    allow: ['applicant'],
    path: (f) => `/aanvraag/${f.id}/aanvulling`,
    prepare: requestInformation,
    fields: () => ({ answer: 'De offerte komt van Tentverhuur Voorburg.' }),
  },
  'GET /aanvraag/:id/intrekken': { allow: ['applicant'], path: (f) => `/aanvraag/${f.id}/intrekken` },
  'POST /aanvraag/:id/intrekken': { allow: ['applicant'], path: (f) => `/aanvraag/${f.id}/intrekken`, fields: () => ({ reason: 'Het feest gaat niet door.' }) },
  'POST /aanvraag/:id/verantwoording': { allow: ['applicant'], path: (f) => `/aanvraag/${f.id}/verantwoording`, fields: () => report },
  'GET /aanvraag/:id/documenten/:documentId': { allow: ['applicant'], path: (f) => `/aanvraag/${f.id}/documenten/${f.documentId}` },
  'GET /aanvraag/:id/gegevens': { allow: ['applicant'], path: (f) => `/aanvraag/${f.id}/gegevens` },
  // Staff.
  'GET /beheer': { allow: staffRoles, path: () => '/beheer' },
  // Welfare workers read only the applications of their cases (least privilege).
  'GET /beheer/aanvragen': { allow: ['panel', 'welfare_case', 'admin'], path: () => '/beheer/aanvragen?pageSize=100' },
  'GET /beheer/aanvragen/:id': { allow: ['panel', 'welfare_case', 'admin'], path: (f) => `/beheer/aanvragen/${f.id}` },
  'GET /beheer/aanvragen/:id/documenten/:documentId': { allow: ['panel', 'welfare_case', 'admin'], path: (f) => `/beheer/aanvragen/${f.id}/documenten/${f.documentId}` },
  'POST /beheer/aanvragen/:id/documenten': { allow: ['panel', 'admin'], path: (f) => `/beheer/aanvragen/${f.id}/documenten`, fields: () => ({}) },
  'POST /beheer/aanvragen/:id/aanvulling-vragen': {
    allow: ['panel'],
    path: (f) => `/beheer/aanvragen/${f.id}/aanvulling-vragen`,
    fields: () => ({ missing: 'Een offerte van de tentverhuurder.', deadlineDays: '14' }),
  },
  'POST /beheer/aanvragen/:id/compleet': { allow: ['panel'], path: (f) => `/beheer/aanvragen/${f.id}/compleet`, fields: () => ({}) },
  'POST /beheer/aanvragen/:id/ondersteuning': { allow: ['panel', 'admin'], path: () => `/beheer/aanvragen/${unsupported.id}/ondersteuning`, fields: () => ({}) },
  // After the payout (these applications never get there): an allowed caller gets past the rule to the state check.
  'POST /beheer/aanvragen/:id/beoordeling': { allow: ['panel'], path: (f) => `/beheer/aanvragen/${f.id}/beoordeling`, fields: () => ({ outcome: 'accept' }) },
  // Meetings: the panel and the admin read; members vote; the admin skips and moves.
  'GET /beheer/vergaderingen': { allow: ['panel', 'admin'], path: () => '/beheer/vergaderingen' },
  'GET /beheer/vergaderingen/:id': { allow: ['panel', 'admin'], path: () => `/beheer/vergaderingen/${meeting.meetingId}` },
  'POST /beheer/vergaderingen/:id/stem': {
    allow: ['panel'],
    path: () => `/beheer/vergaderingen/${meeting.meetingId}/stem`,
    fields: (f) => ({ applicationId: f.id, item: '0', vote: 'approve' }),
  },
  'POST /beheer/vergaderingen/:id/verschonen': {
    allow: ['panel'],
    path: () => `/beheer/vergaderingen/${meeting.meetingId}/verschonen`,
    fields: (f) => ({ applicationId: f.id, item: '0', reason: 'De aanvrager is mijn buurman.' }),
  },
  'POST /beheer/vergaderingen/:id/uitnodigen': { allow: ['panel'], path: () => `/beheer/vergaderingen/${meeting.meetingId}/uitnodigen`, fields: (f) => ({ applicationId: f.id, item: '0' }) },
  'POST /beheer/vergaderingen/:id/sluiten': { allow: ['panel'], path: () => `/beheer/vergaderingen/${meeting.meetingId}/sluiten`, fields: () => ({}) },
  'POST /beheer/vergaderingen/:id/overslaan': { allow: ['admin'], path: () => `/beheer/vergaderingen/${toSkip.meetingId}/overslaan`, fields: () => ({}) },
  'POST /beheer/vergaderingen/:id/verplaatsen': {
    allow: ['admin'],
    path: () => `/beheer/vergaderingen/${toMove.meetingId}/verplaatsen`,
    fields: () => ({ date: toMove.regularDate, time: '20:00' }),
  },
  'POST /beheer/vergaderingen/extra': { allow: ['admin'], path: () => '/beheer/vergaderingen/extra', fields: () => ({ date: extraDay, time: '10:17', cutoffTime: '10:00' }) },
  // Welfare support: welfare and the admin; the panel reads a case.
  'GET /beheer/ondersteuning': { allow: ['welfare', 'admin'], path: () => '/beheer/ondersteuning' },
  'GET /beheer/ondersteuning/:id': { allow: ['welfare', 'panel', 'admin'], path: () => `/beheer/ondersteuning/${supported.id}` },
  'POST /beheer/ondersteuning/:id/oppakken': { allow: ['welfare'], path: () => `/beheer/ondersteuning/${supported.id}/oppakken`, prepare: supportUnclaimed, fields: () => ({}) },
  'POST /beheer/ondersteuning/:id/teruggeven': { allow: ['welfare', 'admin'], path: () => `/beheer/ondersteuning/${supported.id}/teruggeven`, prepare: supportHeldByWelfare, fields: () => ({}) },
  'POST /beheer/ondersteuning/:id/overdragen': {
    allow: ['welfare', 'admin'],
    path: () => `/beheer/ondersteuning/${supported.id}/overdragen`,
    prepare: supportHeldByWelfare,
    fields: () => ({ toUserId: staffIds.welzijn2! }),
  },
  'POST /beheer/ondersteuning/:id/notities': {
    allow: ['welfare'],
    path: () => `/beheer/ondersteuning/${supported.id}/notities`,
    prepare: supportHeldByWelfare,
    fields: () => ({ kind: 'contact', noteText: 'Gebeld met de initiatiefnemer.' }),
  },
  // Payouts: finance and the admin.
  'GET /beheer/uitbetalingen': { allow: ['finance', 'admin'], path: () => '/beheer/uitbetalingen' },
  'POST /beheer/uitbetalingen/batches': { allow: ['finance', 'admin'], path: () => '/beheer/uitbetalingen/batches', fields: () => ({}) },
  'GET /beheer/uitbetalingen/batches/:id/bestand': { allow: ['finance', 'admin'], path: () => `/beheer/uitbetalingen/batches/${batch}/bestand` },
  // Refunds are booked on the payouts page (these applications owe none: an allowed caller gets past the rule to the state check).
  'POST /beheer/uitbetalingen/terugbetalingen/:id': { allow: ['finance', 'admin'], path: (f) => `/beheer/uitbetalingen/terugbetalingen/${f.id}`, fields: () => ({ amount: '1,00' }) },
  'POST /beheer/uitbetalingen/batches/:id/uitgevoerd': { allow: ['finance', 'admin'], path: () => `/beheer/uitbetalingen/batches/${batch}/uitgevoerd`, fields: () => ({}) },
  // The municipality: budget (finance reads), panel, audit log, monitoring (the panel reads).
  'GET /beheer/budget': { allow: ['admin', 'finance'], path: () => '/beheer/budget' },
  'POST /beheer/budget': { allow: ['admin'], path: () => '/beheer/budget', fields: () => ({ year: '2027', total: '95000,00' }) },
  'GET /beheer/budget/:year/journaal.csv': { allow: ['admin', 'finance'], path: () => '/beheer/budget/2027/journaal.csv' },
  'GET /beheer/panel': { allow: ['admin'], path: () => '/beheer/panel' },
  'POST /beheer/panel': {
    allow: ['admin'],
    path: () => '/beheer/panel',
    fields: () => ({ name: 'Nieuw Panellid', email: 'nieuw-lid@buurtfonds.test', password: 'een-lang-wachtwoord' }),
  },
  'POST /beheer/panel/:id/voorzitter': { allow: ['admin'], path: () => `/beheer/panel/${members.chair}/voorzitter`, fields: () => ({}) },
  'POST /beheer/panel/:id/deactiveren': { allow: ['admin'], path: () => `/beheer/panel/${members.leaves}/deactiveren`, fields: () => ({}) },
  'GET /beheer/logboek': { allow: ['admin'], path: () => '/beheer/logboek' },
  'GET /beheer/monitoring': { allow: ['panel', 'admin'], path: () => `/beheer/monitoring?jaar=${YEAR}` },
  'GET /beheer/monitoring/initiatieven.csv': { allow: ['panel', 'admin'], path: () => `/beheer/monitoring/initiatieven.csv?jaar=${YEAR}` },
};

/** The table's key of a page: the e-mail link's variant of /aanvraag/:id (it answers only with ?token=) is its own row. */
function keyOf(spec: PageSpec): string {
  const tokenVariant = spec.when?.({ query: { token: 'x' } } as never) === true && spec.when?.({ query: {} } as never) === false;
  return `${spec.method.toUpperCase()} ${spec.path}${tokenVariant ? '?token=' : ''}`;
}

/** What a page's own `access` declaration means for each kind of caller. */
function declaredRoles(spec: PageSpec): Allowed[] {
  if (spec.access.includes('anonymous')) return [...roles];
  const declared: Allowed[] = roles.filter((role) => {
    if (role === 'applicant') return spec.access.includes('applicant_self') && spec.path.includes('/:id');
    if (role === 'anonymous' || role === 'other_applicant') return false;
    return spec.access.includes(role);
  });
  if (spec.access.includes('welfare_case') && !spec.access.includes('welfare')) declared.push('welfare_case');
  return declared;
}

/** The e-mail address of the rows' applicants: personal data only staff who read applications may see. */
const FIXTURE_EMAIL = 'aanvrager@example.nl';

async function submit(title: string, email = FIXTURE_EMAIL): Promise<Fixture> {
  const res = await ctx
    .http()
    .post('/api/v1/applications')
    .field('application', JSON.stringify(validApplication({ title, applicant: { ...validApplication().applicant, email } })))
    .attach('documents', pdfBytes, { filename: 'offerte.pdf' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const view = await eventually(async () => {
    const r = await ctx.http().get(`/api/v1/applications/${res.body.id}`).set('Authorization', `Bearer ${res.body.accessToken}`);
    return r.body.status === 'screening' ? r.body : undefined;
  }, 30_000, `application ${res.body.id} in screening`);
  // Its "received" mail has gone, so nothing of its own moves while a row compares before and after.
  await eventually(async () => (await ctx.models.Outbox.countDocuments({ applicationId: res.body.id, status: { $ne: 'sent' } })) === 0, 15_000, 'its mails sent');
  return { id: res.body.id, reference: res.body.reference, title, token: res.body.accessToken, documentId: view.documents[0].id };
}

/** Runs `fn` over `items`, a few at a time (the shared servers are slow when all start at once). */
async function inBatches<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>, size = 6): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => fn(item, i + j)))));
  return out;
}

/** Puts a cookie into a client's jar (as the browser holds it, or as an attacker sends it). */
function plantCookie(client: WebClient, cookie: string): void {
  (client.agent as unknown as { jar: { setCookie(c: string, domain: string, path: string): unknown } }).jar.setCookie(cookie, '127.0.0.1', '/');
}

/** Everything a refused request could have changed. */
async function snapshot(f: Fixture) {
  const m = ctx.models;
  const ids = [f.id, supported.id, unsupported.id];
  const [apps, workflow, events, documents, applications, accessTokens, mails, staff, overrides, extraMeetings, meetings, ledger, payouts, batches, payoutEvents, audit, support, flagged, tmp] = await Promise.all([
    m.Application.find({ _id: { $in: ids } }, { status: 1, statusSeq: 1, updatedAt: 1, informationRequests: 1 }).sort({ _id: 1 }).lean(),
    ctx.client.workflow.getHandle(`initiative-${f.id}`).query(stateQuery).then((s) => s.status),
    m.Event.countDocuments({ applicationId: { $in: ids } }),
    m.Document.countDocuments(),
    m.Application.countDocuments(),
    m.AccessToken.countDocuments({ applicationId: { $in: ids } }),
    m.Outbox.countDocuments({ applicationId: { $in: ids } }),
    m.StaffUser.find({}, { active: 1, chair: 1, role: 1 }).sort({ _id: 1 }).lean(),
    m.MeetingOverride.find().sort({ _id: 1 }).lean(),
    m.ExtraMeeting.find().sort({ _id: 1 }).lean(),
    m.Meeting.countDocuments(),
    m.LedgerEntry.find({}, { balances: 1 }).sort({ _id: 1 }).lean(),
    m.Payout.find({}, { status: 1, batchId: 1 }).sort({ _id: 1 }).lean(),
    m.PayoutBatch.countDocuments(),
    m.PayoutEvent.countDocuments(),
    m.Audit.countDocuments(),
    ctx.deps.support.get(supported.id),
    ctx.deps.support.get(unsupported.id),
    readdir(ctx.store.tmpDir),
  ]);
  return { apps, workflow, events, documents, applications, accessTokens, mails, staff, overrides, extraMeetings, meetings, ledger, payouts, batches, payoutEvents, audit, support, flagged, tmp };
}

function describeResponse(res: Response): string {
  const text = typeof res.text === 'string' ? res.text.replace(/\s+/g, ' ').slice(0, 200) : '';
  return `${res.status}${res.headers.location ? ` → ${res.headers.location}` : ''} ${text}`;
}

const isLoginRedirect = (res: Response) => res.status === 303 && String(res.headers.location ?? '').startsWith('/inloggen');

describe('every page × every caller', () => {
  it('allows exactly the callers the table names; refuses the others (303 to login, 401 or 403) without their data, and a refused form changes nothing', async () => {
    const failures: string[] = [];
    const pages = webPages(ctx.deps, ctx.routes);
    const served = new Set(pages.map(keyOf));
    for (const key of Object.keys(table)) if (!served.has(key)) failures.push(`${key}: row in the table, but the web interface has no such page`);

    // Set-up: an application per row, another applicant's, two grants (one with a support case and a batch), meetings, members.
    const upcoming = upcomingMeetings(calendarRules(ctx.config), [], new Date(), 24);
    [meeting, toSkip, toMove] = [upcoming[20]!, upcoming[21]!, upcoming[22]!];
    extraDay = new Date(Date.parse(`${meeting.date}T00:00:00Z`) + 3 * 86_400_000).toISOString().slice(0, 10);
    for (const u of await ctx.models.StaffUser.find({}, { email: 1 }).lean()) staffIds[u.email.split('@')[0]!] = u._id;
    members.chair = await extraMember('wordt-voorzitter');
    members.leaves = await extraMember('vertrekt');
    // Rows about one application each get their own (an allowed POST may move it on); the others share one.
    const ownApplication = (key: string) => /^(GET|POST) \/(aanvraag|beheer\/aanvragen)\/:id/.test(key);
    const [own, shared, other, g1, g2] = await Promise.all([
      inBatches(pages.filter((p) => ownApplication(keyOf(p))), (p, i) => submit(`Aanvraag ${i + 1} van de paginatabel (${keyOf(p)})`)),
      submit('De gedeelde aanvraag van de paginatabel'),
      submit('De aanvraag van een ander', 'ander@example.nl'),
      grant(ctx, { title: 'Toekenning met ondersteuning' }),
      grantWithDocument(ctx, { wijken: ['Bovenveen'], title: 'Toekenning in de wachtrij van Woej' }),
    ]);
    const fixtures = pages.map((p) => (ownApplication(keyOf(p)) ? own.shift()! : shared));
    supported = g1;
    ownCase = { id: g2.id, reference: g2.reference, title: 'Toekenning in de wachtrij van Woej', token: g2.token, documentId: g2.documentId };
    const finance = await ctx.login('financien@buurtfonds.test');
    const made = await ctx.http().post('/api/v1/payouts/batches').set('Authorization', `Bearer ${finance}`);
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    batch = made.body.id;
    unsupported = await grant(ctx, { title: 'Toekenning zonder ondersteuning', wantsSupport: false, supportWish: undefined });
    await eventually(async () => (await ctx.deps.support.get(supported.id))?.state === 'unclaimed', 20_000, 'the support case queued');
    await eventually(async () => (await ctx.deps.support.get(ownCase.id))?.organisation === 'Woej', 20_000, 'the case in Woej’s queue');
    for (const g of [supported, unsupported, ownCase]) {
      await eventually(async () => (await ctx.models.Outbox.countDocuments({ applicationId: g.id, status: { $ne: 'sent' } })) === 0, 15_000, `${g.reference} mails sent`);
    }

    // The callers, each a browser with its own cookies and CSRF token.
    const clients = {} as Record<Role, WebClient>;
    clients.anonymous = webClient(ctx);
    await clients.anonymous.get('/inloggen');
    clients.applicant = webClient(ctx);
    for (const f of fixtures) plantCookie(clients.applicant, `bf_aanvraag=${f.token}; Path=/aanvraag/${f.id}; HttpOnly; SameSite=Lax`);
    await clients.applicant.get('/aanvragen');
    clients.other_applicant = webClient(ctx);
    const otherCookie = `bf_aanvraag=${other.token}; Path=/; HttpOnly; SameSite=Lax`;
    plantCookie(clients.other_applicant, otherCookie);
    await clients.other_applicant.get('/aanvragen');
    for (const role of staffRoles) {
      clients[role] = webClient(ctx);
      const res = await clients[role].login(staffEmail[role]);
      expect(res.status, `${role} logs in on the page`).toBe(303);
    }
    for (const role of roles) expect(clients[role].csrf(), `${role} has a CSRF token`).not.toBe('');

    /** How a refused caller is turned away. */
    function expectRefused(key: string, spec: PageSpec, role: Role, path: string, f: Fixture, res: Response): void {
      const known = role === 'other_applicant' || (staffRoles as readonly string[]).includes(role);
      // Without a session or a cookie for this path: the login page for staff pages, 401 for an applicant's page.
      const staffPage = !path.startsWith('/aanvraag/');
      const back = spec.method === 'get' ? path : path.split('?')[0]!;
      const expected = known ? '403' : staffPage ? `303 → /inloggen?terug=${encodeURIComponent(back)}` : '401';
      const got = res.status === 303 ? `303 → ${res.headers.location}` : String(res.status);
      if (got !== expected) failures.push(`${key} as ${role}: refused, expected ${expected}, got ${describeResponse(res)}`);
      const body = typeof res.text === 'string' ? res.text : Buffer.isBuffer(res.body) ? res.body.toString('latin1') : '';
      for (const secret of [f.title, f.reference, FIXTURE_EMAIL, supported.reference, unsupported.reference]) {
        if (body.includes(secret)) failures.push(`${key} as ${role}: the refusal shows "${secret}"`);
      }
    }

    /** Who may read an application's personal data on a page (besides its own applicant). */
    const readers = table['GET /beheer/aanvragen/:id']!.allow;

    function expectAllowed(key: string, spec: PageSpec, role: Role, res: Response): void {
      if (res.status === 401 || res.status === 403 || isLoginRedirect(res)) failures.push(`${key} as ${role}: allowed, but refused: ${describeResponse(res)}`);
      else if (res.status >= 500) failures.push(`${key} as ${role}: allowed, but the page failed: ${describeResponse(res)}`);
      else if (spec.method === 'get' && ![200, 302, 303].includes(res.status)) failures.push(`${key} as ${role}: allowed GET, expected 200 or a redirect, got ${describeResponse(res)}`);
      // An action a caller may take shows no more than the caller may read (e.g. an error page re-rendering the application).
      if (role !== 'applicant' && !readers.includes(role) && typeof res.text === 'string' && res.text.includes(FIXTURE_EMAIL)) {
        failures.push(`${key} as ${role}: allowed, but the answer (${res.status}) shows an application's personal data (the applicant's e-mail) that ${role} may not read`);
      }
    }

    async function send(role: Role, spec: PageSpec, path: string, fields: FormFields): Promise<Response> {
      // superagent's cookie jar lets a cookie for a longer path (the link row sets one) replace the one for "/": put it back.
      if (role === 'other_applicant') plantCookie(clients.other_applicant, otherCookie);
      const res = spec.method === 'get' ? await clients[role].get(path) : await clients[role].post(path, fields);
      // WEB_AUTHZ_DEBUG=1 prints every call and its answer.
      if (process.env.WEB_AUTHZ_DEBUG) console.log(`${spec.method.toUpperCase()} ${path} as ${role}: ${res.status} ${res.headers.location ?? ''}`);
      // An allowed logout ends the session: log in again for the rows after it.
      if (spec.method === 'post' && spec.path === '/uitloggen' && (staffRoles as readonly string[]).includes(role)) await clients[role].login(staffEmail[role as StaffRole]);
      return res;
    }

    /** The `welfare` caller on a `welfare_case` page: a 404 page (or a list without it) for the row's application, allowed on one of their cases. */
    async function walkWelfareCases(key: string, spec: PageSpec, row: Row, f: Fixture, path: string): Promise<void> {
      const res = await send('welfare', spec, path, {});
      const text = typeof res.text === 'string' ? res.text : '';
      const shown = [f.title, f.reference, FIXTURE_EMAIL].filter((secret) => text.includes(secret));
      if (!spec.path.includes('/:id')) {
        if (res.status !== 200 || shown.length) failures.push(`${key} as welfare: expected their cases only, got ${describeResponse(res)} showing ${shown.join(', ')}`);
        if (!text.includes(ownCase.reference)) failures.push(`${key} as welfare: their case ${ownCase.reference} is not listed`);
        return;
      }
      if (res.status !== 404 || shown.length) failures.push(`${key} as welfare on an application not theirs: expected a 404 page without its data, got ${describeResponse(res)} showing ${shown.join(', ')}`);
      expectAllowed(`${key} (their case)`, spec, 'welfare', await send('welfare', spec, await row.path(ownCase), {}));
    }

    // Phase 1: every refusal (and the allowed GETs); a refused POST must leave everything as it was.
    const posts: { key: string; spec: PageSpec; row: Row; f: Fixture; path: string }[] = [];
    for (const [i, spec] of pages.entries()) {
      const key = keyOf(spec);
      const row = table[key];
      if (!row) {
        failures.push(`${key}: no row in the page table (add one stating who may open it)`);
        continue;
      }
      const declared = declaredRoles(spec);
      if (!isDeepStrictEqual([...declared].sort(), [...row.allow].sort())) {
        failures.push(`${key}: page access [${spec.access.join(', ')}] lets in [${declared.join(', ')}], the table says [${row.allow.join(', ')}]`);
      }
      const f = fixtures[i]!;
      await row.prepare?.(f);
      const path = await row.path(f);
      const fields = row.fields?.(f) ?? {};
      // A welfare worker under `welfare_case` is neither simply refused nor simply allowed.
      const caseScoped = row.allow.includes('welfare_case');
      if (caseScoped) await walkWelfareCases(key, spec, row, f, path);
      const refused = roles.filter((r) => !row.allow.includes(r) && !(caseScoped && r === 'welfare'));
      const before = spec.method === 'post' ? await snapshot(f) : undefined;
      for (const role of refused) expectRefused(key, spec, role, path, f, await send(role, spec, path, fields));
      if (before) {
        const after = await snapshot(f);
        const changed = (Object.keys(before) as (keyof typeof before)[]).filter((k) => !isDeepStrictEqual(before[k], after[k]));
        for (const k of changed) failures.push(`${key}: a refused form changed ${k}: ${JSON.stringify(before[k]).slice(0, 600)} → ${JSON.stringify(after[k]).slice(0, 600)}`);
        posts.push({ key, spec, row, f, path });
      } else {
        for (const role of roles.filter((r) => row.allow.includes(r))) expectAllowed(key, spec, role, await send(role, spec, path, fields));
      }
    }
    // Phase 2: the allowed POSTs (they may change things: each row has its own application).
    for (const { key, spec, row, f, path } of posts) {
      for (const role of roles.filter((r) => row.allow.includes(r))) expectAllowed(key, spec, role, await send(role, spec, path, row.fields?.(f) ?? {}));
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, 180_000);
});
