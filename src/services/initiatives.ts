import { isGrpcServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { AppError } from '../domain/errors.ts';
import {
  completeScreeningUpdate,
  INVALID_STATE,
  NOT_READY,
  provideInformationUpdate,
  requestInformationUpdate,
  withdrawUpdate,
  type ProvideInformationArgs,
  type RequestInformationArgs,
  type WithdrawArgs,
} from '../../workflows/initiative.ts';
import { initiativeWorkflowId } from '../temporal/starter.ts';
import { recordRefundUpdate, reviewReportUpdate, submitReportUpdate, type RecordRefundArgs, type ReviewReportArgs, type SubmitReportArgs } from '../../workflows/follow-up.ts';

/**
 * An action on an application that has only just been stored and that its workflow cannot
 * take yet: not "never" but "in a moment" (503, Retry-After; the message says to try again).
 */
export function applicationNotReady(): AppError {
  return new AppError(503, 'application_not_ready', [{ code: 'application_not_ready' }], { 'Retry-After': '5' });
}

/** The API's side of the initiative workflow: Workflow Updates, with refusals mapped to stable error codes. */
export class InitiativeCommands {
  private readonly client: Client;
  constructor(client: Client) {
    this.client = client;
  }

  private handle(applicationId: string) {
    return this.client.workflow.getHandle(initiativeWorkflowId(applicationId));
  }

  requestInformation(applicationId: string, args: RequestInformationArgs) {
    return mapRefusal(() => this.handle(applicationId).executeUpdate(requestInformationUpdate, { args: [args] }));
  }

  provideInformation(applicationId: string, args: ProvideInformationArgs) {
    return mapRefusal(() => this.handle(applicationId).executeUpdate(provideInformationUpdate, { args: [args] }));
  }

  completeScreening(applicationId: string, completedBy: string) {
    return mapRefusal(() => this.handle(applicationId).executeUpdate(completeScreeningUpdate, { args: [{ completedBy }] }));
  }

  withdraw(applicationId: string, args: WithdrawArgs) {
    return mapRefusal(() => this.handle(applicationId).executeUpdate(withdrawUpdate, { args: [args] }));
  }

  submitReport(applicationId: string, args: SubmitReportArgs) {
    return mapRefusal(() => this.handle(applicationId).executeUpdate(submitReportUpdate, { args: [args] }));
  }

  reviewReport(applicationId: string, args: ReviewReportArgs) {
    return mapRefusal(() => this.handle(applicationId).executeUpdate(reviewReportUpdate, { args: [args] }));
  }

  recordRefund(applicationId: string, args: RecordRefundArgs) {
    return mapRefusal(() => this.handle(applicationId).executeUpdate(recordRefundUpdate, { args: [args] }));
  }
}

async function mapRefusal<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === INVALID_STATE) {
      throw new AppError(409, 'invalid_state', [{ code: 'invalid_state', reason: err.cause.message }]);
    }
    // Sent right after intake, and the workflow's first step did not come in time (workflows/initiative.ts FIRST_STEP_WAIT).
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === NOT_READY) throw applicationNotReady();
    // The workflow has completed (withdrawn, lapsed): nothing can change any more.
    if (err instanceof WorkflowNotFoundError) throw new AppError(409, 'invalid_state', [{ code: 'workflow_closed' }]);
    if (isGrpcServiceError(err) || (err instanceof Error && err.name === 'ServiceError')) {
      throw new AppError(503, 'service_unavailable', [{ code: 'temporal_unavailable' }], { 'Retry-After': '5' });
    }
    throw err;
  }
}
