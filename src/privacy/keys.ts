/**
 * The ordered keys (src/db/keys.ts) of the privacy work: how the daily retention sweep
 * finds what is due, and how the erasure finds the meetings of an application, without
 * reading the whole `applications` or `meetings` collection (on our FerretDB any filter
 * but `_id` reads all of it).
 *
 * - `ended:<time, 13 digits>:<app>`: an application that reached a final status, by when it
 *   ended. Written by the status projection (activities/applications.ts) before the final
 *   status, with the step's time (not later than the `updatedAt` the write sets: the key is
 *   a lower bound of it). The sweep reads the range up to the start of the retention and
 *   checks each application as before (final, not erased, `updatedAt` before the start):
 *   an application written again later is keyed again at its `updatedAt`; the key of one
 *   that was erased (or of a document gone, or not final: a crash) is removed by the sweep
 *   that finds it, i.e. the day after its erasure.
 * - `meeting-item:<app>:<meeting>`: a meeting whose agenda holds the application. Written
 *   before the meeting with its frozen agenda (activities/meetings.ts freezeAgenda); kept
 *   (the erased agenda item stays in the meeting). Readers check the agenda they fetch.
 */
import { idRange } from '../db/chain.ts';
import { addKeys, backfillKeysOnce, keyId, refsUnder, removeKeys } from '../db/keys.ts';
import type { AgendaItemDoc, ApplicationDoc, KeyDoc, MeetingDoc, Models } from '../db/models.ts';
import { isFinal } from '../domain/status.ts';

/** Milliseconds since 1970 in 13 digits: keys in time order up to the year 2286. */
const time13 = (at: Date | string) => String(new Date(at).getTime()).padStart(13, '0');

// --- applications that ended, by when ------------------------------------------------------

/** The key of an application that ended at `at`. */
export function endedKey(applicationId: string, at: Date | string): KeyDoc {
  return { _id: keyId('ended', [time13(at)], applicationId), ref: applicationId };
}

/** Keys read per query by the sweep. */
const PAGE = 500;

type Ended = Pick<ApplicationDoc, '_id' | 'status' | 'updatedAt'> & { erasedAt?: Date };

/**
 * The applications that ended before `before` and are not erased yet, in the order they
 * ended, at most `limit`: a range of `ended` keys, each application checked as it is
 * stored. Keys that no longer fit are removed (erased, gone) or moved to the application's
 * `updatedAt` (written again since), so the next sweep does not read them again.
 */
export async function endedBefore(models: Models, before: Date, limit: number): Promise<string[]> {
  const start = idRange('ended')._id.$gte;
  const end = `${start}${time13(before)}`;
  const due = new Set<string>();
  let after: string | undefined;
  while (due.size < limit) {
    const keys = await models.Key.find({ _id: after === undefined ? { $gte: start, $lt: end } : { $gt: after, $lt: end } })
      .sort({ _id: 1 })
      .limit(PAGE)
      .lean<KeyDoc[]>();
    if (!keys.length) break;
    after = keys[keys.length - 1]!._id;
    const refs = [...new Set(keys.map((k) => k.ref))];
    const apps = new Map(
      (await models.Application.collection.find({ _id: { $in: refs } } as never, { projection: { status: 1, updatedAt: 1, erasedAt: 1 } }).toArray() as unknown as Ended[]).map((a) => [a._id, a]),
    );
    const stale: string[] = [];
    const moved: KeyDoc[] = [];
    for (const k of keys) {
      const a = apps.get(k.ref);
      if (!a || a.erasedAt || !isFinal(a.status)) stale.push(k._id);
      else if (new Date(a.updatedAt) >= before) {
        moved.push(endedKey(a._id, a.updatedAt));
        stale.push(k._id);
      } else if (due.size < limit) due.add(a._id);
    }
    await addKeys(models, moved);
    await removeKeys(models, stale);
  }
  return [...due];
}

const ENDED_BACKFILLED = 'migration:ended-keys:v1';

/** Writes the `ended` keys of the applications that ended before these keys existed (once per database; one read of the applications at start-up). */
export async function backfillEndedKeys(models: Models): Promise<number> {
  return backfillKeysOnce(models, ENDED_BACKFILLED, async (add) => {
    for await (const a of models.Application.collection.find({}, { projection: { status: 1, updatedAt: 1, erasedAt: 1 } }) as AsyncIterable<unknown>) {
      const app = a as Ended;
      if (isFinal(app.status) && !app.erasedAt && app.updatedAt) await add(endedKey(app._id, app.updatedAt));
    }
  });
}

// --- the meetings an application was on the agenda of --------------------------------------

export function meetingItemKey(applicationId: string, meetingId: string): KeyDoc {
  return { _id: keyId('meeting-item', [applicationId], meetingId), ref: meetingId };
}

/** Writes the keys of a meeting's agenda (before the meeting is stored with it). */
export async function addMeetingItemKeys(models: Models, meetingId: string, agenda: readonly Pick<AgendaItemDoc, 'applicationId'>[]): Promise<void> {
  await addKeys(models, [...new Set(agenda.map((i) => i.applicationId))].map((id) => meetingItemKey(id, meetingId)));
}

/** The meetings whose agenda holds the application (with their agendas). */
export async function meetingsOfApplication(models: Models, applicationId: string): Promise<Pick<MeetingDoc, '_id' | 'agenda'>[]> {
  const ids = (await refsUnder(models, 'meeting-item', [applicationId])).map((k) => k.ref);
  const found = ids.length ? await models.Meeting.find({ _id: { $in: ids } }, { agenda: 1 }).lean<Pick<MeetingDoc, '_id' | 'agenda'>[]>() : [];
  return found.filter((m) => m.agenda.some((i) => i.applicationId === applicationId));
}

const MEETINGS_BACKFILLED = 'migration:meeting-item-keys:v1';

/** Writes the keys of the agendas stored before these keys existed (once per database; one read of the meetings at start-up). */
export async function backfillMeetingItemKeys(models: Models): Promise<number> {
  return backfillKeysOnce(models, MEETINGS_BACKFILLED, async (add) => {
    for await (const m of models.Meeting.find({}, { 'agenda.applicationId': 1 }).lean<Pick<MeetingDoc, '_id' | 'agenda'>[]>().cursor()) {
      for (const id of new Set((m.agenda ?? []).map((i) => i.applicationId))) await add(meetingItemKey(id, m._id));
    }
  });
}
