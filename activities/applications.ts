import type { ApplicationDoc, Models } from '../src/db/models.ts';
import { countedRowOf, tallyKey, tallyProjection, type ReportTally } from '../src/reports/tally.ts';
import { addGrantKeys, addKeys, insertEvent, moveListKeys, moveRefundKey } from '../src/db/keys.ts';
import { isFinal, type ApplicationStatus, type InformationRequest, type TimelineEvent } from '../src/domain/status.ts';
import { removeOpenKey } from '../src/support/keys.ts';
import { endedKey } from '../src/privacy/keys.ts';
import { moveStoryKeys, storyProjection, type StoryFields } from '../src/reports/stories.ts';
import type { DecisionNotice, MeetingNotice } from '../src/domain/decisions.ts';
import type { InitiativeReport, ReportReview, Settlement } from '../src/domain/report.ts';

export interface RecordProgressInput {
  applicationId: string;
  /** Monotonic per workflow; makes the write idempotent and keeps a late retry from moving the status back. */
  seq: number;
  event: TimelineEvent;
  status: ApplicationStatus;
  informationRequests: InformationRequest[];
  meeting?: MeetingNotice | null;
  decision?: DecisionNotice | null;
  rollovers?: number;
  /** After the payout (absent before, and in histories from before the follow-up stage). */
  report?: InitiativeReport | null;
  review?: ReportReview | null;
  settlement?: Settlement | null;
}

export function createApplicationActivities(deps: { models: Models; tally: ReportTally }) {
  const { Application } = deps.models;
  return {
    /**
     * Projects one workflow step into the read model. Safe to run twice. The monitoring
     * summary's delta is written first, decided on the application as read: a retry after
     * a crash before the update decides the same delta under the same key (src/reports/tally.ts).
     */
    async recordProgress(input: RecordProgressInput): Promise<void> {
      const { id, ...event } = input.event;
      await insertEvent(deps.models, { _id: id, applicationId: input.applicationId, ...event });
      // What the figures count, and what the story keys are made of (src/reports/stories.ts).
      const app = await Application.findById(input.applicationId, { ...tallyProjection, ...storyProjection }).lean<ApplicationDoc & StoryFields>();
      if (!app) return;
      if (app.statusSeq < input.seq) {
        const before = countedRowOf(app);
        // Nothing projected yet: intake may have crashed before counting the application.
        if (app.statusSeq <= 1) await deps.tally.recordCreated(app);
        const after = countedRowOf({
          ...app,
          status: input.status,
          decision: input.decision ?? null,
          ...(input.report !== undefined ? { report: input.report ?? undefined, review: input.review ?? undefined } : {}),
        } as typeof app);
        await deps.tally.record(app.year, tallyKey.status(app._id, input.seq), before, after);
      }
      // The list keys of the status it will have (a stale retry keeps the one it has), then the
      // status; the workflow sends these one at a time, in order; the seq guard drops a stale retry.
      const status = app.statusSeq >= input.seq ? app.status : input.status;
      const write = () => Application.updateOne(
        { _id: input.applicationId, statusSeq: { $lt: input.seq } },
        {
          $set: {
            status: input.status,
            statusSeq: input.seq,
            informationRequests: input.informationRequests,
            meeting: input.meeting ?? null,
            decision: input.decision ?? null,
            rollovers: input.rollovers ?? 0,
            ...(input.report !== undefined ? { report: input.report, review: input.review ?? null, settlement: input.settlement ?? null } : {}),
          },
        },
      );
      // The retention sweep finds an application that ended by the time it ended (src/privacy/keys.ts): written before the final status.
      if (app.statusSeq < input.seq && isFinal(input.status) && !isFinal(app.status)) await addKeys(deps.models, [endedKey(app._id, input.event.at)]);
      // Finance's open refunds and the monitoring's stories are found by key too (only a step that carries the report moves them).
      const reportStep = input.report !== undefined && app.statusSeq < input.seq;
      const writeAll = reportStep
        ? () => moveStoryKeys(deps.models, app, { ...app, report: input.report }, () => moveRefundKey(deps.models, input.applicationId, input.settlement, write))
        : write;
      await moveListKeys(deps.models, app, status, writeAll);
      // A grant is found by its wijk and year for the panel's fair-spread figures (src/db/keys.ts).
      if (input.decision?.grantedCents) await addGrantKeys(deps.models, { _id: app._id, wijken: app.wijken, year: app.year, decision: input.decision });
      // An initiative that ended leaves the support queue (after its status says so: src/support/keys.ts).
      if (isFinal(status)) await removeOpenKey(deps.models, input.applicationId);
    },
  };
}
