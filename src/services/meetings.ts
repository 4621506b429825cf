import { status as grpcStatus } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { isGrpcServiceError, ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client, type WorkflowHandle, type WorkflowUpdateHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { AppError } from '../domain/errors.ts';
import type { ErrorCode } from '../domain/messages.ts';
import type { Models } from '../db/models.ts';
import { castVoteUpdate, closeMeetingUpdate, declareRecusalUpdate, inviteApplicantUpdate, meetingStateQuery, panelMeetingWorkflow } from '../../workflows/meeting.ts';
import type { UpdateDefinition } from '@temporalio/common';
import { MEETING_REFUSED, MEETING_SWITCHING_RUN, type CastVoteArgs, type InviteArgs, type MeetingInput, type MeetingState, type RecusalArgs } from '../domain/workflow-types.ts';

/** HTTP status of each refusal the meeting workflow's validators can give. */
const refusalStatus: Partial<Record<ErrorCode, number>> = {
  meeting_not_open: 409,
  meeting_closed: 409,
  not_a_member: 403,
  not_the_chair: 403,
  recused: 409,
  not_on_agenda: 422,
  invalid_amount: 422,
  reasons_required: 422,
  reason_required: 422,
  invalid_struck_line: 422,
  invalid_vote: 422,
};

/** Attempts of one update while the meeting continues as new (each goes to the newest run). */
const RUN_SWITCH_ATTEMPTS = 10;

const grpcCause = (err: unknown) => (isGrpcServiceError(err) ? err : err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause : undefined);

/**
 * The update reached a run that was continuing as new: not handled there, so safe to send again.
 * Refused by the run about to continue (MEETING_SWITCHING_RUN, the usual case); admitted, not
 * accepted: the server answers "Workflow is closing" (UNAVAILABLE) once its own retries are
 * spent; accepted but unfinished: the run's failure `AcceptedUpdateCompletedWorkflow` (the
 * meeting finishes its handlers before it continues; a last resort).
 */
export function caughtInRunSwitch(err: unknown): boolean {
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (!(cause instanceof ApplicationFailure)) return false;
    return cause.type === 'AcceptedUpdateCompletedWorkflow' || (cause.type === MEETING_REFUSED && cause.details?.[0] === MEETING_SWITCHING_RUN);
  }
  const grpc = grpcCause(err);
  return grpc?.code === grpcStatus.UNAVAILABLE && /closing|continued as new|continuing/i.test(grpc.details ?? grpc.message);
}

/**
 * How long one attempt may take to have its update accepted by a run. Acceptance is one workflow
 * task; an update that a run took in (admitted) and then left behind when it continued as new
 * would otherwise be waited for without end (seen on the time-skipping test server). The next
 * attempt carries the same update id: the same run treats it as the one it already has.
 */
const UPDATE_ACCEPT_MS = 10_000;

/**
 * The run the update went to has just ended and the meeting goes on in a new one: the server
 * answered "not found" for a run that continued as new (the time-skipping test server does,
 * between the two runs).
 */
async function switchedRun(handle: WorkflowHandle, err: unknown): Promise<boolean> {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  if (!(err instanceof WorkflowNotFoundError)) return caughtInRunSwitch(err);
  try {
    const { status } = await handle.describe();
    return status.name === 'RUNNING' || status.name === 'CONTINUED_AS_NEW';
  } catch {
    return false;
  }
}

/**
 * The run that refused the update because it is about to continue as new (its id is in the
 * refusal), or undefined for any other error.
 */
function switchingRun(err: unknown): string | undefined {
  if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure)) return undefined;
  const [code, runId] = err.cause.details ?? [];
  return err.cause.type === MEETING_REFUSED && code === MEETING_SWITCHING_RUN && typeof runId === 'string' ? runId : undefined;
}

/** How long a sender waits for a refusing run to hand over to the next (its last workflow tasks). */
const RUN_END_WAIT_MS = 5_000;

/**
 * Waits until the run that refused has ended (continued as new), so that the next attempt goes
 * to the new run and never reaches the closing one: an update that lands on a run in its
 * last workflow task is not answered by the time-skipping test server.
 */
async function runEnded(handle: WorkflowHandle, runId: string): Promise<void> {
  const run = handle.client.getHandle(handle.workflowId, runId);
  for (const until = Date.now() + RUN_END_WAIT_MS; Date.now() < until; await delay(50)) {
    if ((await run.describe()).status.name !== 'RUNNING') return;
  }
}

/**
 * Runs a meeting update to its result; again (bounded) while it meets a run continuing as new.
 * `start` starts the update with the id it is given and waits for it to be accepted; the handle
 * must name no run, so each attempt goes to the newest. Throws the last error.
 */
export async function acrossRunSwitch<T>(handle: WorkflowHandle, start: (updateId: string) => Promise<WorkflowUpdateHandle<T>>): Promise<T> {
  const updateId = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      const accepted = await handle.client.withAbortSignal(AbortSignal.timeout(UPDATE_ACCEPT_MS), () => start(updateId));
      return await accepted.result();
    } catch (err) {
      if (attempt >= RUN_SWITCH_ATTEMPTS || !(await switchedRun(handle, err))) throw err;
      const refusedBy = switchingRun(err);
      if (refusedBy) await runEnded(handle, refusedBy);
      else await delay(100 * attempt);
    }
  }
}

/** Sends one update of the meeting across run switches (see `acrossRunSwitch`). */
export function sendMeetingUpdate<Ret, Arg>(handle: WorkflowHandle, update: UpdateDefinition<Ret, [Arg]>, arg: Arg): Promise<Ret> {
  return acrossRunSwitch(handle, (updateId) => handle.startUpdate(update, { args: [arg], updateId, waitForStage: 'ACCEPTED' }));
}

/** The API's side of the meeting workflow: its start (an extra meeting), Workflow Updates and the state query. */
export class MeetingCommands {
  private readonly client: Client;
  private readonly models: Models;
  private readonly taskQueue: string;
  constructor(client: Client, models: Models, taskQueue: string) {
    this.client = client;
    this.models = models;
    this.taskQueue = taskQueue;
  }

  /**
   * Starts the meeting's workflow under its id (the Schedule starts the regular ones).
   * Starting one that runs or ran already is a no-op: a retry never starts two.
   */
  async start(input: MeetingInput): Promise<void> {
    try {
      await this.client.workflow.start(panelMeetingWorkflow, { taskQueue: this.taskQueue, workflowId: input.meetingId, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw unavailable(err);
    }
  }

  private handle(meetingId: string) {
    return this.client.workflow.getHandle(meetingId);
  }

  castVote(meetingId: string, args: CastVoteArgs) {
    return this.refusing(meetingId, (h) => sendMeetingUpdate(h, castVoteUpdate, args));
  }

  recuse(meetingId: string, args: RecusalArgs) {
    return this.refusing(meetingId, (h) => sendMeetingUpdate(h, declareRecusalUpdate, args));
  }

  close(meetingId: string, memberId: string) {
    return this.refusing(meetingId, (h) => sendMeetingUpdate(h, closeMeetingUpdate, { memberId }));
  }

  invite(meetingId: string, args: InviteArgs) {
    return this.refusing(meetingId, (h) => sendMeetingUpdate(h, inviteApplicantUpdate, args));
  }

  /** Live state of a running meeting; undefined when its workflow has not started. */
  async state(meetingId: string): Promise<MeetingState | undefined> {
    try {
      return await this.handle(meetingId).query(meetingStateQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  private async refusing<T>(meetingId: string, send: (handle: WorkflowHandle) => Promise<T>): Promise<T> {
    try {
      return await send(this.handle(meetingId));
    } catch (err) {
      return await this.refusal(meetingId, err);
    }
  }

  /** The error a failed update becomes. */
  private async refusal(meetingId: string, err: unknown): Promise<never> {
    // Still switching runs after every attempt: a moment later it takes the update.
    if (caughtInRunSwitch(err) || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) throw new AppError(503, 'service_unavailable', [{ code: MEETING_SWITCHING_RUN }], { 'Retry-After': '1' });
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === MEETING_REFUSED) {
      const code = String(err.cause.details?.[0] ?? 'meeting_closed') as ErrorCode;
      throw new AppError(refusalStatus[code] ?? 409, code in refusalStatus ? code : 'invalid_state', [{ code }]);
    }
    if (err instanceof WorkflowNotFoundError) {
      const closed = await this.models.Meeting.exists({ _id: meetingId, status: 'closed' });
      throw new AppError(409, closed ? 'meeting_closed' : 'meeting_not_open', [{ code: closed ? 'meeting_closed' : 'meeting_not_open' }]);
    }
    const grpc = grpcCause(err);
    // Temporal accepts at most 2,000 updates per workflow run (server default); a meeting continues as new
    // well before (MEETING_UPDATES_PER_RUN), so this is a last resort.
    if (grpc?.code === grpcStatus.FAILED_PRECONDITION) throw new AppError(409, 'meeting_update_limit', [{ code: 'meeting_update_limit' }]);
    throw unavailable(err);
  }
}

/** Temporal out of reach: 503 with Retry-After; anything else as it was. */
function unavailable(err: unknown): unknown {
  return grpcCause(err) || err instanceof ServiceError ? new AppError(503, 'service_unavailable', [{ code: 'temporal_unavailable' }], { 'Retry-After': '5' }) : err;
}
