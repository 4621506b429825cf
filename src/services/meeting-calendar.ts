/**
 * The panel's meetings as people see them: the calendar with skips, moves and extra
 * meetings, a meeting with its agenda (frozen read model plus the live votes of a running
 * meeting), and the admin's skip, move and extra meeting. The API routes and the web pages
 * share it; votes, recusals and the close go to the meeting workflow (MeetingCommands).
 *
 * An extra meeting is stored once (`extra_meetings`, id `meeting-extra-<date>-<HHMM>`),
 * written to the audit log, and its workflow started here under that id (the Schedule
 * only knows the regular calendar): a retry with the same moments finds what is stored
 * and starts nothing twice; `startExtraMeetings` (the API's reconcile loop) starts one
 * whose start a crash or a Temporal outage interrupted.
 */
import { randomUUID } from 'node:crypto';
import { recordAudit } from './audit.ts';
import { remainingCents } from '../domain/ledger.ts';
import { AppError, ValidationError } from '../domain/errors.ts';
import { ruleIssue, type FieldIssue } from '../domain/field-issues.ts';
import { amsterdamDate, DAY_MS } from '../domain/dates.ts';
import type { ExtraMeetingInput } from '../domain/meeting-inputs.ts';
import {
  amsterdamInstant,
  extraMeetingOf,
  isRegularDate,
  meetingCollision,
  planExtraMeeting,
  planMeeting,
  regularDateOf,
  upcomingMeetings,
  type ExtraMeeting,
  type MeetingCalendarRules,
  type MeetingCollision,
  type MeetingTimes,
} from '../domain/meetings.ts';
import { loadOverrides } from '../temporal/schedule.ts';
import { insertOnce, type AgendaItemDoc, type ExtraMeetingDoc, type MeetingDoc, type Models } from '../db/models.ts';
import { documentsOfApplication } from '../db/keys.ts';
import { prefixRange } from '../db/chain.ts';
import type { BudgetLedger } from '../budget/ledger.ts';
import type { MeetingCommands } from './meetings.ts';
import type { CastVote, ItemOutcome, MeetingInput, Recusal } from '../domain/workflow-types.ts';

export interface MeetingCalendarDeps {
  models: Models;
  rules: MeetingCalendarRules;
  meetings: MeetingCommands;
  /** The meeting workflow's input for a meeting (quorum and majority from the configuration). */
  meetingInput: (m: MeetingTimes) => MeetingInput;
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
  /** The calendar date a regular meeting belongs to (absent for an extra meeting). */
  regularDate?: string;
  extra: boolean;
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

/** An extra meeting refused because it would collide with another meeting. */
function collisionError(c: MeetingCollision): AppError {
  return new AppError(409, 'meeting_collision', [{ path: 'date', ...c }]);
}

function extraOf(doc: ExtraMeetingDoc): ExtraMeeting {
  const iso = (d: Date) => new Date(d).toISOString();
  return { meetingId: doc._id, date: doc.date, time: doc.time, startsAt: iso(doc.startsAt), cutoffAt: iso(doc.cutoffAt), endsAt: iso(doc.endsAt), extra: true };
}

/** How far ahead an extra meeting may be planned. */
const EXTRA_AHEAD_MS = 366 * DAY_MS;

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

  /** A meeting id of the calendar (a regular date) or of an extra meeting the admin added; 404 otherwise. */
  async assertMeeting(id: string): Promise<void> {
    if (!extraMeetingOf(id)) this.regularDate(id);
    else if (!(await this.deps.models.ExtraMeeting.exists({ _id: id }))) throw new AppError(404, 'not_found');
  }

  /** The extra meetings that have not ended: from today on, by their ordered ids. */
  private async extraDocs(now: Date): Promise<ExtraMeetingDoc[]> {
    const rows = await this.deps.models.ExtraMeeting.find({ _id: { $gte: `meeting-extra-${amsterdamDate(now)}`, $lt: 'meeting-extra-~' } }).sort({ _id: 1 }).lean();
    return rows.filter((r) => new Date(r.endsAt).getTime() > now.getTime());
  }

  private async upcomingExtras(now: Date): Promise<ExtraMeeting[]> {
    return (await this.extraDocs(now)).map(extraOf);
  }

  /** The coming `count` regular meetings (with skips and moves) and every coming extra meeting, in order; the last closed ones. */
  async list(count = 6) {
    const { models, rules } = this.deps;
    const now = this.deps.now();
    const [overrides, extras] = await Promise.all([loadOverrides(models), this.upcomingExtras(now)]);
    const upcoming = [...upcomingMeetings(rules, overrides, now, count), ...extras].sort((a, b) => a.startsAt.localeCompare(b.startsAt));
    const frozen = await models.Meeting.find({ _id: { $in: upcoming.map((m) => m.meetingId) } }, { _id: 1, status: 1 }).lean();
    // The last closed ones: the newest ids of regular meetings (`meeting-<date>`) and of extra
    // ones (`meeting-extra-<date>-<time>`), each from the `_id` index, closed, by start.
    const newest = (range: { _id: { $gte: string; $lt: string } }) =>
      models.Meeting.find(range, { agenda: 0, votes: 0, recusals: 0 }).sort({ _id: -1 }).limit(40).lean();
    const recent = (await Promise.all([newest({ _id: { $gte: 'meeting-0', $lt: 'meeting-:' } }), newest(prefixRange('meeting-extra-'))])).flat();
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
        moved: 'regularDate' in m && (m.date !== m.regularDate || m.time !== rules.time),
        extra: 'extra' in m,
        status: (frozen.find((f) => f._id === m.meetingId)?.status ?? 'planned') as 'planned' | MeetingDoc['status'],
      })),
      skipped: overrides.filter((o) => o.action === 'skip').map((o) => o.date),
      past: past.map((m) => ({ id: m._id, date: m.date, startsAt: new Date(m.startsAt).toISOString(), status: m.status, outcomes: (m.outcomes ?? []) as ItemOutcome[] })),
    };
  }

  /** A meeting with its agenda (summary, documents, budget lines, budget remaining, fair-spread figures), votes and recusals. */
  async view(id: string): Promise<MeetingView> {
    const { models, rules } = this.deps;
    const extra = !!extraMeetingOf(id);
    const date = extra ? undefined : this.regularDate(id);
    let planned: MeetingTimes | undefined;
    if (date) {
      const override = await models.MeetingOverride.findById(date).lean();
      planned = override?.action === 'skip' ? undefined : planMeeting(rules, date, override?.newDate ?? date, override?.newTime ?? rules.time);
    } else {
      const stored = await models.ExtraMeeting.findById(id).lean();
      planned = stored ? extraOf(stored) : undefined;
    }
    const doc = await models.Meeting.findById(id).lean();
    // A closed meeting is all in the read model; only a running one is asked for its live votes.
    const live = doc?.status === 'closed' ? undefined : await this.deps.meetings.state(id);
    if (!planned && !doc) throw new AppError(404, 'not_found'); // skipped, or no such extra meeting
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
      ...(date ? { regularDate: date } : {}),
      extra,
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
    // Each cut-off starts exactly one meeting: two meetings may not share one; nor a day with an extra meeting.
    const hit = meetingCollision(moved, [...upcomingMeetings(rules, await loadOverrides(models), now, 60), ...(await this.upcomingExtras(now))]);
    if (hit) throw collisionError(hit);
    await models.MeetingOverride.updateOne({ _id: date }, { $set: { action: 'move', newDate: moved.date, newTime: moved.time, by: by.userId, at: now } }, { upsert: true });
    await recordAudit(models, { _id: randomUUID(), at: now, actor: `staff:${by.userId}`, action: 'meeting.moved', target: id, after: { date: moved.date, time: moved.time }, requestId: by.requestId });
    await this.deps.refreshSchedule?.();
    return { id, date: moved.date, time: moved.time, startsAt: moved.startsAt, cutoffAt: moved.cutoffAt };
  }

  /**
   * Adds an extra meeting on `date` at `time` (Europe/Amsterdam), its agenda frozen at
   * `cutoffTime` on `cutoffDate` (default: the same day): the start still to come, the
   * cut-off not before now (this minute counts as now) and not after the start, not on the
   * day of a regular meeting, no cut-off within ten minutes of another's. Stores it,
   * writes the audit log and starts its meeting workflow. The same request again (a retry)
   * answers with what is stored (`created: false`) and starts nothing twice.
   */
  async addExtra(input: ExtraMeetingInput, by: { userId: string; requestId?: string }): Promise<{ created: boolean; meeting: ExtraMeeting }> {
    const { models, rules } = this.deps;
    const now = this.deps.now();
    const m = planExtraMeeting(input.date, input.time, amsterdamInstant(input.cutoffDate ?? input.date, input.cutoffTime));
    const same = async (): Promise<ExtraMeeting | undefined> => {
      const stored = await models.ExtraMeeting.findById(m.meetingId).lean();
      if (!stored) return undefined;
      if (new Date(stored.cutoffAt).toISOString() !== m.cutoffAt) throw collisionError({ code: 'same_start', meetingId: stored._id, startsAt: m.startsAt, cutoffAt: new Date(stored.cutoffAt).toISOString() });
      return this.recordAndStart(stored);
    };
    const again = await same();
    if (again) return { created: false, meeting: again };

    const [startsAt, cutoffAt] = [Date.parse(m.startsAt), Date.parse(m.cutoffAt)];
    const issues: FieldIssue[] = [];
    if (startsAt <= now.getTime()) issues.push(ruleIssue(input.date < amsterdamDate(now) ? 'date' : 'time', 'meeting_in_past'));
    else if (startsAt > now.getTime() + EXTRA_AHEAD_MS) issues.push(ruleIssue('date', 'meeting_too_far_ahead'));
    const cutoffPath = input.cutoffDate && input.cutoffDate !== input.date ? 'cutoffDate' : 'cutoffTime';
    if (cutoffAt > startsAt) issues.push(ruleIssue(cutoffPath, 'cutoff_after_start'));
    else if (cutoffAt < now.getTime() - (now.getTime() % 60_000)) issues.push(ruleIssue(cutoffPath, 'cutoff_before_now'));
    if (issues.length) throw new ValidationError('extra_meeting', issues);

    const hit = meetingCollision(m, [...upcomingMeetings(rules, await loadOverrides(models), now, 60), ...(await this.upcomingExtras(now))]);
    if (hit) throw collisionError(hit);

    const doc: ExtraMeetingDoc = {
      _id: m.meetingId,
      date: m.date,
      time: m.time,
      startsAt: new Date(m.startsAt),
      cutoffAt: new Date(m.cutoffAt),
      endsAt: new Date(m.endsAt),
      by: by.userId,
      at: now,
      ...(by.requestId ? { requestId: by.requestId } : {}),
    };
    if (await insertOnce(models.ExtraMeeting, doc)) return { created: true, meeting: await this.recordAndStart(doc) };
    // Another request stored this meeting a moment ago: the same one, or a refusal.
    return { created: false, meeting: (await same())! };
  }

  /** The audit record of an extra meeting (once: its id is the meeting's) and its workflow (once: the same id). */
  private async recordAndStart(doc: ExtraMeetingDoc): Promise<ExtraMeeting> {
    const m = extraOf(doc);
    await insertOnce(this.deps.models.Audit, {
      _id: `${m.meetingId}:added`,
      at: doc.at,
      actor: `staff:${doc.by}`,
      action: 'meeting.extra_added',
      target: m.meetingId,
      after: { date: m.date, time: m.time, startsAt: m.startsAt, cutoffAt: m.cutoffAt },
      ...(doc.requestId ? { requestId: doc.requestId } : {}),
    });
    await this.deps.meetings.start(this.deps.meetingInput(m));
    return m;
  }

  /** Completes every coming extra meeting a crash or an outage left half done (audit record, workflow start); safe to repeat. */
  async startExtraMeetings(): Promise<number> {
    const docs = await this.extraDocs(this.deps.now());
    for (const doc of docs) await this.recordAndStart(doc);
    return docs.length;
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
