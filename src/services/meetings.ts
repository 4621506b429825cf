import { status as grpcStatus } from '@grpc/grpc-js';
import { isGrpcServiceError, ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { AppError } from '../domain/errors.ts';
import type { ErrorCode } from '../domain/messages.ts';
import type { Models } from '../db/models.ts';
import { castVoteUpdate, closeMeetingUpdate, declareRecusalUpdate, inviteApplicantUpdate, meetingStateQuery, panelMeetingWorkflow } from '../../workflows/meeting.ts';
import { MEETING_REFUSED, type CastVoteArgs, type InviteArgs, type MeetingInput, type MeetingState, type RecusalArgs } from '../domain/workflow-types.ts';

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
    return this.refusing(meetingId, () => this.handle(meetingId).executeUpdate(castVoteUpdate, { args: [args] }));
  }

  recuse(meetingId: string, args: RecusalArgs) {
    return this.refusing(meetingId, () => this.handle(meetingId).executeUpdate(declareRecusalUpdate, { args: [args] }));
  }

  close(meetingId: string, memberId: string) {
    return this.refusing(meetingId, () => this.handle(meetingId).executeUpdate(closeMeetingUpdate, { args: [{ memberId }] }));
  }

  invite(meetingId: string, args: InviteArgs) {
    return this.refusing(meetingId, () => this.handle(meetingId).executeUpdate(inviteApplicantUpdate, { args: [args] }));
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

  private async refusing<T>(meetingId: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === MEETING_REFUSED) {
        const code = String(err.cause.details?.[0] ?? 'meeting_closed') as ErrorCode;
        throw new AppError(refusalStatus[code] ?? 409, code in refusalStatus ? code : 'invalid_state', [{ code }]);
      }
      if (err instanceof WorkflowNotFoundError) {
        const closed = await this.models.Meeting.exists({ _id: meetingId, status: 'closed' });
        throw new AppError(409, closed ? 'meeting_closed' : 'meeting_not_open', [{ code: closed ? 'meeting_closed' : 'meeting_not_open' }]);
      }
      // Temporal accepts at most 2,000 updates per workflow run (server default): far beyond a real meeting.
      if (grpcError(err)?.code === grpcStatus.FAILED_PRECONDITION) throw new AppError(409, 'meeting_update_limit', [{ code: 'meeting_update_limit' }]);
      throw unavailable(err);
    }
  }
}

const grpcError = (err: unknown) => (isGrpcServiceError(err) ? err : err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause : undefined);

/** Temporal out of reach: 503 with Retry-After; anything else as it was. */
function unavailable(err: unknown): unknown {
  return grpcError(err) || err instanceof ServiceError ? new AppError(503, 'service_unavailable', [{ code: 'temporal_unavailable' }], { 'Retry-After': '5' }) : err;
}
