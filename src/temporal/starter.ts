import type { Client } from '@temporalio/client';
import { initiativeWorkflow, type InitiativeInput } from '../../workflows/initiative.ts';
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
