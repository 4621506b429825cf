/**
 * initiativeWorkflow on the real time-skipping test server (14 days pass in
 * seconds), with the real activities against a real database (FerretDB) and a
 * real SMTP server. Time only skips while a test awaits `env.sleep` or a
 * workflow result, so the steps in between are deterministic.
 */
import { describe, expect, it } from 'vitest';
import { WorkflowNotFoundError, WorkflowUpdateStage } from '@temporalio/client';
import type { OutgoingMail } from '../../src/mail/mailer.ts';
import { addCalendarDays, amsterdamDate, DAY_MS, endOfAmsterdamDay, formatDate } from '../../src/domain/dates.ts';
import { statusSearchAttribute } from '../../src/domain/search-attributes.ts';
import type { InformationRequest } from '../../src/domain/status.ts';
import {
  completeScreeningUpdate,
  NOT_READY,
  provideInformationUpdate,
  requestInformationUpdate,
  stateQuery,
  withdrawUpdate,
  type InitiativeInput,
} from '../../workflows/initiative.ts';
import { AppError } from '../../src/domain/errors.ts';
import { InitiativeCommands } from '../../src/services/initiatives.ts';
import { eventually } from '../helpers/context.ts';
import { FUND, type InitiativeHandle as Handle } from '../helpers/time-skipping.ts';
import { expectRefused, SCREENER as PANEL, timeSkippingSuite } from '../helpers/time-skipping-suite.ts';
import { instantAt, nextChange, offsets } from '../helpers/summer-time.ts';

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;

/** Lets a test hold an outgoing mail (and so the notifyApplicant activity) until it says so. */
let holdMail: ((m: OutgoingMail) => Promise<void>) | undefined;

const suite = timeSkippingSuite({
  name: 'initiative',
  mailer: (smtp) => ({
    async send(m) {
      await holdMail?.(m);
      await smtp.send(m);
    },
    close: () => smtp.close(),
  }),
  beforeTerminate: () => void (holdMail = undefined),
});
const { application, timeline, timelineTypes, mailsTo, waitForMail, settled } = suite;

/** Stores an application the way intake does and starts its workflow; returns once it is in screening. */
function submit(label: string, input: Partial<InitiativeInput> = {}) {
  return suite.submit(label, { input });
}

const subjects = (ref: string) => ({
  confirmation: `Uw aanvraag ${ref} is ontvangen`,
  request: `Wij hebben meer informatie nodig over ${ref}`,
  reminder: `Herinnering: wij wachten op informatie over ${ref}`,
  lapsed: `Uw aanvraag ${ref} is vervallen`,
  withdrawn: `Uw aanvraag ${ref} is ingetrokken`,
});

async function requestInformation(handle: Handle, missing: string, deadlineDays?: number): Promise<InformationRequest> {
  return handle.executeUpdate(requestInformationUpdate, { args: [{ missing, requestedBy: PANEL, ...(deadlineDays ? { deadlineDays } : {}) }] });
}

describe('initiativeWorkflow: intake and screening', () => {
  it('moves a submitted application into screening and sends the Dutch confirmation', async () => {
    const { applicationId, workflowId, reference, email, handle, submittedAt } = await submit('bevestiging');

    const confirmation = await waitForMail(email, subjects(reference).confirmation);
    expect(confirmation.text).toContain('Beste Sanne de Vries');
    expect(confirmation.text).toContain(`Bedankt voor uw aanvraag "Straatfeest Kerkstraat" bij ${FUND}. Uw aanvraag heeft het kenmerk ${reference}.`);
    expect(confirmation.text).toContain(`http://buurtfonds.test/api/v1/applications/${applicationId}?token=link-token`);
    expect(confirmation.messageId).toBe(`<${applicationId}.confirmation@buurtfonds.test>`);

    expect(await handle.query(stateQuery)).toEqual({ status: 'screening' });
    const app = await application(applicationId);
    expect(app).toMatchObject({ status: 'screening', statusSeq: 2, informationRequests: [] });
    const events = await timeline(applicationId);
    expect(events.map((e) => [e._id, e.type, e.status])).toEqual([
      [`${workflowId}:1`, 'submitted', 'submitted'],
      [`${workflowId}:2`, 'status_changed', 'screening'],
    ]);
    expect(Date.parse(events[1]!.at) - submittedAt.getTime()).toBeLessThan(60_000);

    const outbox = await suite.models.Outbox.findById(`${applicationId}:confirmation`).lean();
    expect(outbox).toMatchObject({ status: 'sent', to: email, template: 'confirmation', locale: 'nl' });
    const desc = await handle.describe();
    expect(desc.status.name).toBe('RUNNING');
    expect(desc.typedSearchAttributes.get(statusSearchAttribute)).toBe('screening');
    expect(mailsTo(email)).toHaveLength(1);
  });

  it('asks for information and goes back to screening when the applicant answers before the reminder', async () => {
    const { applicationId, reference, email, handle } = await submit('antwoord');
    const request = await requestInformation(handle, 'Een offerte voor de partytent');
    expect(request).toMatchObject({ missing: 'Een offerte voor de partytent', requestedBy: PANEL, state: 'open' });
    const requestedAt = Date.parse(request.requestedAt);
    // The end of the 14th day in Amsterdam; the reminder 7 × 24 h after the request.
    expect(request.deadline).toBe(endOfAmsterdamDay(new Date(requestedAt), 14).toISOString());
    expect(Date.parse(request.remindAt!) - requestedAt).toBe(7 * DAY_MS);

    const asked = await waitForMail(email, subjects(reference).request);
    expect(asked.text).toContain('Een offerte voor de partytent');
    expect(asked.text).toContain(`Stuur uw antwoord uiterlijk ${formatDate(new Date(request.deadline))}. Zonder antwoord vervalt de aanvraag na die datum.`);
    expect(asked.text).toMatch(/uiterlijk \d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december) \d{4}\./);
    expect(await handle.query(stateQuery)).toEqual({ status: 'awaiting_information', openRequest: request });
    expect(await application(applicationId)).toMatchObject({ status: 'awaiting_information', informationRequests: [{ id: request.id, state: 'open' }] });
    expect((await handle.describe()).typedSearchAttributes.get(statusSearchAttribute)).toBe('awaiting_information');

    await suite.env.sleep(3 * DAY_MS);
    const answered = await handle.executeUpdate(provideInformationUpdate, { args: [{ answer: 'De offerte zit erbij.', documentIds: ['doc-offerte'] }] });
    expect(answered).toEqual({ status: 'screening' });

    // Past both the reminder and the deadline: nothing may fire any more.
    await suite.env.sleep(15 * DAY_MS);
    expect(await settled(handle)).toEqual({ status: 'screening' });
    const app = await application(applicationId);
    expect(app?.status).toBe('screening');
    const [stored] = app!.informationRequests;
    expect(stored).toMatchObject({ id: request.id, state: 'answered', answer: 'De offerte zit erbij.', documentIds: ['doc-offerte'] });
    expect(stored!.reminderSentAt).toBeUndefined();
    expect(Date.parse(stored!.answeredAt!) - requestedAt).toBeGreaterThanOrEqual(3 * DAY_MS);
    expect(Date.parse(stored!.answeredAt!) - requestedAt).toBeLessThan(3 * DAY_MS + HOUR_MS);

    const events = await timeline(applicationId);
    expect(events.map((e) => e.type)).toEqual(['submitted', 'status_changed', 'information_requested', 'information_provided']);
    expect(events[2]).toMatchObject({ status: 'awaiting_information', actor: PANEL, note: 'Een offerte voor de partytent' });
    expect(events[3]).toMatchObject({ status: 'screening', actor: 'applicant', note: 'De offerte zit erbij.', documentIds: ['doc-offerte'] });
    expect(mailsTo(email).map((m) => m.subject)).toEqual([subjects(reference).confirmation, subjects(reference).request]);
    expect(await suite.models.Outbox.countDocuments({ applicationId })).toBe(2);
  });

  it('sends one reminder after 7 days and lets the application lapse after 14 days without an answer', async () => {
    const { applicationId, reference, email, handle } = await submit('verval');
    const request = await requestInformation(handle, 'De begroting met alle posten');
    const requestedAt = Date.parse(request.requestedAt);
    await waitForMail(email, subjects(reference).request);

    await suite.env.sleep(7 * DAY_MS - HOUR_MS);
    expect(await settled(handle)).toMatchObject({ status: 'awaiting_information' });
    expect(mailsTo(email)).toHaveLength(2);

    await suite.env.sleep(2 * HOUR_MS);
    const reminder = await waitForMail(email, subjects(reference).reminder);
    expect(reminder.text).toContain('Wij hebben nog geen antwoord ontvangen op onze vraag over uw aanvraag "Straatfeest Kerkstraat"');
    expect(reminder.text).toContain('De begroting met alle posten');
    expect(reminder.text).toContain(`Stuur uw antwoord uiterlijk ${formatDate(new Date(request.deadline))}, anders vervalt de aanvraag.`);
    const afterReminder = await eventually(async () => {
      const events = await timeline(applicationId);
      return events.some((e) => e.type === 'information_reminder_sent') ? events : undefined;
    });
    const reminded = afterReminder.find((e) => e.type === 'information_reminder_sent')!;
    expect(reminded.status).toBeUndefined(); // a note, not a status change
    expect(Math.abs(Date.parse(reminded.at) - (requestedAt + 7 * DAY_MS))).toBeLessThan(HOUR_MS);
    expect((await application(applicationId))?.status).toBe('awaiting_information');

    // Awaiting the result lets the test server skip the remaining 7 days.
    const realStart = Date.now();
    const result = await handle.result();
    expect(Date.now() - realStart).toBeLessThan(20_000);
    expect(result).toEqual({ status: 'lapsed' });

    const lapsedMail = await waitForMail(email, subjects(reference).lapsed);
    expect(lapsedMail.text).toContain(
      'Wij hebben de gevraagde informatie over uw aanvraag "Straatfeest Kerkstraat" (' + reference + ') niet op tijd ontvangen. De aanvraag is daarom vervallen.',
    );
    expect(mailsTo(email).map((m) => m.subject)).toEqual([
      subjects(reference).confirmation,
      subjects(reference).request,
      subjects(reference).reminder,
      subjects(reference).lapsed,
    ]);

    const desc = await handle.describe();
    expect(desc.status.name).toBe('COMPLETED');
    expect(desc.typedSearchAttributes.get(statusSearchAttribute)).toBe('lapsed');
    const app = await application(applicationId);
    expect(app?.status).toBe('lapsed');
    expect(app?.informationRequests).toHaveLength(1);
    expect(app?.informationRequests[0]).toMatchObject({ id: request.id, state: 'lapsed' });
    expect(app?.informationRequests[0]?.reminderSentAt).toBeDefined();
    const events = await timeline(applicationId);
    expect(events.map((e) => e.type)).toEqual(['submitted', 'status_changed', 'information_requested', 'information_reminder_sent', 'lapsed']);
    const lapsed = events.at(-1)!;
    expect(lapsed.status).toBe('lapsed');
    expect(Date.parse(lapsed.at) - Date.parse(request.deadline)).toBeGreaterThanOrEqual(0);
    expect(Date.parse(lapsed.at) - Date.parse(request.deadline)).toBeLessThan(MINUTE_MS);

    // A closed workflow takes no more updates (the API answers 409 workflow_closed).
    await expect(handle.executeUpdate(withdrawUpdate, { args: [{}] })).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('goes back to screening without lapsing when the answer comes after the reminder but before the deadline', async () => {
    const { applicationId, reference, email, handle } = await submit('laat');
    const request = await requestInformation(handle, 'Een foto van de locatie');
    await waitForMail(email, subjects(reference).request);

    await suite.env.sleep(8 * DAY_MS);
    await waitForMail(email, subjects(reference).reminder);
    await eventually(async () => (await timelineTypes(applicationId)).includes('information_reminder_sent'));

    // Documents only, no text: that is an answer too.
    const answered = await handle.executeUpdate(provideInformationUpdate, { args: [{ documentIds: ['doc-foto-1', 'doc-foto-2'] }] });
    expect(answered).toEqual({ status: 'screening' });

    await suite.env.sleep(10 * DAY_MS); // past the original deadline
    expect(await settled(handle)).toEqual({ status: 'screening' });
    const app = await application(applicationId);
    expect(app?.status).toBe('screening');
    expect(app?.informationRequests[0]).toMatchObject({ id: request.id, state: 'answered', documentIds: ['doc-foto-1', 'doc-foto-2'] });
    expect(app?.informationRequests[0]?.reminderSentAt).toBeDefined();
    expect(app?.informationRequests[0]?.answer).toBeUndefined();
    const events = await timeline(applicationId);
    expect(events.map((e) => e.type)).toEqual(['submitted', 'status_changed', 'information_requested', 'information_reminder_sent', 'information_provided']);
    expect(events.at(-1)).toMatchObject({ status: 'screening', documentIds: ['doc-foto-1', 'doc-foto-2'] });
    expect(events.at(-1)?.note).toBeUndefined();
    expect(mailsTo(email).map((m) => m.subject)).toEqual([subjects(reference).confirmation, subjects(reference).request, subjects(reference).reminder]);
    expect((await handle.describe()).status.name).toBe('RUNNING');

    // Screening ⇄ awaiting information: a second question opens a fresh request with its own deadline.
    const second = await requestInformation(handle, 'Het aantal vrijwilligers');
    expect(second.id).not.toBe(request.id);
    expect(Date.parse(second.requestedAt)).toBeGreaterThan(Date.parse(request.deadline));
    expect((await application(applicationId))?.informationRequests.map((r) => r.state)).toEqual(['answered', 'open']);
  });

  it('honours a custom deadline: reminder a day before it, lapse on it', async () => {
    const { applicationId, reference, email, handle } = await submit('termijn', { informationDeadlineDays: 21, informationReminderDays: 10 });
    const request = await requestInformation(handle, 'De vergunning van de gemeente', 3);
    const requestedAt = Date.parse(request.requestedAt);
    expect(request.deadline).toBe(endOfAmsterdamDay(new Date(requestedAt), 3).toISOString());
    expect(Date.parse(request.remindAt!) - requestedAt).toBe(2 * DAY_MS);
    const asked = await waitForMail(email, subjects(reference).request);
    expect(asked.text).toContain(`uiterlijk ${formatDate(new Date(request.deadline))}`);

    await suite.env.sleep(2 * DAY_MS + HOUR_MS);
    await waitForMail(email, subjects(reference).reminder);

    expect(await handle.result()).toEqual({ status: 'lapsed' });
    await waitForMail(email, subjects(reference).lapsed);
    const lapsed = (await timeline(applicationId)).at(-1)!;
    expect(lapsed.type).toBe('lapsed');
    expect(Date.parse(lapsed.at) - Date.parse(request.deadline)).toBeGreaterThanOrEqual(0);
    expect(Date.parse(lapsed.at) - Date.parse(request.deadline)).toBeLessThan(MINUTE_MS);
    expect((await application(applicationId))?.status).toBe('lapsed');
  });

  it('sends no reminder when the deadline is a single day', async () => {
    const { applicationId, reference, email, handle } = await submit('kort');
    const request = await requestInformation(handle, 'Het rekeningnummer', 1);
    expect(request.remindAt).toBeUndefined();
    expect(await handle.result()).toEqual({ status: 'lapsed' });
    await waitForMail(email, subjects(reference).lapsed);
    expect(mailsTo(email).map((m) => m.subject)).toEqual([subjects(reference).confirmation, subjects(reference).request, subjects(reference).lapsed]);
    expect((await timeline(applicationId)).map((e) => e.type)).not.toContain('information_reminder_sent');
  });

  it('uses the deadline and reminder days the workflow was started with', async () => {
    const { handle } = await submit('instelling', { informationDeadlineDays: 21, informationReminderDays: 10 });
    const request = await requestInformation(handle, 'Een toelichting op de doelgroep');
    const requestedAt = Date.parse(request.requestedAt);
    expect(request.deadline).toBe(endOfAmsterdamDay(new Date(requestedAt), 21).toISOString());
    expect(Date.parse(request.remindAt!) - requestedAt).toBe(10 * DAY_MS);
  });

  it('completes screening (ready_for_meeting) and then lets the applicant withdraw', async () => {
    const { applicationId, reference, email, handle } = await submit('intrekken');
    expect(await handle.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] })).toEqual({ status: 'ready_for_meeting' });
    expect(await application(applicationId)).toMatchObject({ status: 'ready_for_meeting' });
    expect((await handle.describe()).typedSearchAttributes.get(statusSearchAttribute)).toBe('ready_for_meeting');

    expect(await handle.executeUpdate(withdrawUpdate, { args: [{ reason: 'Het feest gaat niet door' }] })).toEqual({ status: 'withdrawn' });
    const withdrawn = await waitForMail(email, subjects(reference).withdrawn);
    expect(withdrawn.text).toContain(`U heeft uw aanvraag "Straatfeest Kerkstraat" (${reference}) ingetrokken. Wij behandelen deze aanvraag niet verder.`);
    expect(await handle.result()).toEqual({ status: 'withdrawn' });

    const desc = await handle.describe();
    expect(desc.status.name).toBe('COMPLETED');
    expect(desc.typedSearchAttributes.get(statusSearchAttribute)).toBe('withdrawn');
    expect((await application(applicationId))?.status).toBe('withdrawn');
    const events = await timeline(applicationId);
    expect(events.map((e) => e.type)).toEqual(['submitted', 'status_changed', 'screening_completed', 'withdrawn']);
    expect(events[2]).toMatchObject({ status: 'ready_for_meeting', actor: PANEL });
    expect(events[3]).toMatchObject({ status: 'withdrawn', actor: 'applicant', note: 'Het feest gaat niet door' });
    expect(mailsTo(email).map((m) => m.subject)).toEqual([subjects(reference).confirmation, subjects(reference).withdrawn]);
  });

  it('cancels the open request when the applicant withdraws while information is awaited', async () => {
    const { applicationId, reference, email, handle } = await submit('intrekken-vraag');
    const request = await requestInformation(handle, 'Een offerte');
    expect(await handle.executeUpdate(withdrawUpdate, { args: [{}] })).toEqual({ status: 'withdrawn' });
    expect(await handle.result()).toEqual({ status: 'withdrawn' });
    await waitForMail(email, subjects(reference).withdrawn);
    const app = await application(applicationId);
    expect(app?.status).toBe('withdrawn');
    expect(app?.informationRequests[0]).toMatchObject({ id: request.id, state: 'cancelled' });
    expect((await timeline(applicationId)).at(-1)).toMatchObject({ type: 'withdrawn', status: 'withdrawn' });
    expect((await timeline(applicationId)).at(-1)?.note).toBeUndefined();
    expect(mailsTo(email).map((m) => m.subject)).toEqual([subjects(reference).confirmation, subjects(reference).request, subjects(reference).withdrawn]);
  });
});

describe('initiativeWorkflow: screening actions right after intake', () => {
  /** Submits without waiting for screening and holds its confirmation (so the first step) until `release()`. */
  async function submitHeld(label: string) {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const isHeld = new Promise<void>((r) => (held = r));
    const email = `${label}-${suite.suffix}@example.nl`;
    holdMail = async (m) => {
      if (m.to !== email || !m.subject.endsWith(' is ontvangen')) return;
      held();
      await released;
    };
    const submitted = await suite.submit(label, { inScreening: false });
    await isHeld;
    return { ...submitted, release };
  }

  it('takes an information request sent before the first step has run: it waits for screening, then takes effect', async () => {
    const { applicationId, workflowId, reference, email, handle, release } = await submitHeld('vroeg-vraag');
    const early = await handle.startUpdate(requestInformationUpdate, { args: [{ missing: 'Een offerte', requestedBy: PANEL }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    // Accepted, and waiting: the confirmation (the first step) is still being sent.
    expect(await handle.query(stateQuery)).toEqual({ status: 'submitted' });
    expect((await application(applicationId))?.status).toBe('submitted');

    release();
    const request = await early.result();
    expect(request).toMatchObject({ missing: 'Een offerte', requestedBy: PANEL, state: 'open' });
    expect(await handle.query(stateQuery)).toEqual({ status: 'awaiting_information', openRequest: request });
    expect(await application(applicationId)).toMatchObject({ status: 'awaiting_information', statusSeq: 3 });
    expect((await timeline(applicationId)).map((e) => [e._id, e.type, e.status])).toEqual([
      [`${workflowId}:1`, 'submitted', 'submitted'],
      [`${workflowId}:2`, 'status_changed', 'screening'],
      [`${workflowId}:3`, 'information_requested', 'awaiting_information'],
    ]);
    await waitForMail(email, subjects(reference).request);
    expect(mailsTo(email).map((m) => m.subject)).toEqual([subjects(reference).confirmation, subjects(reference).request]);
  });

  it('takes a completed screening sent before the first step has run', async () => {
    const { applicationId, handle, release } = await submitHeld('vroeg-compleet');
    const early = await handle.startUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    release();
    expect(await early.result()).toEqual({ status: 'ready_for_meeting' });
    expect(await timelineTypes(applicationId)).toEqual(['submitted', 'status_changed', 'screening_completed']);
    expect((await application(applicationId))?.status).toBe('ready_for_meeting');
  });

  it('refuses a waiting action as not ready (NotReady; the API: 503 application_not_ready, Retry-After) when the first step does not come within 20 seconds (mail server down), changing nothing; the retry is taken', async () => {
    // The confirmation fails (and is retried: after 5, 15, 35 s) instead of being held: between
    // attempts no activity runs, so the test server's clock can skip.
    const label = 'vroeg-te-laat';
    const email = `${label}-${suite.suffix}@example.nl`;
    let mailServerDown = true;
    holdMail = async (m) => {
      if (mailServerDown && m.to === email) throw new Error('the mail server is down');
    };
    const { applicationId, handle } = await suite.submit(label, { inScreening: false });
    const early = await handle.startUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    // The same through the API's side of the workflow (src/services/initiatives.ts), once it is accepted too.
    const viaApi = new InitiativeCommands(suite.env.client).requestInformation(applicationId, { missing: 'Een offerte', requestedBy: PANEL }).then(
      () => undefined,
      (err: unknown) => err,
    );
    await eventually(async () => ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length === 2, 10_000, 'both actions accepted');
    await suite.env.sleep(19_000);
    expect(await handle.query(stateQuery), 'still waiting for the confirmation').toEqual({ status: 'submitted' });
    await suite.env.sleep(2_000);
    const refusal = await expectRefused(early.result(), NOT_READY);
    expect(refusal.nonRetryable).toBe(true);
    const apiRefusal = await viaApi;
    expect(apiRefusal).toBeInstanceOf(AppError);
    expect(apiRefusal).toMatchObject({ status: 503, code: 'application_not_ready', headers: { 'Retry-After': '5' } });
    // Refused by its 20-second timer, not before.
    const events = (await handle.fetchHistory()).events ?? [];
    const timer = events.find((e) => e.timerStartedEventAttributes)?.timerStartedEventAttributes;
    expect(Number(timer?.startToFireTimeout?.seconds)).toBe(20);
    const fired = events.findIndex((e) => e.timerFiredEventAttributes?.timerId === timer?.timerId);
    const completed = events.findIndex((e) => e.workflowExecutionUpdateCompletedEventAttributes);
    expect(fired).toBeGreaterThan(0);
    expect(completed).toBeGreaterThan(fired);
    expect(await handle.query(stateQuery)).toEqual({ status: 'submitted' });
    expect((await application(applicationId))?.status).toBe('submitted');

    mailServerDown = false;
    await suite.env.sleep(20_000);
    await suite.statusOf(applicationId, 'screening');
    expect(await handle.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] })).toEqual({ status: 'ready_for_meeting' });
    expect(await timelineTypes(applicationId)).toEqual(['submitted', 'status_changed', 'screening_completed']);
  });

  it('refuses a waiting action (InvalidState) when the applicant withdraws before screening', async () => {
    const { applicationId, handle, release } = await submitHeld('vroeg-ingetrokken');
    const early = await handle.startUpdate(requestInformationUpdate, { args: [{ missing: 'Een offerte', requestedBy: PANEL }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    expect(await handle.executeUpdate(withdrawUpdate, { args: [{ reason: 'Toch niet' }] })).toEqual({ status: 'withdrawn' });
    const refusal = await expectRefused(early.result());
    expect(refusal.message).toBe('cannot request information in status withdrawn');
    release();
    expect(await suite.finished(handle)).toEqual({ status: 'withdrawn' });
    expect(await timelineTypes(applicationId)).toEqual(['submitted', 'withdrawn']);
  });
});

describe('initiativeWorkflow: refused updates', () => {
  it('refuses steps that do not fit the current status, and changes nothing', async () => {
    const { applicationId, handle } = await submit('geweigerd');

    // In screening: there is no open request to answer.
    await expectRefused(handle.executeUpdate(provideInformationUpdate, { args: [{ answer: 'Hier is het', documentIds: [] }] }));
    // Bad input to an otherwise allowed step.
    await expectRefused(handle.executeUpdate(requestInformationUpdate, { args: [{ missing: '  ', requestedBy: PANEL }] }));
    await expectRefused(handle.executeUpdate(requestInformationUpdate, { args: [{ missing: 'Een offerte', deadlineDays: 0, requestedBy: PANEL }] }));

    await requestInformation(handle, 'Een offerte');
    const before = await timelineTypes(applicationId);
    // Awaiting information: no second request, no completing the screening, no empty answer.
    await expectRefused(requestInformation(handle, 'Nog iets'));
    await expectRefused(handle.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] }));
    await expectRefused(handle.executeUpdate(provideInformationUpdate, { args: [{ answer: '', documentIds: [] }] }));
    expect(await handle.query(stateQuery)).toMatchObject({ status: 'awaiting_information' });

    await handle.executeUpdate(provideInformationUpdate, { args: [{ answer: 'Offerte volgt', documentIds: [] }] });
    await handle.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
    // Ready for the meeting: screening is over.
    await expectRefused(requestInformation(handle, 'Nog iets'));
    await expectRefused(handle.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] }));
    await expectRefused(handle.executeUpdate(provideInformationUpdate, { args: [{ answer: 'Nog meer', documentIds: [] }] }));

    expect(await handle.query(stateQuery)).toEqual({ status: 'ready_for_meeting' });
    expect(await timelineTypes(applicationId)).toEqual([...before, 'information_provided', 'screening_completed']);
    expect((await application(applicationId))?.status).toBe('ready_for_meeting');
  });

  it('refuses a second withdrawal while the first is still being handled', async () => {
    const { applicationId, reference, email, handle } = await submit('dubbel');
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const isHeld = new Promise<void>((r) => (held = r));
    holdMail = async (m) => {
      if (m.subject !== subjects(reference).withdrawn) return;
      held();
      await released;
    };

    const first = await handle.startUpdate(withdrawUpdate, { args: [{ reason: 'Eerste keer' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    await isHeld; // the first withdrawal is mid-way: status withdrawn, its e-mail not yet sent
    const refusal = await expectRefused(handle.executeUpdate(withdrawUpdate, { args: [{ reason: 'Tweede keer' }] }));
    expect(refusal.nonRetryable).toBe(true);

    release();
    expect(await first.result()).toEqual({ status: 'withdrawn' });
    expect(await handle.result()).toEqual({ status: 'withdrawn' });
    await waitForMail(email, subjects(reference).withdrawn);
    expect(mailsTo(email).filter((m) => m.subject === subjects(reference).withdrawn)).toHaveLength(1);
    const events = await timeline(applicationId);
    expect(events.filter((e) => e.type === 'withdrawn').map((e) => e.note)).toEqual(['Eerste keer']);

    // Once the workflow has completed, the server itself turns the update away.
    await expect(handle.executeUpdate(withdrawUpdate, { args: [{}] })).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});

// Last in the file: these move the test server's clock months ahead, to the daylight-saving changes.
describe('initiativeWorkflow: the information deadline ends with the day the e-mail names, across the summer-time changes', () => {
  for (const month of ['march', 'october'] as const) {
    it(`a 14-day request made late on the Saturday before the last Sunday of ${month} is open one minute before the end of the named Amsterdam day and lapsed one minute after`, async () => {
      const sunday = nextChange(month, await suite.env.currentTimeMs(), 2);
      const saturday = addCalendarDays(sunday, -1);
      const lastDay = addCalendarDays(saturday, 14);
      const { before, after } = offsets(month);
      // 23:30 on the Saturday, before the change: 14 × 24 h from here would end on the 15th day
      // (March, 00:30) or an hour and a half early (October, 22:30).
      await suite.sleepUntil(instantAt(saturday, '23:30:00.000', before));
      const { applicationId, reference, email, handle } = await submit(`zomertijd-${month}`);
      const request = await requestInformation(handle, 'Een tekening van de opstelling');
      expect(amsterdamDate(new Date(request.requestedAt))).toBe(saturday);
      const end = instantAt(lastDay, '23:59:59.999', after);
      expect(request.deadline).toBe(new Date(end).toISOString());
      // The e-mail names that day (read at noon, far from any midnight).
      const named = formatDate(new Date(`${lastDay}T12:00:00Z`));
      const asked = await waitForMail(email, subjects(reference).request);
      expect(asked.text).toContain(`Stuur uw antwoord uiterlijk ${named}. Zonder antwoord vervalt de aanvraag na die datum.`);

      await suite.sleepUntil(end - MINUTE_MS);
      expect(await settled(handle)).toMatchObject({ status: 'awaiting_information' });
      expect((await application(applicationId))?.status).toBe('awaiting_information');
      const reminder = await waitForMail(email, subjects(reference).reminder);
      expect(reminder.text).toContain(`Stuur uw antwoord uiterlijk ${named}, anders vervalt de aanvraag.`);
      expect(mailsTo(email).map((m) => m.subject)).not.toContain(subjects(reference).lapsed);

      await suite.sleepUntil(end + MINUTE_MS);
      await suite.statusOf(applicationId, 'lapsed');
      const lapsed = (await timeline(applicationId)).at(-1)!;
      expect(lapsed).toMatchObject({ type: 'lapsed', status: 'lapsed' });
      expect(Date.parse(lapsed.at)).toBeGreaterThanOrEqual(end);
      expect(Date.parse(lapsed.at)).toBeLessThan(end + MINUTE_MS);
      await waitForMail(email, subjects(reference).lapsed);
      expect((await application(applicationId))?.informationRequests[0]).toMatchObject({ id: request.id, state: 'lapsed', deadline: request.deadline });
    });
  }
});
