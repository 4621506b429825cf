import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { z } from 'zod';
import { applicationInputSchema, informationAnswerSchema, informationRequestInputSchema, withdrawInputSchema } from '../../domain/application.ts';
import { AppError } from '../../domain/errors.ts';
import { reportInputSchema, reportReviewInputSchema } from '../../domain/report.ts';
import { supportView } from '../../support/case.ts';
import { canWithdraw } from '../../domain/status.ts';
import { insertOnce, type ApplicationDoc, type DocumentDoc, type EventDoc, type PayoutDoc, type StoredDocument } from '../../db/models.ts';
import { warningMessages, type Locale } from '../../domain/messages.ts';
import { actorOf } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { localeOf, parseWith } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import {
  applicationListQuery,
  applicationListSchema,
  applicationViewSchema,
  documentParams,
  documentSchema,
  errorSchema,
  idempotencyKeySchema,
  idParams,
  informationRequestSchema,
  linkTokenQuery,
  submitResponseSchema,
} from '../schemas.ts';
import { commitFiles, inspectUploads, multipartUpload, removeOrphans, toStoredDocuments, type IngestedFile } from '../uploads.ts';

const err = (description: string) => ({ description, schema: errorSchema });
const staff = ['panel', 'welfare', 'admin'] as const;

export function applicationRoutes(deps: ApiDeps): RouteSpec[] {
  const { models, store, config } = deps;
  const inputSchema = applicationInputSchema({
    wijken: config.fund.wijken,
    maxAmountCents: config.fund.maxAmountCents,
    now: deps.now ?? (() => new Date()),
  });
  const upload = multipartUpload(store, config.uploads);
  const multipartSubmit = z.object({
    application: z.string().meta({ description: 'The application as JSON (same schema as the JSON body).' }),
    documents: z.array(z.string().meta({ format: 'binary' })).optional(),
  });
  const documentsOnly = z.object({ documents: z.array(z.string().meta({ format: 'binary' })) });
  const reportMultipart = z.object({
    report: z.string().meta({ description: 'The report as JSON (same schema as the JSON body).' }),
    documents: z.array(z.string().meta({ format: 'binary' })).optional(),
  });
  const refundInputSchema = z.object({ amountCents: z.number().int().min(1) }).strict();
  const answerMultipart = z.object({ answer: z.string().optional(), documents: z.array(z.string().meta({ format: 'binary' })).optional() });

  async function load(id: string): Promise<ApplicationDoc> {
    const app = await models.Application.findById(id).lean();
    if (!app) throw new AppError(404, 'not_found');
    return app;
  }

  /** JSON body, or multipart with a JSON text field; anything else is refused. */
  function readBody(req: Request, jsonField?: string): unknown {
    if (req.is('multipart/form-data')) {
      if (!jsonField) return req.body ?? {};
      const field = (req.body as Record<string, unknown> | undefined)?.[jsonField];
      if (typeof field !== 'string') {
        throw new AppError(422, 'validation_failed', [{ path: jsonField, code: 'required' }]);
      }
      try {
        return JSON.parse(field);
      } catch {
        throw new AppError(400, 'invalid_json', [{ path: jsonField, code: 'invalid_json' }]);
      }
    }
    if (req.is('application/json')) return req.body ?? {};
    if (!req.headers['content-type'] && !req.headers['content-length'] && !req.headers['transfer-encoding']) return {};
    throw new AppError(415, 'unsupported_media_type');
  }

  /** Adds uploaded documents to an application that is still open (before a decision). */
  async function attach(app: ApplicationDoc, files: IngestedFile[], req: Request, context: StoredDocument['context']): Promise<StoredDocument[]> {
    if (context !== 'report' && !canWithdraw(app.status)) {
      throw new AppError(409, 'invalid_state', [{ code: 'application_closed' }]);
    }
    await commitFiles(store, files);
    const docs = toStoredDocuments(app._id, files, req.principal?.kind === 'staff' ? 'staff' : 'applicant', context);
    await models.Document.insertMany(docs.map(({ id, ...d }) => ({ _id: id, ...d })));
    await insertOnce(models.Event, {
      _id: `documents:${docs[0]!.id}`,
      applicationId: app._id,
      at: new Date().toISOString(),
      type: 'documents_added',
      actor: actorOf(req.principal),
      documentIds: docs.map((d) => d.id),
    });
    return docs;
  }

  async function detach(docs: StoredDocument[]): Promise<void> {
    const ids = docs.map((d) => d.id);
    await models.Document.deleteMany({ _id: { $in: ids } });
    await models.Event.deleteOne({ _id: `documents:${ids[0]}` });
    await removeOrphans(store, models, docs.map((d) => d.sha256));
  }

  return [
    {
      method: 'post',
      path: '/api/v1/applications',
      access: ['anonymous'],
      tag: 'applications',
      summary: 'Submit an initiative (JSON, or multipart with field `application` and files `documents`).',
      request: { headers: z.object({ 'idempotency-key': idempotencyKeySchema.optional() }), json: inputSchema, multipart: multipartSubmit },
      responses: {
        201: { description: 'Stored; the workflow runs. A retry with the same Idempotency-Key returns the same application.', schema: submitResponseSchema },
        400: err('Unreadable JSON or multipart, bad file name'),
        409: err('Same Idempotency-Key still in progress'),
        413: err('File too large or too many files'),
        415: err('Unsupported body or file type'),
        422: err('Validation failed, or Idempotency-Key reused with another body'),
        503: err('Workflow service unavailable; nothing stored'),
      },
      before: [upload],
      async handler(req, res) {
        const raw = readBody(req, 'application');
        const keyHeader = req.get('idempotency-key');
        if (keyHeader !== undefined && !idempotencyKeySchema.safeParse(keyHeader).success) {
          throw new AppError(400, 'invalid_idempotency_key', [{ path: 'Idempotency-Key', code: 'invalid_idempotency_key' }]);
        }
        const input = parseWith(inputSchema, raw, req);
        const files = await inspectUploads(req);
        const requestHash = createHash('sha256')
          .update(JSON.stringify(input))
          .update(JSON.stringify(files.map((f) => [f.fileName, f.sha256])))
          .digest('hex');
        const result = await deps.intake.submit(input, files, { idempotencyKey: keyHeader, requestHash });
        const app = result.application;
        req.log.info({ applicationId: app._id, workflowId: app.workflowId, reference: app.reference, replayed: result.replayed }, 'application submitted');
        if (result.replayed) res.set('Idempotent-Replayed', 'true');
        res.status(201).json({
          id: app._id,
          reference: app.reference,
          status: app.status,
          accessToken: result.accessToken,
          ...(app.budgetWarning ? { warnings: [budgetWarningView(app.budgetWarning, localeOf(req))] } : {}),
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/applications',
      access: staff,
      tag: 'applications',
      summary: 'List applications (staff), with filters and pagination.',
      request: { query: applicationListQuery },
      responses: { 200: { description: 'A page of applications', schema: applicationListSchema }, 401: err('Not logged in'), 403: err('Not staff'), 422: err('Bad filter') },
      async handler(req, res) {
        const q = parseWith(applicationListQuery, req.query, req, ['query']);
        const filter: Record<string, unknown> = {};
        if (q.status) filter.status = q.status;
        if (q.wijk) filter.wijken = q.wijk;
        if (q.year) filter.year = q.year;
        const [items, total] = await Promise.all([
          models.Application.find(filter, { _id: 1, reference: 1, status: 1, title: 1, wijken: 1, amountRequestedCents: 1, createdAt: 1 })
            .sort({ createdAt: -1, _id: 1 })
            .skip((q.page - 1) * q.pageSize)
            .limit(q.pageSize)
            .lean(),
          models.Application.countDocuments(filter),
        ]);
        res.json({
          items: items.map((a) => ({
            id: a._id,
            reference: a.reference,
            status: a.status,
            title: a.title,
            wijken: a.wijken,
            amountRequestedCents: a.amountRequestedCents,
            createdAt: new Date(a.createdAt).toISOString(),
          })),
          page: q.page,
          pageSize: q.pageSize,
          total,
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/applications/:id',
      access: ['applicant_self', ...staff],
      tag: 'applications',
      summary: 'One application: status, timeline, documents, open requests.',
      request: { params: idParams, query: linkTokenQuery },
      responses: { 200: { description: 'The application', schema: applicationViewSchema }, 401: err('No token'), 403: err('Not yours'), 404: err('Unknown id') },
      async handler(req, res) {
        const { id } = parseWith(idParams, req.params, req, ['params']);
        const app = await load(id);
        const [events, documents, payout, support] = await Promise.all([
          models.Event.find({ applicationId: id }).lean(),
          models.Document.find({ applicationId: id }).sort({ uploadedAt: 1 }).lean(),
          deps.payouts.byApplication(app.reference),
          deps.support.get(id),
        ]);
        // The applicant sees the support case without the workers' notes.
        res.json({ ...applicationView(app, events, documents, payout), support: supportView(support, req.principal?.kind !== 'staff') });
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/documents',
      access: ['applicant_self', 'panel', 'admin'],
      tag: 'documents',
      summary: 'Add documents to an open application (multipart `documents`).',
      request: { params: idParams, multipart: documentsOnly },
      responses: {
        201: { description: 'Documents added', schema: z.object({ documents: z.array(documentSchema) }) },
        400: err('Malformed upload'),
        401: err('No token'),
        403: err('Not allowed'),
        404: err('Unknown id'),
        409: err('Application no longer open'),
        413: err('Too large / too many'),
        415: err('Unsupported type'),
        422: err('No documents'),
      },
      before: [upload],
      async handler(req, res) {
        const { id } = parseWith(idParams, req.params, req, ['params']);
        if (!req.is('multipart/form-data')) throw new AppError(415, 'unsupported_media_type');
        const app = await load(id);
        const files = await inspectUploads(req);
        if (files.length === 0) throw new AppError(422, 'validation_failed', [{ path: 'documents', code: 'required' }]);
        const docs = await attach(app, files, req, 'additional');
        res.status(201).json({ documents: docs.map(documentView) });
      },
    },
    {
      method: 'get',
      path: '/api/v1/applications/:id/documents/:documentId',
      access: ['applicant_self', ...staff],
      tag: 'documents',
      summary: 'Download a document with its type and file name.',
      request: { params: documentParams },
      responses: { 200: { description: 'The file', contentType: 'application/octet-stream' }, 401: err('No token'), 403: err('Not allowed'), 404: err('Unknown document') },
      async handler(req, res) {
        const { id, documentId } = parseWith(documentParams, req.params, req, ['params']);
        const doc = await models.Document.findById(documentId).lean();
        if (!doc || doc.applicationId !== id || !(await store.has(doc.sha256))) throw new AppError(404, 'not_found');
        res.status(200);
        res.type(doc.contentType);
        res.attachment(doc.fileName);
        res.set('Content-Length', String(doc.size));
        res.set('Cache-Control', 'private, no-store');
        const stream = store.open(doc.sha256);
        await new Promise<void>((resolve, reject) => {
          stream.on('error', reject);
          res.on('finish', resolve);
          res.on('close', resolve);
          stream.pipe(res);
        });
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/information-requests',
      access: ['panel'],
      tag: 'screening',
      summary: 'Ask the applicant for missing information (deadline default 14 days, reminder after 7).',
      request: { params: idParams, json: informationRequestInputSchema },
      responses: {
        201: { description: 'Request sent', schema: informationRequestSchema },
        401: err('Not logged in'),
        403: err('Not panel'),
        404: err('Unknown id'),
        409: err('Not in screening'),
        422: err('Invalid request'),
      },
      async handler(req, res) {
        const { id } = parseWith(idParams, req.params, req, ['params']);
        const body = parseWith(informationRequestInputSchema, readBody(req), req);
        await load(id);
        const request = await deps.initiatives.requestInformation(id, { ...body, requestedBy: actorOf(req.principal) });
        req.log.info({ applicationId: id, workflowId: `initiative-${id}` }, 'information requested');
        res.status(201).json(request);
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/information',
      access: ['applicant_self'],
      tag: 'screening',
      summary: 'The applicant answers an information request: `{answer}` or multipart with `answer` and `documents`.',
      request: { params: idParams, json: informationAnswerSchema, multipart: answerMultipart },
      responses: {
        200: { description: 'Answer received; back in screening', schema: z.object({ status: z.string() }).loose() },
        400: err('Malformed'),
        401: err('No token'),
        403: err('Not yours'),
        404: err('Unknown id'),
        409: err('No open request'),
        413: err('Too large'),
        415: err('Unsupported type'),
        422: err('Neither answer nor documents'),
      },
      before: [upload],
      async handler(req, res) {
        const { id } = parseWith(idParams, req.params, req, ['params']);
        const body = parseWith(informationAnswerSchema, readBody(req), req);
        const app = await load(id);
        const files = await inspectUploads(req);
        if (!body.answer && files.length === 0) {
          throw new AppError(422, 'validation_failed', [{ path: 'answer', code: 'answer_or_documents_required' }]);
        }
        if (app.status !== 'awaiting_information') throw new AppError(409, 'invalid_state', [{ code: 'no_open_request' }]);
        const docs = files.length ? await attach(app, files, req, 'information') : [];
        try {
          const state = await deps.initiatives.provideInformation(id, { ...(body.answer ? { answer: body.answer } : {}), documentIds: docs.map((d) => d.id) });
          res.json(state);
        } catch (error) {
          if (docs.length) await detach(docs);
          throw error;
        }
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/report',
      access: ['applicant_self'],
      tag: 'follow-up',
      summary:
        'The initiator reports after the activity: what happened, participants, volunteers, a traffic light (green/orange/red), actual cost lines; multipart with field `report` (JSON) and files `documents` (photos, receipts), or JSON. Again after a clarification request.',
      request: { params: idParams, json: reportInputSchema, multipart: reportMultipart },
      responses: {
        200: { description: 'Report received', schema: z.object({ report: z.object({ unspentCents: z.number().int() }).loose() }).loose() },
        400: err('Malformed'),
        401: err('No token'),
        403: err('Not yours'),
        404: err('Unknown id'),
        409: err('No report expected now'),
        413: err('Too large'),
        415: err('Unsupported type'),
        422: err('Invalid report'),
      },
      before: [upload],
      async handler(req, res) {
        const { id } = parseWith(idParams, req.params, req, ['params']);
        const body = parseWith(reportInputSchema, readBody(req, 'report'), req, req.is('multipart/form-data') ? ['report'] : []);
        const app = await load(id);
        if (!['activity_held', 'report_due', 'clarification_requested'].includes(app.status)) throw new AppError(409, 'invalid_state', [{ code: 'no_report_expected' }]);
        const files = await inspectUploads(req);
        const docs = files.length ? await attach(app, files, req, 'report') : [];
        try {
          res.json(await deps.initiatives.submitReport(id, { ...body, documentIds: docs.map((d) => d.id) }));
        } catch (error) {
          if (docs.length) await detach(docs);
          throw error;
        }
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/report/review',
      access: ['panel'],
      tag: 'follow-up',
      summary:
        'The panel reviews the report: accept (settled; unspent money is asked back), clarify (back to the initiator with a deadline) or reject (optionally reclaiming the grant; also possible without a report once it is escalated).',
      request: { params: idParams, json: reportReviewInputSchema },
      responses: {
        200: { description: 'Reviewed', schema: z.object({}).loose() },
        401: err('Not logged in'),
        403: err('Not panel'),
        404: err('Unknown id'),
        409: err('Nothing to review'),
        422: err('Invalid review'),
      },
      async handler(req, res) {
        const { id } = parseWith(idParams, req.params, req, ['params']);
        const body = parseWith(reportReviewInputSchema, req.body ?? {}, req);
        await load(id);
        res.json(await deps.initiatives.reviewReport(id, { ...body, reviewedBy: actorOf(req.principal) }));
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/refunds',
      access: ['finance', 'admin'],
      tag: 'follow-up',
      summary: 'Finance records unspent money paid back after an accepted report; it returns to the budget, and the file closes once all of it is in.',
      request: { params: idParams, json: refundInputSchema },
      responses: {
        200: { description: 'Recorded', schema: z.object({}).loose() },
        401: err('Not logged in'),
        403: err('Not finance or admin'),
        404: err('Unknown id'),
        409: err('No refund expected, or more than is due'),
        422: err('Invalid amount'),
      },
      async handler(req, res) {
        const { id } = parseWith(idParams, req.params, req, ['params']);
        const body = parseWith(refundInputSchema, req.body ?? {}, req);
        await load(id);
        res.json(await deps.initiatives.recordRefund(id, { amountCents: body.amountCents, recordedBy: actorOf(req.principal) }));
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/screening/complete',
      access: ['panel'],
      tag: 'screening',
      summary: 'Mark the application complete: it becomes ready_for_meeting.',
      request: { params: idParams },
      responses: { 200: { description: 'Ready for the meeting', schema: z.object({ status: z.string() }).loose() }, 401: err('Not logged in'), 403: err('Not panel'), 404: err('Unknown id'), 409: err('Not in screening') },
      async handler(req, res) {
        const { id } = parseWith(idParams, req.params, req, ['params']);
        await load(id);
        res.json(await deps.initiatives.completeScreening(id, actorOf(req.principal)));
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/withdraw',
      access: ['applicant_self'],
      tag: 'applications',
      summary: 'The applicant withdraws the application (before a decision).',
      request: { params: idParams, json: withdrawInputSchema },
      responses: { 200: { description: 'Withdrawn', schema: z.object({ status: z.string() }).loose() }, 401: err('No token'), 403: err('Not yours'), 404: err('Unknown id'), 409: err('Already decided or closed'), 422: err('Invalid body') },
      async handler(req, res) {
        const { id } = parseWith(idParams, req.params, req, ['params']);
        const body = parseWith(withdrawInputSchema, readBody(req), req);
        await load(id);
        res.json(await deps.initiatives.withdraw(id, body));
      },
    },
  ];
}

function documentView(d: StoredDocument | DocumentDoc) {
  const { _id, applicationId: _a, ...rest } = d as DocumentDoc & { id?: string; applicationId: string };
  return { ...rest, id: (d as StoredDocument).id ?? _id, uploadedAt: new Date(d.uploadedAt).toISOString() };
}

/** Workflow events carry their sequence number at the end of their id ("initiative-…:7"). */
function eventSeq(id: string): number {
  const n = Number(id.slice(id.lastIndexOf(':') + 1));
  return Number.isFinite(n) ? n : 0;
}

/** The warning in the submit response when the activity's budget year cannot cover the request. */
function budgetWarningView(w: { year: number; remainingCents: number }, locale: Locale) {
  return { code: 'budget_exhausted', year: w.year, remainingCents: w.remainingCents, message: warningMessages[locale].budget_exhausted(w.year, w.remainingCents) };
}

export function applicationView(a: ApplicationDoc, events: EventDoc[], documents: DocumentDoc[], payout: PayoutDoc | null = null) {
  // The `submitted` event is the application itself (written in one insert at intake).
  const submitted = { id: `${a.workflowId}:1`, at: new Date(a.createdAt).toISOString(), type: 'submitted' as const, status: 'submitted' as const, actor: 'applicant' };
  const timeline = [submitted, ...events.filter((e) => e._id !== submitted.id).map(({ _id, applicationId: _a, ...e }) => ({ id: _id, ...e }))]
    .sort((x, y) => x.at.localeCompare(y.at) || eventSeq(x.id) - eventSeq(y.id));
  return {
    id: a._id,
    reference: a.reference,
    status: a.status,
    year: a.year,
    createdAt: new Date(a.createdAt).toISOString(),
    updatedAt: new Date(a.updatedAt).toISOString(),
    applicant: a.applicant,
    title: a.title,
    description: a.description,
    purposes: a.purposes,
    wijken: a.wijken,
    targetGroup: a.targetGroup,
    expectedParticipants: a.expectedParticipants,
    volunteers: a.volunteers,
    activity: a.activity,
    budgetLines: a.budgetLines,
    amountRequestedCents: a.amountRequestedCents,
    coFunding: a.coFunding,
    wantsSupport: a.wantsSupport,
    ...(a.supportWish ? { supportWish: a.supportWish } : {}),
    iban: a.iban,
    accountHolder: a.accountHolder,
    privacyConsent: a.privacyConsent,
    ...(a.previousApplicationId ? { previousApplicationId: a.previousApplicationId, whatChanged: a.whatChanged } : {}),
    workflowId: a.workflowId,
    timeline,
    documents: documents.map(documentView),
    informationRequests: a.informationRequests,
    openRequests: a.informationRequests.filter((r) => r.state === 'open'),
    meeting: a.meeting ?? null,
    decision: a.decision ?? null,
    ...(a.rollovers ? { rollovers: a.rollovers } : {}),
    payout: payout
      ? {
          endToEndId: payout._id,
          amountCents: payout.amountCents,
          budgetYear: payout.year,
          status: payout.status,
          ...(payout.batchId ? { batchId: payout.batchId } : {}),
          ...(payout.paidAt ? { paidAt: new Date(payout.paidAt).toISOString() } : {}),
        }
      : null,
    ...(a.budgetWarning ? { budgetWarning: a.budgetWarning } : {}),
    ...(a.erasedAt ? { erasedAt: new Date(a.erasedAt).toISOString() } : {}),
    support: null,
    report: a.report ?? null,
    review: a.review ?? null,
    settlement: a.settlement ?? null,
  };
}
