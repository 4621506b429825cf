import type { Request } from 'express';
import { z } from 'zod';
import { informationAnswerSchema, informationRequestInputSchema, withdrawInputSchema } from '../../domain/application.ts';
import { AppError, ValidationError } from '../../domain/errors.ts';
import { requiredIssue } from '../../domain/field-issues.ts';
import { reportInputSchema, reportReviewInputSchema } from '../../domain/report.ts';
import { budgetWarningView, documentView, type Actor } from '../../services/applications.ts';
import { requestHash } from '../../services/intake.ts';
import { sendDocument } from '../../documents/send.ts';
import { actorOf, caseScoped } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { localeOf, parseInput, parseParams, parseQuery } from '../errors.ts';
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
import { inspectUploads, multipartUpload } from '../uploads.ts';

const err = (description: string) => ({ description, schema: errorSchema });
/** Staff who read applications: welfare workers only those of their cases (least privilege; src/api/auth.ts). */
const readers = ['panel', 'admin', 'welfare_case'] as const;
/** An action on an application that was only just stored, which its workflow cannot take yet (src/services/initiatives.ts applicationNotReady). */
const notReady = err('Only just submitted and not ready for this yet: try again in a moment (Retry-After)');

export function applicationRoutes(deps: ApiDeps): RouteSpec[] {
  const { store, config, applications } = deps;
  const inputSchema = deps.intake.inputSchema;
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

  const actor = (req: Request): Actor => ({ actor: actorOf(req.principal), uploadedBy: req.principal?.kind === 'staff' ? 'staff' : 'applicant' });

  /** JSON body, or multipart with a JSON text field (named after what it holds); anything else is refused. */
  function readBody(req: Request, jsonField?: 'application' | 'report'): unknown {
    if (req.is('multipart/form-data')) {
      if (!jsonField) return req.body ?? {};
      const field = (req.body as Record<string, unknown> | undefined)?.[jsonField];
      if (typeof field !== 'string') {
        throw new ValidationError(jsonField, [requiredIssue(jsonField)]);
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
        const input = parseInput(inputSchema, raw, 'application');
        const files = await inspectUploads(req);
        const result = await deps.intake.submit(input, files, { idempotencyKey: keyHeader, requestHash: requestHash(input, files) });
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
      access: readers,
      tag: 'applications',
      summary: 'List applications (staff), with filters and pagination; a welfare worker sees only the support cases of their organisation and those they or their organisation hold.',
      request: { query: applicationListQuery },
      responses: { 200: { description: 'A page of applications', schema: applicationListSchema }, 401: err('Not logged in'), 403: err('Not staff'), 422: err('Bad filter') },
      async handler(req, res) {
        const q = parseQuery(applicationListQuery, req);
        res.json(await applications.list(q, caseScoped(readers, req.principal)));
      },
    },
    {
      method: 'get',
      path: '/api/v1/applications/:id',
      access: ['applicant_self', ...readers],
      tag: 'applications',
      summary: 'One application: status, timeline, documents, open requests.',
      request: { params: idParams, query: linkTokenQuery },
      responses: { 200: { description: 'The application', schema: applicationViewSchema }, 401: err('No token'), 403: err('Not yours'), 404: err('Unknown id, or (welfare) not one of their cases') },
      async handler(req, res) {
        const { id } = parseParams(idParams, req);
        res.json(await applications.view(id, req.principal?.kind === 'staff' ? 'staff' : 'applicant'));
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
        const { id } = parseParams(idParams, req);
        if (!req.is('multipart/form-data')) throw new AppError(415, 'unsupported_media_type');
        const files = await inspectUploads(req);
        const docs = await applications.addDocuments(id, files, actor(req));
        res.status(201).json({ documents: docs.map(documentView) });
      },
    },
    {
      method: 'get',
      path: '/api/v1/applications/:id/documents/:documentId',
      access: ['applicant_self', ...readers],
      tag: 'documents',
      summary: 'Download a document with its type and file name.',
      request: { params: documentParams },
      responses: { 200: { description: 'The file', contentType: 'application/octet-stream' }, 401: err('No token'), 403: err('Not allowed'), 404: err('Unknown document, or (welfare) not one of their cases') },
      async handler(req, res) {
        const { id, documentId } = parseParams(documentParams, req);
        const { document: doc, stream: open } = await applications.openDocument(id, documentId);
        await sendDocument(res, doc, open);
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/information-requests',
      access: ['panel'],
      tag: 'screening',
      summary: 'Ask the applicant for missing information (deadline default 14 days, reminder after 7). Right after submission too: the request waits until the application is in screening.',
      request: { params: idParams, json: informationRequestInputSchema },
      responses: {
        201: { description: 'Request sent', schema: informationRequestSchema },
        401: err('Not logged in'),
        403: err('Not panel'),
        404: err('Unknown id'),
        409: err('Not in screening'),
        422: err('Invalid request'),
        503: notReady,
      },
      async handler(req, res) {
        const { id } = parseParams(idParams, req);
        const body = parseInput(informationRequestInputSchema, readBody(req), 'information_request');
        const request = await applications.requestInformation(id, body, actorOf(req.principal));
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
        const { id } = parseParams(idParams, req);
        const body = parseInput(informationAnswerSchema, readBody(req), 'information_answer');
        const files = await inspectUploads(req);
        res.json(await applications.answerInformation(id, body, files, actor(req)));
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
        const { id } = parseParams(idParams, req);
        const body = parseInput(reportInputSchema, readBody(req, 'report'), 'report', req.is('multipart/form-data') ? ['report'] : []);
        const files = await inspectUploads(req);
        res.json(await applications.submitReport(id, body, files, actor(req)));
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
        const { id } = parseParams(idParams, req);
        const body = parseInput(reportReviewInputSchema, req.body ?? {}, 'report_review');
        res.json(await applications.reviewReport(id, body, actorOf(req.principal)));
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
        const { id } = parseParams(idParams, req);
        const body = parseInput(refundInputSchema, req.body ?? {}, 'refund');
        res.json(await applications.recordRefund(id, body.amountCents, actorOf(req.principal)));
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/screening/complete',
      access: ['panel'],
      tag: 'screening',
      summary: 'Mark the application complete: it becomes ready_for_meeting. Right after submission too: it waits until the application is in screening.',
      request: { params: idParams },
      responses: {
        200: { description: 'Ready for the meeting', schema: z.object({ status: z.string() }).loose() },
        401: err('Not logged in'),
        403: err('Not panel'),
        404: err('Unknown id'),
        409: err('Not in screening'),
        503: notReady,
      },
      async handler(req, res) {
        const { id } = parseParams(idParams, req);
        res.json(await applications.completeScreening(id, actorOf(req.principal)));
      },
    },
    {
      method: 'post',
      path: '/api/v1/applications/:id/withdraw',
      access: ['applicant_self'],
      tag: 'applications',
      summary: 'The applicant withdraws the application (before a decision).',
      request: { params: idParams, json: withdrawInputSchema },
      responses: {
        200: { description: 'Withdrawn', schema: z.object({ status: z.string() }).loose() },
        401: err('No token'),
        403: err('Not yours'),
        404: err('Unknown id'),
        409: err('Already decided or closed'),
        422: err('Invalid body'),
        503: notReady,
      },
      async handler(req, res) {
        const { id } = parseParams(idParams, req);
        const body = parseInput(withdrawInputSchema, readBody(req), 'withdrawal');
        res.json(await applications.withdraw(id, body));
      },
    },
  ];
}

