/**
 * Monitoring through the HTTP API against a real database and ledger: read-model
 * fixtures inserted directly (applications in every outcome, decisions, reports,
 * reviews, an erased one) and their money booked through the budget ledger; then every
 * figure of the summary checked exactly, the CSV parsed back (BOM, separators, quoting,
 * Dutch and English), the stories with their photo links, who may call what, bad years,
 * and the cache (fresh, stale while a new read runs, markers, maximum age).
 *
 * Years: 2031 is the submission year of the main fixtures (activities in 2031 and 2032);
 * 2030 holds one application whose money is in budget year 2031; 2034 is the cache's.
 */
import { randomUUID } from 'node:crypto';
import { addApplicationKeys, addKeys, insertDocuments, refsUnder } from '../../src/db/keys.ts';
import request from 'supertest';
import { createApp } from '../../src/api/app.ts';
import { buildApiDeps } from '../../src/runtime.ts';
import { backfillStoryKeys, storyKeys } from '../../src/reports/stories.ts';
import { createApplicationActivities } from '../../activities/applications.ts';
import { commandsSince, monitoredDatabase, notById } from '../helpers/id-queries.ts';
import { webClient } from '../helpers/web.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { submittedApplication } from '../../src/db/models.ts';
import { ERASED } from '../../src/privacy/erasure.ts';
import { ReportService } from '../../src/reports/service.ts';
import { summarize } from '../../src/reports/figures.ts';
import { createTestContext, DEMO_PASSWORD, eventually, type TestContext } from '../helpers/context.ts';
import { jpegBytes, pdfBytes, pngBytes, validApplication } from '../helpers/fixtures.ts';
import { createHash } from 'node:crypto';

let ctx: TestContext;
const tokens: Record<'admin' | 'panel' | 'welfare' | 'finance', string> = {} as never;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

// --- expected figures, written out by hand per application --------------------------------

type Light = 'green' | 'orange' | 'red';
interface Fig {
  applications: number;
  open: number;
  grantedFull: number;
  grantedPartial: number;
  rejected: number;
  rejectedBudgetExhausted: number;
  lapsed: number;
  withdrawn: number;
  withdrawnAfterGrant: number;
  requestedCents: number;
  grantedCents: number;
  paidCents: number;
  reclaimedCents: number;
  refundedCents: number;
  participantsExpected: number;
  volunteersExpected: number;
  participantsReached: number;
  volunteersReached: number;
  reports: number;
  trafficLights: Record<Light, number>;
}
const zero = (): Fig => ({
  applications: 0,
  open: 0,
  grantedFull: 0,
  grantedPartial: 0,
  rejected: 0,
  rejectedBudgetExhausted: 0,
  lapsed: 0,
  withdrawn: 0,
  withdrawnAfterGrant: 0,
  requestedCents: 0,
  grantedCents: 0,
  paidCents: 0,
  reclaimedCents: 0,
  refundedCents: 0,
  participantsExpected: 0,
  volunteersExpected: 0,
  participantsReached: 0,
  volunteersReached: 0,
  reports: 0,
  trafficLights: { green: 0, orange: 0, red: 0 },
});
const fig = (p: Partial<Omit<Fig, 'trafficLights'>> & { lights?: Partial<Record<Light, number>> }): Fig => {
  const { lights, ...rest } = p;
  return { ...zero(), applications: 1, ...rest, trafficLights: { green: 0, orange: 0, red: 0, ...lights } };
};
function sum(...figs: Fig[]): Fig {
  const out = zero();
  for (const f of figs) {
    for (const k of Object.keys(out) as (keyof Fig)[]) if (k !== 'trafficLights') (out[k] as number) += f[k] as number;
    for (const l of ['green', 'orange', 'red'] as const) out.trafficLights[l] += f.trafficLights[l];
  }
  return out;
}

// What each application of 2031 counts for (a split application: the part of one wijk or purpose).
const c1 = fig({ grantedFull: 1, requestedCents: 60_000, grantedCents: 60_000, paidCents: 60_000, refundedCents: 5_000, participantsExpected: 120, volunteersExpected: 8, participantsReached: 150, volunteersReached: 10, reports: 1, lights: { green: 1 } });
const c2 = fig({ grantedPartial: 1, requestedCents: 100_001, grantedCents: 80_001, paidCents: 80_001, participantsExpected: 40, volunteersExpected: 5, participantsReached: 30, volunteersReached: 4, reports: 1 });
/** c2 split in two (its wijken Damsigt, Bovenveen; its purposes liveability, cohesion): the first part gets the odd cent or person. */
const c2first = fig({ grantedPartial: 1, requestedCents: 50_001, grantedCents: 40_001, paidCents: 40_001, participantsExpected: 20, volunteersExpected: 3, participantsReached: 15, volunteersReached: 2, reports: 1 });
const c2second = fig({ grantedPartial: 1, requestedCents: 50_000, grantedCents: 40_000, paidCents: 40_000, participantsExpected: 20, volunteersExpected: 2, participantsReached: 15, volunteersReached: 2, reports: 1 });
const c3 = fig({ rejected: 1, requestedCents: 20_000 });
const c4 = fig({ rejectedBudgetExhausted: 1, requestedCents: 30_000 });
const c5 = fig({ lapsed: 1, requestedCents: 10_000 });
const c6 = fig({ withdrawn: 1, requestedCents: 15_000 });
const c7 = fig({ grantedFull: 1, withdrawn: 1, withdrawnAfterGrant: 1, requestedCents: 25_000, grantedCents: 25_000, paidCents: 25_000, reclaimedCents: 25_000, participantsExpected: 30, volunteersExpected: 3 });
/** c7 over its purposes cohesion, safety. */
const c7first = fig({ grantedFull: 1, withdrawn: 1, withdrawnAfterGrant: 1, requestedCents: 12_500, grantedCents: 12_500, paidCents: 12_500, reclaimedCents: 12_500, participantsExpected: 15, volunteersExpected: 2 });
const c7second = fig({ grantedFull: 1, withdrawn: 1, withdrawnAfterGrant: 1, requestedCents: 12_500, grantedCents: 12_500, paidCents: 12_500, reclaimedCents: 12_500, participantsExpected: 15, volunteersExpected: 1 });
const c8 = fig({ grantedFull: 1, requestedCents: 40_000, grantedCents: 40_000, paidCents: 40_000, reclaimedCents: 40_000, participantsExpected: 60, volunteersExpected: 6 });
const c9 = fig({ open: 1, requestedCents: 12_345 });
const c10 = fig({ grantedFull: 1, requestedCents: 50_000, grantedCents: 50_000, paidCents: 50_000, refundedCents: 50_000, participantsExpected: 25, volunteersExpected: 2, reports: 1, lights: { red: 1 } });

// --- fixtures ------------------------------------------------------------------------------

const A: Record<string, string> = {};
let storiesBackfilled = 0;
const photos: Record<string, string> = {};
const TRICKY_TITLE = 'Buurttuin "De Groene Hoek"; fase 1\nmet kas';
const FORMULA_TITLE = '=HYPERLINK("http://example.com","klik")';

interface Fixture {
  key: string;
  seq: number;
  year?: number;
  createdAt: string;
  form?: Record<string, unknown>;
  status: string;
  decision?: { outcome: 'approved' | 'partially_approved' | 'rejected'; grantedCents: number };
  report?: Record<string, unknown>;
  review?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

const reportText = (what: string) => `${what}: het ging goed, de buurt kwam samen en er was veel animo.`;

const fixtures: Fixture[] = [
  {
    key: 'A1',
    seq: 1,
    createdAt: '2031-01-10T09:00:00Z',
    form: { title: 'Straatfeest Kerkstraat', wijken: ['Voorburg-Midden'], purposes: ['cohesion'], amountRequestedCents: 60_000, expectedParticipants: 120, volunteers: 8, activity: { startDate: '2031-05-01', endDate: '2031-05-01', location: 'Kerkstraat' } },
    status: 'closed',
    decision: { outcome: 'approved', grantedCents: 60_000 },
    report: { participants: 150, volunteers: 10, selfAssessment: 'green', submittedAt: '2031-06-01T10:00:00.000Z', text: reportText('Straatfeest') },
    review: { outcome: 'accept', trafficLight: 'green', reviewedBy: 'staff:x', reviewedAt: '2031-06-10T10:00:00.000Z' },
  },
  {
    key: 'A2',
    seq: 2,
    // 00:30 on 1 February in Amsterdam: a February application.
    createdAt: '2031-01-31T23:30:00Z',
    form: { title: TRICKY_TITLE, wijken: ['Damsigt', 'Bovenveen'], purposes: ['liveability', 'cohesion'], amountRequestedCents: 100_001, expectedParticipants: 40, volunteers: 5, activity: { startDate: '2032-03-01', endDate: '2032-03-01', location: 'Park' } },
    status: 'report_received',
    decision: { outcome: 'partially_approved', grantedCents: 80_001 },
    report: { participants: 30, volunteers: 4, selfAssessment: 'orange', submittedAt: '2032-04-01T10:00:00.000Z', text: 'De kas staat er; "fase 2" volgt.\nDank aan alle vrijwilligers!' },
    // Clarification asked: not the final traffic light.
    review: { outcome: 'clarify', trafficLight: 'orange', reviewedBy: 'staff:x', reviewedAt: '2032-04-05T10:00:00.000Z' },
  },
  { key: 'A3', seq: 3, createdAt: '2031-03-05T12:00:00Z', form: { wijken: ['Prinsenhof'], purposes: ['safety'], amountRequestedCents: 20_000 }, status: 'rejected', decision: { outcome: 'rejected', grantedCents: 0 } },
  // Granted by the panel, but the budget could not cover it.
  { key: 'A4', seq: 4, createdAt: '2031-03-20T12:00:00Z', form: { wijken: [], purposes: ['cohesion'], amountRequestedCents: 30_000 }, status: 'rejected_budget_exhausted', decision: { outcome: 'approved', grantedCents: 30_000 } },
  { key: 'A5', seq: 5, createdAt: '2031-04-01T10:00:00Z', form: { wijken: ['Stompwijk'], purposes: ['liveability'], amountRequestedCents: 10_000 }, status: 'lapsed' },
  { key: 'A6', seq: 6, createdAt: '2031-04-15T10:00:00Z', form: { wijken: ['Voorburg-West'], purposes: ['safety'], amountRequestedCents: 15_000 }, status: 'withdrawn' },
  {
    key: 'A7',
    seq: 7,
    createdAt: '2031-05-02T10:00:00Z',
    form: { wijken: ['Heuvel/Amstelwijk'], purposes: ['cohesion', 'safety'], amountRequestedCents: 25_000, expectedParticipants: 30, volunteers: 3, activity: { startDate: '2031-09-01', endDate: '2031-09-01', location: 'Plein' } },
    status: 'withdrawn',
    decision: { outcome: 'approved', grantedCents: 25_000 },
  },
  {
    key: 'A8',
    seq: 8,
    createdAt: '2031-06-10T10:00:00Z',
    form: { wijken: ['Leidschendam-Noord'], purposes: ['cohesion'], amountRequestedCents: 40_000, expectedParticipants: 60, volunteers: 6, activity: { startDate: '2031-08-01', endDate: '2031-08-01', location: 'Buurthuis' } },
    status: 'reclaimed',
    decision: { outcome: 'approved', grantedCents: 40_000 },
  },
  // 23:30 on 31 December in Amsterdam: still a December application of 2031.
  { key: 'A9', seq: 10, createdAt: '2031-12-31T22:30:00Z', form: { title: FORMULA_TITLE, wijken: ['Voorburg-Midden'], purposes: ['cohesion'], amountRequestedCents: 12_345 }, status: 'screening' },
  {
    key: 'A10',
    seq: 9,
    createdAt: '2031-07-07T10:00:00Z',
    form: { wijken: ['Bovenveen'], purposes: ['liveability'], amountRequestedCents: 50_000, expectedParticipants: 25, volunteers: 2, activity: { startDate: '2031-09-15', endDate: '2031-09-15', location: 'Veld' } },
    status: 'closed',
    decision: { outcome: 'approved', grantedCents: 50_000 },
    report: { participants: 0, volunteers: 0, selfAssessment: 'red', submittedAt: '2031-10-01T10:00:00.000Z', text: ERASED },
    review: { outcome: 'reject', trafficLight: 'red', reviewedBy: 'staff:x', reviewedAt: '2031-10-10T10:00:00.000Z' },
    extra: { erasedAt: new Date('2031-11-01T00:00:00Z') },
  },
  // Submitted in 2030, its activity (and money) in budget year 2031.
  {
    key: 'A11',
    seq: 1,
    year: 2030,
    createdAt: '2030-11-20T10:00:00Z',
    form: { amountRequestedCents: 7_000, budgetLines: [{ description: 'Tent', amountCents: 7_000 }], activity: { startDate: '2031-02-01', endDate: '2031-02-01', location: 'Dorp' } },
    status: 'paid',
    decision: { outcome: 'approved', grantedCents: 7_000 },
  },
];

async function storeDocument(applicationId: string, fileName: string, contentType: string, bytes: Buffer): Promise<string> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const tmp = join(ctx.store.tmpDir, randomUUID());
  await writeFile(tmp, bytes);
  await ctx.store.commit(tmp, sha256);
  const id = randomUUID();
  await insertDocuments(ctx.models, [{ _id: id, applicationId, fileName, contentType, size: bytes.length, sha256, uploadedAt: new Date(), uploadedBy: 'applicant', context: 'report' }]);
  return id;
}

/** Inserts the application as it stands and counts it in the monitoring summary as production's write path does (`new` delta). */
async function insertFixture(f: Fixture): Promise<string> {
  const id = randomUUID();
  const year = f.year ?? 2031;
  const form = validApplication({ ...(f.form ?? {}) });
  const requested = form.amountRequestedCents;
  if (f.form?.amountRequestedCents !== undefined && !f.form.budgetLines) form.budgetLines = [{ description: 'Kosten', amountCents: requested }];
  const doc = submittedApplication({ id, form: form as never, reference: `VW-${year}-${String(f.seq).padStart(4, '0')}`, year, submittedAt: new Date(f.createdAt) });
  const stored = {
    ...doc,
    status: f.status,
    statusSeq: 5,
    ...(f.decision ? { decision: { meetingId: 'meeting-x', ...f.decision, requestedCents: requested, reasons: [], struckLines: [], decidedAt: f.createdAt } } : {}),
    ...(f.report ? { report: { costLines: [{ description: 'Kosten', amountCents: 1 }], actualCostsCents: 1, unspentCents: 0, documentIds: [], ...f.report } } : {}),
    ...(f.review ? { review: f.review } : {}),
    ...(f.extra ?? {}),
  };
  await addApplicationKeys(ctx.models, stored as never); // as intake: its keys first (the CSV reads its year by them)
  await ctx.models.Application.collection.insertOne(stored as never);
  await ctx.deps.tally.recordCreated(stored);
  return id;
}

/** The money as the ledger books it (through the API's own ledger, as the worker would). */
async function book(): Promise<void> {
  const l = ctx.deps.ledger;
  const meta = { actor: 'test' };
  const grant = async (key: string, year: number, amountCents: number, wijken: string[]) => {
    const r = await l.reserve({ applicationId: A[key]!, year, amountCents, wijken, ...meta });
    expect(r.outcome).toBe('reserved');
  };
  await grant('A1', 2031, 60_000, ['Voorburg-Midden']);
  await l.pay({ applicationId: A.A1!, year: 2031, ...meta });
  await l.returnPaid({ kind: 'refund', applicationId: A.A1!, year: 2031, key: 'unspent', amountCents: 5_000, ...meta });
  await grant('A2', 2032, 80_001, ['Damsigt', 'Bovenveen']);
  await l.pay({ applicationId: A.A2!, year: 2032, ...meta });
  await grant('A7', 2031, 25_000, ['Heuvel/Amstelwijk']);
  await l.pay({ applicationId: A.A7!, year: 2031, ...meta });
  await l.returnPaid({ kind: 'reclaim', applicationId: A.A7!, year: 2031, key: 'withdrawn', ...meta });
  await grant('A8', 2031, 45_000, ['Leidschendam-Noord']);
  await l.release({ applicationId: A.A8!, year: 2031, key: 'remainder', amountCents: 5_000, ...meta });
  await l.pay({ applicationId: A.A8!, year: 2031, ...meta });
  await l.returnPaid({ kind: 'reclaim', applicationId: A.A8!, year: 2031, key: 'no-report', ...meta });
  await grant('A10', 2031, 50_000, ['Bovenveen']);
  await l.pay({ applicationId: A.A10!, year: 2031, ...meta });
  await l.returnPaid({ kind: 'refund', applicationId: A.A10!, year: 2031, key: 'not-held', ...meta });
  await grant('A11', 2031, 7_000, ['Voorburg-Midden']);
  await l.pay({ applicationId: A.A11!, year: 2031, ...meta });
}

beforeAll(async () => {
  // Read through on every request: each figure reflects the fixtures at once.
  ctx = await createTestContext({ env: { REPORTS_MAX_AGE_SECONDS: '0' } });
  [tokens.admin, tokens.panel, tokens.welfare, tokens.finance] = await Promise.all([ctx.staff.admin(), ctx.staff.panel(), ctx.staff.welfare(), ctx.login('financien@buurtfonds.test')]);
  for (const f of fixtures) A[f.key] = await insertFixture(f);
  photos.A1 = await storeDocument(A.A1!, 'feest.png', 'image/png', pngBytes);
  photos.A1receipt = await storeDocument(A.A1!, 'bon.pdf', 'application/pdf', pdfBytes);
  photos.A2 = await storeDocument(A.A2!, 'kas.jpg', 'image/jpeg', jpegBytes);
  photos.A10 = await storeDocument(A.A10!, 'veld.png', 'image/png', pngBytes);
  // Photos first, the receipt in between: the story keeps the report's order, without the receipt.
  await ctx.models.Application.collection.updateOne({ _id: A.A1 } as never, { $set: { 'report.documentIds': [photos.A1receipt, photos.A1] } });
  await ctx.models.Application.collection.updateOne({ _id: A.A2 } as never, { $set: { 'report.documentIds': [photos.A2] } });
  await ctx.models.Application.collection.updateOne({ _id: A.A10 } as never, { $set: { 'report.documentIds': [photos.A10] } });
  // Stored without the projection: their story keys come from the start-up backfill, as for data from before the keys.
  storiesBackfilled = await backfillStoryKeys(ctx.models);
  await book();
}, 60_000);
afterAll(async () => ctx?.close());

/** As the admin unless told otherwise; `null`: anonymous. */
const get = (path: string, token: string | null = tokens.admin) => {
  const r = ctx.http().get(path);
  return token ? r.set(bearer(token)) : r;
};
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

describe('GET /api/v1/reports/summary', () => {
  let body: Record<string, any>;
  beforeAll(async () => {
    const res = await get('/api/v1/reports/summary?year=2031');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    body = res.body;
  });

  it('says which year, when the figures were read, and the focus wijken', () => {
    expect(body.year).toBe(2031);
    expect(body.stale).toBe(false);
    expect(Date.now() - Date.parse(body.asOf)).toBeLessThan(60_000);
    expect(body.focusWijken).toEqual(['Heuvel/Amstelwijk', 'Voorburg-Midden', 'Bovenveen', 'Prinsenhof', 'Leidschendam-Noord']);
  });

  it('counts every outcome and sums the money from the ledger: the totals', () => {
    expect(body.totals).toEqual({
      applications: 10,
      open: 1,
      grantedFull: 4,
      grantedPartial: 1,
      rejected: 1,
      rejectedBudgetExhausted: 1,
      lapsed: 1,
      withdrawn: 2,
      withdrawnAfterGrant: 1,
      requestedCents: 362_346,
      grantedCents: 255_001,
      paidCents: 255_001,
      reclaimedCents: 65_000,
      refundedCents: 55_000,
      participantsExpected: 275,
      volunteersExpected: 24,
      participantsReached: 180,
      volunteersReached: 14,
      reports: 3,
      trafficLights: { green: 1, orange: 0, red: 1 },
    });
    expect(body.totals).toEqual(sum(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10));
    const t = body.totals;
    expect(t.open + t.grantedFull + t.grantedPartial + t.rejected + t.rejectedBudgetExhausted + t.lapsed + (t.withdrawn - t.withdrawnAfterGrant)).toBe(t.applications);
  });

  it('per wijk: every wijk and Gemeentebreed, focus marked, split amounts, and the money against the share of applications', () => {
    const expected: [string, boolean, Fig, number][] = [
      ['Bovenveen', true, sum(c2second, c10), 1.5],
      ['Damsigt', false, c2first, 0.5],
      ['Heuvel/Amstelwijk', true, c7, 1],
      ['Leidschendam-Noord', true, c8, 1],
      ['Prinsenhof', true, c3, 1],
      ['Stompwijk', false, c5, 1],
      ['Voorburg-Midden', true, sum(c1, c9), 2],
      ['Voorburg-Noord', false, zero(), 0],
      ['Voorburg-West', false, c6, 1],
      ['Gemeentebreed', false, c4, 1],
    ];
    expect(body.perWijk).toEqual(
      expected.map(([wijk, focus, f, weight]) => ({
        wijk,
        focus,
        ...f,
        spread: {
          applicationsShare: round4(weight / 10),
          grantedShare: round4(f.grantedCents / 255_001),
          paidShare: round4(f.paidCents / 255_001),
          ratio: weight ? round4(f.grantedCents / 255_001 / (weight / 10)) : null,
        },
      })),
    );
    // Worked out by hand: Voorburg-Midden has a fifth of the applications and 60,000 of 255,001 cents granted.
    const vm = body.perWijk.find((w: { wijk: string }) => w.wijk === 'Voorburg-Midden');
    expect(vm.spread).toEqual({ applicationsShare: 0.2, grantedShare: 0.2353, paidShare: 0.2353, ratio: 1.1765 });
    expect(body.perWijk.find((w: { wijk: string }) => w.wijk === 'Bovenveen').spread.ratio).toBe(2.3529);
    // Amounts and people add up to the totals; applications do not (A2 serves two wijken).
    for (const k of ['requestedCents', 'grantedCents', 'paidCents', 'reclaimedCents', 'refundedCents', 'participantsExpected', 'volunteersExpected', 'participantsReached', 'volunteersReached'] as const) {
      expect(body.perWijk.reduce((s: number, w: Fig) => s + w[k], 0), k).toBe(body.totals[k]);
    }
    expect(body.perWijk.reduce((s: number, w: Fig) => s + w.applications, 0)).toBe(11);
  });

  it('the focus wijken together: each application once, the amounts that fall in focus wijken', () => {
    expect(body.focus).toEqual(sum(c1, c2second, c3, c7, c8, c9, c10));
    expect(body.focus.applications).toBe(7);
    expect(body.focus.requestedCents).toBe(257_345);
  });

  it('per purpose, split like the wijken', () => {
    expect(body.perPurpose).toEqual([
      { purpose: 'cohesion', ...sum(c1, c2second, c4, c7first, c8, c9) },
      { purpose: 'safety', ...sum(c3, c6, c7second) },
      { purpose: 'liveability', ...sum(c2first, c5, c10) },
    ]);
  });

  it('per submission month in Amsterdam: all twelve, the boundaries in local time', () => {
    const byMonth: Record<string, Fig> = { '01': c1, '02': c2, '03': sum(c3, c4), '04': sum(c5, c6), '05': c7, '06': c8, '07': c10, '12': c9 };
    expect(body.perMonth).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1).padStart(2, '0')).map((m) => ({ month: `2031-${m}`, ...(byMonth[m] ?? zero()) })));
  });

  it('the budget year 2031 as the ledger has it, including money of an application submitted in 2030', async () => {
    const journal = await ctx.deps.ledger.journal(2031);
    const months = [...new Set(journal.filter((e) => e.kind !== 'open').map((e) => new Date(e.at).toLocaleDateString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 7)))];
    expect(body.budgetYear).toMatchObject({
      year: 2031,
      totalCents: 9_000_000,
      committedCents: 0,
      paidCents: 62_000, // 182,000 paid out, 65,000 reclaimed and 55,000 refunded
      releasedCents: 5_000,
      reclaimedCents: 65_000,
      refundedCents: 55_000,
      remainingCents: 8_938_000,
    });
    const perMonth = body.budgetYear.perMonth as Record<string, number | string>[];
    expect(perMonth.map((m) => m.month)).toEqual(months.sort());
    const total = (k: string) => perMonth.reduce((s, m) => s + (m[k] as number), 0);
    expect({ reserved: total('reservedCents'), released: total('releasedCents'), paid: total('paidCents'), reclaimed: total('reclaimedCents'), refunded: total('refundedCents') }).toEqual({
      reserved: 187_000,
      released: 5_000,
      paid: 182_000,
      reclaimed: 65_000,
      refunded: 55_000,
    });
  });

  it('another year: 2030 counts its own application with money booked in 2031; its own budget year is untouched', async () => {
    const res = await get('/api/v1/reports/summary?year=2030');
    expect(res.status).toBe(200);
    expect(res.body.totals).toEqual(fig({ grantedFull: 1, requestedCents: 7_000, grantedCents: 7_000, paidCents: 7_000, participantsExpected: 120, volunteersExpected: 8 }));
    expect(res.body.budgetYear).toEqual({ year: 2030, totalCents: 9_000_000, committedCents: 0, paidCents: 0, releasedCents: 0, reclaimedCents: 0, refundedCents: 0, remainingCents: 9_000_000, perMonth: [] });
  });

  it('without a year: this year (Amsterdam)', async () => {
    const res = await get('/api/v1/reports/summary');
    expect(res.status).toBe(200);
    expect(res.body.year).toBe(Number(new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 4)));
  });
});

describe('GET /api/v1/reports/initiatives.csv', () => {
  const dutchHeader = [
    'Referentie',
    'Titel',
    'Status',
    'Statuscode',
    'Ingediend op',
    'Maand',
    'Wijken',
    'Focuswijk',
    'Doelen',
    'Datum activiteit',
    'Begrotingsjaar',
    'Besluit',
    'Gevraagd (euro)',
    'Toegekend (euro)',
    'Uitbetaald (euro)',
    'Teruggevorderd (euro)',
    'Terugbetaald (euro)',
    'Verwachte deelnemers',
    'Verwachte vrijwilligers',
    'Deelnemers (verantwoording)',
    'Vrijwilligers (verantwoording)',
    'Eigen beoordeling',
    'Stoplicht',
  ];
  const csv = (query: string) => get(`/api/v1/reports/initiatives.csv${query}`).buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });

  it('Dutch Excel by default: BOM, `;`, CRLF, Dutch names, decimal comma, one row per application oldest first', async () => {
    const res = await csv('?year=2031');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers['content-disposition']).toBe('attachment; filename=initiatieven-2031.csv');
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.split('\r\n')[0]).toBe(`\uFEFF${dutchHeader.join(';')}`);
    // RFC 4180: the field with `;`, quotes and a line break is quoted, its quotes doubled.
    expect(text).toContain('"Buurttuin ""De Groene Hoek""; fase 1\nmet kas"');
    const rows = parse(bytes, { bom: true, delimiter: ';' }) as string[][];
    expect(rows[0]).toEqual(dutchHeader);
    expect(rows.slice(1).map((r) => r[0])).toEqual(['VW-2031-0001', 'VW-2031-0002', 'VW-2031-0003', 'VW-2031-0004', 'VW-2031-0005', 'VW-2031-0006', 'VW-2031-0007', 'VW-2031-0008', 'VW-2031-0009', 'VW-2031-0010']);
    const row = (ref: string) => rows.find((r) => r[0] === ref)!;
    expect(row('VW-2031-0001')).toEqual(['VW-2031-0001', 'Straatfeest Kerkstraat', 'afgesloten', 'closed', '2031-01-10', '2031-01', 'Voorburg-Midden', 'ja', 'sociale samenhang', '2031-05-01', '2031', 'toegekend', '600,00', '600,00', '600,00', '0,00', '50,00', '120', '8', '150', '10', 'groen', 'groen']);
    expect(row('VW-2031-0002')).toEqual(['VW-2031-0002', TRICKY_TITLE, 'verantwoording ontvangen', 'report_received', '2031-02-01', '2031-02', 'Damsigt, Bovenveen', 'ja', 'leefbaarheid, sociale samenhang', '2032-03-01', '2032', 'gedeeltelijk toegekend', '1000,01', '800,01', '800,01', '0,00', '0,00', '40', '5', '30', '4', 'oranje', '']);
    expect(row('VW-2031-0004').slice(6, 14)).toEqual(['Gemeentebreed', 'nee', 'sociale samenhang', '2027-05-01', '2027', 'afgewezen: budget op', '300,00', '0,00']);
    expect(row('VW-2031-0007').slice(11, 17)).toEqual(['toegekend', '250,00', '250,00', '250,00', '250,00', '0,00']);
    expect(row('VW-2031-0008')[2]).toBe('teruggevorderd');
    // A resident's title that a spreadsheet would run as a formula: defused.
    expect(row('VW-2031-0010').slice(1, 6)).toEqual([`'${FORMULA_TITLE}`, 'wordt beoordeeld', 'screening', '2031-12-31', '2031-12']);
    expect(row('VW-2031-0010')[11]).toBe('nog geen besluit');
    // No personal data.
    expect(text).not.toContain('Sanne');
    expect(text).not.toContain('NL91ABNA0417164300');
  });

  it('separator=, with English names and a decimal point; amounts=cents for programs', async () => {
    const res = await csv('?year=2031&separator=,&lang=en');
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename=initiatives-2031.csv');
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8')).toContain(',"Damsigt, Bovenveen",');
    const rows = parse(bytes, { bom: true, delimiter: ',' }) as string[][];
    expect(rows[0]!.slice(0, 4)).toEqual(['Reference', 'Title', 'Status', 'Status code']);
    expect(rows[0]!.slice(12, 17)).toEqual(['Requested (euro)', 'Granted (euro)', 'Paid (euro)', 'Reclaimed (euro)', 'Refunded (euro)']);
    expect(rows.find((r) => r[0] === 'VW-2031-0002')).toEqual(['VW-2031-0002', TRICKY_TITLE, 'report received', 'report_received', '2031-02-01', '2031-02', 'Damsigt, Bovenveen', 'yes', 'liveability, social cohesion', '2032-03-01', '2032', 'partially granted', '1000.01', '800.01', '800.01', '0.00', '0.00', '40', '5', '30', '4', 'orange', '']);

    const cents = parse((await csv('?year=2031&amounts=cents&separator=%3B')).body as Buffer, { bom: true, delimiter: ';' }) as string[][];
    expect(cents[0]![13]).toBe('Toegekend (centen)');
    expect(cents.find((r) => r[0] === 'VW-2031-0002')!.slice(12, 17)).toEqual(['100001', '80001', '80001', '0', '0']);
  });

  it('refuses an unknown separator, language or amount format', async () => {
    for (const q of ['separator=%7C', 'lang=de', 'amounts=guilders']) {
      const res = await get(`/api/v1/reports/initiatives.csv?year=2031&${q}`);
      expect({ q, status: res.status, code: res.body.error?.code }).toEqual({ q, status: 422, code: 'validation_failed' });
    }
  });
});

describe('GET /api/v1/reports/stories', () => {
  const storyOf = (key: string) => ({
    applicationId: A[key],
    reference: key === 'A1' ? 'VW-2031-0001' : 'VW-2031-0002',
  });

  it('report texts with links to their photos (not the receipts), newest report first; erased ones left out', async () => {
    const res = await get('/api/v1/reports/stories?year=2031');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ year: 2031, stale: false, total: 2, page: 1, pageSize: 20, offset: 0, limit: 20 });
    expect(res.body.stories).toEqual([
      {
        ...storyOf('A2'),
        title: TRICKY_TITLE,
        wijken: ['Damsigt', 'Bovenveen'],
        purposes: ['liveability', 'cohesion'],
        activityDate: '2032-03-01',
        reportedAt: '2032-04-01T10:00:00.000Z',
        participants: 30,
        volunteers: 4,
        selfAssessment: 'orange',
        text: 'De kas staat er; "fase 2" volgt.\nDank aan alle vrijwilligers!',
        photos: [{ id: photos.A2, fileName: 'kas.jpg', contentType: 'image/jpeg', url: `http://buurtfonds.test/api/v1/applications/${A.A2}/documents/${photos.A2}` }],
      },
      {
        ...storyOf('A1'),
        title: 'Straatfeest Kerkstraat',
        wijken: ['Voorburg-Midden'],
        purposes: ['cohesion'],
        activityDate: '2031-05-01',
        reportedAt: '2031-06-01T10:00:00.000Z',
        participants: 150,
        volunteers: 10,
        selfAssessment: 'green',
        trafficLight: 'green',
        text: reportText('Straatfeest'),
        photos: [{ id: photos.A1, fileName: 'feest.png', contentType: 'image/png', url: `http://buurtfonds.test/api/v1/applications/${A.A1}/documents/${photos.A1}` }],
      },
    ]);
  });

  it('a photo link downloads the photo with a staff token', async () => {
    const res = await get(`/api/v1/applications/${A.A1}/documents/${photos.A1}`).buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
  });

  it('one wijk, and pages', async () => {
    const ids = async (q: string) => {
      const res = await get(`/api/v1/reports/stories?year=2031&${q}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return { total: res.body.total, ids: res.body.stories.map((s: { applicationId: string }) => s.applicationId) };
    };
    expect(await ids('wijk=Bovenveen')).toEqual({ total: 1, ids: [A.A2] });
    expect(await ids('wijk=Voorburg-Midden')).toEqual({ total: 1, ids: [A.A1] });
    expect(await ids('wijk=Stompwijk')).toEqual({ total: 0, ids: [] });
    expect(await ids('wijk=Heuvel%2FAmstelwijk')).toEqual({ total: 0, ids: [] });
    expect(await ids('limit=1')).toEqual({ total: 2, ids: [A.A2] });
    expect(await ids('offset=1&limit=1')).toEqual({ total: 2, ids: [A.A1] });
    expect(await ids('offset=5')).toEqual({ total: 2, ids: [] });
    // The list convention: page and pageSize (taking precedence over offset and limit).
    expect(await ids('pageSize=1')).toEqual({ total: 2, ids: [A.A2] });
    expect(await ids('page=2&pageSize=1')).toEqual({ total: 2, ids: [A.A1] });
    expect(await ids('page=2&pageSize=1&offset=0&limit=5')).toEqual({ total: 2, ids: [A.A1] });
    expect(await ids('page=3&pageSize=1')).toEqual({ total: 2, ids: [] });
    expect(await ids('wijk=Damsigt&page=1&pageSize=1')).toEqual({ total: 1, ids: [A.A2] });
    const res = await get('/api/v1/reports/stories?year=2031&offset=1&limit=1');
    expect(res.body, 'offset and limit as a page').toMatchObject({ page: 2, pageSize: 1, offset: 1, limit: 1, total: 2 });
  });

  it('refuses an unknown wijk and a bad page', async () => {
    const unknown = await get('/api/v1/reports/stories?year=2031&wijk=Atlantis');
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details).toEqual([{ path: 'query.wijk', code: 'unknown_wijk', message: "Veld 'query.wijk': deze wijk kennen we niet." }]);
    for (const q of ['limit=0', 'limit=101', 'offset=-1', 'limit=abc', 'page=0', 'page=abc', 'pageSize=0', 'pageSize=101']) expect((await get(`/api/v1/reports/stories?year=2031&${q}`)).status, q).toBe(422);
  });
});

describe('the stories by key (src/reports/stories.ts)', () => {
  const storyRefs = async (year: number, wijk = '*') => (await refsUnder(ctx.models, 'story', [String(year), wijk])).map((k) => k.ref);

  it('the backfill wrote the keys of the reports stored before them, once: per wijk served and for all, newest report first; none for an erased report', async () => {
    // A1 (Voorburg-Midden), A2 (Damsigt, Bovenveen): three wijk keys and two for all. A10 was erased.
    expect(storiesBackfilled).toBe(5);
    expect(await storyRefs(2031)).toEqual([A.A2, A.A1]);
    expect(await storyRefs(2031, 'Bovenveen')).toEqual([A.A2]);
    expect(await storyRefs(2031, 'Voorburg-Midden')).toEqual([A.A1]);
    expect(await backfillStoryKeys(ctx.models), 'the second start').toBe(0);
  });

  /** The API on a connection that records what it sends (its own app, the admin logged in there); closed after `body`. */
  async function withMonitoredApi(body: (api: { db: Awaited<ReturnType<typeof monitoredDatabase>>; get: (path: string) => request.Test }) => Promise<void>): Promise<void> {
    const db = await monitoredDatabase(inject('mongoUri'), ctx.models.connection.name);
    try {
      const { app } = createApp(buildApiDeps({ config: ctx.config, logger: ctx.logger, models: db.models, client: ctx.client, store: ctx.store, secret: randomUUID() }));
      const login = await request(app).post('/api/v1/auth/login').send({ email: 'admin@buurtfonds.test', password: DEMO_PASSWORD });
      expect(login.status).toBe(200);
      await body({ db, get: (path) => request(app).get(path).set(bearer(login.body.token)) });
    } finally {
      await db.models.connection.close();
    }
  }

  it('a page of stories sends only _id queries (its keys, the applications, the photos), with or without a wijk', async () => {
    await withMonitoredApi(async ({ db, get }) => {
      for (const q of ['', '&wijk=Bovenveen', '&page=2&pageSize=1']) {
        const from = db.commands.length;
        const res = await get(`/api/v1/reports/stories?year=2031${q}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.stories.length, q).toBe(1 + Number(q === ''));
        expect(res.body.stories.flatMap((st: { photos: unknown[] }) => st.photos).length, `${q}: the photos were read`).toBeGreaterThan(0);
        expect(commandsSince(db, from), `${q}: what was sent`).toEqual(expect.arrayContaining(['find', 'count']));
        expect(notById(db, from), `${q}: queries not by _id`).toEqual([]);
      }
    });
  });

  it('the CSV reads its year by the list keys and the applications by _id: no query reads a whole collection', async () => {
    await withMonitoredApi(async ({ db, get }) => {
      const from = db.commands.length;
      const res = await get('/api/v1/reports/initiatives.csv?year=2031&separator=,');
      expect(res.status).toBe(200);
      const own = await get('/api/v1/reports/summary?year=2031');
      const rows = parse(res.text, { bom: true, delimiter: ',' }) as string[][];
      expect(rows.length - 1, 'one row per application of the year').toBe(own.body.totals.applications);
      expect(own.body.totals.applications).toBeGreaterThan(3);
      expect(notById(db, from), 'queries not by _id').toEqual([]);
    });
  });

  it('the status projection writes the keys with the report, moves them when the report is sent again, and a page skips a key its application no longer has', async () => {
    const id = await insertFixture({ key: 'S1', seq: 1, year: 2035, createdAt: '2035-02-01T10:00:00Z', status: 'paid', form: { title: 'Buurtmoestuin', wijken: ['Stompwijk'], amountRequestedCents: 10_000 }, decision: { outcome: 'approved', grantedCents: 10_000 } });
    const { recordProgress } = createApplicationActivities({ models: ctx.models, tally: ctx.deps.tally });
    const report = (submittedAt: string, text: string) => ({ text, participants: 12, volunteers: 3, selfAssessment: 'green' as const, costLines: [{ description: 'Zaad', amountCents: 10_000 }], submittedAt, actualCostsCents: 10_000, unspentCents: 0, documentIds: [] });
    const step = (seq: number, at: string, text: string) =>
      recordProgress({ applicationId: id, seq, event: { id: `${id}:story-${seq}`, at, type: 'report_received', status: 'report_received' }, status: 'report_received', informationRequests: [], decision: null, report: report(at, text), review: null, settlement: null });
    const page = async (wijk?: string) => (await get(`/api/v1/reports/stories?year=2035${wijk ? `&wijk=${wijk}` : ''}`)).body as { total: number; stories: { applicationId: string; reportedAt: string; text: string }[] };

    expect((await page()).stories).toEqual([]);
    await step(6, '2035-06-01T10:00:00.000Z', 'De eerste oogst.');
    expect((await page()).stories).toEqual([expect.objectContaining({ applicationId: id, reportedAt: '2035-06-01T10:00:00.000Z', text: 'De eerste oogst.' })]);
    expect((await page('Stompwijk')).total).toBe(1);
    expect((await page('Damsigt')).total).toBe(0);

    // Sent again after a clarification: a new time, the keys moved (not one story twice).
    await step(7, '2035-07-01T10:00:00.000Z', 'De oogst, met bonnetjes.');
    expect((await page()).stories).toEqual([expect.objectContaining({ applicationId: id, reportedAt: '2035-07-01T10:00:00.000Z', text: 'De oogst, met bonnetjes.' })]);
    expect(await storyRefs(2035)).toEqual([id]);
    expect(await storyRefs(2035, 'Stompwijk')).toEqual([id]);

    // A key of the earlier report that a crash left: counted, but its story is not shown twice.
    await addKeys(ctx.models, storyKeys({ _id: id, year: 2035, reference: 'VW-2035-0001', wijken: ['Stompwijk'], report: { text: 'x', submittedAt: '2035-06-01T10:00:00.000Z' } }));
    const stale = await page();
    expect(stale.total).toBe(2);
    expect(stale.stories.map((st) => st.reportedAt)).toEqual(['2035-07-01T10:00:00.000Z']);
  });
});

describe('the stories on the monitoring page', () => {
  it('a page of stories at a time with previous/next links, of one wijk when chosen, in Dutch and English', async () => {
    const web = webClient(ctx);
    await web.login('admin@buurtfonds.test');
    // Ten a page: one page for the two stories of 2031, no pagination.
    const all = await web.get('/beheer/monitoring?jaar=2031');
    expect(all.status).toBe(200);
    expect(all.text).toContain('Straatfeest Kerkstraat');
    expect(all.text).toContain('De kas staat er');
    expect(all.text).toContain('<label class="utrecht-form-label" for="f-wijk">Verhalen uit wijk</label>');
    expect(all.text).not.toContain('bf-pagination');
    const bovenveen = await web.get('/beheer/monitoring?jaar=2031&wijk=Bovenveen');
    expect(bovenveen.text).toContain('De kas staat er');
    expect(bovenveen.text).not.toContain('Straatfeest Kerkstraat');
    expect((await web.get('/beheer/monitoring?jaar=2031&wijk=Stompwijk')).text).toContain('Nog geen verhalen uit deze wijk.');
    // Twelve stories in 2036: two pages of ten, newest report first.
    for (let i = 1; i <= 12; i++) {
      const id = await insertFixture({ key: `P${i}`, seq: i, year: 2036, createdAt: '2036-02-01T10:00:00Z', status: 'report_received', form: { title: `Verhaal ${String(i).padStart(2, '0')}`, wijken: ['Damsigt'], amountRequestedCents: 1_000 }, report: { participants: 1, volunteers: 1, selfAssessment: 'green', submittedAt: `2036-05-${String(i).padStart(2, '0')}T10:00:00.000Z`, text: reportText(`Verhaal ${i}`) } });
      const stored = await ctx.models.Application.collection.findOne({ _id: id } as never);
      await addKeys(ctx.models, storyKeys(stored as never));
    }
    const titles = (html: string) => [...html.matchAll(/>(Verhaal \d\d)</g)].map((m) => m[1]);
    const first = await web.get('/beheer/monitoring?jaar=2036');
    expect(titles(first.text)).toEqual(['12', '11', '10', '09', '08', '07', '06', '05', '04', '03'].map((n) => `Verhaal ${n}`));
    expect(first.text).toContain('Pagina 1 van 2');
    expect(first.text).toContain('href="/beheer/monitoring?jaar=2036&amp;pagina=2#verhalen"');
    const second = await web.get('/beheer/monitoring?jaar=2036&pagina=2');
    expect(titles(second.text)).toEqual(['Verhaal 02', 'Verhaal 01']);
    expect(second.text).toContain('rel="prev"');
    await web.get('/taal/en?terug=%2F');
    const english = await web.get('/beheer/monitoring?jaar=2036&wijk=Damsigt&pagina=2');
    expect(titles(english.text)).toEqual(['Verhaal 02', 'Verhaal 01']);
    expect(english.text).toContain('Page 2 of 2');
    expect(english.text).toContain('Stories from district');
  });
});

describe('who may read the reports, and bad years', () => {
  const paths = ['/api/v1/reports/summary?year=2031', '/api/v1/reports/initiatives.csv?year=2031', '/api/v1/reports/stories?year=2031'];

  it('panel and admin; not welfare, finance, an applicant or anonymous', async () => {
    const app = await ctx.http().post('/api/v1/applications').send(validApplication());
    expect(app.status, JSON.stringify(app.body)).toBe(201);
    for (const path of paths) {
      const status = async (token: string | null) => (await get(path, token)).status;
      expect({ path, admin: await status(tokens.admin), panel: await status(tokens.panel), welfare: await status(tokens.welfare), finance: await status(tokens.finance), applicant: await status(app.body.accessToken), anonymous: await status(null) }).toEqual({
        path,
        admin: 200,
        panel: 200,
        welfare: 403,
        finance: 403,
        applicant: 403,
        anonymous: 401,
      });
    }
  });

  it('400 invalid_year on every report', async () => {
    for (const base of ['/api/v1/reports/summary', '/api/v1/reports/initiatives.csv', '/api/v1/reports/stories']) {
      for (const year of ['abcd', '1999', '2101', '20270', '']) {
        const res = await get(`${base}?year=${year}`);
        expect({ base, year, status: res.status, code: res.body?.error?.code }).toEqual({ base, year, status: 400, code: 'invalid_year' });
        expect(res.body.error.details).toEqual([{ path: 'year', code: 'invalid_year' }]);
      }
      const twice = await get(`${base}?year=2031&year=2032`);
      expect(twice.status).toBe(400);
    }
  });
});

describe('the downloads\' cache (CSV rows, stories): fresh within the maximum age, stale while a new read runs, markers checked in the background', () => {
  let clock = Date.parse('2034-06-01T10:00:00Z');
  let service: ReportService;
  const ids: string[] = [];
  const add = async (seq: number, extra: Partial<Fixture> = {}) => {
    const id = await insertFixture({ key: `C${seq}`, seq, year: 2034, createdAt: '2034-03-01T10:00:00Z', status: 'screening', form: { amountRequestedCents: 10_000 }, ...extra });
    ids.push(id);
    return id;
  };

  beforeAll(async () => {
    service = new ReportService({
      models: ctx.models,
      ledger: ctx.deps.ledger,
      tally: ctx.deps.tally,
      wijken: ctx.config.fund.wijken,
      focusWijken: ctx.config.reports.focusWijken,
      maxAgeMs: 60_000,
      checkIntervalMs: 5_000,
      publicBaseUrl: ctx.config.publicBaseUrl,
      now: () => new Date(clock),
    });
    await add(1);
    await ctx.models.ReferenceClaim.collection.insertOne({ _id: '2034-1', year: 2034, seq: 1, createdAt: new Date() } as never);
    // A claim whose application never came (an undone intake): not news.
    await ctx.models.ReferenceClaim.collection.insertOne({ _id: '2034-2', year: 2034, seq: 2, createdAt: new Date() } as never);
  });

  /** The figures of the cached rows (the summary itself is always current: tally.test.ts). */
  const summary = async () => {
    const s = await service.rows(2034);
    return { ...s, value: summarize(2034, s.value, { wijken: ctx.config.fund.wijken, focusWijken: ctx.config.reports.focusWijken }) };
  };
  /** Polls (the clock standing still) until the figures satisfy `ok`, served fresh. */
  const until = (what: string, ok: (totals: Record<string, number>) => boolean) =>
    eventually(async () => {
      const s = await summary();
      return !s.stale && ok(s.value.totals as never) ? s : undefined;
    }, 10_000, what);

  it('reads once, then serves the same snapshot while nothing it can see changed', async () => {
    const first = await summary();
    expect(first).toMatchObject({ stale: false, value: { totals: { applications: 1, open: 1 } } });
    // A status change without money: not visible before the maximum age.
    await ctx.models.Application.collection.updateOne({ _id: ids[0] } as never, { $set: { status: 'lapsed' } });
    clock += 30_000;
    const again = await summary(); // also starts a check of the markers: nothing changed
    expect(again.stale).toBe(false);
    expect(again.asOf).toEqual(first.asOf);
    await new Promise((r) => setTimeout(r, 300));
    const still = await summary();
    expect(still.asOf).toEqual(first.asOf);
    expect(still.value.totals).toMatchObject({ open: 1, lapsed: 0 });
  });

  it('after the maximum age: the old figures (stale) while one new read runs, then the new ones', async () => {
    clock += 31_000;
    const stale = await summary();
    expect(stale.stale).toBe(true);
    expect(stale.value.totals).toMatchObject({ open: 1, lapsed: 0 });
    const fresh = await until('the lapse', (t) => t.lapsed === 1);
    expect(fresh.asOf.getTime()).toBe(clock);
    expect(fresh.value.totals).toMatchObject({ open: 0, lapsed: 1 });
  });

  it('a new application (its reference claimed) is read again after one check, within the maximum age', async () => {
    await service.idle(); // the check right after the read has found where the claims end (2034-2 is an undone one)
    await ctx.models.ReferenceClaim.collection.insertOne({ _id: '2034-3', year: 2034, seq: 3, createdAt: new Date() } as never);
    await add(3);
    clock += 1_000;
    // Within the check interval: not looked for yet.
    expect((await summary()).value.totals.applications).toBe(1);
    clock += 5_000;
    const s = await summary(); // starts the check; this answer does not wait for it
    expect(s.value.totals.applications).toBe(1);
    expect((await until('the new application', (t) => t.applications === 2)).asOf.getTime()).toBe(clock);
  });

  it('money moving in the ledger is read again after one check', async () => {
    await service.idle();
    const id = await add(4, { status: 'paid', decision: { outcome: 'approved', grantedCents: 10_000 }, form: { amountRequestedCents: 10_000, activity: { startDate: '2034-09-01', endDate: '2034-09-01', location: 'X' } } });
    await ctx.deps.ledger.reserve({ applicationId: id, year: 2034, amountCents: 10_000, wijken: ['Damsigt'], actor: 'test' });
    clock += 5_000;
    await summary();
    expect((await until('the grant', (t) => t.grantedFull === 1)).value.totals).toMatchObject({ applications: 3, grantedCents: 10_000, paidCents: 0 });
    await ctx.deps.ledger.pay({ applicationId: id, year: 2034, actor: 'test' });
    clock += 5_000;
    await summary();
    await until('the payment', (t) => t.paidCents === 10_000);
  });

  it('invalidate: the next request reads and waits; concurrent first requests share one read', async () => {
    service.invalidate(2034);
    const builds: number[] = [];
    const build = service.build.bind(service);
    service.build = async (year: number) => {
      builds.push(year);
      return build(year);
    };
    const [a, b] = await Promise.all([summary(), summary()]);
    expect(builds).toEqual([2034]);
    expect(a.stale || b.stale).toBe(false);
    expect(a.asOf).toEqual(b.asOf);
    expect(a.value.totals.applications).toBe(3);
  });
});
