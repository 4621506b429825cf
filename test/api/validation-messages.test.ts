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

/** What a refusal must say: its subject in Dutch and English, and per field [path, code, Dutch, English]. */
interface Expected {
  nl: string;
  en: string;
  details: [path: string, code: string, nl: string, en: string][];
}

/**
 * The same request in Dutch (no Accept-Language) and in English is refused with
 * validation_failed and says exactly what `expected` says; every detail opens with its
 * field, and the Dutch words hold none of zod's English.
 */
async function refused(send: () => Test, expected: Expected): Promise<void> {
  const [nl, en] = await Promise.all([send(), send().set('Accept-Language', 'en-GB,en;q=0.9')]);
  expect(nl.body, JSON.stringify(nl.body)).toEqual({
    error: { code: 'validation_failed', message: expected.nl, details: expected.details.map(([path, code, message]) => ({ path, code, message })) },
  });
  expect(en.body, JSON.stringify(en.body)).toEqual({
    error: { code: 'validation_failed', message: expected.en, details: expected.details.map(([path, code, , message]) => ({ path, code, message })) },
  });
  expect([nl.status, en.status]).toEqual([422, 422]);
  for (const [path, , dutch, english] of expected.details) {
    expect(dutch.startsWith(`Veld '${path}': `), dutch).toBe(true);
    expect(english.startsWith(`Field '${path}': `), english).toBe(true);
  }
  const dutch = [expected.nl, ...expected.details.map(([path, , message]) => message.slice(`Veld '${path}': `.length))];
  expect(dutch.flatMap(zodEnglishIn), dutch.join('\n')).toEqual([]);
}

const bearer = (token: string) => `Bearer ${token}`;
const unknownField = (path: string): Expected['details'][number] => [
  path,
  'unrecognized_keys',
  `Veld '${path}': dit veld bestaat hier niet. Laat het weg of controleer de spelling.`,
  `Field '${path}': this field does not exist here. Leave it out or check the spelling.`,
];
const notWhole = (path: string): Expected['details'][number] => [
  path,
  'invalid_type',
  `Veld '${path}': dit is geen heel getal. Gebruik alleen cijfers, zonder punten of letters.`,
  `Field '${path}': this is not a whole number. Use digits only, without dots or letters.`,
];
const notUuid = (path: string): Expected['details'][number] => [
  path,
  'invalid_format',
  `Veld '${path}': dit is geen geldig kenmerk (een UUID zoals 0b6d2f5e-8c1a-4e0f-9a4b-3c2d1e0f9a8b).`,
  `Field '${path}': this is not a valid identifier (a UUID like 0b6d2f5e-8c1a-4e0f-9a4b-3c2d1e0f9a8b).`,
];

describe('a refused request names what was sent and what is wrong with each field', () => {
  it('an application: a number that is not one, an empty list, a field the form does not have', () =>
    refused(() => ctx.http().post('/api/v1/applications').send(validApplication({ expectedParticipants: 'veel', wijken: [], status: 'approved' })), {
      nl: 'De aanvraag is niet volledig of niet juist ingevuld.',
      en: 'The application is incomplete or contains invalid values.',
      details: [
        ['wijken', 'too_small', "Veld 'wijken': dit zijn er te weinig: minstens 1.", "Field 'wijken': there are too few: at least 1."],
        notWhole('expectedParticipants'),
        unknownField('status'),
      ],
    }));

  it('a meeting move: a date that does not exist, a time out of range, an unknown field', () =>
    refused(() => ctx.http().post(`/api/v1/meetings/${MEETING}/move`).set('Authorization', bearer(admin)).send({ date: '2032-02-30', time: '25:00', reason: 'carnaval' }), {
      nl: 'De verplaatsing van de vergadering is niet volledig of niet juist ingevuld.',
      en: 'The move of the meeting is incomplete or contains invalid values.',
      details: [
        ['date', 'invalid_date', "Veld 'date': dit is geen geldige datum (JJJJ-MM-DD).", "Field 'date': this is not a valid date (YYYY-MM-DD)."],
        [
          'time',
          'invalid_format',
          "Veld 'time': dit heeft niet de juiste vorm. Gebruik een tijd als UU:MM, bijvoorbeeld 19:30.",
          "Field 'time': this does not have the right form. Use a time as HH:MM, for example 19:30.",
        ],
        unknownField('reason'),
      ],
    }));

  it('a meeting move refused by the calendar (its cut-off would have passed): the meeting move, and the date', () =>
    refused(() => ctx.http().post(`/api/v1/meetings/${MEETING}/move`).set('Authorization', bearer(admin)).send({ date: '2020-01-07' }), {
      nl: 'De verplaatsing van de vergadering is niet volledig of niet juist ingevuld.',
      en: 'The move of the meeting is incomplete or contains invalid values.',
      details: [
        [
          'date',
          'cutoff_in_past',
          "Veld 'date': met deze datum is de sluitingsdatum van de agenda al voorbij. Kies een latere datum.",
          "Field 'date': with this date the agenda cut-off has already passed. Choose a later date.",
        ],
      ],
    }));

  it('a query string: a status that does not exist (the allowed ones listed), a page below 1, a page size that is no number', () =>
    refused(() => ctx.http().get('/api/v1/applications?status=goedgekeurd&page=0&pageSize=veel').set('Authorization', bearer(panel)), {
      nl: 'De parameters in het webadres (na het vraagteken) kloppen niet.',
      en: 'The parameters in the web address (after the question mark) are not valid.',
      details: [
        [
          'query.status',
          'invalid_value',
          `Veld 'query.status': deze waarde is niet toegestaan. Kies uit: ${applicationStatuses.join(', ')}.`,
          `Field 'query.status': this value is not allowed. Choose from: ${applicationStatuses.join(', ')}.`,
        ],
        ['query.page', 'too_small', "Veld 'query.page': dit getal is te klein: het moet minstens 1 zijn.", "Field 'query.page': this number is too small: it must be at least 1."],
        notWhole('query.pageSize'),
      ],
    }));

  it('a web address with an id that cannot be one: the address, and the parameter', () =>
    refused(() => ctx.http().get('/api/v1/applications/VW-2032-0001').set('Authorization', bearer(panel)), {
      nl: 'Het webadres bevat een ongeldig kenmerk.',
      en: 'The web address contains an invalid identifier.',
      details: [notUuid('params.id')],
    }));

  it('a vote: an application id that is not one, a vote that does not exist (the allowed ones listed), a fraction of a cent', () =>
    refused(() => ctx.http().post(`/api/v1/meetings/${MEETING}/votes`).set('Authorization', bearer(panel)).send({ applicationId: 'VW-2032-0001', vote: 'misschien', amountCents: 12.5 }), {
      nl: 'De stem is niet volledig of niet juist ingevuld.',
      en: 'The vote is incomplete or contains invalid values.',
      details: [
        notUuid('applicationId'),
        ['vote', 'invalid_value', `Veld 'vote': deze waarde is niet toegestaan. Kies uit: ${voteKinds.join(', ')}.`, `Field 'vote': this value is not allowed. Choose from: ${voteKinds.join(', ')}.`],
        notWhole('amountCents'),
      ],
    }));

  it('a login: an e-mail address that is not one, an empty password, a field the login does not have', () =>
    refused(() => ctx.http().post('/api/v1/auth/login').send({ email: 'panel1', password: '', remember: true }), {
      nl: 'De inloggegevens zijn niet volledig of niet juist ingevuld.',
      en: 'The login details are incomplete or contain invalid values.',
      details: [
        [
          'email',
          'invalid_format',
          "Veld 'email': dit is geen geldig e-mailadres. Gebruik een adres zoals naam@voorbeeld.nl.",
          "Field 'email': this is not a valid email address. Use an address like name@example.com.",
        ],
        ['password', 'too_small', "Veld 'password': dit ontbreekt of is leeg.", "Field 'password': this is missing or empty."],
        unknownField('remember'),
      ],
    }));

  it('documents sent without a file (refused by the service, not by a schema): the documents, and the field', () =>
    refused(() => ctx.http().post(`/api/v1/applications/${randomUUID()}/documents`).set('Authorization', bearer(panel)).field('note', 'zie bijlage'), {
      nl: 'De documenten ontbreken of kloppen niet.',
      en: 'The documents are missing or not valid.',
      details: [['documents', 'required', "Veld 'documents': dit ontbreekt of is leeg.", "Field 'documents': this is missing or empty."]],
    }));
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
