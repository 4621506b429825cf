import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { remainingCents } from '../../domain/ledger.ts';
import { AppError } from '../../domain/errors.ts';
import { invitationInputSchema, moveMeetingInputSchema, recusalInputSchema, voteInputSchema } from '../../domain/meeting-inputs.ts';
import { planMeeting, regularDateOf, upcomingMeetings, isRegularDate } from '../../domain/meetings.ts';
import { calendarRules, loadOverrides } from '../../temporal/schedule.ts';
import type { MeetingDoc } from '../../db/models.ts';
import type { ApiDeps } from '../deps.ts';
import { parseWith } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema } from '../schemas.ts';

const err = (description: string) => ({ description, schema: errorSchema });
const meetingParams = z.object({ id: z.string().regex(/^meeting-\d{4}-\d{2}-\d{2}$/) });
const staffOfMeetings = ['panel', 'admin'] as const;
const okSchema = z.object({ accepted: z.literal(true) }).loose();

export function meetingRoutes(deps: ApiDeps): RouteSpec[] {
  const { models, config } = deps;
  const rules = calendarRules(config);
  const now = () => deps.now?.() ?? new Date();

  function memberId(req: Parameters<RouteSpec['handler']>[0]): string {
    const p = req.principal;
    if (p?.kind !== 'staff') throw new AppError(403, 'forbidden');
    return p.userId;
  }

  /** A meeting id that names a regular date of the calendar; 404 otherwise. */
  function regularDate(id: string): string {
    const date = regularDateOf(id);
    if (!date || !isRegularDate(rules, date)) throw new AppError(404, 'not_found');
    return date;
  }

  /** Skipping or moving is only possible before the agenda is frozen (and for a meeting still to come). */
  async function assertChangeable(id: string, date: string) {
    const overrides = await loadOverrides(models);
    const current = upcomingMeetings(rules, overrides, now(), 60).find((m) => m.meetingId === id) ?? planMeeting(rules, date);
    if (Date.parse(current.cutoffAt) <= now().getTime() || (await models.Meeting.exists({ _id: id }))) {
      throw new AppError(409, 'meeting_change_too_late', [{ code: 'meeting_change_too_late' }]);
    }
  }

  function view(doc: MeetingDoc | null, live: Awaited<ReturnType<typeof deps.meetings.state>>) {
    return {
      ...(doc
        ? {
            status: live?.status === 'closed' || doc.status === 'closed' ? 'closed' : 'open',
            agenda: doc.agenda.map((i) => ({ ...i, invited: live?.agenda.find((e) => e.applicationId === i.applicationId)?.invited ?? i.invited })),
            members: doc.members,
            chairId: doc.chairId,
          }
        : { status: live ? 'waiting_for_cutoff' : 'planned', agenda: [] }),
      votes: live?.votes ?? doc?.votes ?? [],
      recusals: live?.recusals ?? doc?.recusals ?? [],
      outcomes: live?.outcomes.length ? live.outcomes : (doc?.outcomes ?? []),
      ...(doc?.closedAt ? { closedAt: new Date(doc.closedAt).toISOString(), closedBy: doc.closedBy } : {}),
    };
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
        const overrides = await loadOverrides(models);
        const upcoming = upcomingMeetings(rules, overrides, now(), 6);
        const frozen = await models.Meeting.find({ _id: { $in: upcoming.map((m) => m.meetingId) } }, { _id: 1, status: 1 }).lean();
        const past = await models.Meeting.find({ status: 'closed' }, { agenda: 0, votes: 0, recusals: 0 }).sort({ startsAt: -1 }).limit(20).lean();
        res.json({
          upcoming: upcoming.map((m) => ({
            id: m.meetingId,
            date: m.date,
            time: m.time,
            startsAt: m.startsAt,
            cutoffAt: m.cutoffAt,
            endsAt: m.endsAt,
            moved: m.date !== m.regularDate || m.time !== rules.time,
            status: frozen.find((f) => f._id === m.meetingId)?.status ?? 'planned', // agenda_frozen | closed
          })),
          skipped: overrides.filter((o) => o.action === 'skip').map((o) => o.date),
          past: past.map((m) => ({ id: m._id, date: m.date, startsAt: new Date(m.startsAt).toISOString(), status: m.status, outcomes: m.outcomes ?? [] })),
        });
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
        const { id } = parseWith(meetingParams, req.params, req, ['params']);
        const date = regularDate(id);
        const override = await models.MeetingOverride.findById(date).lean();
        const planned =
          override?.action === 'skip' ? undefined : planMeeting(rules, date, override?.newDate ?? date, override?.newTime ?? rules.time);
        const doc = await models.Meeting.findById(id).lean();
        // A closed meeting is all in the read model; only a running one is asked for its live votes.
        const live = doc?.status === 'closed' ? undefined : await deps.meetings.state(id);
        if (!planned && !doc) throw new AppError(404, 'not_found'); // skipped
        const documents = doc
          ? await models.Document.find({ applicationId: { $in: doc.agenda.map((i) => i.applicationId) } }, { _id: 1, applicationId: 1, fileName: 1, contentType: 1, size: 1 }).lean()
          : [];
        const base = view(doc, live);
        // While the meeting is open the panel also sees what is left now, per budget year.
        const remainingNow = new Map<number, number>();
        if (doc && doc.status !== 'closed') {
          for (const y of new Set(doc.agenda.map((i) => i.budgetYear).filter((y) => typeof y === 'number'))) remainingNow.set(y, remainingCents(await deps.ledger.balances(y)));
        }
        res.json({
          id,
          regularDate: date,
          date: doc?.date ?? planned!.date,
          startsAt: doc ? new Date(doc.startsAt).toISOString() : planned!.startsAt,
          cutoffAt: doc ? new Date(doc.cutoffAt).toISOString() : planned!.cutoffAt,
          endsAt: doc ? new Date(doc.endsAt).toISOString() : planned!.endsAt,
          ...base,
          agenda: (base.agenda as { applicationId: string; budgetYear?: number }[]).map((i) => ({
            ...i,
            ...(i.budgetYear !== undefined && remainingNow.has(i.budgetYear) ? { budgetRemainingCentsNow: remainingNow.get(i.budgetYear) } : {}),
            documents: documents.filter((d) => d.applicationId === i.applicationId).map((d) => ({ id: d._id, fileName: d.fileName, contentType: d.contentType, size: d.size })),
          })),
        });
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
        const { id } = parseWith(meetingParams, req.params, req, ['params']);
        regularDate(id);
        const body = parseWith(voteInputSchema, req.body ?? {}, req);
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
        const { id } = parseWith(meetingParams, req.params, req, ['params']);
        regularDate(id);
        const body = parseWith(recusalInputSchema, req.body ?? {}, req);
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
        const { id } = parseWith(meetingParams, req.params, req, ['params']);
        regularDate(id);
        const body = parseWith(invitationInputSchema, req.body ?? {}, req);
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
        const { id } = parseWith(meetingParams, req.params, req, ['params']);
        regularDate(id);
        const state = await deps.meetings.close(id, memberId(req));
        res.json({ status: state.status, closedAt: state.closedAt, outcomes: state.outcomes });
      },
    },
    {
      method: 'post',
      path: '/api/v1/meetings/:id/skip',
      access: ['admin'],
      tag: 'meetings',
      summary: 'Skip a meeting (e.g. a holiday); possible until its agenda cut-off.',
      request: { params: meetingParams },
      responses: { 200: { description: 'Skipped', schema: z.object({ id: z.string(), skipped: z.literal(true) }) }, 401: err('Not logged in'), 403: err('Not admin'), 404: err('No such meeting'), 409: err('Too late') },
      async handler(req, res) {
        const { id } = parseWith(meetingParams, req.params, req, ['params']);
        const date = regularDate(id);
        await assertChangeable(id, date);
        await models.MeetingOverride.updateOne({ _id: date }, { $set: { action: 'skip', by: memberId(req), at: now() }, $unset: { newDate: 1, newTime: 1 } }, { upsert: true });
        await models.Audit.create({ _id: randomUUID(), at: now(), actor: `staff:${memberId(req)}`, action: 'meeting.skipped', target: id, requestId: String(req.id) });
        await deps.refreshSchedule?.();
        res.json({ id, skipped: true });
      },
    },
    {
      method: 'post',
      path: '/api/v1/meetings/:id/move',
      access: ['admin'],
      tag: 'meetings',
      summary: 'Move one meeting to another date and time (Europe/Amsterdam); possible until its cut-off.',
      request: { params: meetingParams, json: moveMeetingInputSchema },
      responses: { 200: { description: 'Moved', schema: z.object({ id: z.string() }).loose() }, 401: err('Not logged in'), 403: err('Not admin'), 404: err('No such meeting'), 409: err('Too late'), 422: err('Invalid date or time') },
      async handler(req, res) {
        const { id } = parseWith(meetingParams, req.params, req, ['params']);
        const date = regularDate(id);
        const body = parseWith(moveMeetingInputSchema, req.body ?? {}, req);
        await assertChangeable(id, date);
        const moved = planMeeting(rules, date, body.date, body.time ?? rules.time);
        if (Date.parse(moved.cutoffAt) <= now().getTime()) {
          throw new AppError(422, 'validation_failed', [{ path: 'date', code: 'cutoff_in_past' }]);
        }
        // Each cut-off starts exactly one meeting: two meetings may not share one.
        const others = upcomingMeetings(rules, await loadOverrides(models), now(), 60).filter((m) => m.meetingId !== id);
        if (others.some((m) => Math.abs(Date.parse(m.cutoffAt) - Date.parse(moved.cutoffAt)) < 2 * 60 * 60 * 1000)) {
          throw new AppError(409, 'invalid_state', [{ path: 'date', code: 'cutoff_taken' }]);
        }
        await models.MeetingOverride.updateOne({ _id: date }, { $set: { action: 'move', newDate: moved.date, newTime: moved.time, by: memberId(req), at: now() } }, { upsert: true });
        await models.Audit.create({ _id: randomUUID(), at: now(), actor: `staff:${memberId(req)}`, action: 'meeting.moved', target: id, after: { date: moved.date, time: moved.time }, requestId: String(req.id) });
        await deps.refreshSchedule?.();
        res.json({ id, date: moved.date, time: moved.time, startsAt: moved.startsAt, cutoffAt: moved.cutoffAt });
      },
    },
  ];
}
