import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import type { ExtraMeeting } from '../../domain/meetings.ts';
import { extraMeetingInputSchema, invitationInputSchema, moveMeetingInputSchema, recusalInputSchema, voteInputSchema } from '../../domain/meeting-inputs.ts';
import type { ApiDeps } from '../deps.ts';
import { parseInput, parseParams } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema } from '../schemas.ts';

const err = (description: string) => ({ description, schema: errorSchema });
/** A regular meeting (`meeting-<regular date>`) or an extra one (`meeting-extra-<date>-<HHMM>`). */
const meetingParams = z.object({ id: z.string().regex(/^meeting-(\d{4}-\d{2}-\d{2}|extra-\d{4}-\d{2}-\d{2}-\d{4})$/) });
/** Skip and move: regular meetings only. */
const regularMeetingParams = z.object({ id: z.string().regex(/^meeting-\d{4}-\d{2}-\d{2}$/) });
const staffOfMeetings = ['panel', 'admin'] as const;
const okSchema = z.object({ accepted: z.literal(true) }).loose();
const extraMeetingSchema = z.object({ id: z.string(), extra: z.literal(true), date: z.string(), time: z.string(), startsAt: z.string(), cutoffAt: z.string(), endsAt: z.string() });
const extraMeetingView = (m: ExtraMeeting): z.infer<typeof extraMeetingSchema> => ({ id: m.meetingId, extra: true, date: m.date, time: m.time, startsAt: m.startsAt, cutoffAt: m.cutoffAt, endsAt: m.endsAt });

export function meetingRoutes(deps: ApiDeps): RouteSpec[] {
  const { calendar } = deps;

  function memberId(req: Parameters<RouteSpec['handler']>[0]): string {
    const p = req.principal;
    if (p?.kind !== 'staff') throw new AppError(403, 'forbidden');
    return p.userId;
  }

  return [
    {
      method: 'get',
      path: '/api/v1/meetings',
      access: staffOfMeetings,
      tag: 'meetings',
      summary: 'Upcoming meetings (calendar with skips and moves) and past meetings.',
      responses: { 200: { description: 'Meetings', schema: z.object({ upcoming: z.array(z.object({ id: z.string() }).loose()), past: z.array(z.object({ id: z.string() }).loose()) }) }, 401: err('Not logged in'), 403: err('Not panel or admin') },
      async handler(_req, res) {
        res.json(await calendar.list());
      },
    },
    {
      method: 'get',
      path: '/api/v1/meetings/:id',
      access: staffOfMeetings,
      tag: 'meetings',
      summary: 'A meeting with its agenda (application summary, documents, budget lines, budget remaining, fair-spread figures), votes and recusals (staff only).',
      request: { params: meetingParams },
      responses: { 200: { description: 'The meeting', schema: z.object({ id: z.string(), status: z.string() }).loose() }, 401: err('Not logged in'), 403: err('Not panel or admin'), 404: err('No such meeting') },
      async handler(req, res) {
        const { id } = parseParams(meetingParams, req);
        res.json(await calendar.view(id));
      },
    },
    {
      method: 'post',
      path: '/api/v1/meetings/:id/votes',
      access: ['panel'],
      tag: 'meetings',
      summary: 'Cast or change a vote on an agenda item (the last vote counts until the meeting closes).',
      request: { params: meetingParams, json: voteInputSchema },
      responses: {
        200: { description: 'Vote recorded', schema: okSchema },
        401: err('Not logged in'),
        403: err('Not a member of this meeting'),
        404: err('No such meeting'),
        409: err('Meeting not open, closed, or member recused'),
        422: err('Invalid vote (amount, reasons, struck lines, not on the agenda)'),
      },
      async handler(req, res) {
        const { id } = parseParams(meetingParams, req);
        await calendar.assertMeeting(id);
        const body = parseInput(voteInputSchema, req.body ?? {}, 'vote');
        const result = await deps.meetings.castVote(id, { ...body, memberId: memberId(req) });
        req.log.info({ meetingId: id, workflowId: id, applicationId: body.applicationId, vote: body.vote }, 'vote cast');
        res.json(result);
      },
    },
    {
      method: 'post',
      path: '/api/v1/meetings/:id/recusals',
      access: ['panel'],
      tag: 'meetings',
      summary: 'Declare a conflict of interest on an agenda item: from then on this member does not vote on it and does not count for its quorum.',
      request: { params: meetingParams, json: recusalInputSchema },
      responses: { 200: { description: 'Recusal recorded', schema: okSchema }, 401: err('Not logged in'), 403: err('Not a member'), 404: err('No such meeting'), 409: err('Meeting not open or closed'), 422: err('Invalid') },
      async handler(req, res) {
        const { id } = parseParams(meetingParams, req);
        await calendar.assertMeeting(id);
        const body = parseInput(recusalInputSchema, req.body ?? {}, 'recusal');
        res.json(await deps.meetings.recuse(id, { ...body, memberId: memberId(req) }));
      },
    },
    {
      method: 'post',
      path: '/api/v1/meetings/:id/invitations',
      access: ['panel'],
      tag: 'meetings',
      summary: 'Invite the applicant of an agenda item to explain the plan orally at the meeting (the applicant is e-mailed).',
      request: { params: meetingParams, json: invitationInputSchema },
      responses: { 200: { description: 'Invited', schema: okSchema }, 401: err('Not logged in'), 403: err('Not a member'), 404: err('No such meeting'), 409: err('Meeting not open or closed'), 422: err('Not on the agenda') },
      async handler(req, res) {
        const { id } = parseParams(meetingParams, req);
        await calendar.assertMeeting(id);
        const body = parseInput(invitationInputSchema, req.body ?? {}, 'invitation');
        res.json(await deps.meetings.invite(id, { ...body, memberId: memberId(req) }));
      },
    },
    {
      method: 'post',
      path: '/api/v1/meetings/:id/close',
      access: ['panel'],
      tag: 'meetings',
      summary: 'The chair closes the meeting; every item is decided or rolled over.',
      request: { params: meetingParams },
      responses: { 200: { description: 'Closed, with the outcomes', schema: z.object({ status: z.literal('closed') }).loose() }, 401: err('Not logged in'), 403: err('Not the chair'), 404: err('No such meeting'), 409: err('Not open or already closed') },
      async handler(req, res) {
        const { id } = parseParams(meetingParams, req);
        await calendar.assertMeeting(id);
        const state = await deps.meetings.close(id, memberId(req));
        res.json({ status: state.status, closedAt: state.closedAt, outcomes: state.outcomes });
      },
    },
    {
      method: 'post',
      path: '/api/v1/meetings/extra',
      access: ['admin'],
      tag: 'meetings',
      summary:
        'Add an extra meeting (admin): a date and time (Europe/Amsterdam; may be today, minutes from now) and its own agenda cut-off (`cutoffTime`, on `cutoffDate` or the same day; not before now, not after the start). Not on the day of a regular meeting, no cut-off within ten minutes of another meeting\'s. The meeting workflow starts at once and freezes the agenda at the cut-off; written to the audit log. The same request again answers 200 with the meeting stored.',
      request: { json: extraMeetingInputSchema },
      responses: {
        201: { description: 'Added; its workflow is running', schema: extraMeetingSchema },
        200: { description: 'This extra meeting exists already (a retry)', schema: extraMeetingSchema },
        401: err('Not logged in'),
        403: err('Not admin'),
        409: err('Collides with another meeting (meeting_collision: same_day, cutoff_taken, same_start)'),
        422: err('Invalid date or time, in the past, cut-off after the start or before now'),
        503: err('Temporal unavailable: stored, started later (retry)'),
      },
      async handler(req, res) {
        const body = parseInput(extraMeetingInputSchema, req.body ?? {}, 'extra_meeting');
        const { created, meeting } = await calendar.addExtra(body, { userId: memberId(req), requestId: String(req.id) });
        req.log.info({ meetingId: meeting.meetingId, workflowId: meeting.meetingId, startsAt: meeting.startsAt, cutoffAt: meeting.cutoffAt, created }, 'extra meeting added');
        res.status(created ? 201 : 200).json(extraMeetingView(meeting));
      },
    },
    {
      method: 'post',
      path: '/api/v1/meetings/:id/skip',
      access: ['admin'],
      tag: 'meetings',
      summary: 'Skip a meeting (e.g. a holiday); possible until its agenda cut-off.',
      request: { params: regularMeetingParams },
      responses: { 200: { description: 'Skipped', schema: z.object({ id: z.string(), skipped: z.literal(true) }) }, 401: err('Not logged in'), 403: err('Not admin'), 404: err('No such meeting'), 409: err('Too late') },
      async handler(req, res) {
        const { id } = parseParams(regularMeetingParams, req);
        await calendar.skip(id, { userId: memberId(req), requestId: String(req.id) });
        res.json({ id, skipped: true });
      },
    },
    {
      method: 'post',
      path: '/api/v1/meetings/:id/move',
      access: ['admin'],
      tag: 'meetings',
      summary: 'Move one meeting to another date and time (Europe/Amsterdam); possible until its cut-off.',
      request: { params: regularMeetingParams, json: moveMeetingInputSchema },
      responses: { 200: { description: 'Moved', schema: z.object({ id: z.string() }).loose() }, 401: err('Not logged in'), 403: err('Not admin'), 404: err('No such meeting'), 409: err('Too late (meeting_change_too_late), or collides with another meeting (meeting_collision)'), 422: err('Invalid date or time') },
      async handler(req, res) {
        const { id } = parseParams(regularMeetingParams, req);
        calendar.regularDate(id);
        const body = parseInput(moveMeetingInputSchema, req.body ?? {}, 'meeting_move');
        res.json(await calendar.move(id, body, { userId: memberId(req), requestId: String(req.id) }));
      },
    },
  ];
}
