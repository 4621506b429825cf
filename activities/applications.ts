import type { Models } from '../src/db/models.ts';
import type { ApplicationStatus, InformationRequest, TimelineEvent } from '../src/domain/status.ts';

export interface RecordProgressInput {
  applicationId: string;
  /** Monotonic per workflow; makes the write idempotent and keeps a late retry from moving the status back. */
  seq: number;
  event: TimelineEvent;
  status: ApplicationStatus;
  informationRequests: InformationRequest[];
}

export function createApplicationActivities(deps: { models: Models }) {
  const { Application } = deps.models;
  return {
    /** Projects one workflow step into the read model. Safe to run twice. */
    async recordProgress(input: RecordProgressInput): Promise<void> {
      await Application.updateOne(
        { _id: input.applicationId, 'timeline.id': { $ne: input.event.id } },
        { $push: { timeline: input.event } },
      );
      await Application.updateOne(
        { _id: input.applicationId, statusSeq: { $lt: input.seq } },
        { $set: { status: input.status, statusSeq: input.seq, informationRequests: input.informationRequests } },
      );
    },
  };
}
