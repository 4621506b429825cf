import type { Request } from 'express';
import { z } from 'zod';
import { WHOLE_MUNICIPALITY } from '../../domain/application.ts';
import { AppError } from '../../domain/errors.ts';
import { supportNoteKinds } from '../../domain/report.ts';
import { supportCaseView, supportCaseViewSchema, supportQueueItem, supportQueueItemSchema } from '../../support/case.ts';
import type { SupportActor } from '../../support/service.ts';
import type { ApiDeps } from '../deps.ts';
import { parseInput, parseParams, parseQuery } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema } from '../schemas.ts';

const err = (description: string) => ({ description, schema: errorSchema });

const caseParams = z.object({ applicationId: z.uuid() });
export const noteInputSchema = z
  .object({
    kind: z.enum(supportNoteKinds),
    text: z.string().trim().min(1).max(2_000),
  })
  .strict()
  .meta({ id: 'SupportNoteInput' });
const handoverInputSchema = z.object({ toUserId: z.uuid().meta({ description: 'The welfare worker who takes over (an active staff account with role welfare)' }) }).strict();
const noBody = z.object({}).strict();
const noteViewSchema = z.object({ id: z.string(), at: z.string(), by: z.string(), byName: z.string(), kind: z.enum(supportNoteKinds), text: z.string() });

/**
 * The welfare workers' queue of approved initiatives that asked for help (or that the
 * panel flagged), and the case of each: one worker claims it, may release it or hand it
 * over to a colleague, and keeps short notes. Notes are for staff only: the applicant
 * sees the state and who helps (`supportView` in src/support/case.ts).
 *
 * Who may do what on a case: any welfare worker claims an unclaimed case; the claimer
 * releases it (or an admin); the claimer hands it over to another active welfare worker
 * (or an admin does, e.g. when the claimer is away); only the claimer writes notes, so
 * every note comes from the worker responsible for the contact.
 */
export function supportRoutes(deps: ApiDeps): RouteSpec[] {
  const { support, config } = deps;
  const wijken: [string, ...string[]] = [WHOLE_MUNICIPALITY, ...config.fund.wijken];
  const organisations = config.support.wijkOrganisations.organisations as [string, ...string[]];
  const queueQuery = z
    .object({
      wijk: z.enum(wijken).optional(),
      organisation: z.enum(organisations).optional(),
      state: z.enum(['unclaimed', 'claimed']).optional(),
    })
    .strict();

  function actor(req: Request): SupportActor {
    const p = req.principal;
    if (p?.kind !== 'staff') throw new AppError(403, 'forbidden');
    return { id: p.userId, role: p.role, requestId: String(req.id) };
  }

  /** JSON or nothing (the POSTs without a body may send none). */
  function body(req: Request): unknown {
    if (req.body === undefined && !req.headers['content-type']) return {};
    if (!req.is('application/json')) throw new AppError(415, 'unsupported_media_type');
    return req.body ?? {};
  }

  return [
    {
      method: 'get',
      path: '/api/v1/support/queue',
      access: ['welfare', 'admin'],
      tag: 'support',
      summary: 'The support queue: initiatives waiting for a welfare worker and those claimed, oldest first; filter by wijk, organisation and state.',
      request: { query: queueQuery },
      responses: {
        200: { description: 'The queue', schema: z.object({ items: z.array(supportQueueItemSchema), total: z.number().int() }) },
        401: err('Not logged in'),
        403: err('Not welfare or admin'),
        422: err('Unknown wijk, organisation or state'),
      },
      async handler(req, res) {
        const q = parseQuery(queueQuery, req);
        const items = (await support.queue(q)).map(supportQueueItem);
        res.json({ items, total: items.length });
      },
    },
    {
      method: 'get',
      path: '/api/v1/support/:applicationId',
      access: ['welfare', 'panel', 'admin'],
      tag: 'support',
      summary: 'One support case with its notes and history (staff only).',
      request: { params: caseParams },
      responses: { 200: { description: 'The case', schema: supportCaseViewSchema }, 401: err('Not logged in'), 403: err('Not staff'), 404: err('No support case'), 422: err('Not an application id') },
      async handler(req, res) {
        const { applicationId } = parseParams(caseParams, req);
        const c = await support.get(applicationId);
        if (!c) throw new AppError(404, 'not_found', [{ code: 'no_support_case' }]);
        res.json(supportCaseView(c));
      },
    },
    {
      method: 'post',
      path: '/api/v1/support/:applicationId/claim',
      access: ['welfare'],
      tag: 'support',
      summary: 'Claim the case: one worker gets it; a claim of a case someone has is 409 already_claimed, naming who has it. Claiming your own case again returns it.',
      request: { params: caseParams },
      responses: {
        200: { description: 'The case, claimed by you', schema: supportCaseViewSchema },
        401: err('Not logged in'),
        403: err('Not welfare'),
        404: err('No support case'),
        409: err('Already claimed by someone else (details: claimedBy.name, claimedBy.organisation, claimedAt)'),
        415: err('Not JSON'),
        422: err('Not an application id, or a body'),
      },
      async handler(req, res) {
        const { applicationId } = parseParams(caseParams, req);
        parseInput(noBody, body(req), 'no_body');
        const c = await support.claim(applicationId, actor(req));
        req.log.info({ applicationId, supportWorkflowId: `support-${applicationId}` }, 'support case claimed');
        res.json(supportCaseView(c));
      },
    },
    {
      method: 'post',
      path: '/api/v1/support/:applicationId/flag',
      access: ['panel', 'admin'],
      tag: 'support',
      summary: 'The panel flags a granted initiative for support although its applicant did not ask: a case with reason `flagged` enters the queue (201). A case already there is returned (200).',
      request: { params: caseParams },
      responses: {
        200: { description: 'The case that was already there', schema: supportCaseViewSchema },
        201: { description: 'Queued', schema: supportCaseViewSchema },
        401: err('Not logged in'),
        403: err('Not panel or admin'),
        404: err('Unknown application'),
        409: err('Not granted, or already over'),
        415: err('Not JSON'),
        422: err('Not an application id, or a body'),
      },
      async handler(req, res) {
        const { applicationId } = parseParams(caseParams, req);
        parseInput(noBody, body(req), 'no_body');
        const { case: c, created } = await support.flag(applicationId, actor(req));
        if (created) req.log.info({ applicationId, supportWorkflowId: `support-${applicationId}` }, 'initiative flagged for support');
        res.status(created ? 201 : 200).json(supportCaseView(c));
      },
    },
    {
      method: 'post',
      path: '/api/v1/support/:applicationId/release',
      access: ['welfare', 'admin'],
      tag: 'support',
      summary: 'Give the case back to the queue (the claimer, or an admin). The reminder and flag timers start again.',
      request: { params: caseParams },
      responses: {
        200: { description: 'The case, unclaimed', schema: supportCaseViewSchema },
        401: err('Not logged in'),
        403: err('Not welfare or admin, or not the claimer'),
        404: err('No support case'),
        409: err('Not claimed'),
        415: err('Not JSON'),
        422: err('Not an application id, or a body'),
      },
      async handler(req, res) {
        const { applicationId } = parseParams(caseParams, req);
        parseInput(noBody, body(req), 'no_body');
        const c = await support.release(applicationId, actor(req));
        req.log.info({ applicationId }, 'support case released');
        res.json(supportCaseView(c));
      },
    },
    {
      method: 'post',
      path: '/api/v1/support/:applicationId/handover',
      access: ['welfare', 'admin'],
      tag: 'support',
      summary: 'Hand the case over to another active welfare worker (the claimer, or an admin).',
      request: { params: caseParams, json: handoverInputSchema },
      responses: {
        200: { description: 'The case, claimed by the colleague', schema: supportCaseViewSchema },
        401: err('Not logged in'),
        403: err('Not welfare or admin, or not the claimer'),
        404: err('No support case'),
        409: err('Not claimed'),
        415: err('Not JSON'),
        422: err('Invalid body, or not an active welfare worker (invalid_handover_target)'),
      },
      async handler(req, res) {
        const { applicationId } = parseParams(caseParams, req);
        const { toUserId } = parseInput(handoverInputSchema, body(req), 'support_handover');
        const c = await support.handover(applicationId, actor(req), toUserId);
        req.log.info({ applicationId, toUserId }, 'support case handed over');
        res.json(supportCaseView(c));
      },
    },
    {
      method: 'post',
      path: '/api/v1/support/:applicationId/notes',
      access: ['welfare'],
      tag: 'support',
      summary: 'A short dated note on the case (contact, advice, referral, other), by the worker who claimed it. Staff only; the applicant never sees notes.',
      request: { params: caseParams, json: noteInputSchema },
      responses: {
        201: { description: 'The note', schema: noteViewSchema },
        401: err('Not logged in'),
        403: err('Not welfare, or not the claimer'),
        404: err('No support case'),
        409: err('Not claimed'),
        415: err('Not JSON'),
        422: err('Invalid note'),
      },
      async handler(req, res) {
        const { applicationId } = parseParams(caseParams, req);
        const note = parseInput(noteInputSchema, body(req), 'support_note');
        res.status(201).json(await support.addNote(applicationId, actor(req), note));
      },
    },
  ];
}
