/**
 * panelMeetingWorkflow: one per meeting (id `meeting-<regular date>`). It freezes the
 * agenda at the cut-off, tells each initiative its meeting, collects votes and
 * recusals as Workflow Updates, closes when the chair says so or at the end of the
 * meeting day, applies the decision rule and hands each decision to its initiative
 * workflow (a signal: a command in this history, so sent exactly once).
 *
 * Temporal takes at most 2,000 updates per run: after `updatesPerRun` updates (or when the
 * server suggests it) an open meeting waits for its running handlers and continues as new
 * with its whole state; the end of the day is the same instant in every run. Updates that
 * reach the run while it closes are sent to the next run (the server, and MeetingCommands).
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { decide, voteKinds } from '../src/domain/decision.ts';
import type { DecisionNotice } from '../src/domain/decisions.ts';
import { MEETING_REFUSED, MEETING_SWITCHING_RUN, MEETING_UPDATES_PER_RUN, type CastVoteArgs, type CloseArgs, type InviteArgs, type MeetingInput, type MeetingState, type RecusalArgs } from '../src/domain/workflow-types.ts';
import { decisionSignal, invitedSignal, rolledOverSignal, scheduledSignal } from './initiative-signals.ts';

const { freezeAgenda, recordMeetingOutcome, notifyMeetingMembers } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export const castVoteUpdate = defineUpdate<{ accepted: true; at: string }, [CastVoteArgs]>('castVote');
export const declareRecusalUpdate = defineUpdate<{ accepted: true; at: string }, [RecusalArgs]>('declareRecusal');
export const closeMeetingUpdate = defineUpdate<MeetingState, [CloseArgs]>('closeMeeting');
export const inviteApplicantUpdate = defineUpdate<{ accepted: true }, [InviteArgs]>('inviteApplicant');
export const meetingStateQuery = defineQuery<MeetingState>('meetingState');

/** Refuses an update with a stable code; `more` goes after it in the details (a validator's refusal is not in the history). */
function refuse(code: string, message: string, ...more: string[]): never {
  throw ApplicationFailure.create({ type: MEETING_REFUSED, message, details: [code, ...more], nonRetryable: true });
}

export async function panelMeetingWorkflow(input: MeetingInput): Promise<MeetingState> {
  const carried = input.carried;
  const state: MeetingState = carried?.state ?? { meetingId: input.meetingId, status: 'waiting_for_cutoff', agenda: [], members: [], votes: [], recusals: [], outcomes: [] };
  /** Updates accepted by this run (a refused one is not in the history and does not count). */
  let updatesThisRun = 0;
  /** This run is about to continue as new: it takes no more updates (MeetingCommands sends them again). */
  let switching = false;
  const nowIso = () => new Date().toISOString();
  const item = (applicationId: string) => state.agenda.find((i) => i.applicationId === applicationId);
  const isMember = (memberId: string) => state.members.some((m) => m.id === memberId);
  const isRecused = (memberId: string, applicationId: string) => state.recusals.some((r) => r.memberId === memberId && r.applicationId === applicationId);

  function checkOpen(memberId: string): void {
    // The refusing run's id: the sender waits for that run to end before it sends again.
    if (switching) refuse(MEETING_SWITCHING_RUN, 'the meeting is moving to a new run: send again', workflowInfo().runId);
    if (state.status === 'waiting_for_cutoff') refuse('meeting_not_open', 'the agenda is not frozen yet');
    if (state.status === 'closed') refuse('meeting_closed', 'the meeting is closed');
    if (!isMember(memberId)) refuse('not_a_member', 'only panel members of this meeting may do this');
  }

  function checkVote(a: CastVoteArgs): void {
    checkOpen(a.memberId);
    const entry = item(a.applicationId);
    if (!entry) refuse('not_on_agenda', 'this application is not on the agenda');
    if (isRecused(a.memberId, a.applicationId)) refuse('recused', 'a recused member does not vote on this item');
    if (!voteKinds.includes(a.vote)) refuse('invalid_vote', 'unknown vote');
    if ((a.vote === 'partial' || a.vote === 'reject') && !a.reasons?.trim()) refuse('reasons_required', 'reasons are required for partial and reject');
    if (a.vote === 'partial') {
      const amount = a.amountCents;
      if (amount === undefined || !Number.isSafeInteger(amount) || amount <= 0 || amount > entry.requestedCents) {
        refuse('invalid_amount', 'a partial grant is more than 0 and at most the amount requested');
      }
    } else if (a.amountCents !== undefined) refuse('invalid_amount', 'only a partial vote has an amount');
    for (const line of a.struckLines ?? []) {
      if (!Number.isInteger(line) || line < 0 || line >= entry.budgetLineCount) refuse('invalid_struck_line', 'no such budget line');
    }
  }

  setHandler(meetingStateQuery, () => state);

  setHandler(
    castVoteUpdate,
    (a) => {
      updatesThisRun++;
      checkVote(a);
      const at = nowIso();
      state.votes.push({
        applicationId: a.applicationId,
        memberId: a.memberId,
        vote: a.vote,
        at,
        ...(a.amountCents !== undefined ? { amountCents: a.amountCents } : {}),
        ...(a.struckLines?.length ? { struckLines: a.struckLines } : {}),
        ...(a.reasons ? { reasons: a.reasons } : {}),
      });
      return { accepted: true as const, at };
    },
    { validator: checkVote },
  );

  setHandler(
    declareRecusalUpdate,
    (a) => {
      updatesThisRun++;
      checkOpen(a.memberId);
      const at = nowIso();
      if (!isRecused(a.memberId, a.applicationId)) state.recusals.push({ ...a, at });
      return { accepted: true as const, at };
    },
    {
      validator: (a) => {
        checkOpen(a.memberId);
        if (!item(a.applicationId)) refuse('not_on_agenda', 'this application is not on the agenda');
        if (!a.reason?.trim()) refuse('reason_required', 'a recusal needs a reason');
      },
    },
  );

  let closeRequested: CloseArgs | undefined;
  setHandler(
    closeMeetingUpdate,
    async (a) => {
      updatesThisRun++;
      closeRequested ??= a;
      await condition(() => state.status === 'closed' && state.outcomes.length === state.agenda.length);
      return state;
    },
    {
      validator: (a) => {
        checkOpen(a.memberId);
        if (a.memberId !== state.chairId) refuse('not_the_chair', 'only the chair closes the meeting early');
      },
    },
  );

  setHandler(
    inviteApplicantUpdate,
    async (a) => {
      updatesThisRun++;
      const entry = item(a.applicationId)!;
      if (entry.invited) return { accepted: true as const };
      entry.invited = true;
      await getExternalWorkflowHandle(`initiative-${a.applicationId}`)
        .signal(invitedSignal, { meetingId: input.meetingId, date: input.date, startsAt: input.startsAt })
        .catch(() => undefined); // withdrawn in the meantime: nobody to invite
      return { accepted: true as const };
    },
    {
      validator: (a) => {
        checkOpen(a.memberId);
        if (!item(a.applicationId)) refuse('not_on_agenda', 'this application is not on the agenda');
      },
    },
  );

  // A continued run starts open: the first run froze the agenda and told the initiatives.
  if (!carried) {
    const untilCutoff = Date.parse(input.cutoffAt) - Date.now();
    if (untilCutoff > 0) await sleep(untilCutoff);

    const frozen = await freezeAgenda({ meetingId: input.meetingId, date: input.date, startsAt: input.startsAt, cutoffAt: input.cutoffAt, endsAt: input.endsAt });
    state.agenda = frozen.items;
    state.members = frozen.members;
    if (frozen.chairId) state.chairId = frozen.chairId;
    state.status = 'open';
    // All at once: one workflow task, not one round trip per item.
    await Promise.all(
      state.agenda.map((entry) =>
        getExternalWorkflowHandle(`initiative-${entry.applicationId}`)
          .signal(scheduledSignal, { meetingId: input.meetingId, date: input.date, startsAt: input.startsAt })
          .catch(() => undefined), // withdrawn since the freeze
      ),
    );
  }

  const untilEnd = () => Math.max(Date.parse(input.endsAt) - Date.now(), 1);
  // Histories from before continue-as-new announce, then wait for the close or the end of the day only.
  if (carried || patched('meeting-continue-as-new')) {
    // The members' agenda mail goes out while votes come in: a slow mail server does not hold a
    // run switch back (a run that continues before it is sent leaves it to the next; the outbox
    // sends each member's mail once).
    let announced = carried?.announced ?? false;
    let announceFailure: unknown;
    const announcing = announced
      ? undefined
      : notifyMeetingMembers({ meetingId: input.meetingId }).then(
          () => void (announced = true),
          (err: unknown) => void (announceFailure = err),
        );
    const limit = input.updatesPerRun ?? MEETING_UPDATES_PER_RUN;
    const wantsNewRun = () => updatesThisRun >= limit || workflowInfo().continueAsNewSuggested;
    const woke = await condition(() => closeRequested !== undefined || wantsNewRun(), untilEnd());
    if (woke && closeRequested === undefined) {
      // No accepted update may be lost: its handler finishes in this run (a close asked meanwhile wins).
      // New ones are refused from here on, and the run continues in a later workflow task than the
      // last update it completed (an update completed with continue-as-new may be applied twice:
      // temporalio/temporal#6375).
      switching = true;
      await condition(() => allHandlersFinished() || closeRequested !== undefined);
      // The agenda mail is sent before the run ends: an activity a run leaves behind holds the
      // time-skipping test server's clock until its timeout (a real server only drops its result).
      // Only the first run announces, and long before its last update in a real meeting.
      if (patched('meeting-switch-after-announce')) await announcing;
      await sleep(1);
      if (closeRequested === undefined) {
        return continueAsNew<typeof panelMeetingWorkflow>({ ...input, carried: { state, announced, runs: (carried?.runs ?? 0) + 1 } });
      }
    }
    await announcing;
    if (announceFailure) throw announceFailure;
  } else {
    await notifyMeetingMembers({ meetingId: input.meetingId });
    await condition(() => closeRequested !== undefined, untilEnd());
  }
  state.status = 'closed';
  state.closedAt = nowIso();
  state.closedBy = closeRequested?.memberId ?? 'automatic';

  for (const entry of state.agenda) {
    const d = decide({
      requestedCents: entry.requestedCents,
      votes: state.votes.filter((v) => v.applicationId === entry.applicationId),
      recused: state.recusals.filter((r) => r.applicationId === entry.applicationId).map((r) => r.memberId),
      rules: { quorum: input.quorum, ...(input.majority !== undefined ? { majority: input.majority } : {}) },
    });
    if (d.outcome === 'rollover') {
      state.outcomes.push({
        applicationId: entry.applicationId,
        outcome: 'rollover',
        grantedCents: 0,
        reasons: [],
        struckLines: [],
        rolloverReason: d.reason,
        flagged: entry.rollovers + 1 >= input.flagAfterRollovers,
      });
    } else {
      const reasons = [...new Set(d.carriedBy.map((v) => v.reasons?.trim()).filter((r): r is string => !!r))];
      const struckLines = d.outcome === 'partially_approved' ? [...new Set(d.carriedBy.flatMap((v) => v.struckLines ?? []))].sort((a, b) => a - b) : [];
      state.outcomes.push({ applicationId: entry.applicationId, outcome: d.outcome, grantedCents: d.grantedCents, reasons, struckLines, flagged: false });
    }
  }

  await recordMeetingOutcome({ meetingId: input.meetingId, state: { ...state } });

  await Promise.all(
    state.outcomes.map((o) => {
      const entry = item(o.applicationId)!;
      const handle = getExternalWorkflowHandle(`initiative-${o.applicationId}`);
      const sent =
        o.outcome === 'rollover'
          ? handle.signal(rolledOverSignal, { meetingId: input.meetingId, rollovers: entry.rollovers + 1, flagged: o.flagged })
          : handle.signal(decisionSignal, {
              meetingId: input.meetingId,
              outcome: o.outcome,
              grantedCents: o.grantedCents,
              requestedCents: entry.requestedCents,
              reasons: o.reasons,
              struckLines: o.struckLines,
              decidedAt: state.closedAt!,
            } satisfies DecisionNotice);
      return sent.catch(() => undefined); // an initiative withdrawn during the meeting takes no decision
    }),
  );
  await condition(allHandlersFinished);
  return state;
}
