/** What panel members and the admin send about meetings (validated at the API edge). */
import { z } from 'zod';
import { voteKinds } from './decision.ts';
import { calendarDateSchema } from './application.ts';

export const voteInputSchema = z
  .object({
    applicationId: z.uuid(),
    vote: z.enum(voteKinds),
    // Any whole number: the meeting's validator refuses one that is not > 0 and ≤ requested (invalid_amount).
    amountCents: z.number().int().optional(),
    struckLines: z.array(z.number().int().min(0)).max(100).optional(),
    reasons: z.string().trim().min(1).max(5_000).optional(),
  })
  .strict();

export const recusalInputSchema = z.object({ applicationId: z.uuid(), reason: z.string().trim().min(1).max(2_000) }).strict();

export const invitationInputSchema = z.object({ applicationId: z.uuid() }).strict();

/** A local (Europe/Amsterdam) time of day, HH:MM. */
const localTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');

export const moveMeetingInputSchema = z
  .object({
    date: calendarDateSchema,
    time: localTimeSchema.optional(),
  })
  .strict();

/**
 * An extra meeting (admin): its day and time, and when its agenda closes (the cut-off:
 * `cutoffTime` on `cutoffDate`, by default the meeting's day). The cut-off may carry
 * seconds (HH:MM:SS). Whether the moments make sense (not past, cut-off not after the
 * start, no collision) is the calendar's to say (src/services/meeting-calendar.ts).
 */
export const extraMeetingInputSchema = z
  .object({
    date: calendarDateSchema,
    time: localTimeSchema,
    cutoffDate: calendarDateSchema.optional(),
    cutoffTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'HH:MM'),
  })
  .strict();

export type ExtraMeetingInput = z.infer<typeof extraMeetingInputSchema>;

export const panelMemberInputSchema = z
  .object({
    email: z.email().max(254),
    name: z.string().trim().min(1).max(200),
    password: z.string().min(12).max(200),
  })
  .strict();
