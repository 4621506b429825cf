/**
 * The panel's meetings as people see them: the calendar with skips and moves, a
 * meeting with its agenda (frozen read model plus the live votes of a running
 * meeting), and the admin's skip and move. The API routes and the web pages share it;
 * votes, recusals and the close go to the meeting workflow (MeetingCommands).
 */
import { randomUUID } from 'node:crypto';
import { recordAudit } from './audit.ts';
import { remainingCents } from '../domain/ledger.ts';
import { AppError, ValidationError } from '../domain/errors.ts';
import { ruleIssue } from '../domain/field-issues.ts';
import { isRegularDate, planMeeting, regularDateOf, upcomingMeetings, type MeetingCalendarRules } from '../domain/meetings.ts';
import { loadOverrides } from '../temporal/schedule.ts';
import type { AgendaItemDoc, MeetingDoc, Models } from '../db/models.ts';
import { documentsOfApplication } from '../db/keys.ts';
import { prefixRange } from '../db/chain.ts';
import type { BudgetLedger } from '../budget/ledger.ts';
import type { MeetingCommands } from './meetings.ts';
import type { CastVote, ItemOutcome, Recusal } from '../domain/workflow-types.ts';

export interface MeetingCalendarDeps {
  models: Models;
  rules: MeetingCalendarRules;
  meetings: MeetingCommands;
  ledger: BudgetLedger;
  /** Rebuilds the meeting Schedule after a skip or move (absent when the schedule is off). */
  refreshSchedule?: () => Promise<void>;
  now: () => Date;
}

export interface AgendaItemView extends AgendaItemDoc {
  budgetRemainingCentsNow?: number;
  documents: { id: string; fileName: string; contentType: string; size: number }[];
}

export interface MeetingView {
  id: string;
  regularDate: string;
  date: string;
  startsAt: string;
  cutoffAt: string;
  endsAt: string;
  status: 'planned' | 'waiting_for_cutoff' | 'open' | 'closed';
  agenda: AgendaItemView[];
  members?: { id: string; name: string }[];
  chairId?: string;
  votes: CastVote[];
  recusals: Recusal[];
  outcomes: ItemOutcome[];
  closedAt?: string;
  closedBy?: string;
}

export class MeetingCalendar {
  private readonly deps: MeetingCalendarDeps;
  constructor(deps: MeetingCalendarDeps) {
    this.deps = deps;
  }

  /** A meeting id that names a regular date of the calendar; 404 otherwise. */
  regularDate(id: string): string {
    const date = regularDateOf(id);
    if (!date || !isRegularDate(this.deps.rules, date)) throw new AppError(404, 'not_found');
    return date;
  }

  /** The coming meetings (with skips and moves) and the last closed ones. */
  async list(count = 6) {
    const { models, rules } = this.deps;
    const overrides = await loadOverrides(models);
    const upcoming = upcomingMeetings(rules, overrides, this.deps.now(), count);
    const frozen = await models.Meeting.find({ _id: { $in: upcoming.map((m) => m.meetingId) } }, { _id: 1, status: 1 }).lean();
    // The last closed ones: the newest ids (`meeting-<date>`, from the `_id` index), closed, by start.
    const recent = await models.Meeting.find(prefixRange('meeting-'), { agenda: 0, votes: 0, recusals: 0 }).sort({ _id: -1 }).limit(40).lean();
    const past = recent
      .filter((m) => m.status === 'closed')
      .sort((a, b) => new Date(b.startsAt).getTime() - new Date(a.startsAt).getTime())
      .slice(0, 20);
    return {
      upcoming: upcoming.map((m) => ({
        id: m.meetingId,
        date: m.date,
        time: m.time,
        startsAt: m.startsAt,
        cutoffAt: m.cutoffAt,
        endsAt: m.endsAt,
        moved: m.date !== m.regularDate || m.time !== rules.time,
        status: (frozen.find((f) => f._id === m.meetingId)?.status ?? 'planned') as 'planned' | MeetingDoc['status'],
      })),
      skipped: overrides.filter((o) => o.action === 'skip').map((o) => o.date),
      past: past.map((m) => ({ id: m._id, date: m.date, startsAt: new Date(m.startsAt).toISOString(), status: m.status, outcomes: (m.outcomes ?? []) as ItemOutcome[] })),
    };
  }

  /** A meeting with its agenda (summary, documents, budget lines, budget remaining, fair-spread figures), votes and recusals. */
  async view(id: string): Promise<MeetingView> {
    const { models, rules } = this.deps;
    const date = this.regularDate(id);
    const override = await models.MeetingOverride.findById(date).lean();
    const planned = override?.action === 'skip' ? undefined : planMeeting(rules, date, override?.newDate ?? date, override?.newTime ?? rules.time);
    const doc = await models.Meeting.findById(id).lean();
    // A closed meeting is all in the read model; only a running one is asked for its live votes.
    const live = doc?.status === 'closed' ? undefined : await this.deps.meetings.state(id);
    if (!planned && !doc) throw new AppError(404, 'not_found'); // skipped
    const documents = doc
      ? (await Promise.all(doc.agenda.map((i) => documentsOfApplication(models, i.applicationId)))).flat()
      : [];
    // While the meeting is open the panel also sees what is left now, per budget year.
    const remainingNow = new Map<number, number>();
    if (doc && doc.status !== 'closed') {
      for (const y of new Set(doc.agenda.map((i) => i.budgetYear).filter((y) => typeof y === 'number'))) remainingNow.set(y, remainingCents(await this.deps.ledger.balances(y)));
    }
    const agenda: AgendaItemView[] = (doc?.agenda ?? []).map((i) => ({
      ...i,
      invited: live?.agenda.find((e) => e.applicationId === i.applicationId)?.invited ?? i.invited,
      ...(i.budgetYear !== undefined && remainingNow.has(i.budgetYear) ? { budgetRemainingCentsNow: remainingNow.get(i.budgetYear) } : {}),
      documents: documents.filter((d) => d.applicationId === i.applicationId).map((d) => ({ id: d._id, fileName: d.fileName, contentType: d.contentType, size: d.size })),
    }));
    return {
      id,
      regularDate: date,
      date: doc?.date ?? planned!.date,
      startsAt: doc ? new Date(doc.startsAt).toISOString() : planned!.startsAt,
      cutoffAt: doc ? new Date(doc.cutoffAt).toISOString() : planned!.cutoffAt,
      endsAt: doc ? new Date(doc.endsAt).toISOString() : planned!.endsAt,
      status: doc ? (live?.status === 'closed' || doc.status === 'closed' ? 'closed' : 'open') : live ? 'waiting_for_cutoff' : 'planned',
      agenda,
      ...(doc ? { members: doc.members, ...(doc.chairId ? { chairId: doc.chairId } : {}) } : {}),
      votes: live?.votes ?? (doc?.votes as CastVote[] | undefined) ?? [],
      recusals: live?.recusals ?? (doc?.recusals as Recusal[] | undefined) ?? [],
      outcomes: live?.outcomes.length ? live.outcomes : ((doc?.outcomes as ItemOutcome[] | undefined) ?? []),
      ...(doc?.closedAt ? { closedAt: new Date(doc.closedAt).toISOString(), closedBy: doc.closedBy } : {}),
    };
  }

  /** Skip a meeting (a holiday): only before its agenda is frozen. */
  async skip(id: string, by: { userId: string; requestId?: string }): Promise<void> {
    const { models } = this.deps;
    const date = this.regularDate(id);
    await this.assertChangeable(id, date);
    const now = this.deps.now();
    await models.MeetingOverride.updateOne({ _id: date }, { $set: { action: 'skip', by: by.userId, at: now }, $unset: { newDate: 1, newTime: 1 } }, { upsert: true });
    await recordAudit(models, { _id: randomUUID(), at: now, actor: `staff:${by.userId}`, action: 'meeting.skipped', target: id, requestId: by.requestId });
    await this.deps.refreshSchedule?.();
  }

  /** Move a meeting to another date and time (Europe/Amsterdam): only before its cut-off, and not onto another meeting's cut-off. */
  async move(id: string, to: { date: string; time?: string }, by: { userId: string; requestId?: string }) {
    const { models, rules } = this.deps;
    const date = this.regularDate(id);
    await this.assertChangeable(id, date);
    const now = this.deps.now();
    const moved = planMeeting(rules, date, to.date, to.time ?? rules.time);
    if (Date.parse(moved.cutoffAt) <= now.getTime()) {
      throw new ValidationError('meeting_move', [ruleIssue('date', 'cutoff_in_past')]);
    }
    // Each cut-off starts exactly one meeting: two meetings may not share one.
    const others = upcomingMeetings(rules, await loadOverrides(models), now, 60).filter((m) => m.meetingId !== id);
    if (others.some((m) => Math.abs(Date.parse(m.cutoffAt) - Date.parse(moved.cutoffAt)) < 2 * 60 * 60 * 1000)) {
      throw new AppError(409, 'invalid_state', [{ path: 'date', code: 'cutoff_taken' }]);
    }
    await models.MeetingOverride.updateOne({ _id: date }, { $set: { action: 'move', newDate: moved.date, newTime: moved.time, by: by.userId, at: now } }, { upsert: true });
    await recordAudit(models, { _id: randomUUID(), at: now, actor: `staff:${by.userId}`, action: 'meeting.moved', target: id, after: { date: moved.date, time: moved.time }, requestId: by.requestId });
    await this.deps.refreshSchedule?.();
    return { id, date: moved.date, time: moved.time, startsAt: moved.startsAt, cutoffAt: moved.cutoffAt };
  }

  /** Skipping or moving is only possible before the agenda is frozen (and for a meeting still to come). */
  private async assertChangeable(id: string, date: string): Promise<void> {
    const { models, rules } = this.deps;
    const overrides = await loadOverrides(models);
    const current = upcomingMeetings(rules, overrides, this.deps.now(), 60).find((m) => m.meetingId === id) ?? planMeeting(rules, date);
    if (Date.parse(current.cutoffAt) <= this.deps.now().getTime() || (await models.Meeting.exists({ _id: id }))) {
      throw new AppError(409, 'meeting_change_too_late', [{ code: 'meeting_change_too_late' }]);
    }
  }
}
