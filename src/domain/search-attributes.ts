import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The initiative's status as a Temporal search attribute, so the Web UI can filter by it. */
export const statusSearchAttribute = defineSearchAttributeKey('BuurtfondsStatus', SearchAttributeType.KEYWORD);
/** The human reference (VW-2026-0042) for finding a workflow in the Web UI. */
export const referenceSearchAttribute = defineSearchAttributeKey('BuurtfondsReference', SearchAttributeType.KEYWORD);

export const customSearchAttributes = [statusSearchAttribute, referenceSearchAttribute] as const;
