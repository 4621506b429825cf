import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { initiativeWorkflow, type InitiativeInput } from '../../workflows/initiative.ts';
import { accountLockedWorkflow, accountLockedWorkflowId } from '../../workflows/account-lock.ts';
import type { AccountLockNotifier } from '../services/staff-login.ts';
import { initiativeWorkflowId } from '../domain/application.ts';
import { referenceSearchAttribute, statusSearchAttribute } from '../domain/search-attributes.ts';

export interface InitiativeStarter {
  /** Starts initiative-<id>; starting one that already runs is a no-op (safe to retry). */
  start(input: InitiativeInput & { reference: string }): Promise<void>;
}

export { initiativeWorkflowId };

export function temporalInitiativeStarter(client: Client, taskQueue: string): InitiativeStarter {
  return {
    async start({ reference, ...input }) {
      await client.workflow.start(initiativeWorkflow, {
        taskQueue,
        workflowId: initiativeWorkflowId(input.applicationId),
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: statusSearchAttribute, value: 'submitted' },
          { key: referenceSearchAttribute, value: reference },
        ],
      });
    },
  };
}

/** Starts the e-mail about a locked account; the lock's id is the workflow's, so a second start of one lock is a no-op. */
export function temporalAccountLockNotifier(client: Client, taskQueue: string): AccountLockNotifier {
  return async (notice) => {
    try {
      await client.workflow.start(accountLockedWorkflow, { taskQueue, workflowId: accountLockedWorkflowId(notice.lockId), args: [notice], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  };
}
