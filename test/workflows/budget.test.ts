/**
 * What initiativeWorkflow does after a grant, on the real time-skipping test server
 * with the real activities, the real budget ledger and payout register against a real
 * database (FerretDB) and a real SMTP server: reserve in the budget year of the
 * activity (or reject with "op is op"), create the payout, record the payment when
 * finance executes the batch, and give the money back on a withdrawal (release
 * before the payout is in a batch, reclaim after). A decision arrives the way the
 * meeting workflow sends it (scheduledSignal, then decisionSignal). No timers are
 * involved, and the tests never call `handle.result()` on the time-skipping client
 * (it would let the test server skip time for every workflow).
 */
import { describe, expect, it } from 'vitest';
import type { Activities } from '../../activities/index.ts';
import { amsterdamYear } from '../../src/domain/dates.ts';
import { AppError } from '../../src/domain/errors.ts';
import { formatEuros } from '../../src/domain/money.ts';
import { payoutEndToEndId } from '../../src/domain/payouts.ts';
import { withdrawUpdate } from '../../workflows/initiative.ts';
import { REQUESTED_CENTS as REQUESTED, timeSkippingSuite } from '../helpers/time-skipping-suite.ts';

/** Applications whose reserveBudget attempt fails once right after the real ledger write (a crash before completion). */
const crashAfterReserve = new Set<string>();
/** How often the real reserveBudget ran, per application. */
const reserveCalls = new Map<string, number>();

const suite = timeSkippingSuite({
  name: 'budget',
  activities: (real): Activities => ({
    ...real,
    async reserveBudget(input) {
      reserveCalls.set(input.applicationId, (reserveCalls.get(input.applicationId) ?? 0) + 1);
      const result = await real.reserveBudget(input);
      if (crashAfterReserve.delete(input.applicationId)) throw new Error('simulated crash after the ledger write, before the activity completed');
      return result;
    },
  }),
  beforeTerminate: () => crashAfterReserve.clear(),
  // Every scenario leaves books that prove themselves.
  checkBooks: true,
});
const { suffix, application, statusOf, settled, finished, timeline, timelineTypes, mailsTo, decide } = suite;

// ---------------------------------------------------------------------------------

/** Stores an application (activity on `startDate`) as intake does; returns once its workflow has it in screening. */
function submit(label: string, startDate: string) {
  return suite.submit(label, { form: { title: `Buurtinitiatief ${label}`, activity: { startDate, endDate: startDate, location: 'Kerkstraat' } } });
}

/** The journal entries of one application in one year, as [kind, amount]. */
async function movements(year: number, applicationId: string) {
  return (await suite.ledger.journal(year)).filter((e) => e.applicationId === applicationId).map((e) => [e.kind, e.amountCents] as const);
}

/** Test-server time's budget year. */
async function currentYear(): Promise<number> {
  return amsterdamYear(new Date(await suite.env.currentTimeMs()));
}

async function payoutOf(app: { reference: string }) {
  return suite.models.Payout.findById(payoutEndToEndId(app.reference)).lean();
}

async function expectNoPendingPayouts(): Promise<void> {
  const err = await suite.payouts.createBatch({ actor: 'finance' }).then(
    (b) => b,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect(err).toMatchObject({ status: 409, code: 'no_pending_payouts' });
}

// ---------------------------------------------------------------------------------

describe('initiativeWorkflow after a grant: the budget ledger', () => {
  it('reserves a grant in the budget year of the activity: next year is charged to next year, also when this year is op', async () => {
    const y = await currentYear();
    // Year Y is exhausted down to one cent less than a grant: "op is op" for Y.
    await suite.ledger.open(y);
    const beforeFill = await suite.ledger.balances(y);
    const remaining = beforeFill.totalCents - beforeFill.committedCents - beforeFill.paidCents;
    const filler = `filler-${suffix}`;
    expect(await suite.ledger.reserve({ applicationId: filler, year: y, amountCents: remaining - (REQUESTED - 1), wijken: [], actor: 'test' })).toMatchObject({ outcome: 'reserved' });
    const yBefore = await suite.ledger.balances(y);
    expect(yBefore.totalCents - yBefore.committedCents - yBefore.paidCents).toBe(REQUESTED - 1);
    const nextBefore = (await suite.ledger.journal(y + 1)).length ? await suite.ledger.balances(y + 1) : undefined;

    const next = await submit('volgend-jaar', `${y + 1}-03-14`);
    const now = await submit('dit-jaar', `${y}-12-31`);

    await decide(next, 'reserved');
    const nextState = await settled(next.handle);
    expect(nextState).toMatchObject({ status: 'reserved', grant: { budgetYear: y + 1, reservedCents: REQUESTED, endToEndId: payoutEndToEndId(next.reference) } });
    expect(await movements(y + 1, next.applicationId)).toEqual([['reserve', REQUESTED]]);
    expect(await movements(y, next.applicationId)).toEqual([]);
    const nextEntry = (await suite.ledger.journal(y + 1)).find((e) => e.applicationId === next.applicationId)!;
    expect(nextEntry).toMatchObject({ key: `reserve:${next.applicationId}`, year: y + 1, wijken: ['Voorburg-Midden'], actor: expect.stringMatching(/^meeting:/) });
    expect(nextEntry.balances.committedCents).toBe((nextBefore?.committedCents ?? 0) + REQUESTED);
    expect(await suite.ledger.balances(y)).toEqual(yBefore); // Y untouched
    expect(await payoutOf(next)).toMatchObject({ applicationId: next.applicationId, year: y + 1, amountCents: REQUESTED, status: 'pending' });
    expect(await timelineTypes(next.applicationId)).toEqual(['submitted', 'status_changed', 'screening_completed', 'meeting_scheduled', 'decided', 'budget_reserved']);
    expect((await timeline(next.applicationId)).at(-1)).toMatchObject({ type: 'budget_reserved', status: 'reserved', note: String(y + 1) });

    // The same grant for an activity in Y does not fit: one cent short.
    await decide(now, 'rejected_budget_exhausted');
    expect(await finished(now.handle)).toMatchObject({ status: 'rejected_budget_exhausted', decision: { outcome: 'approved', grantedCents: REQUESTED } });
    expect(await movements(y, now.applicationId)).toEqual([]);
    expect(await suite.ledger.balances(y)).toEqual(yBefore);
    expect((await timeline(now.applicationId)).at(-1)).toMatchObject({ type: 'budget_exhausted', status: 'rejected_budget_exhausted', note: String(y) });
    const refusal = await suite.mail.waitFor((m) => m.to.includes(now.email) && m.subject.includes('budget'));
    expect(refusal.subject).toBe(`Het budget ${y} is op: ${now.reference} kan niet worden toegekend`);
    expect(refusal.text).toContain(`er is nog ${formatEuros(REQUESTED - 1)} over, niet genoeg voor dit bedrag. Op is op`);
    expect(await payoutOf(now)).toBeNull();
  });

  it('rejects a grant the year cannot cover: rejected_budget_exhausted, budget_exhausted event, the Dutch e-mail, nothing reserved, completed', async () => {
    const year = (await currentYear()) + 2;
    await suite.ledger.setTotal({ year, totalCents: 50_000, key: `klein-${suffix}`, actor: 'test' });
    const before = await suite.ledger.balances(year);
    const entriesBefore = (await suite.ledger.journal(year)).length;
    const app = await submit('op-is-op', `${year}-06-01`);

    await decide(app, 'rejected_budget_exhausted', { grantedCents: 55_000 }); // partially approved, still more than the 500,00 left

    const result = await finished(app.handle);
    expect(result).toEqual({
      status: 'rejected_budget_exhausted',
      meeting: expect.objectContaining({ meetingId: expect.any(String) }),
      decision: expect.objectContaining({ outcome: 'partially_approved', grantedCents: 55_000 }),
    });
    expect(result.grant).toBeUndefined();
    expect(await application(app.applicationId)).toMatchObject({ status: 'rejected_budget_exhausted' });
    const events = await timeline(app.applicationId);
    expect(events.map((e) => e.type)).toEqual(['submitted', 'status_changed', 'screening_completed', 'meeting_scheduled', 'decided', 'budget_exhausted']);
    expect(events.at(-1)).toMatchObject({ type: 'budget_exhausted', status: 'rejected_budget_exhausted', note: String(year) });

    const subjects = mailsTo(app.email).map((m) => m.subject);
    expect(subjects).toEqual([
      `Uw aanvraag ${app.reference} is ontvangen`,
      expect.stringContaining(`Uw aanvraag ${app.reference} wordt besproken op`),
      `Uw aanvraag ${app.reference} is gedeeltelijk toegekend`,
      `Het budget ${year} is op: ${app.reference} kan niet worden toegekend`,
    ]);
    const refusal = mailsTo(app.email).at(-1)!;
    expect(refusal.subject).toContain('budget');
    expect(refusal.subject).toContain(' op');
    expect(refusal.text).toContain(`Het panel was positief over uw aanvraag "Buurtinitiatief op-is-op" (${app.reference}) en wilde ${formatEuros(55_000)} toekennen.`);
    expect(refusal.text).toContain(`voor ${year} op: er is nog ${formatEuros(50_000)} over, niet genoeg voor dit bedrag. Op is op, dus wij kunnen het bedrag niet toekennen.`);
    expect(await suite.models.Outbox.findById(`${app.applicationId}:budget_exhausted`).lean()).toMatchObject({ status: 'sent', template: 'rejected_budget_exhausted' });

    expect(await movements(year, app.applicationId)).toEqual([]);
    expect(await suite.ledger.journal(year)).toHaveLength(entriesBefore);
    expect(await suite.ledger.balances(year)).toEqual(before);
    expect(await payoutOf(app)).toBeNull();
  });

  it('pays a reserved grant when finance executes its batch: pay entry by the one who reported it executed, status paid, the e-mail', async () => {
    const year = (await currentYear()) + 1;
    const app = await submit('betaald', `${year}-04-20`);
    await decide(app, 'reserved', { grantedCents: 45_000 });
    const before = await suite.ledger.balances(year);

    const batch = await suite.payouts.createBatch({ actor: 'finance' });
    expect(batch.endToEndIds).toEqual([payoutEndToEndId(app.reference)]);
    expect(await settled(app.handle)).toMatchObject({ status: 'reserved' }); // a batch alone pays nothing
    await suite.payouts.executeBatch(batch.id, { actor: `staff:finance-${suffix}` });

    await statusOf(app, 'paid');
    const state = await settled(app.handle);
    expect(state).toMatchObject({ status: 'paid', grant: { budgetYear: year, reservedCents: 45_000, paid: { batchId: batch.id } } });
    expect(await movements(year, app.applicationId)).toEqual([
      ['reserve', 45_000],
      ['pay', 45_000],
    ]);
    expect((await suite.ledger.journal(year)).find((e) => e.key === `pay:${app.applicationId}`)).toMatchObject({ actor: `staff:finance-${suffix}`, note: batch.id });
    const after = await suite.ledger.balances(year);
    expect(after).toEqual({ ...before, committedCents: before.committedCents - 45_000, paidCents: before.paidCents + 45_000 });
    expect(await suite.ledger.shareOf(year, app.applicationId)).toEqual({ committedCents: 0, paidCents: 45_000 });
    expect(await payoutOf(app)).toMatchObject({ status: 'paid', batchId: batch.id });
    expect((await timeline(app.applicationId)).at(-1)).toMatchObject({ type: 'paid', status: 'paid', note: batch.id });
    const paid = await suite.mail.waitFor((m) => m.to.includes(app.email) && m.subject === `Het bedrag voor ${app.reference} is overgemaakt`);
    expect(paid.text).toContain(`Wij hebben ${formatEuros(45_000)} voor "Buurtinitiatief betaald" (${app.reference}) overgemaakt`);
    expect((await app.handle.describe()).status.name).toBe('RUNNING'); // waits for the follow-up
  });

  it('withdrawn while the payout is still pending: payout cancelled, full release, balances back, no later batch pays it', async () => {
    const year = (await currentYear()) + 1;
    const before = await suite.ledger.balances(year);
    const app = await submit('intrekken-open', `${year}-05-01`);
    await decide(app, 'reserved');
    expect(await suite.ledger.balances(year)).toMatchObject({ committedCents: before.committedCents + REQUESTED });
    expect(await payoutOf(app)).toMatchObject({ status: 'pending', amountCents: REQUESTED });

    const withdrawn = await app.handle.executeUpdate(withdrawUpdate, { args: [{ reason: 'De straat is opgebroken' }] });
    expect(withdrawn).toMatchObject({ status: 'withdrawn', grant: { budgetYear: year, reservedCents: REQUESTED } });

    const result = await finished(app.handle);
    expect(result).toMatchObject({ status: 'withdrawn', grant: { budgetYear: year, reservedCents: REQUESTED, returned: 'released' } });
    expect(result.grant?.paid).toBeUndefined();
    expect(await payoutOf(app)).toMatchObject({ status: 'cancelled' });
    expect(await suite.models.PayoutEvent.countDocuments({ kind: 'cancel', endToEndIds: payoutEndToEndId(app.reference) })).toBe(1);
    expect(await movements(year, app.applicationId)).toEqual([
      ['reserve', REQUESTED],
      ['release', REQUESTED],
    ]);
    expect(await suite.ledger.shareOf(year, app.applicationId)).toEqual({ committedCents: 0, paidCents: 0 });
    const after = await suite.ledger.balances(year);
    expect(after).toEqual({ ...before, releasedCents: before.releasedCents + REQUESTED });
    expect(await application(app.applicationId)).toMatchObject({ status: 'withdrawn' });
    const events = await timeline(app.applicationId);
    expect(events.map((e) => e.type)).toEqual(['submitted', 'status_changed', 'screening_completed', 'meeting_scheduled', 'decided', 'budget_reserved', 'withdrawn', 'budget_released']);
    expect(events.at(-1)).toMatchObject({ type: 'budget_released', note: String(year) });
    expect(events.at(-1)!.status).toBeUndefined(); // a note on the withdrawn application, not a status change
    await suite.mail.waitFor((m) => m.to.includes(app.email) && m.subject === `Uw aanvraag ${app.reference} is ingetrokken`);

    // It was the only pending payout: there is nothing to batch.
    await expectNoPendingPayouts();
    // With another grant pending, the next batch holds that one only.
    const other = await submit('intrekken-ander', `${year}-05-02`);
    await decide(other, 'reserved');
    const batch = await suite.payouts.createBatch({ actor: 'finance' });
    expect(batch.endToEndIds).toEqual([payoutEndToEndId(other.reference)]);
    expect(await payoutOf(app)).toMatchObject({ status: 'cancelled' });
    expect((await payoutOf(app))?.batchId).toBeUndefined();
  });

  it('withdrawn after the payout is in a batch: withdrawn at once; once the batch is executed the payment is recorded and reclaimed', async () => {
    const year = (await currentYear()) + 1;
    const before = await suite.ledger.balances(year);
    const app = await submit('intrekken-batch', `${year}-06-06`);
    await decide(app, 'reserved');
    const batch = await suite.payouts.createBatch({ actor: 'finance' });
    expect(batch.endToEndIds).toEqual([payoutEndToEndId(app.reference)]);

    const withdrawn = await app.handle.executeUpdate(withdrawUpdate, { args: [{ reason: 'Te weinig vrijwilligers' }] });
    expect(withdrawn).toMatchObject({ status: 'withdrawn' });
    await statusOf(app, 'withdrawn');
    // The payout is in a file at the bank: it cannot be cancelled, the workflow waits for the payment.
    const waiting = await settled(app.handle);
    expect(waiting).toMatchObject({ status: 'withdrawn', grant: { budgetYear: year, reservedCents: REQUESTED } });
    expect(waiting.grant?.returned).toBeUndefined();
    expect((await app.handle.describe()).status.name).toBe('RUNNING');
    expect(await payoutOf(app)).toMatchObject({ status: 'batched', batchId: batch.id });
    expect(await movements(year, app.applicationId)).toEqual([['reserve', REQUESTED]]);

    await suite.payouts.executeBatch(batch.id, { actor: 'finance' });

    const result = await finished(app.handle);
    expect(result).toMatchObject({ status: 'withdrawn', grant: { budgetYear: year, reservedCents: REQUESTED, paid: { batchId: batch.id }, returned: 'reclaimed' } });
    expect(await movements(year, app.applicationId)).toEqual([
      ['reserve', REQUESTED],
      ['pay', REQUESTED],
      ['reclaim', REQUESTED],
    ]);
    expect(await suite.ledger.shareOf(year, app.applicationId)).toEqual({ committedCents: 0, paidCents: 0 }); // paid net 0
    expect(await suite.ledger.balances(year)).toEqual({ ...before, reclaimedCents: before.reclaimedCents + REQUESTED });
    expect(await payoutOf(app)).toMatchObject({ status: 'paid', batchId: batch.id });
    const events = await timeline(app.applicationId);
    expect(events.map((e) => e.type)).toEqual(['submitted', 'status_changed', 'screening_completed', 'meeting_scheduled', 'decided', 'budget_reserved', 'withdrawn', 'grant_reclaimed']);
    expect(events.at(-1)).toMatchObject({ type: 'grant_reclaimed', note: String(year) });
    expect(events.at(-1)!.status).toBeUndefined();
    expect(await application(app.applicationId)).toMatchObject({ status: 'withdrawn' });
    // No "overgemaakt" mail to someone who withdrew.
    expect(mailsTo(app.email).map((m) => m.subject)).not.toContain(`Het bedrag voor ${app.reference} is overgemaakt`);
  });

  it('does not reserve twice when reserveBudget is retried after a crash following the ledger write', async () => {
    const year = (await currentYear()) + 1;
    const before = await suite.ledger.balances(year);
    const app = await submit('herhaling', `${year}-07-07`);
    crashAfterReserve.add(app.applicationId);

    await decide(app, 'reserved');
    expect(await settled(app.handle)).toMatchObject({ status: 'reserved', grant: { budgetYear: year, reservedCents: REQUESTED } });
    expect(reserveCalls.get(app.applicationId)).toBe(2);
    expect(crashAfterReserve.has(app.applicationId)).toBe(false);
    // Temporal retried the activity: the attempt that completed was the second.
    const history = await app.handle.fetchHistory();
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'reserveBudget');
    expect(scheduled).toHaveLength(1);
    const startedEvent = history.events!.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled[0]!.eventId));
    expect(startedEvent?.activityTaskStartedEventAttributes?.attempt).toBe(2);

    expect(await movements(year, app.applicationId)).toEqual([['reserve', REQUESTED]]);
    expect(await suite.ledger.balances(year)).toEqual({ ...before, committedCents: before.committedCents + REQUESTED });
    expect(await suite.models.Audit.countDocuments({ action: 'ledger.reserve', target: `application:${app.applicationId}` })).toBe(1);
    expect(await suite.models.Payout.countDocuments({ applicationId: app.applicationId })).toBe(1);
    expect((await timelineTypes(app.applicationId)).filter((t) => t === 'budget_reserved')).toHaveLength(1);
  });
});
