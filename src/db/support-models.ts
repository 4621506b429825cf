/**
 * The support cases: one append-only chain per initiative (`support-<applicationId>`,
 * see src/db/chain.ts) in the collection `support_events`. Claims, releases, hand-overs
 * and notes from the API and the queue/reminder/flag facts from the worker are each one
 * inserted entry, decided on the whole case before it: two workers claiming at once
 * cannot both win, on FerretDB v1 too (its updates are not isolated; inserts into a
 * unique index are).
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { SupportEventDoc } from '../support/events.ts';

export type { SupportEventDoc };

const supportEventSchema = new Schema<SupportEventDoc>(
  {
    _id: String,
    chain: { type: String, required: true },
    seq: { type: Number, required: true },
    key: { type: String, required: true, unique: true },
    at: { type: Date, required: true },
    applicationId: { type: String, required: true },
    kind: { type: String, required: true },
    occurredAt: { type: String, required: true },
    actor: { type: String, required: true },
    requestId: String,
    queued: Schema.Types.Mixed,
    worker: Schema.Types.Mixed,
    from: Schema.Types.Mixed,
    note: Schema.Types.Mixed,
    period: Number,
    recipients: { type: [String], default: undefined },
  },
  { versionKey: false },
);
supportEventSchema.index({ chain: 1, seq: 1 });

/** The model on this connection (compiled once per connection), with its indexes built. */
export async function supportEventModel(connection: Connection): Promise<Model<SupportEventDoc>> {
  const model = (connection.models.SupportEvent as Model<SupportEventDoc> | undefined) ?? connection.model<SupportEventDoc>('SupportEvent', supportEventSchema, 'support_events');
  // The unique `key` index is what makes a retried write find its first entry.
  await model.init();
  return model;
}
