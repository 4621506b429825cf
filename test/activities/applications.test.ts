/**
 * The recordProgress activity against a real database (FerretDB): Temporal retries
 * activities, so running it twice, or a stale attempt late, must leave the read model
 * as if it ran once and in order.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { insertEvent } from '../../src/db/keys.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createApplicationActivities, type RecordProgressInput } from '../../activities/applications.ts';
import { connectDatabase, type Models } from '../../src/db/models.ts';
import { ReportTally } from '../../src/reports/tally.ts';
import type { InformationRequest } from '../../src/domain/status.ts';
import { validApplication } from '../helpers/fixtures.ts';

const suffix = randomBytes(4).toString('hex');
let models: Models;
let activities: ReturnType<typeof createApplicationActivities>;
let env: MockActivityEnvironment;
let applicationId: string;
let workflowId: string;
let referenceSeq = 0;

beforeAll(async () => {
  models = await connectDatabase(inject('mongoUri'), `t_act_${suffix}`);
  activities = createApplicationActivities({ models, tally: new ReportTally({ models }) });
});

afterAll(async () => {
  if (!models) return;
  await models.connection.dropDatabase().catch(() => undefined);
  await models.connection.close();
});

beforeEach(async () => {
  env = new MockActivityEnvironment({ activityType: 'recordProgress' });
  applicationId = randomUUID();
  workflowId = `initiative-${applicationId}`;
  await insertEvent(models, { _id: `${workflowId}:1`, applicationId, at: '2026-03-02T09:00:00.000Z', type: 'submitted', status: 'submitted', actor: 'applicant' });
  await models.Application.create({
    ...validApplication(),
    _id: applicationId,
    reference: `VW-2026-${String(++referenceSeq).padStart(4, '0')}`,
    year: 2026,
    status: 'submitted',
    statusSeq: 1,
    informationRequests: [],
    workflowId,
    createdAt: new Date('2026-03-02T09:00:00.000Z'),
  });
});

const request: InformationRequest = {
  id: 'req-1',
  missing: 'Een offerte voor de partytent',
  requestedBy: 'panel1@buurtfonds.test',
  requestedAt: '2026-03-03T10:00:00.000Z',
  deadline: '2026-03-17T10:00:00.000Z',
  remindAt: '2026-03-10T10:00:00.000Z',
  state: 'open',
};

function step(seq: number, input: Partial<RecordProgressInput> & Pick<RecordProgressInput, 'status' | 'event'>): RecordProgressInput {
  return { applicationId, seq, informationRequests: [], ...input };
}

const toScreening = () =>
  step(2, {
    status: 'screening',
    event: { id: `${workflowId}:2`, at: '2026-03-02T09:00:01.000Z', type: 'status_changed', status: 'screening' },
  });

const toAwaitingInformation = () =>
  step(3, {
    status: 'awaiting_information',
    event: {
      id: `${workflowId}:3`,
      at: '2026-03-03T10:00:00.000Z',
      type: 'information_requested',
      status: 'awaiting_information',
      actor: 'panel1@buurtfonds.test',
      note: request.missing,
    },
    informationRequests: [request],
  });

async function events() {
  return models.Event.find({ applicationId }).sort({ _id: 1 }).lean();
}

describe('recordProgress', () => {
  it('is idempotent: the same step twice leaves one event and the same application', async () => {
    await env.run(activities.recordProgress, toAwaitingInformation());
    const once = await models.Application.findById(applicationId).lean();
    await env.run(activities.recordProgress, toAwaitingInformation());
    const twice = await models.Application.findById(applicationId).lean();

    expect(await models.Event.countDocuments({ _id: `${workflowId}:3` })).toBe(1);
    expect((await events()).map((e) => e.type)).toEqual(['submitted', 'information_requested']);
    expect(await models.Event.findById(`${workflowId}:3`).lean()).toEqual({
      _id: `${workflowId}:3`,
      applicationId,
      at: '2026-03-03T10:00:00.000Z',
      type: 'information_requested',
      status: 'awaiting_information',
      actor: 'panel1@buurtfonds.test',
      note: 'Een offerte voor de partytent',
    });
    expect(once).toMatchObject({ status: 'awaiting_information', statusSeq: 3, informationRequests: [request] });
    expect(twice?.status).toBe(once?.status);
    expect(twice?.statusSeq).toBe(once?.statusSeq);
    expect(twice?.informationRequests).toEqual(once?.informationRequests);
  });

  it('never moves the status back when an earlier step arrives late', async () => {
    await env.run(activities.recordProgress, toScreening());
    await env.run(activities.recordProgress, toAwaitingInformation());
    // A retry of step 2 whose first attempt did land (timed out on the way back).
    await env.run(activities.recordProgress, toScreening());

    const app = await models.Application.findById(applicationId).lean();
    expect(app).toMatchObject({ status: 'awaiting_information', statusSeq: 3, informationRequests: [request] });
    expect((await events()).map((e) => [e._id, e.type])).toEqual([
      [`${workflowId}:1`, 'submitted'],
      [`${workflowId}:2`, 'status_changed'],
      [`${workflowId}:3`, 'information_requested'],
    ]);
  });

  it('still records the event of a step whose status is already overtaken', async () => {
    await env.run(activities.recordProgress, toAwaitingInformation());
    await env.run(activities.recordProgress, toScreening()); // its first attempt only now

    expect(await models.Application.findById(applicationId).lean()).toMatchObject({ status: 'awaiting_information', statusSeq: 3 });
    expect((await events()).map((e) => e.type)).toEqual(['submitted', 'status_changed', 'information_requested']);
  });
});
