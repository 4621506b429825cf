import type { Models, AgendaItemDoc } from '../src/db/models.ts';
import { recordAudit } from '../src/services/audit.ts';
import { applicationIdsWithStatus, applicationsOfApplicant, grantedInWijk } from '../src/db/keys.ts';
import { insertOnce } from '../src/db/models.ts';
import { addMeetingItemKeys } from '../src/privacy/keys.ts';
import type { Mailer } from '../src/mail/mailer.ts';
import { renderFlaggedEmail } from '../src/domain/emails.ts';
import { createOutbox } from './outbox.ts';
import { amsterdamYear } from '../src/domain/dates.ts';
import { activityYear } from '../src/domain/application.ts';
import { remainingCents } from '../src/domain/ledger.ts';
import type { BudgetLedger } from '../src/budget/ledger.ts';
import { upcomingMeetings, type MeetingCalendarRules } from '../src/domain/meetings.ts';
import type { FrozenAgenda, MeetingInput, MeetingState } from '../src/domain/workflow-types.ts';

export interface FreezeAgendaInput {
  meetingId: string;
  date: string;
  startsAt: string;
  cutoffAt: string;
  endsAt: string;
}

export interface MeetingActivityDeps {
  models: Models;
  mailer: Mailer;
  mailDomain: string;
  fundName: string;
  meetingUrl(meetingId: string): string;
  ledger: BudgetLedger;
  calendar: MeetingCalendarRules;
  meetingRules: { quorum: number; majority?: number; flagAfterRollovers: number };
  /** Rebuilds the Schedule's calendar (needs a Temporal client; absent in narrow tests). */
  refreshSchedule?: () => Promise<void>;
}

export function createMeetingActivities(deps: MeetingActivityDeps) {
  const { Application, Meeting, StaffUser, Audit, MeetingOverride } = deps.models;
  const deliver = createOutbox(deps);

  /** Oldest first, then by id. */
  const oldestFirst = (a: { createdAt: Date; _id: string }, b: { createdAt: Date; _id: string }) =>
    new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

  return {
    /** The meeting whose cut-off the Schedule fired for, with skips and moves applied; null when it was skipped. */
    async meetingForCutoff(input: { cutoffAt: string }): Promise<MeetingInput | null> {
      const at = Date.parse(input.cutoffAt);
      const overrides = (await MeetingOverride.find().lean()).map((r) => ({
        date: r._id,
        action: r.action,
        ...(r.newDate ? { newDate: r.newDate } : {}),
        ...(r.newTime ? { newTime: r.newTime } : {}),
      }));
      // Meetings ending after the cut-off; the one whose cut-off is this moment (within the catch-up window).
      const candidates = upcomingMeetings(deps.calendar, overrides, new Date(at), 4);
      const m = candidates.find((c) => Math.abs(Date.parse(c.cutoffAt) - at) < 60 * 60 * 1000);
      return m ? { meetingId: m.meetingId, date: m.date, startsAt: m.startsAt, cutoffAt: m.cutoffAt, endsAt: m.endsAt, ...deps.meetingRules } : null;
    },

    async refreshMeetingSchedule(): Promise<void> {
      await deps.refreshSchedule?.();
    },

    /**
     * Freezes the agenda: every application ready for a meeting now, oldest first, with
     * what the panel needs to decide fairly. Idempotent: a retry returns the agenda
     * already frozen.
     */
    async freezeAgenda(input: FreezeAgendaInput): Promise<FrozenAgenda> {
      const existing = await Meeting.findById(input.meetingId).lean();
      if (existing) return toFrozen(existing.agenda, existing.members, existing.chairId);

      const year = amsterdamYear(new Date(input.startsAt));
      // Everything by key (src/db/keys.ts), so the cost follows the agenda, not the number of
      // applications stored: the ones ready (from the list keys), the grants of the year per
      // wijk on the agenda, and each applicant's earlier applications.
      const readyIds = await applicationIdsWithStatus(deps.models, 'ready_for_meeting');
      const [readyDocs, members] = await Promise.all([
        readyIds.length ? Application.find({ _id: { $in: readyIds } }).lean() : [],
        StaffUser.find({ role: 'panel', active: true }, { _id: 1, name: 1, chair: 1 }).sort({ email: 1 }).lean(),
      ]);
      const ready = readyDocs.filter((a) => a.status === 'ready_for_meeting').sort(oldestFirst);
      const wijkGranted = new Map<string, number>();
      for (const w of new Set(ready.flatMap((a) => a.wijken))) wijkGranted.set(w, await grantedInWijk(deps.models, year, w));
      // What is left in the budget year each item would be charged to (its activity's year).
      const remaining = new Map<number, number>();
      for (const y of new Set(ready.map((a) => activityYear(a.activity)))) remaining.set(y, remainingCents(await deps.ledger.balances(y)));
      // Each applicant's applications, in one query for the whole agenda (their ids by key).
      const emails = [...new Set(ready.map((a) => a.applicant.email.toLowerCase()))];
      const theirIds = [...new Set([...(await Promise.all(emails.map((e) => applicationsOfApplicant(deps.models, e)))).flat(), ...ready.flatMap((a) => (a.previousApplicationId ? [a.previousApplicationId] : []))])];
      const theirs = (theirIds.length ? await Application.find({ _id: { $in: theirIds } }, { reference: 1, applicant: 1, status: 1, year: 1, decision: 1, createdAt: 1 }).lean() : []).sort(oldestFirst);
      const previous = theirs.filter((p) => p.status === 'rejected' || p.status === 'rejected_budget_exhausted');
      const rejected = theirs.filter((p) => p.status === 'rejected');
      const grantedTo = (email: string) =>
        theirs.filter((p) => p.year === year && p.applicant.email.toLowerCase() === email).reduce((sum, p) => sum + Math.max(0, p.decision?.grantedCents ?? 0), 0);
      const agenda: AgendaItemDoc[] = [];
      for (const a of ready) {
        const email = a.applicant.email.toLowerCase();
        const wijkGrantedCents: Record<string, number> = {};
        for (const w of a.wijken) wijkGrantedCents[w] = wijkGranted.get(w) ?? 0;
        const earlier = a.previousApplicationId
          ? previous.find((p) => p._id === a.previousApplicationId)
          : rejected.find((r) => r.applicant.email === a.applicant.email && r._id !== a._id);
        agenda.push({
          applicationId: a._id,
          reference: a.reference,
          title: a.title,
          applicantName: a.applicant.name,
          wijken: a.wijken,
          purposes: a.purposes,
          expectedParticipants: a.expectedParticipants,
          amountRequestedCents: a.amountRequestedCents,
          budgetLines: a.budgetLines,
          coFunding: a.coFunding,
          submittedAt: a.createdAt,
          rollovers: a.rollovers ?? 0,
          invited: false,
          budgetYear: activityYear(a.activity),
          budgetRemainingCents: remaining.get(activityYear(a.activity))!,
          fairSpread: {
            applicantGrantedCents: grantedTo(email),
            wijkGrantedCents,
            ...(earlier ? { earlierRejection: { applicationId: earlier._id, reference: earlier.reference, ...(a.whatChanged ? { whatChanged: a.whatChanged } : {}) } } : {}),
          },
        });
      }
      const chair = members.find((m) => m.chair);
      const memberList = members.map((m) => ({ id: m._id, name: m.name }));
      // The erasure finds the meetings of an application by these keys (src/privacy/keys.ts).
      await addMeetingItemKeys(deps.models, input.meetingId, agenda);
      await insertOnce(Meeting, {
        _id: input.meetingId,
        date: input.date,
        startsAt: new Date(input.startsAt),
        cutoffAt: new Date(input.cutoffAt),
        endsAt: new Date(input.endsAt),
        status: 'agenda_frozen',
        agenda,
        members: memberList,
        ...(chair ? { chairId: chair._id } : {}),
        frozenAt: new Date(),
      });
      // A concurrent retry may have won the insert: return what is stored.
      const stored = (await Meeting.findById(input.meetingId).lean())!;
      return toFrozen(stored.agenda, stored.members, stored.chairId);
    },

    /** The meeting's outcome into the read model, and every vote, recusal and decision into the audit log. */
    async recordMeetingOutcome(input: { meetingId: string; state: MeetingState }): Promise<void> {
      const s = input.state;
      const target = (applicationId: string) => `application:${applicationId}`;
      for (const [i, v] of s.votes.entries()) {
        await recordAudit(deps.models, { _id: `${s.meetingId}:vote:${i}`, at: new Date(v.at), actor: `staff:${v.memberId}`, action: 'vote.cast', target: target(v.applicationId), after: { meetingId: s.meetingId, ...v } });
      }
      for (const [i, r] of s.recusals.entries()) {
        await recordAudit(deps.models, { _id: `${s.meetingId}:recusal:${i}`, at: new Date(r.at), actor: `staff:${r.memberId}`, action: 'recusal.declared', target: target(r.applicationId), after: { meetingId: s.meetingId, reason: r.reason } });
      }
      for (const o of s.outcomes) {
        await recordAudit(deps.models, {
          _id: `${s.meetingId}:decision:${o.applicationId}`,
          at: new Date(s.closedAt ?? Date.now()),
          actor: `meeting:${s.meetingId}`,
          action: o.outcome === 'rollover' ? 'decision.rolled_over' : 'decision.made',
          target: target(o.applicationId),
          after: o,
        });
      }
      const flagged = s.outcomes.filter((o) => o.flagged);
      if (flagged.length) {
        const meeting = await Meeting.findById(s.meetingId, { agenda: 1, startsAt: 1 }).lean();
        const admins = await StaffUser.find({ role: 'admin', active: true }, { email: 1, name: 1 }).lean();
        for (const o of flagged) {
          const item = meeting?.agenda.find((i) => i.applicationId === o.applicationId);
          for (const admin of admins) {
            const mail = renderFlaggedEmail({
              fundName: deps.fundName,
              adminName: admin.name,
              reference: item?.reference ?? o.applicationId,
              title: item?.title ?? '',
              rollovers: (item?.rollovers ?? 0) + 1,
              meetingAt: new Date(meeting?.startsAt ?? Date.now()).toISOString(),
              agendaUrl: deps.meetingUrl(s.meetingId),
            });
            await deliver(`${s.meetingId}:flagged:${o.applicationId}:${admin._id}`, { to: admin.email, template: 'rollover_flagged', applicationId: o.applicationId, ...mail });
          }
        }
      }
      await Meeting.updateOne(
        { _id: s.meetingId },
        {
          $set: {
            status: 'closed',
            votes: s.votes,
            recusals: s.recusals,
            outcomes: s.outcomes,
            closedAt: s.closedAt ? new Date(s.closedAt) : new Date(),
            closedBy: s.closedBy,
            agenda: (await Meeting.findById(s.meetingId, { agenda: 1 }).lean())?.agenda.map((item) => ({
              ...item,
              invited: s.agenda.find((e) => e.applicationId === item.applicationId)?.invited ?? item.invited,
            })),
          },
        },
      );
    },
  };
}

function toFrozen(agenda: AgendaItemDoc[], members: { id: string; name: string }[], chairId?: string): FrozenAgenda {
  return {
    items: agenda.map((i) => ({
      applicationId: i.applicationId,
      requestedCents: i.amountRequestedCents,
      budgetLineCount: i.budgetLines.length,
      rollovers: i.rollovers,
      invited: false,
    })),
    members,
    ...(chairId ? { chairId } : {}),
  };
}
