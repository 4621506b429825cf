/** src/privacy/erasure.ts: which texts count as personal, and that erasing is a fixed point. */
import { describe, expect, it } from 'vitest';
import { submittedApplication, type ApplicationDoc } from '../../src/db/models.ts';
import { applicationErasure, erasedMailVars, erasedNote, ERASED, financialRetentionEnd } from '../../src/privacy/erasure.ts';
import { validApplication } from '../helpers/fixtures.ts';

describe('timeline notes', () => {
  it.each(['2027', '2027-05-01', '2027-05-01T17:30:00.000Z', '3', 'PB-2027-0001', 'green', 'orange', 'red', 'flagged', 'clarification'])('keeps the workflow-written note %j', (note) => {
    expect(erasedNote(note)).toBe(note);
  });

  it.each(['Graag een offerte van Jansen', 'Jansen', 'Bel 06-12345678', 'sanne@example.nl', 'VW 2027'])('erases the person-written note %j', (note) => {
    expect(erasedNote(note)).toBe(ERASED);
  });

  it('leaves a missing note missing and an erased one erased', () => {
    expect(erasedNote(undefined)).toBeUndefined();
    expect(erasedNote(ERASED)).toBe(ERASED);
  });
});

describe('e-mail variables', () => {
  it('keeps the figures and the reference, drops names, questions, reasons and anything unknown', () => {
    const vars = { fundName: 'Vlietwensen', applicantName: 'Sanne', reference: 'VW-2027-0001', title: 'Feest', missing: 'Wie is Kees?', reason: 'verhuisd', reasons: 'geen eten', grantedCents: 100, deadline: '2027-01-01T00:00:00Z', somethingNew: 'x' };
    expect(erasedMailVars(vars)).toEqual({ fundName: 'Vlietwensen', reference: 'VW-2027-0001', title: 'Feest', grantedCents: 100, deadline: '2027-01-01T00:00:00Z' });
    expect(erasedMailVars(undefined)).toEqual({});
  });
});

describe('the application update', () => {
  const app: ApplicationDoc = {
    ...submittedApplication({
      id: '6f1c3b7e-2a4d-4f7a-9a51-3b2d1c0e9f8a',
      form: { ...validApplication({ previousApplicationId: '0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70', whatChanged: 'Nu met Kees' }), applicant: { ...validApplication().applicant, organisation: 'Stichting De Vries' } } as never,
      reference: 'VW-2027-0001',
      year: 2027,
      submittedAt: new Date('2027-01-02T10:00:00Z'),
      accessTokenHash: 'ab'.repeat(32),
      idempotencyKey: 'my-key',
    }),
    informationRequests: [{ id: 'r1', missing: 'Wie?', requestedBy: 'staff:1', requestedAt: 'x', deadline: 'y', state: 'answered', answer: 'Kees' }],
  };

  it('erases who she is and her texts, removes her tokens, and keeps the rest as it was', () => {
    const at = new Date('2029-06-01T00:00:00Z');
    const { $set, $unset } = applicationErasure(app, at);
    expect($set.applicant).toEqual({ name: ERASED, email: ERASED, phone: ERASED, address: { street: ERASED, postalCode: ERASED, city: ERASED } });
    expect($set).toMatchObject({ description: ERASED, targetGroup: ERASED, iban: ERASED, accountHolder: ERASED, supportWish: ERASED, whatChanged: ERASED, erasedAt: at });
    expect($set.activity).toEqual({ ...app.activity, location: ERASED });
    expect($set.informationRequests).toEqual([{ ...app.informationRequests[0], missing: ERASED, answer: ERASED }]);
    expect($unset).toEqual({ accessTokenHash: '', idempotencyKey: '' });
    for (const kept of ['title', 'wijken', 'purposes', 'budgetLines', 'coFunding', 'amountRequestedCents', 'expectedParticipants', 'volunteers', 'status', 'decision', 'privacyConsent', 'previousApplicationId']) {
      expect($set, kept).not.toHaveProperty(kept);
    }
  });

  it('gives the same update when applied to its own result (a retry changes nothing)', () => {
    const at = new Date('2029-06-01T00:00:00Z');
    const once = applicationErasure(app, at);
    const erased = { ...app, ...once.$set } as ApplicationDoc;
    expect(applicationErasure(erased, at)).toEqual(once);
  });
});

describe('financial retention', () => {
  it('ends with the year, the configured number of years after the last movement', () => {
    expect(financialRetentionEnd([2027, 2028, 2027], 7)).toBe('2035-12-31');
    expect(financialRetentionEnd([], 7)).toBeNull();
  });
});
