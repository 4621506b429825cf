/**
 * Retention: erasePersonalData on a closed application removes who the applicant is
 * and every text that may name a person, from every collection, and keeps the
 * figures and the financial records (ledger journal, payout amount and end-to-end id,
 * the SEPA batch file). Against the real database and document store; the application
 * is brought to `paid` through the API and the worker, then closed by hand (the
 * follow-up stage is not what this file tests).
 */
import { chainEntryId } from '../../src/db/chain.ts';
import { supportChainName } from '../../src/support/service.ts';
import { createHash, randomUUID } from 'node:crypto';
import { addKeys, escapeKeyPart, insertEvent, type KeyDoc } from '../../src/db/keys.ts';
import { storyKeys } from '../../src/reports/stories.ts';
import type { EventDoc } from '../../src/db/models.ts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addMeetingItemKeys, backfillMeetingItemKeys, meetingsOfApplication } from '../../src/privacy/keys.ts';
import { monitoredDatabase, notById } from '../helpers/id-queries.ts';
import { ApplicationFailure } from '@temporalio/activity';
import { createPrivacyActivities, type ErasureResult } from '../../activities/privacy.ts';
import { supportEventModel } from '../../src/db/support-models.ts';
import type { AgendaItemDoc, ApplicationDoc, LedgerEntryDoc } from '../../src/db/models.ts';
import { ERASED } from '../../src/privacy/erasure.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { jpegBytes, pdfBytes, pngBytes, validApplication } from '../helpers/fixtures.ts';
import { decide, grant, waitForStatus, type Granted } from '../helpers/grants.ts';

const as = (token: string) => ({ Authorization: `Bearer ${token}` });
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** Everything that identifies Sanne or that she or the panel wrote about her. */
const personal = {
  name: 'Sanne de Vries',
  email: 'sanne@example.nl',
  phone: '070 123 4567',
  street: 'Kerkstraat 1',
  postalCode: '2271 AB',
  iban: 'NL91ABNA0417164300',
  accountHolder: 'S. de Vries',
  description: 'Een straatfeest voor alle bewoners',
  targetGroup: 'Bewoners van de Kerkstraat',
  supportWish: 'Hulp bij het aanvragen van de vergunning',
  question: 'Wie is de contactpersoon naast mevrouw De Vries?',
  answer: 'Mijn buurman Kees Jansen, 06-98765432',
  reportText: 'Het feest was gezellig; Kees Jansen regelde de tent en zijn dochter Lotte de muziek.',
  clarification: 'Waarom betaalde meneer Jansen de tent contant?',
  clarificationAnswer: 'Kees had geen pinpas bij zich.',
  reviewNote: 'Met Kees Jansen gebeld, bonnetjes kloppen.',
  supportNote: 'Sanne gebeld op haar mobiel; zij is mantelzorger en heeft weinig tijd.',
  whatChanged: 'Nu met hulp van mijn buurman Kees.',
};

/** Where in the database (other than the SEPA files) any of her personal data is found. */
async function personalDataFound(ctx: TestContext): Promise<string[]> {
  const db = ctx.models.connection.db!;
  const found: string[] = [];
  for (const { name } of await db.listCollections().toArray()) {
    if (name === 'payout_batches') continue;
    const text = JSON.stringify(await db.collection(name).find({}).toArray());
    for (const [what, value] of Object.entries(personal)) if (text.includes(value)) found.push(`${what} in ${name}`);
  }
  return found.sort();
}

describe('erasePersonalData', () => {
  let ctx: TestContext;
  let foundBefore: string[];
  let a: Granted;
  let b: Granted;
  let batchId: string;
  let privacy: ReturnType<typeof createPrivacyActivities>;
  let first: ErasureResult;
  let herStory: KeyDoc[] = [];
  const before: { journal?: LedgerEntryDoc[]; balances?: unknown; batch?: { xml: string; sha256: string }; pdf?: string; png?: string; jpeg?: string } = {};

  beforeAll(async () => {
    ctx = await createTestContext();
    privacy = createPrivacyActivities({ models: ctx.models, store: ctx.store, retention: ctx.config.retention });
    const panel = await ctx.staff.panel();
    const finance = await ctx.login('financien@buurtfonds.test');

    // Submitted with two documents; the panel asks a question, Sanne answers with a photo.
    const form = validApplication();
    const submitted = await ctx
      .http()
      .post('/api/v1/applications')
      .field('application', JSON.stringify(form))
      .attach('documents', pdfBytes, { filename: 'begroting.pdf' })
      .attach('documents', pngBytes, { filename: 'plattegrond.png' });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    a = { id: submitted.body.id, reference: submitted.body.reference, token: submitted.body.accessToken };
    await waitForStatus(ctx, a, 'screening');
    const asked = await ctx.http().post(`/api/v1/applications/${a.id}/information-requests`).set(as(panel)).send({ missing: personal.question });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    await waitForStatus(ctx, a, 'awaiting_information');
    const answered = await ctx.http().post(`/api/v1/applications/${a.id}/information`).set(as(a.token)).field('answer', personal.answer).attach('documents', jpegBytes, { filename: 'kees.jpg' });
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    await waitForStatus(ctx, a, 'screening');
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/screening/complete`).set(as(panel))).status).toBe(200);
    await waitForStatus(ctx, a, 'ready_for_meeting');
    await decide(ctx, a, { grantedCents: form.amountRequestedCents, requestedCents: form.amountRequestedCents });
    await waitForStatus(ctx, a, 'reserved');

    // Paid: batched into a SEPA file and reported executed by finance.
    const batch = await ctx.http().post('/api/v1/payouts/batches').set(as(finance)).send();
    expect(batch.status, JSON.stringify(batch.body)).toBe(201);
    batchId = batch.body.id;
    expect((await ctx.http().post(`/api/v1/payouts/batches/${batchId}/executed`).set(as(finance)).send()).status).toBe(200);
    await waitForStatus(ctx, a, 'paid');
    await eventually(async () => (await ctx.models.Outbox.findById(`${a.id}:paid`, { status: 1 }).lean())?.status === 'sent', 15_000, 'the payment e-mail');

    // Another applicant uploaded the same quote: that file must stay for them.
    b = await grant(ctx, {
      title: 'Schoonmaakdag',
      applicant: { name: 'Piet Bakker', email: 'piet@example.nl', phone: '0612345678', address: { street: 'Laan 2', postalCode: '2272 CD', city: 'Voorburg' } },
      description: 'Met de hele straat zwerfafval opruimen en daarna samen koffie.',
      targetGroup: 'Iedereen in de Laan',
      supportWish: 'Prikstokken lenen',
      iban: 'NL20INGB0001234567',
      accountHolder: 'P. Bakker',
    });
    expect((await ctx.http().post(`/api/v1/applications/${b.id}/documents`).set(as(b.token)).attach('documents', pdfBytes, { filename: 'offerte.pdf' })).status).toBe(201);

    // The follow-up stage, done by hand: the workflow stops here and the application is closed with a report.
    await ctx.client.workflow.getHandle(`initiative-${a.id}`).terminate('privacy test: the application is closed by hand');
    const now = new Date().toISOString();
    await ctx.models.Application.updateOne(
      { _id: a.id },
      {
        $set: {
          status: 'closed',
          statusSeq: 1_000,
          // As if it followed an earlier rejected application (intake checks that one exists; its own erasure is its own).
          previousApplicationId: randomUUID(),
          whatChanged: personal.whatChanged,
          report: {
            text: personal.reportText,
            participants: 140,
            volunteers: 9,
            selfAssessment: 'green',
            costLines: [{ description: 'Huur partytent', amountCents: 45_000 }],
            submittedAt: now,
            actualCostsCents: 45_000,
            unspentCents: 15_050,
            documentIds: [],
            clarifications: [{ requestedAt: now, question: personal.clarification, deadline: now, answeredAt: now, answer: personal.clarificationAnswer }],
          },
          review: { outcome: 'accept', trafficLight: 'orange', note: personal.reviewNote, reviewedBy: 'staff:x', reviewedAt: now },
          settlement: { refundDueCents: 15_050, refundReceivedCents: 15_050, settledAt: now, closedAt: now },
        },
      },
    );
    // Her story in the monitoring, keyed as the projection keys a report.
    herStory = storyKeys((await ctx.models.Application.findById(a.id).lean())!);
    await addKeys(ctx.models, herStory);
    // Written as the workflow's projection writes them (with their keys).
    for (const event of [
      { _id: `initiative-${a.id}:900`, applicationId: a.id, at: now, type: 'clarification_requested', status: 'clarification_requested', actor: 'staff:x', note: personal.clarification },
      { _id: `initiative-${a.id}:901`, applicationId: a.id, at: now, type: 'report_accepted', status: 'settled', actor: 'staff:x', note: 'orange' },
      { _id: `initiative-${a.id}:902`, applicationId: a.id, at: now, type: 'closed', status: 'closed' },
    ] as EventDoc[]) {
      await insertEvent(ctx.models, event);
    }
    // A frozen agenda naming her, and a welfare worker's note.
    const item = (id: string, reference: string, applicantName: string, whatChanged: string): AgendaItemDoc => ({
      applicationId: id,
      reference,
      title: 'Straatfeest',
      applicantName,
      wijken: ['Voorburg-Midden'],
      purposes: ['cohesion'],
      expectedParticipants: 120,
      amountRequestedCents: 60_050,
      budgetLines: [{ description: 'Huur partytent', amountCents: 45_000 }],
      coFunding: [],
      submittedAt: new Date(),
      rollovers: 0,
      invited: false,
      budgetYear: 2027,
      budgetRemainingCents: 1_000_000,
      fairSpread: { applicantGrantedCents: 0, wijkGrantedCents: {}, earlierRejection: { applicationId: randomUUID(), reference: 'VW-2025-0001', whatChanged } },
    });
    const agenda = [item(a.id, a.reference, personal.name, personal.whatChanged), item(b.id, b.reference, 'Piet Bakker', 'Nu met prikstokken.')];
    // Its keys first, as freezeAgenda writes them.
    await addMeetingItemKeys(ctx.models, `meeting-privacy-${a.id}`, agenda);
    await ctx.models.Meeting.create({
      _id: `meeting-privacy-${a.id}`,
      date: '2027-01-07',
      startsAt: new Date(),
      cutoffAt: new Date(),
      endsAt: new Date(),
      status: 'closed',
      agenda,
      members: [],
      frozenAt: new Date(),
    });
    const SupportEvent = await supportEventModel(ctx.models.connection);
    // In the case's own chain (where the erasure reads), far after the positions the case itself may use.
    await SupportEvent.collection.insertOne({
      _id: chainEntryId(supportChainName(a.id), 900),
      chain: supportChainName(a.id),
      seq: 900,
      key: `privacy-note:${a.id}`,
      at: new Date(),
      applicationId: a.id,
      kind: 'note',
      occurredAt: now,
      actor: 'staff:w',
      note: { id: randomUUID(), kind: 'contact', text: personal.supportNote, by: { id: 'w', name: 'Welzijnswerker', organisation: 'Woej' } },
    } as never);
    // An e-mail about her application to staff is staff's, and stays as it was.
    const admin = await ctx.models.StaffUser.findOne({ role: 'admin' }).lean();
    await ctx.models.Outbox.create({ _id: `${a.id}:staff-notice`, applicationId: a.id, to: admin!.email, template: 'report_received', locale: 'nl', vars: {}, subject: `Verslag ${a.reference}`, status: 'sent', attempts: 1, sentAt: new Date(), createdAt: new Date() });

    before.journal = await ctx.models.LedgerEntry.find({ applicationId: a.id }).sort({ _id: 1 }).lean();
    before.balances = await ctx.deps.ledger.balances(2027);
    before.batch = (await ctx.models.PayoutBatch.findById(batchId).lean())!;
    const docs = await ctx.models.Document.find({ applicationId: a.id }).lean();
    [before.pdf, before.png, before.jpeg] = ['begroting.pdf', 'plattegrond.png', 'kees.jpg'].map((n) => docs.find((d) => d.fileName === n)!.sha256);
    expect(await ctx.store.has(before.png!)).toBe(true);

    foundBefore = await personalDataFound(ctx);
    first = await privacy.erasePersonalData({ applicationId: a.id });
  }, 180_000);
  afterAll(async () => ctx?.close());

  it('leaves none of her personal data in any collection (the SEPA batch file is the financial record that keeps it)', async () => {
    // The search finds it where it was: in the application, the outbox, the timeline, the payout, the agenda, the support case.
    expect(foundBefore).toEqual(
      expect.arrayContaining(['name in applications', 'email in outbox', 'iban in payouts', 'answer in application_events', 'name in meetings', 'supportNote in support_events', 'reportText in applications']),
    );
    expect(await personalDataFound(ctx)).toEqual([]);
  });

  it('erases the application but keeps its figures, decision, report figures and traffic light', async () => {
    const app = (await ctx.models.Application.findById(a.id).lean()) as ApplicationDoc & { erasedAt?: Date };
    expect(app.applicant).toEqual({ name: ERASED, email: ERASED, phone: ERASED, address: { street: ERASED, postalCode: ERASED, city: ERASED } });
    expect([app.iban, app.accountHolder, app.description, app.targetGroup, app.activity.location, app.supportWish, app.whatChanged]).toEqual(Array(7).fill(ERASED));
    expect(app.informationRequests).toEqual([expect.objectContaining({ missing: ERASED, answer: ERASED, state: 'answered' })]);
    expect(app.accessTokenHash).toBeUndefined();
    expect(app.erasedAt).toBeInstanceOf(Date);
    expect(app).toMatchObject({
      reference: a.reference,
      status: 'closed',
      title: 'Straatfeest Kerkstraat',
      wijken: ['Voorburg-Midden'],
      purposes: ['cohesion'],
      expectedParticipants: 120,
      volunteers: 8,
      amountRequestedCents: 60_050,
      budgetLines: [{ description: 'Huur partytent', amountCents: 45_000 }, { description: 'Springkussen', amountCents: 15_050 }],
      coFunding: [{ source: 'Eigen bijdrage bewoners', amountCents: 10_000 }],
      activity: { startDate: '2027-05-01', endDate: '2027-05-01' },
      privacyConsent: true,
      decision: { outcome: 'approved', grantedCents: 60_050 },
      report: { text: ERASED, participants: 140, volunteers: 9, selfAssessment: 'green', actualCostsCents: 45_000, unspentCents: 15_050, costLines: [{ description: 'Huur partytent', amountCents: 45_000 }] },
      review: { outcome: 'accept', trafficLight: 'orange', note: ERASED },
      settlement: { refundDueCents: 15_050, refundReceivedCents: 15_050 },
    });
    expect(app.report!.clarifications).toEqual([expect.objectContaining({ question: ERASED, answer: ERASED })]);
  });

  it('deletes the documents and their files, except a file another application also holds', async () => {
    expect(await ctx.models.Document.countDocuments({ applicationId: a.id })).toBe(0);
    expect(await ctx.store.has(before.png!)).toBe(false);
    expect(await ctx.store.has(before.jpeg!)).toBe(false);
    expect(await ctx.store.has(before.pdf!)).toBe(true);
    const shared = await ctx.models.Document.findOne({ applicationId: b.id }).lean();
    const download = await ctx.http().get(`/api/v1/applications/${b.id}/documents/${shared!._id}`).set(as(b.token));
    expect(download.status).toBe(200);
    expect(first).toMatchObject({ documentsRemoved: 3, filesRemoved: 2 });
  });

  it('deletes her access tokens and idempotency keys: her token no longer opens anything', async () => {
    expect(await ctx.models.AccessToken.countDocuments({ applicationId: a.id })).toBe(0);
    expect(await ctx.models.Idempotency.countDocuments({ applicationId: a.id })).toBe(0);
    const res = await ctx.http().get(`/api/v1/applications/${a.id}`).set(as(a.token));
    expect(res.status).toBe(401);
  });

  it('keeps each e-mail as a fact (template, subject, when) without her address or texts; staff e-mails stay', async () => {
    const rows = await ctx.models.Outbox.find({ applicationId: a.id }).lean();
    const hers = rows.filter((r) => r._id !== `${a.id}:staff-notice`);
    expect(hers.map((r) => r.template)).toEqual(expect.arrayContaining(['confirmation', 'information_request', 'approved', 'paid']));
    for (const r of hers) {
      expect(r.to).toBe(ERASED);
      expect(r.subject).toContain(a.reference);
      expect(r.status).toBe('sent');
      expect(r.sentAt).toBeInstanceOf(Date);
      expect(Object.keys(r.vars)).not.toContain('applicantName');
      expect(r.vars).toMatchObject({ reference: a.reference });
    }
    const staffRow = rows.find((r) => r._id === `${a.id}:staff-notice`)!;
    expect(staffRow.to).toMatch(/@buurtfonds\.test$/);
  });

  it('erases free-text notes in the timeline, keeps the ones the workflow writes, and shows the erasure', async () => {
    const events = await ctx.models.Event.find({ applicationId: a.id }).lean();
    const note = (type: string) => events.find((e) => e.type === type)?.note;
    expect(note('information_requested')).toBe(ERASED);
    expect(note('information_provided')).toBe(ERASED);
    expect(note('clarification_requested')).toBe(ERASED);
    expect(note('budget_reserved')).toBe('2027');
    expect(note('paid')).toBe(batchId);
    expect(note('report_accepted')).toBe('orange');
    expect(events.filter((e) => (e.type as string) === 'personal_data_erased')).toHaveLength(1);
  });

  it('takes her story out of the monitoring (its keys removed after the text)', async () => {
    expect(herStory.map((k) => k._id.split(':')[2]), 'her wijk and all').toEqual(['Voorburg-Midden', escapeKeyPart('*')]);
    expect(await ctx.models.Key.find({ _id: { $in: herStory.map((k) => k._id) } }).lean()).toEqual([]);
    const year = String((await ctx.models.Application.findById(a.id, { year: 1 }).lean())!.year);
    const stories = await ctx.http().get(`/api/v1/reports/stories?year=${year}`).set(as(await ctx.staff.admin()));
    expect(stories.status).toBe(200);
    expect(stories.body.stories.map((st: { applicationId: string }) => st.applicationId)).not.toContain(a.id);
  });

  it('erases her name from the frozen agenda, and her note from the support case', async () => {
    const meeting = await ctx.models.Meeting.findById(`meeting-privacy-${a.id}`).lean();
    const [hers, his] = meeting!.agenda;
    expect(hers).toMatchObject({ applicationId: a.id, applicantName: ERASED, title: 'Straatfeest', amountRequestedCents: 60_050, fairSpread: { earlierRejection: { whatChanged: ERASED } } });
    expect(his).toMatchObject({ applicationId: b.id, applicantName: 'Piet Bakker', fairSpread: { earlierRejection: { whatChanged: 'Nu met prikstokken.' } } });
    const SupportEvent = await supportEventModel(ctx.models.connection);
    const notes = await SupportEvent.find({ applicationId: a.id, kind: 'note' }).lean();
    expect(notes.map((n) => n.note)).toEqual([expect.objectContaining({ kind: 'contact', text: ERASED, by: expect.objectContaining({ name: 'Welzijnswerker' }) })]);
  });

  it('keeps the financial records: the ledger journal and its balances, the payout amount and end-to-end id, the SEPA file', async () => {
    expect(await ctx.models.LedgerEntry.find({ applicationId: a.id }).sort({ _id: 1 }).lean()).toEqual(before.journal);
    expect(before.journal!.map((e) => e.kind)).toEqual(['reserve', 'pay']);
    expect(await ctx.deps.ledger.balances(2027)).toEqual(before.balances);
    expect((await ctx.deps.ledger.check()).ok).toBe(true);

    const payout = await ctx.models.Payout.findById(`BF-${a.reference}`).lean();
    expect(payout).toMatchObject({ amountCents: 60_050, status: 'paid', batchId, iban: ERASED, accountHolder: ERASED });
    const batch = await ctx.models.PayoutBatch.findById(batchId).lean();
    expect(batch!.xml).toBe(before.batch!.xml);
    expect(sha256(batch!.xml)).toBe(batch!.sha256);
    expect(batch!.xml).toContain(personal.iban);
    const file = await ctx.http().get(`/api/v1/payouts/batches/${batchId}`).set(as(await ctx.login('financien@buurtfonds.test')));
    expect(file.status).toBe(200);
    expect(file.text).toBe(before.batch!.xml);
    expect(first.financialRecordsKeptUntil).toMatch(/^\d{4}-12-31$/);
    expect(Number(first.financialRecordsKeptUntil!.slice(0, 4))).toBe(new Date().getUTCFullYear() + 7);
  });

  it('writes the erasure to the audit log, naming what was done and not the data', async () => {
    const entry = await ctx.models.Audit.findById(`privacy:erased:${a.id}`).lean();
    expect(entry).toMatchObject({ action: 'privacy.erased', actor: 'system', target: `application:${a.id}`, after: expect.objectContaining({ documentsRemoved: 3, paymentInstructionStripped: true }) });
  });

  it('is idempotent: a second run changes nothing and reports the first erasure time', async () => {
    const snapshot = async () => {
      const [app, events, outbox, payout, meeting] = await Promise.all([
        ctx.models.Application.findById(a.id).lean(),
        ctx.models.Event.find({ applicationId: a.id }).sort({ _id: 1 }).lean(),
        ctx.models.Outbox.find({ applicationId: a.id }).sort({ _id: 1 }).lean(),
        ctx.models.Payout.findById(`BF-${a.reference}`).lean(),
        ctx.models.Meeting.findById(`meeting-privacy-${a.id}`).lean(),
      ]);
      return JSON.stringify({ app, events, outbox, payout, meeting });
    };
    const was = await snapshot();
    const again = await privacy.erasePersonalData({ applicationId: a.id });
    expect(again).toEqual({
      ...first,
      documentsRemoved: 0,
      filesRemoved: 0,
      accessTokensRemoved: 0,
      idempotencyKeysRemoved: 0,
      mailsStripped: 0,
      timelineNotesStripped: 0,
      supportEntriesStripped: 0,
      agendaItemsStripped: 0,
      paymentInstructionStripped: false,
    });
    expect(await snapshot()).toBe(was);
    expect(await ctx.models.Audit.countDocuments({ action: 'privacy.erased', target: `application:${a.id}` })).toBe(1);
  });

  it('finds the meetings of her application by key (every query on the meetings by _id), and the backfill writes the keys of agendas stored before them', async () => {
    const db = await monitoredDatabase(inject('mongoUri'), ctx.models.connection.name);
    try {
      const from = db.commands.length;
      const again = await createPrivacyActivities({ models: db.models, store: ctx.store, retention: ctx.config.retention }).erasePersonalData({ applicationId: a.id });
      expect(again.agendaItemsStripped).toBe(0);
      expect(db.commands.slice(from).filter((e) => e.command[e.commandName] === 'meetings').map((e) => e.commandName), 'the meetings were read').toContain('find');
      expect(notById(db, from).filter((q) => q.collection === 'meetings' || q.collection === 'keys'), 'queries on the meetings and keys not by _id').toEqual([]);
    } finally {
      await db.models.connection.close();
    }
    // A meeting stored before the keys: none for it until the backfill.
    const meetingId = `meeting-privacy-before-keys-${a.id}`;
    const stored = (await ctx.models.Meeting.findById(`meeting-privacy-${a.id}`).lean())!;
    await ctx.models.Meeting.create({ ...stored, _id: meetingId });
    expect((await meetingsOfApplication(ctx.models, b.id)).map((m) => m._id)).toEqual([`meeting-privacy-${a.id}`]);
    expect(await backfillMeetingItemKeys(ctx.models)).toBeGreaterThanOrEqual(2);
    expect((await meetingsOfApplication(ctx.models, b.id)).map((m) => m._id).sort()).toEqual([meetingId, `meeting-privacy-${a.id}`].sort());
    expect(await backfillMeetingItemKeys(ctx.models), 'once per database').toBe(0);
  });

  it('the application still reads for staff after erasure, with the erasure in its timeline', async () => {
    for (const token of [await ctx.staff.admin(), await ctx.staff.panel()]) {
      const res = await ctx.http().get(`/api/v1/applications/${a.id}`).set(as(token));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ reference: a.reference, status: 'closed', applicant: { name: ERASED }, iban: ERASED, documents: [], payout: { amountCents: 60_050, status: 'paid' } });
      expect(res.body.timeline.at(-1)).toMatchObject({ type: 'personal_data_erased', actor: 'system' });
    }
    const exported = await ctx.http().get(`/api/v1/applications/${a.id}/export`).set(as(await ctx.staff.admin()));
    expect(exported.status).toBe(200);
  });

  it('refuses an application that has not ended, and one whose payout may still go out', async () => {
    const failureType = async (applicationId: string) => {
      const err = await privacy.erasePersonalData({ applicationId }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
      return (err as ApplicationFailure).type;
    };
    expect(await failureType(b.id)).toBe('ApplicationNotEnded');
    expect(await failureType(randomUUID())).toBe('ApplicationNotFound');
    // b's payout is pending: even with the application ended, its IBAN is still needed.
    await ctx.client.workflow.getHandle(`initiative-${b.id}`).terminate('privacy test');
    await ctx.models.Application.updateOne({ _id: b.id }, { $set: { status: 'withdrawn', statusSeq: 1_000 } });
    expect(await failureType(b.id)).toBe('PayoutNotSettled');
    expect((await ctx.models.Application.findById(b.id).lean())!.applicant.name).toBe('Piet Bakker');
  });
});
