/**
 * A refused request (422 validation_failed) says in the caller's language what was
 * refused (the application, the meeting move, the query, the vote, the login, …) and,
 * for each field by its path, what is wrong with it; the Dutch words hold no English.
 * Validation comes before any workflow: no worker runs. The meeting is
 * `meeting-2032-03-02` (its own calendar, MEETING_FIRST_DATE), never started.
 * And the OpenAPI document's login names every staff role.
 */
import { randomUUID } from 'node:crypto';
import type { Test } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { voteKinds } from '../../src/domain/decision.ts';
import { applicationStatuses } from '../../src/domain/status.ts';
import { demoStaff } from '../../src/seed.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { zodEnglishIn } from '../helpers/english.ts';
import { validApplication } from '../helpers/fixtures.ts';

const MEETING = 'meeting-2032-03-02';

let ctx: TestContext;
let admin: string;
let panel: string;
beforeAll(async () => {
  ctx = await createTestContext({ noWorker: true, env: { MEETING_FIRST_DATE: '2032-03-02' } });
  admin = await ctx.staff.admin();
  panel = await ctx.staff.panel();
});
afterAll(async () => ctx?.close());

interface Detail {
  path: string;
  code: string;
  message: string;
}
interface Refusal {
  code: string;
  message: string;
  details: Detail[];
}

/**
 * The same request in Dutch (no Accept-Language) and in English: both refused with
 * validation_failed, every detail naming its field, no word of zod's English in Dutch.
 */
async function refused(send: () => Test): Promise<{ nl: Refusal; en: Refusal }> {
  const [nl, en] = await Promise.all([send(), send().set('Accept-Language', 'en-GB,en;q=0.9')]);
  for (const res of [nl, en]) expect([res.status, res.body.error?.code], JSON.stringify(res.body)).toEqual([422, 'validation_failed']);
  const answers = { nl: nl.body.error as Refusal, en: en.body.error as Refusal };
  for (const [locale, label] of [['nl', 'Veld'], ['en', 'Field']] as const) {
    expect(answers[locale].details.length).toBeGreaterThan(0);
    for (const d of answers[locale].details) expect(d.message.startsWith(`${label} '${d.path}': `), d.message).toBe(true);
  }
  const dutch = [answers.nl.message, ...answers.nl.details.map((d) => d.message.slice(`Veld '${d.path}': `.length))];
  expect(dutch.flatMap(zodEnglishIn), dutch.join('\n')).toEqual([]);
  return answers;
}

const bearer = (token: string) => `Bearer ${token}`;

describe('a refused request names what was sent and what is wrong with each field', () => {
  it('an application: a number that is not one, an empty list, a field the form does not have', async () => {
    const { nl, en } = await refused(() => ctx.http().post('/api/v1/applications').send(validApplication({ expectedParticipants: 'veel', wijken: [], status: 'approved' })));
    expect(nl.message).toBe('De aanvraag is niet volledig of niet juist ingevuld.');
    expect(nl.details).toEqual([
      { path: 'wijken', code: 'too_small', message: "Veld 'wijken': dit zijn er te weinig: minstens 1." },
      { path: 'expectedParticipants', code: 'invalid_type', message: "Veld 'expectedParticipants': dit is geen heel getal. Gebruik alleen cijfers, zonder punten of letters." },
      { path: 'status', code: 'unrecognized_keys', message: "Veld 'status': dit veld bestaat hier niet. Laat het weg of controleer de spelling." },
    ]);
    expect(en.message).toBe('The application is incomplete or contains invalid values.');
    expect(en.details.map((d) => d.message)).toEqual([
      "Field 'wijken': there are too few: at least 1.",
      "Field 'expectedParticipants': this is not a whole number. Use digits only, without dots or letters.",
      "Field 'status': this field does not exist here. Leave it out or check the spelling.",
    ]);
  });

  it('a meeting move: a date that does not exist, a time out of range, an unknown field', async () => {
    const { nl, en } = await refused(() =>
      ctx.http().post(`/api/v1/meetings/${MEETING}/move`).set('Authorization', bearer(admin)).send({ date: '2032-02-30', time: '25:00', reason: 'carnaval' }),
    );
    expect(nl.message).toBe('De verplaatsing van de vergadering is niet volledig of niet juist ingevuld.');
    expect(nl.details).toEqual([
      { path: 'date', code: 'invalid_date', message: "Veld 'date': dit is geen geldige datum (JJJJ-MM-DD)." },
      { path: 'time', code: 'invalid_format', message: "Veld 'time': dit heeft niet de juiste vorm. Gebruik een tijd als UU:MM, bijvoorbeeld 19:30." },
      { path: 'reason', code: 'unrecognized_keys', message: "Veld 'reason': dit veld bestaat hier niet. Laat het weg of controleer de spelling." },
    ]);
    expect(en.message).toBe('The move of the meeting is incomplete or contains invalid values.');
    expect(en.details.map((d) => d.message)).toEqual([
      "Field 'date': this is not a valid date (YYYY-MM-DD).",
      "Field 'time': this does not have the right form. Use a time as HH:MM, for example 19:30.",
      "Field 'reason': this field does not exist here. Leave it out or check the spelling.",
    ]);
  });

  it('a meeting move refused by the calendar (its cut-off would have passed): the meeting move, and the date', async () => {
    const { nl, en } = await refused(() => ctx.http().post(`/api/v1/meetings/${MEETING}/move`).set('Authorization', bearer(admin)).send({ date: '2020-01-07' }));
    expect(nl).toEqual({
      code: 'validation_failed',
      message: 'De verplaatsing van de vergadering is niet volledig of niet juist ingevuld.',
      details: [{ path: 'date', code: 'cutoff_in_past', message: "Veld 'date': met deze datum is de sluitingsdatum van de agenda al voorbij. Kies een latere datum." }],
    });
    expect(en.details[0]!.message).toBe("Field 'date': with this date the agenda cut-off has already passed. Choose a later date.");
  });

  it('a query string: a status that does not exist (the allowed ones listed), a page below 1, a page size that is no number', async () => {
    const { nl, en } = await refused(() => ctx.http().get('/api/v1/applications?status=goedgekeurd&page=0&pageSize=veel').set('Authorization', bearer(panel)));
    expect(nl.message).toBe('De parameters in het webadres (na het vraagteken) kloppen niet.');
    expect(nl.details).toEqual([
      { path: 'query.status', code: 'invalid_value', message: `Veld 'query.status': deze waarde is niet toegestaan. Kies uit: ${applicationStatuses.join(', ')}.` },
      { path: 'query.page', code: 'too_small', message: "Veld 'query.page': dit getal is te klein: het moet minstens 1 zijn." },
      { path: 'query.pageSize', code: 'invalid_type', message: "Veld 'query.pageSize': dit is geen heel getal. Gebruik alleen cijfers, zonder punten of letters." },
    ]);
    expect(en.message).toBe('The parameters in the web address (after the question mark) are not valid.');
    expect(en.details.map((d) => d.message)).toEqual([
      `Field 'query.status': this value is not allowed. Choose from: ${applicationStatuses.join(', ')}.`,
      "Field 'query.page': this number is too small: it must be at least 1.",
      "Field 'query.pageSize': this is not a whole number. Use digits only, without dots or letters.",
    ]);
  });

  it('a web address with an id that cannot be one: the address, and the parameter', async () => {
    const { nl, en } = await refused(() => ctx.http().get('/api/v1/applications/VW-2032-0001').set('Authorization', bearer(panel)));
    expect(nl.message).toBe('Het webadres bevat een ongeldig kenmerk.');
    expect(nl.details.map((d) => d.message)).toEqual(["Veld 'params.id': dit is geen geldig kenmerk (een UUID zoals 0b6d2f5e-8c1a-4e0f-9a4b-3c2d1e0f9a8b)."]);
    expect(en.message).toBe('The web address contains an invalid identifier.');
  });

  it('a vote: an application id that is not one, a vote that does not exist (the allowed ones listed), a fraction of a cent', async () => {
    const { nl, en } = await refused(() =>
      ctx.http().post(`/api/v1/meetings/${MEETING}/votes`).set('Authorization', bearer(panel)).send({ applicationId: 'VW-2032-0001', vote: 'misschien', amountCents: 12.5 }),
    );
    expect(nl.message).toBe('De stem is niet volledig of niet juist ingevuld.');
    expect(nl.details).toEqual([
      { path: 'applicationId', code: 'invalid_format', message: "Veld 'applicationId': dit is geen geldig kenmerk (een UUID zoals 0b6d2f5e-8c1a-4e0f-9a4b-3c2d1e0f9a8b)." },
      { path: 'vote', code: 'invalid_value', message: `Veld 'vote': deze waarde is niet toegestaan. Kies uit: ${voteKinds.join(', ')}.` },
      { path: 'amountCents', code: 'invalid_type', message: "Veld 'amountCents': dit is geen heel getal. Gebruik alleen cijfers, zonder punten of letters." },
    ]);
    expect(en.message).toBe('The vote is incomplete or contains invalid values.');
    expect(en.details.map((d) => d.message)).toEqual([
      "Field 'applicationId': this is not a valid identifier (a UUID like 0b6d2f5e-8c1a-4e0f-9a4b-3c2d1e0f9a8b).",
      `Field 'vote': this value is not allowed. Choose from: ${voteKinds.join(', ')}.`,
      "Field 'amountCents': this is not a whole number. Use digits only, without dots or letters.",
    ]);
  });

  it('a login: an e-mail address that is not one, an empty password, a field the login does not have', async () => {
    const { nl, en } = await refused(() => ctx.http().post('/api/v1/auth/login').send({ email: 'panel1', password: '', remember: true }));
    expect(nl.message).toBe('De inloggegevens zijn niet volledig of niet juist ingevuld.');
    expect(nl.details).toEqual([
      { path: 'email', code: 'invalid_format', message: "Veld 'email': dit is geen geldig e-mailadres. Gebruik een adres zoals naam@voorbeeld.nl." },
      { path: 'password', code: 'too_small', message: "Veld 'password': dit ontbreekt of is leeg." },
      { path: 'remember', code: 'unrecognized_keys', message: "Veld 'remember': dit veld bestaat hier niet. Laat het weg of controleer de spelling." },
    ]);
    expect(en.message).toBe('The login details are incomplete or contain invalid values.');
    expect(en.details.map((d) => d.message)).toEqual([
      "Field 'email': this is not a valid email address. Use an address like name@example.com.",
      "Field 'password': this is missing or empty.",
      "Field 'remember': this field does not exist here. Leave it out or check the spelling.",
    ]);
  });

  it('documents sent without a file (refused by the service, not by a schema): the documents, and the field', async () => {
    const { nl, en } = await refused(() => ctx.http().post(`/api/v1/applications/${randomUUID()}/documents`).set('Authorization', bearer(panel)).field('note', 'zie bijlage'));
    expect(nl).toEqual({ code: 'validation_failed', message: 'De documenten ontbreken of kloppen niet.', details: [{ path: 'documents', code: 'required', message: "Veld 'documents': dit ontbreekt of is leeg." }] });
    expect([en.message, en.details[0]!.message]).toEqual(['The documents are missing or not valid.', "Field 'documents': this is missing or empty."]);
  });
});

describe('the OpenAPI document', () => {
  it('names every staff role in the login summary, finance included (each role a demo account has)', async () => {
    const doc = await ctx.http().get('/api/openapi.json');
    const summary: string = doc.body.paths['/api/v1/auth/login'].post.summary;
    const roles = [...new Set(demoStaff.map((s) => s.role))];
    expect(roles.sort()).toEqual(['admin', 'finance', 'panel', 'welfare']);
    for (const role of roles) expect(summary, summary).toMatch(new RegExp(`\\b${role}\\b`));
  });
});
