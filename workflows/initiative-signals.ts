/** Signals the meeting workflow sends to initiative workflows (defined apart so both import them). */
import { defineSignal } from '@temporalio/workflow';
import type { DecisionNotice, MeetingNotice } from '../src/domain/decisions.ts';
import type { PaidNotice } from '../src/domain/workflow-types.ts';

export const scheduledSignal = defineSignal<[MeetingNotice]>('scheduledForMeeting');
export const invitedSignal = defineSignal<[MeetingNotice]>('invitedToExplain');
export const rolledOverSignal = defineSignal<[{ meetingId: string; rollovers: number; flagged: boolean }]>('rolledOver');
export const decisionSignal = defineSignal<[DecisionNotice]>('decisionMade');

/** Finance reported the batch with this payout as executed by the bank (sent by the api; idempotent). */
export const payoutExecutedSignal = defineSignal<[PaidNotice]>('payoutExecuted');
