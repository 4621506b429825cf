import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { supportClaimedSignal, supportReleasedSignal, supportWorkflow, supportWorkflowId } from '../../workflows/support.ts';
import type { SupportWorkflowInput } from '../domain/workflow-types.ts';
import type { SupportWorkflows } from './service.ts';

/** The support workflow through a Temporal client (the API's side). */
export function temporalSupportWorkflows(client: Client, taskQueue: string): SupportWorkflows {
  const handle = (applicationId: string) => client.workflow.getHandle(supportWorkflowId(applicationId));
  return {
    async claimed(applicationId, at) {
      try {
        await handle(applicationId).signal(supportClaimedSignal, { at });
      } catch (err) {
        // Completed (claimed before, or the initiative ended) or never started: nothing waits for this claim.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },
    async requeue(input: SupportWorkflowInput, at) {
      // A run still going gets the signal; otherwise a new run starts under the same id and gets it first.
      await client.workflow.signalWithStart(supportWorkflow, {
        taskQueue,
        workflowId: supportWorkflowId(input.applicationId),
        args: [input],
        signal: supportReleasedSignal,
        signalArgs: [{ at }],
      });
    },
    async start(input: SupportWorkflowInput) {
      await client.workflow.start(supportWorkflow, {
        taskQueue,
        workflowId: supportWorkflowId(input.applicationId),
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    },
    async running(applicationId) {
      try {
        return (await handle(applicationId).describe()).status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
  };
}
