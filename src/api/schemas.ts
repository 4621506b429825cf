import { supportApplicantViewSchema, supportStaffViewSchema } from '../support/case.ts';
/** Response and parameter schemas of the API; request bodies come from src/domain. */
import { z } from 'zod';
import { applicationStatuses } from '../domain/status.ts';
import { errorCodes } from '../domain/messages.ts';
import { staffRoles } from '../db/models.ts';

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(errorCodes as [string, ...string[]]),
      message: z.string(),
      details: z.array(z.object({ path: z.string().optional(), code: z.string(), message: z.string().optional() }).loose()),
    }),
  })
  .meta({ id: 'Error' });

export const idParams = z.object({ id: z.uuid() });
export const linkTokenQuery = z.object({ token: z.string().optional() });
export const documentParams = z.object({ id: z.uuid(), documentId: z.uuid() });

export const statusSchema = z.enum(applicationStatuses);

export const documentSchema = z
  .object({
    id: z.string(),
    fileName: z.string(),
    contentType: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    uploadedAt: z.string(),
    uploadedBy: z.enum(['applicant', 'staff']),
    context: z.enum(['intake', 'information', 'additional']),
  })
  .meta({ id: 'Document' });

export const timelineEventSchema = z
  .object({ id: z.string(), at: z.string(), type: z.string(), status: statusSchema.optional(), actor: z.string().optional(), note: z.string().optional() })
  .loose()
  .meta({ id: 'TimelineEvent' });

export const informationRequestSchema = z
  .object({
    id: z.string(),
    missing: z.string(),
    requestedAt: z.string(),
    deadline: z.string().meta({ description: 'The end of the last day to answer: 23:59:59.999 Europe/Amsterdam on the day the e-mail names (as UTC); the request lapses then' }),
    state: z.enum(['open', 'answered', 'lapsed', 'cancelled']),
  })
  .loose()
  .meta({ id: 'InformationRequest' });

export const submitResponseSchema = z
  .object({
    id: z.string(),
    reference: z.string(),
    status: statusSchema,
    accessToken: z.string(),
    warnings: z
      .array(z.object({ code: z.literal('budget_exhausted'), year: z.number().int(), remainingCents: z.number().int(), message: z.string() }))
      .optional()
      .meta({ description: "Present when the activity's budget year cannot cover the request now (op is op): accepted, but warned." }),
  })
  .meta({ id: 'SubmitResponse' });

export const applicationViewSchema = z
  .object({
    id: z.string(),
    reference: z.string(),
    status: statusSchema,
    timeline: z.array(timelineEventSchema),
    documents: z.array(documentSchema),
    informationRequests: z.array(informationRequestSchema),
    openRequests: z.array(informationRequestSchema),
    meeting: z.object({ meetingId: z.string(), date: z.string(), startsAt: z.string() }).nullable(),
    decision: z
      .object({
        meetingId: z.string(),
        outcome: z.enum(['approved', 'partially_approved', 'rejected']),
        grantedCents: z.number().int(),
        requestedCents: z.number().int(),
        reasons: z.array(z.string()),
        struckLines: z.array(z.number().int()),
        decidedAt: z.string(),
      })
      .nullable(),
    payout: z.null(),
    support: z.union([supportStaffViewSchema, supportApplicantViewSchema]).nullable(),
    report: z.object({ submittedAt: z.string(), unspentCents: z.number().int(), actualCostsCents: z.number().int() }).loose().nullable(),
    review: z.object({ outcome: z.string(), trafficLight: z.string() }).loose().nullable().optional(),
    settlement: z.object({ refundDueCents: z.number().int() }).loose().nullable().optional(),
  })
  .loose()
  .meta({ id: 'Application' });

export const applicationListQuery = z
  .object({
    status: statusSchema.optional(),
    wijk: z.string().min(1).max(100).optional(),
    year: z.coerce.number().int().min(2000).max(2100).optional(),
    page: z.coerce.number().int().min(1).max(10_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

export const applicationListSchema = z
  .object({
    items: z.array(
      z.object({ id: z.string(), reference: z.string(), status: statusSchema, title: z.string(), wijken: z.array(z.string()), amountRequestedCents: z.number(), createdAt: z.string() }),
    ),
    page: z.number(),
    pageSize: z.number(),
    total: z.number(),
  })
  .meta({ id: 'ApplicationList' });

export const loginSchema = z.object({ email: z.email().max(254), password: z.string().min(1).max(200) }).strict();
export const loginResponseSchema = z.object({ token: z.string(), role: z.enum(staffRoles), expiresAt: z.string() });

export const idempotencyKeySchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/);
