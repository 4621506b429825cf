/**
 * The welfare support API against the real servers: initiatives granted through the
 * worker (test/helpers/grants.ts) and put in the queue by the real supportWorkflow
 * (started here the way the initiative workflow starts it: same id, same task queue),
 * then the queue and each case through HTTP. Who may do what, two concurrent claims
 * (one wins, the other is told who has it), claims racing from two processes, release,
 * hand-over, notes (staff see them, the applicant never), filters, 404s and 422s, and
 * the audit records of claims, releases and hand-overs.
 */
import { randomUUID } from 'node:crypto';
import type { Test } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SupportService } from '../../src/support/service.ts';
import { supportKey } from '../../src/support/keys.ts';
import { supportEventModel } from '../../src/db/support-models.ts';
import { addKeys } from '../../src/db/keys.ts';
import { temporalSupportWorkflows } from '../../src/support/temporal.ts';
import { createSupportActivities } from '../../activities/support.ts';
import { supportView } from '../../src/support/case.ts';
import { supportWorkflow, supportWorkflowId } from '../../workflows/support.ts';
import { initiativeWorkflowId } from '../../src/domain/application.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { grant, grantWithDocument, type Granted } from '../helpers/grants.ts';
import { validApplication } from '../helpers/fixtures.ts';
import { webClient } from '../helpers/web.ts';
import { pageTexts } from '../../src/domain/page-messages.ts';

let ctx: TestContext;
const tokens: Record<'welfare1' | 'welfare2' | 'panel' | 'admin' | 'finance', string> = {} as never;
const ids: Record<string, string> = {};
const names = { welfare1: 'Opbouwwerker Woej', welfare2: 'Ondersteuner SenW' };

/** The three initiatives in the queue, and one granted without asking for help. */
let bovenveen: Granted;
let voorburg: Granted;
let stompwijk: Granted;
let noSupport: Granted;

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const as = (req: Test, token?: string) => (token ? req.set(bearer(token)) : req);
const get = (path: string, token?: string) => as(ctx.http().get(`/api/v1/support${path}`), token);
const post = (path: string, token?: string, body?: object) => {
  const req = as(ctx.http().post(`/api/v1/support${path}`), token);
  return body === undefined ? req : req.send(body);
};

/** Waits until the case the initiative workflow queued after the reservation is there (starting it if not: the same id, so never twice). */
async function queue(g: Granted): Promise<void> {
  await ctx.client.workflow.start(supportWorkflow, {
    taskQueue: ctx.config.temporal.taskQueue,
    workflowId: supportWorkflowId(g.id),
    args: [{ applicationId: g.id, reason: 'requested' }],
    // Once the initiative workflow starts it itself, this finds that run.
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  await eventually(async () => (await get(`/${g.id}`, tokens.welfare1)).status === 200, 15_000, `${g.reference} in the queue`);
}

const workflowStatus = async (g: Granted) => (await ctx.client.workflow.getHandle(supportWorkflowId(g.id)).describe()).status.name;

async function auditOf(g: Granted): Promise<{ action: string; actor: string; before?: any; after?: any }[]> {
  return ctx.models.Audit.find({ target: `application:${g.id}`, action: /^support\./ }).sort({ at: 1, _id: 1 }).lean();
}

beforeAll(async () => {
  ctx = await createTestContext();
  tokens.welfare1 = await ctx.staff.welfare();
  tokens.welfare2 = await ctx.login('welzijn2@buurtfonds.test');
  tokens.panel = await ctx.staff.panel();
  tokens.admin = await ctx.staff.admin();
  tokens.finance = await ctx.login('financien@buurtfonds.test');
  for (const u of await ctx.models.StaffUser.find({}, { email: 1 }).lean()) ids[u.email.split('@')[0]!] = u._id;
  // One after the other: the initiative workflow queues each case as its grant is
  // reserved, so the queue's order is the order of the grants.
  bovenveen = await grant(ctx, { title: 'Buurtmoestuin Bovenveen', wijken: ['Bovenveen'], applicant: { ...applicant(), email: 'bovenveen@example.nl' } });
  await queue(bovenveen);
  voorburg = await grant(ctx, { title: 'Huiswerkclub Voorburg', wijken: ['Voorburg-Midden'], supportWish: 'Een ruimte voor de huiswerkclub', applicant: { ...applicant(), email: 'voorburg@example.nl' } });
  await queue(voorburg);
  stompwijk = await grant(ctx, { title: 'Opschoondag Stompwijk', wijken: ['Stompwijk', 'Voorburg-West'], applicant: { ...applicant(), email: 'stompwijk@example.nl' } });
  await queue(stompwijk);
  noSupport = await grant(ctx, { title: 'Bankje op het plein', wantsSupport: false, supportWish: undefined, applicant: { ...applicant(), email: 'bankje@example.nl' } });
}, 180_000);

afterAll(async () => {
  for (const g of [bovenveen, voorburg, stompwijk].filter(Boolean)) {
    await ctx.client.workflow.getHandle(supportWorkflowId(g.id)).terminate('test over').catch(() => undefined);
  }
  await ctx?.close();
});

function applicant() {
  return { name: 'Sanne de Vries', email: 'sanne@example.nl', phone: '070 123 4567', address: { street: 'Kerkstraat 1', postalCode: '2271 AB', city: 'Voorburg' } };
}

// ---------------------------------------------------------------------------------

describe('the queue', () => {
  it('is for welfare and admin: panel, finance, the applicant and anonymous callers are refused', async () => {
    expect((await get('/queue', tokens.welfare1)).status).toBe(200);
    expect((await get('/queue', tokens.admin)).status).toBe(200);
    for (const token of [tokens.panel, tokens.finance, bovenveen.token]) expect((await get('/queue', token)).status).toBe(403);
    expect((await get('/queue')).status).toBe(401);
  });

  it('lists every waiting initiative oldest first, with what a worker needs to pick one', async () => {
    const res = await get('/queue', tokens.welfare1);
    expect(res.body.total).toBe(3);
    expect(res.body.items.map((i: any) => i.reference)).toEqual([bovenveen.reference, voorburg.reference, stompwijk.reference]);
    const queuedAt = res.body.items.map((i: any) => i.queuedAt);
    expect([...queuedAt].sort()).toEqual(queuedAt);
    expect(res.body.items[1]).toEqual({
      applicationId: voorburg.id,
      reference: voorburg.reference,
      title: 'Huiswerkclub Voorburg',
      wijken: ['Voorburg-Midden'],
      organisation: 'SenW',
      reason: 'requested',
      wish: 'Een ruimte voor de huiswerkclub',
      state: 'unclaimed',
      queuedAt: expect.any(String),
      waitingSince: res.body.items[1].queuedAt,
      claimedBy: null,
    });
    // The organisation of the first wijk named; the default map: Voorburg wijken SenW, others Woej.
    expect(res.body.items.map((i: any) => i.organisation)).toEqual(['Woej', 'SenW', 'Woej']);
    expect(JSON.stringify(res.body)).not.toContain(noSupport.reference);
  });

  it('filters by wijk, organisation and state, and refuses unknown values', async () => {
    const refs = async (q: string) => {
      const res = await get(`/queue${q}`, tokens.admin);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.items.map((i: any) => i.reference);
    };
    expect(await refs('?wijk=Bovenveen')).toEqual([bovenveen.reference]);
    expect(await refs('?wijk=Voorburg-West')).toEqual([stompwijk.reference]);
    expect(await refs('?organisation=Woej')).toEqual([bovenveen.reference, stompwijk.reference]);
    expect(await refs('?organisation=SenW&wijk=Bovenveen')).toEqual([]);
    expect(await refs('?state=unclaimed')).toEqual([bovenveen.reference, voorburg.reference, stompwijk.reference]);
    expect(await refs('?state=claimed')).toEqual([]);
    for (const q of ['?state=open', '?wijk=Utrecht', '?organisation=Unknown', '?page=2']) {
      const res = await get(`/queue${q}`, tokens.welfare1);
      expect(res.status, q).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });
});

describe('claiming', () => {
  it('gives the case to one of two workers claiming at once; the other gets 409 with the name of who has it', async () => {
    const [r1, r2] = await Promise.all([post(`/${voorburg.id}/claim`, tokens.welfare1), post(`/${voorburg.id}/claim`, tokens.welfare2)]);
    const statuses = [r1.status, r2.status].sort();
    expect(statuses, `${JSON.stringify(r1.body)} ${JSON.stringify(r2.body)}`).toEqual([200, 409]);
    const [won, lost] = r1.status === 200 ? [r1, r2] : [r2, r1];
    const winner = won === r1 ? 'welfare1' : 'welfare2';
    expect(won.body).toMatchObject({ state: 'claimed', claimedBy: { id: ids[winner === 'welfare1' ? 'welzijn1' : 'welzijn2'], name: names[winner] } });
    expect(lost.body.error).toMatchObject({ code: 'already_claimed', details: [{ code: 'already_claimed', claimedBy: { name: names[winner] }, claimedAt: won.body.claimedBy.at }] });
    expect(lost.body.error.message).toBe('Een andere opbouwwerker heeft dit initiatief al opgepakt.');

    // One claim in the case, one audit record; the workflow heard of it and completed.
    const c = (await get(`/${voorburg.id}`, tokens.admin)).body;
    expect(c.history.map((h: any) => h.type)).toEqual(['queued', 'claimed']);
    expect(await auditOf(voorburg)).toMatchObject([{ action: 'support.claimed', actor: `staff:${won.body.claimedBy.id}`, after: { claimedBy: { name: names[winner] } } }]);
    await eventually(async () => (await workflowStatus(voorburg)) === 'COMPLETED', 15_000, 'support workflow completed at the claim');

    // The claimer claiming again gets the case as it is; the queue shows it claimed.
    const again = await post(`/${voorburg.id}/claim`, winner === 'welfare1' ? tokens.welfare1 : tokens.welfare2);
    expect(again.status).toBe(200);
    expect(again.body.history).toHaveLength(2);
    expect((await get('/queue?state=claimed', tokens.welfare1)).body.items).toMatchObject([{ reference: voorburg.reference, claimedBy: { name: names[winner] } }]);

    // Give it back for the later tests.
    expect((await post(`/${voorburg.id}/release`, tokens.admin)).status).toBe(200);
  });

  it('has one winner per round when claims race from two processes (separate caches, one database)', async () => {
    const otherProcess = new SupportService({ models: ctx.models, organisations: ctx.config.support.wijkOrganisations });
    for (let round = 0; round < 5; round++) {
      const [viaApi, viaOther] = await Promise.allSettled([post(`/${stompwijk.id}/claim`, tokens.welfare1), otherProcess.claim(stompwijk.id, { id: ids.welzijn2!, role: 'welfare' })]);
      const apiWon = viaApi.status === 'fulfilled' && viaApi.value.status === 200;
      const otherWon = viaOther.status === 'fulfilled';
      expect([apiWon, otherWon].filter(Boolean), `round ${round}`).toHaveLength(1);
      if (!apiWon) expect(viaApi.status === 'fulfilled' && viaApi.value.body.error.details[0].claimedBy.name).toBe(names.welfare2);
      else expect(viaOther.status === 'rejected' && (viaOther.reason as { code?: string }).code).toBe('already_claimed');
      const release = await post(`/${stompwijk.id}/release`, apiWon ? tokens.welfare1 : tokens.welfare2);
      expect(release.status, JSON.stringify(release.body)).toBe(200);
    }
    const c = (await get(`/${stompwijk.id}`, tokens.admin)).body;
    expect(c.history.map((h: any) => h.type)).toEqual(['queued', ...Array.from({ length: 5 }, () => ['claimed', 'released']).flat()]);
    expect(c.state).toBe('unclaimed');
  });

  it('is for welfare workers only', async () => {
    for (const token of [tokens.panel, tokens.admin, tokens.finance, bovenveen.token]) {
      const res = await post(`/${bovenveen.id}/claim`, token);
      expect(res.status).toBe(403);
    }
    expect((await post(`/${bovenveen.id}/claim`)).status).toBe(401);
    expect((await get(`/${bovenveen.id}`, tokens.admin)).body.state).toBe('unclaimed');
  });

  it('takes no body', async () => {
    const res = await post(`/${bovenveen.id}/claim`, tokens.welfare1, { note: 'ik pak hem' });
    expect(res.status).toBe(422);
    expect((await get(`/${bovenveen.id}`, tokens.admin)).body.state).toBe('unclaimed');
  });
});

describe('releasing and handing over', () => {
  it('lets the claimer (or an admin) release; the wait and its workflow start again', async () => {
    expect((await post(`/${bovenveen.id}/claim`, tokens.welfare1)).status).toBe(200);
    await eventually(async () => (await workflowStatus(bovenveen)) === 'COMPLETED', 15_000, 'workflow completed at the claim');

    const notClaimer = await post(`/${bovenveen.id}/release`, tokens.welfare2);
    expect(notClaimer.status).toBe(403);
    expect(notClaimer.body.error.code).toBe('not_the_claimer');
    for (const token of [tokens.panel, tokens.finance, bovenveen.token]) expect((await post(`/${bovenveen.id}/release`, token)).status).toBe(403);

    const res = await post(`/${bovenveen.id}/release`, tokens.welfare1);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ state: 'unclaimed', claimedBy: null });
    expect(Date.parse(res.body.waitingSince)).toBeGreaterThan(Date.parse(res.body.queuedAt));
    // Signal-with-start: a new run waits for the next claim.
    await eventually(async () => (await workflowStatus(bovenveen)) === 'RUNNING', 15_000, 'support workflow running again');

    const twice = await post(`/${bovenveen.id}/release`, tokens.welfare1);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('not_claimed');

    // An admin releases a case someone else holds.
    expect((await post(`/${bovenveen.id}/claim`, tokens.welfare2)).status).toBe(200);
    expect((await post(`/${bovenveen.id}/release`, tokens.admin)).status).toBe(200);

    expect((await auditOf(bovenveen)).map((a) => [a.action, a.actor])).toEqual([
      ['support.claimed', `staff:${ids.welzijn1}`],
      ['support.released', `staff:${ids.welzijn1}`],
      ['support.claimed', `staff:${ids.welzijn2}`],
      ['support.released', `staff:${ids.admin}`],
    ]);
  });

  it('lets the claimer hand the case to another active welfare worker', async () => {
    const inactive = randomUUID();
    await ctx.models.StaffUser.create({ _id: inactive, email: 'vertrokken@buurtfonds.test', name: 'Vertrokken Werker', role: 'welfare', organisation: 'Woej', chair: false, active: false, passwordHash: 'x', createdAt: new Date() });
    expect((await post(`/${bovenveen.id}/claim`, tokens.welfare1)).status).toBe(200);

    for (const [body, code] of [
      [{ toUserId: ids.panel1 }, 'not_a_welfare_worker'],
      [{ toUserId: inactive }, 'inactive'],
      [{ toUserId: randomUUID() }, 'unknown_user'],
      [{ toUserId: ids.welzijn1 }, 'already_the_claimer'],
    ] as const) {
      const res = await post(`/${bovenveen.id}/handover`, tokens.welfare1, body);
      expect(res.status, code).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'invalid_handover_target', details: [{ path: 'toUserId', code }] });
    }
    for (const body of [{}, { toUserId: 'welzijn2' }, { toUserId: ids.welzijn2, note: 'x' }]) {
      const res = await post(`/${bovenveen.id}/handover`, tokens.welfare1, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const notClaimer = await post(`/${bovenveen.id}/handover`, tokens.welfare2, { toUserId: ids.welzijn2 });
    expect(notClaimer.status).toBe(403);
    expect(notClaimer.body.error.code).toBe('not_the_claimer');
    expect((await post(`/${bovenveen.id}/handover`, tokens.panel, { toUserId: ids.welzijn2 })).status).toBe(403);

    const res = await post(`/${bovenveen.id}/handover`, tokens.welfare1, { toUserId: ids.welzijn2 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ state: 'claimed', claimedBy: { id: ids.welzijn2, name: names.welfare2, organisation: 'SenW' }, organisation: 'Woej' });
    expect(res.body.history.at(-1)).toMatchObject({ type: 'handed_over', byName: names.welfare1, toName: names.welfare2 });
    // Now welfare1 is no longer the claimer.
    expect((await post(`/${bovenveen.id}/release`, tokens.welfare1)).status).toBe(403);
    // An admin may hand it on (e.g. when the claimer is away).
    expect((await post(`/${bovenveen.id}/handover`, tokens.admin, { toUserId: ids.welzijn1 })).body.claimedBy).toMatchObject({ name: names.welfare1 });
    expect((await auditOf(bovenveen)).slice(-3)).toMatchObject([
      { action: 'support.claimed' },
      { action: 'support.handed_over', actor: `staff:${ids.welzijn1}`, before: { claimedBy: { name: names.welfare1 } }, after: { claimedBy: { name: names.welfare2 } } },
      { action: 'support.handed_over', actor: `staff:${ids.admin}`, after: { claimedBy: { name: names.welfare1 } } },
    ]);

    const unclaimed = await post(`/${voorburg.id}/handover`, tokens.welfare1, { toUserId: ids.welzijn2 });
    expect(unclaimed.status).toBe(409);
    expect(unclaimed.body.error.code).toBe('not_claimed');
  });
});

describe('notes', () => {
  it('are written by the claimer only, with a kind and a short text', async () => {
    // bovenveen is welfare1's now (after the hand-overs above).
    const res = await post(`/${bovenveen.id}/notes`, tokens.welfare1, { kind: 'contact', text: '  Gebeld met Sanne; afspraak op 3 mei.  ' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), at: expect.any(String), by: ids.welzijn1, byName: names.welfare1, kind: 'contact', text: 'Gebeld met Sanne; afspraak op 3 mei.' });
    expect((await post(`/${bovenveen.id}/notes`, tokens.welfare1, { kind: 'referral', text: 'Doorverwezen naar SenW voor een ruimte.' })).status).toBe(201);

    const notClaimer = await post(`/${bovenveen.id}/notes`, tokens.welfare2, { kind: 'advice', text: 'Ik weet ook wat.' });
    expect(notClaimer.status).toBe(403);
    expect(notClaimer.body.error.code).toBe('not_the_claimer');
    const unclaimed = await post(`/${voorburg.id}/notes`, tokens.welfare1, { kind: 'advice', text: 'Nog niemand.' });
    expect(unclaimed.status).toBe(409);
    expect(unclaimed.body.error.code).toBe('not_claimed');
    for (const token of [tokens.panel, tokens.admin, tokens.finance, bovenveen.token]) expect((await post(`/${bovenveen.id}/notes`, token, { kind: 'other', text: 'x' })).status).toBe(403);
    expect((await post(`/${bovenveen.id}/notes`, undefined, { kind: 'other', text: 'x' })).status).toBe(401);

    for (const body of [{ kind: 'gossip', text: 'x' }, { kind: 'advice', text: '   ' }, { kind: 'advice' }, { kind: 'advice', text: 'x'.repeat(2_001) }, { kind: 'advice', text: 'x', by: 'iemand' }]) {
      const bad = await post(`/${bovenveen.id}/notes`, tokens.welfare1, body);
      expect(bad.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(bad.body.error.code).toBe('validation_failed');
    }
    const text = await ctx.http().post(`/api/v1/support/${bovenveen.id}/notes`).set(bearer(tokens.welfare1)).set('Content-Type', 'text/plain').send('kind=advice');
    expect(text.status).toBe(415);
  });

  it('are visible to welfare, panel and admin; never to the applicant', async () => {
    for (const token of [tokens.welfare1, tokens.welfare2, tokens.panel, tokens.admin]) {
      const res = await get(`/${bovenveen.id}`, token);
      expect(res.status).toBe(200);
      expect(res.body.notes.map((n: any) => [n.kind, n.byName])).toEqual([
        ['contact', names.welfare1],
        ['referral', names.welfare1],
      ]);
    }
    expect((await get(`/${bovenveen.id}`, bovenveen.token)).status).toBe(403);
    expect((await get(`/${bovenveen.id}`, tokens.finance)).status).toBe(403);
    expect((await get(`/${bovenveen.id}`)).status).toBe(401);

    // What the application view shows the applicant (supportView, for the application's `support` field).
    const c = await ctx.deps.support.get(bovenveen.id);
    const forApplicant = supportView(c, true);
    expect(forApplicant).toEqual({ state: 'claimed', reason: 'requested', wish: 'Hulp bij het aanvragen van de vergunning', organisation: 'Woej', queuedAt: c!.queuedAt, claimedBy: { name: names.welfare1, organisation: 'Woej' } });
    expect(JSON.stringify(forApplicant)).not.toContain(ids.welzijn1!);
    expect(supportView(c, false)).toMatchObject({ notes: [{ kind: 'contact' }, { kind: 'referral' }], claimedBy: { id: ids.welzijn1 } });
    expect(supportView(undefined, true)).toBeNull();
    // Whatever the application GET puts in `support`, the notes are not in what the applicant reads.
    const own = await ctx.http().get(`/api/v1/applications/${bovenveen.id}`).set(bearer(bovenveen.token));
    expect(own.status).toBe(200);
    expect(JSON.stringify(own.body)).not.toContain('Gebeld met Sanne');
  });
});

describe('supportNeeded (the activity the initiative workflow asks before starting supportWorkflow)', () => {
  it('queues an initiative whose applicant asked for help, with their wish; otherwise only when the panel flagged it', async () => {
    const { supportNeeded } = createSupportActivities({
      models: ctx.models,
      mailer: { send: async () => Promise.reject(new Error('no mail here')) } as never,
      fundName: 'Vlietwensen',
      mailDomain: 'buurtfonds.test',
      wijkOrganisations: ctx.config.support.wijkOrganisations,
      supportUrl: (id) => id,
    });
    expect(await supportNeeded({ applicationId: voorburg.id })).toEqual({ reason: 'requested', wish: 'Een ruimte voor de huiswerkclub' });
    expect(await supportNeeded({ applicationId: voorburg.id, flagged: true })).toEqual({ reason: 'requested', wish: 'Een ruimte voor de huiswerkclub' });
    expect(await supportNeeded({ applicationId: noSupport.id })).toBeNull();
    expect(await supportNeeded({ applicationId: noSupport.id, flagged: true })).toEqual({ reason: 'flagged' });
  });
});

describe('unknown cases', () => {
  it('are 404 for every route (also an initiative granted without asking for help), 422 for a malformed id', async () => {
    for (const id of [randomUUID(), noSupport.id]) {
      const calls: [string, Test][] = [
        ['GET', get(`/${id}`, tokens.admin)],
        ['claim', post(`/${id}/claim`, tokens.welfare1)],
        ['release', post(`/${id}/release`, tokens.admin)],
        ['handover', post(`/${id}/handover`, tokens.admin, { toUserId: ids.welzijn2 })],
        ['notes', post(`/${id}/notes`, tokens.welfare1, { kind: 'contact', text: 'Hallo' })],
      ];
      for (const [what, call] of calls) {
        const res = await call;
        expect(res.status, what).toBe(404);
        expect(res.body.error).toMatchObject({ code: 'not_found', details: [{ code: 'no_support_case' }] });
      }
    }
    for (const res of [await get('/not-a-uuid', tokens.admin), await post('/not-a-uuid/claim', tokens.welfare1)]) expect(res.status).toBe(422);
  });
});

describe('reconcile', () => {
  it('restarts the wait of a case whose release could not reach Temporal, and writes a missing audit record once', async () => {
    const real = temporalSupportWorkflows(ctx.client, ctx.config.temporal.taskQueue);
    const outage = new SupportService({
      models: ctx.models,
      organisations: ctx.config.support.wijkOrganisations,
      workflows: { ...real, requeue: async () => Promise.reject(new Error('Temporal unavailable')) },
    });
    await outage.claim(voorburg.id, { id: ids.welzijn1!, role: 'welfare' });
    await eventually(async () => (await workflowStatus(voorburg)) === 'COMPLETED', 15_000, 'workflow completed at the claim');
    // The release is stored and answered; only the workflow did not hear of it.
    expect((await outage.release(voorburg.id, { id: ids.welzijn1!, role: 'welfare' })).state).toBe('unclaimed');
    expect(await workflowStatus(voorburg)).toBe('COMPLETED');
    // A crash between the release and its audit record: the entry and its unaudited key (written before it) are there, the record not.
    const [lastRelease] = await ctx.models.Audit.find({ target: `application:${voorburg.id}`, action: 'support.released' }).sort({ at: -1 }).limit(1).lean();
    await ctx.models.Audit.deleteOne({ _id: lastRelease!._id });
    const entry = (await (await supportEventModel(ctx.models.connection)).findById(lastRelease!._id).lean())!;
    await addKeys(ctx.models, [supportKey.unaudited(entry.key, entry.at)]);

    expect(await ctx.deps.support.reconcile()).toEqual({ audits: 1, restarted: 1 });
    await eventually(async () => (await workflowStatus(voorburg)) === 'RUNNING', 15_000, 'support workflow running again');
    expect(await ctx.models.Audit.findById(lastRelease!._id).lean()).toMatchObject({ action: 'support.released', actor: `staff:${ids.welzijn1}` });
    expect(await ctx.deps.support.reconcile()).toEqual({ audits: 0, restarted: 0 });
  });
});

describe('the panel flags an initiative for support', () => {
  it('queues a case with reason flagged for a grant whose applicant did not ask; once; only panel and admin; only for a grant', async () => {
    const g = await grant(ctx, { title: 'Speeltuin opknappen', wantsSupport: false, supportWish: undefined, applicant: { ...applicant(), email: 'speeltuin@example.nl' } });
    expect((await get(`/${g.id}`, tokens.welfare1)).status).toBe(404); // no case: the applicant did not ask
    for (const token of [tokens.welfare1, tokens.finance, g.token]) expect((await post(`/${g.id}/flag`, token)).status).toBe(403);
    expect((await post(`/${g.id}/flag`)).status).toBe(401);
    expect((await get(`/${g.id}`, tokens.welfare1)).status).toBe(404); // nothing changed

    const flagged = await post(`/${g.id}/flag`, tokens.panel);
    expect(flagged.status, JSON.stringify(flagged.body)).toBe(201);
    expect(flagged.body).toMatchObject({ applicationId: g.id, reason: 'flagged', state: 'unclaimed' });
    const queue = await get('/queue', tokens.welfare1);
    expect(queue.body.items.find((i: { applicationId: string }) => i.applicationId === g.id)).toMatchObject({ reason: 'flagged' });
    await eventually(async () => (await workflowStatus(g)) === 'RUNNING', 15_000, 'its support workflow runs (reminders)');
    expect(await ctx.models.Audit.findById(`support:${g.id}:flagged`).lean()).toMatchObject({ action: 'support.flagged', actor: `staff:${ids.panel1}` });

    // Again, or on a case the applicant asked for: the case as it is.
    const again = await post(`/${g.id}/flag`, tokens.admin);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ reason: 'flagged', queuedAt: flagged.body.queuedAt });
    expect((await post(`/${bovenveen.id}/flag`, tokens.panel)).body).toMatchObject({ reason: 'requested' });

    // Not granted (yet): refused, nothing queued.
    const res = await ctx.http().post('/api/v1/applications').send(validApplication({ wantsSupport: false, supportWish: undefined }));
    expect(res.status).toBe(201);
    const notGranted = await post(`/${res.body.id}/flag`, tokens.panel);
    expect(notGranted.status).toBe(409);
    expect(notGranted.body.error.code).toBe('invalid_state');
    expect((await get(`/${res.body.id}`, tokens.welfare1)).status).toBe(404);
    expect((await post(`/${randomUUID()}/flag`, tokens.panel)).status).toBe(404);
    await ctx.client.workflow.getHandle(supportWorkflowId(g.id)).terminate('test over').catch(() => undefined);
  }, 60_000);
});

describe('welfare workers read only the applications of their cases', () => {
  it('their organisation’s queue and the cases they or their organisation hold: 200; any other application 404 (list filtered); panel and admin read all', async () => {
    const g = await grantWithDocument(ctx, { title: 'Speelstraat Bovenveen', wijken: ['Bovenveen'], applicant: { ...applicant(), email: 'speelstraat@example.nl' } });
    await queue(g);
    const app = (token: string, id = g.id) => ctx.http().get(`/api/v1/applications/${id}`).set(bearer(token));
    const doc = (token: string) => ctx.http().get(`/api/v1/applications/${g.id}/documents/${g.documentId}`).set(bearer(token));
    const listed = async (token: string) => {
      const res = await ctx.http().get('/api/v1/applications?pageSize=100').set(bearer(token));
      expect(res.status).toBe(200);
      return (res.body.items as { id: string }[]).map((i) => i.id);
    };
    const notFound = async (res: Test, what: string) => {
      const r = await res;
      expect([r.status, r.body.error?.code], what).toEqual([404, 'not_found']);
      expect(JSON.stringify(r.body), `${what}: the answer names the application`).not.toContain(g.reference);
      return r.body;
    };

    // In Woej's queue (Bovenveen): welzijn1 (Woej) reads it, welzijn2 (SenW) does not, as if it were not there.
    expect((await app(tokens.welfare1)).status).toBe(200);
    expect((await doc(tokens.welfare1)).status).toBe(200);
    expect(await listed(tokens.welfare1)).toContain(g.id);
    const hidden = await notFound(app(tokens.welfare2), 'another organisation’s case');
    await notFound(doc(tokens.welfare2), 'a document of another organisation’s case');
    expect(hidden, 'the same answer as for an id that does not exist').toEqual(await notFound(app(tokens.welfare2, randomUUID()), 'an unknown id'));
    expect(await listed(tokens.welfare2)).not.toContain(g.id);
    // An application without a support case is no welfare worker's; panel and admin read everything.
    await notFound(app(tokens.welfare1, noSupport.id), 'an application without a case');
    expect(await listed(tokens.welfare1)).not.toContain(noSupport.id);
    for (const token of [tokens.panel, tokens.admin]) {
      expect((await app(token, noSupport.id)).status).toBe(200);
      expect(await listed(token)).toEqual(expect.arrayContaining([g.id, noSupport.id]));
    }

    // Claimed by welzijn1 and handed over to welzijn2: now welzijn2 holds it and reads it; Woej still has it in its queue.
    expect((await post(`/${g.id}/claim`, tokens.welfare1)).status).toBe(200);
    await notFound(app(tokens.welfare2), 'claimed by a worker of another organisation');
    expect((await post(`/${g.id}/handover`, tokens.welfare1, { toUserId: ids.welzijn2 })).status).toBe(200);
    expect((await app(tokens.welfare2)).status).toBe(200);
    expect((await doc(tokens.welfare2)).status).toBe(200);
    expect(await listed(tokens.welfare2)).toContain(g.id);
    expect((await app(tokens.welfare1)).status).toBe(200);
  }, 120_000);

  it('the case page shows the applicant’s contact details only to those who may read the application', async () => {
    const g = await grant(ctx, { title: 'Buurtbarbecue Bovenveen', wijken: ['Bovenveen'], applicant: { ...applicant(), email: 'barbecue@example.nl' } });
    await queue(g);
    const page = async (email: string) => {
      const browser = webClient(ctx);
      expect((await browser.login(email)).status).toBe(303);
      const res = await browser.get(`/beheer/ondersteuning/${g.id}`);
      expect(res.status).toBe(200);
      return res.text;
    };
    const woej = await page('welzijn1@buurtfonds.test');
    expect(woej, 'Woej’s worker sees the contact details of a case in Woej’s queue').toContain('barbecue@example.nl');
    const senw = await page('welzijn2@buurtfonds.test');
    expect(senw, 'SenW’s worker does not').not.toContain('barbecue@example.nl');
    expect(senw).toContain(pageTexts.nl.welfare.contactHidden);
    expect(senw).toContain('Buurtbarbecue Bovenveen');
    expect(await page('panel2@buurtfonds.test')).toContain('barbecue@example.nl');
  }, 120_000);
});

describe('the case ends with its initiative (the real server)', () => {
  /** The applicant withdraws through the API (a grant whose payout is still pending: released). */
  const withdraw = (g: Granted) => ctx.http().post(`/api/v1/applications/${g.id}/withdraw`).set(bearer(g.token)).send({ reason: 'Het gaat niet door.' });
  const closed = async (g: Granted) => {
    const [initiative, support] = await Promise.all([ctx.client.workflow.getHandle(initiativeWorkflowId(g.id)), ctx.client.workflow.getHandle(supportWorkflowId(g.id))].map((h) => h.describe()));
    return initiative!.status.name === 'COMPLETED' && support!.status.name === 'COMPLETED' ? { initiative: initiative!, support: support! } : undefined;
  };

  it('a withdrawn grant ends the wait of its support case: the initiative’s child completes (ended) before it; after a claim and a release, the new run ends too', async () => {
    // The case's workflow as the initiative started it: its child.
    const child = await grant(ctx, { title: 'Zomerspelen Voorburg', wijken: ['Voorburg-Midden'], applicant: { ...applicant(), email: 'zomerspelen@example.nl' } });
    const childHandle = ctx.client.workflow.getHandle(supportWorkflowId(child.id));
    const started = await eventually(() => childHandle.describe().catch(() => undefined), 15_000, `${child.reference} support workflow`);
    expect(started.parentExecution?.workflowId).toBe(initiativeWorkflowId(child.id));
    await eventually(async () => (await get(`/${child.id}`, tokens.welfare2)).status === 200, 15_000, `${child.reference} in the queue`);
    expect((await withdraw(child)).status).toBe(200);
    const ended = await eventually(() => closed(child), 20_000, `${child.reference} both completed`);
    expect(await childHandle.result()).toMatchObject({ outcome: 'ended', timing: { state: 'ended' } });
    expect(ended.support.closeTime!.getTime()).toBeLessThanOrEqual(ended.initiative.closeTime!.getTime());

    // Claimed (the child completes) and released: the new run is no child of the initiative, and gets the end all the same.
    const later = await grant(ctx, { title: 'Buurtkeuken Voorburg', wijken: ['Voorburg-Midden'], applicant: { ...applicant(), email: 'buurtkeuken@example.nl' } });
    const laterHandle = ctx.client.workflow.getHandle(supportWorkflowId(later.id));
    await eventually(async () => (await get(`/${later.id}`, tokens.welfare2)).status === 200, 15_000, `${later.reference} in the queue`);
    expect((await post(`/${later.id}/claim`, tokens.welfare2)).status).toBe(200);
    await eventually(async () => (await workflowStatus(later)) === 'COMPLETED', 15_000, 'child completed at the claim');
    expect((await post(`/${later.id}/release`, tokens.welfare2)).status).toBe(200);
    const rerun = await eventually(async () => {
      const d = await laterHandle.describe();
      return d.status.name === 'RUNNING' ? d : undefined;
    }, 15_000, 'a new run after the release');
    expect(rerun.parentExecution).toBeFalsy();
    expect((await withdraw(later)).status).toBe(200);
    await eventually(() => closed(later), 20_000, `${later.reference} both completed`);
    expect(await laterHandle.result()).toMatchObject({ outcome: 'ended' });
  });
});
