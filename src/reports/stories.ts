/**
 * The stories of the monitoring (report texts with their photos), a page at a time by
 * ordered keys (src/db/keys.ts), so a page costs the same however many applications a
 * year holds (on our FerretDB a filter on `year` would read every application).
 *
 * `story:<year>:<wijk or *>:<newest report first>:<reference>:<app>`: one key per wijk the
 * initiative serves (`wijkenOf`: its wijken, or Gemeentebreed) and one under `*`, for an
 * application whose report has a text and whose personal data is not erased. Written by
 * the status projection (activities/applications.ts) before the report is, the keys of the
 * earlier report (a report sent again after a clarification has a new time) removed after
 * it; the erasure removes them after erasing the text (activities/privacy.ts). A page reads
 * its keys, the applications by `_id` and the photos' documents by `_id`; an application
 * whose present keys do not include the one read (a crash between the steps above) is
 * skipped, so a page may be one story short until the key is removed.
 */
import { addKeys, backfillKeysOnce, countUnder, keyId, newestFirst, refsUnder, removeKeys } from '../db/keys.ts';
import type { KeyDoc, Models } from '../db/models.ts';
import { ERASED } from '../privacy/erasure.ts';
import { amsterdamMonthOf, rowOf, rowProjection, str, wijkenOf, type Doc } from './figures.ts';
import type { Story } from './service.ts';

const ANY = '*';

/** What the keys of a story depend on (the stored application, projected by `storyProjection`). */
export interface StoryFields {
  _id: string;
  year: number;
  reference: string;
  wijken: readonly string[];
  report?: { text?: string | undefined; submittedAt?: string | undefined } | null | undefined;
  erasedAt?: Date | string | null | undefined;
}

export const storyProjection = { _id: 1, year: 1, reference: 1, wijken: 1, 'report.text': 1, 'report.submittedAt': 1, erasedAt: 1 } as const;

/** Whether the application has a story to tell: a report with a text, not erased. */
function tellsStory(a: StoryFields): boolean {
  const text = a.report?.text;
  return typeof text === 'string' && text !== '' && text !== ERASED && !a.erasedAt;
}

/** The keys of the application's report, whether or not it still tells a story (what removal needs). */
function keysOfReport(a: StoryFields): KeyDoc[] {
  const at = a.report?.submittedAt;
  if (!at) return [];
  return [...new Set([...wijkenOf({ wijken: [...a.wijken] }), ANY])].map((w) => ({ _id: keyId('story', [String(a.year), w, newestFirst(at), a.reference], a._id), ref: a._id }));
}

/** The keys the application has now: those of its report when it tells a story. */
export function storyKeys(a: StoryFields): KeyDoc[] {
  return tellsStory(a) ? keysOfReport(a) : [];
}

/**
 * Keeps the story keys in step with a report being written: the keys of `after` (the
 * application with the new report), then the report (`then`), then the keys of `before`
 * (as stored) that `after` does not have removed. Safe to repeat.
 */
export async function moveStoryKeys(models: Models, before: StoryFields, after: StoryFields, then: () => Promise<unknown>): Promise<void> {
  const keep = storyKeys(after);
  await addKeys(models, keep);
  await then();
  const kept = new Set(keep.map((k) => k._id));
  await removeKeys(models, keysOfReport(before).filter((k) => !kept.has(k._id)).map((k) => k._id));
}

/** Removes the story keys of an application whose report no longer tells one (after the erasure is written). */
export async function removeStoryKeys(models: Models, a: StoryFields): Promise<void> {
  await removeKeys(models, keysOfReport(a).map((k) => k._id));
}

/** A page of the stories of `year` (serving `wijk`, or all), newest report first, and how many there are. */
export async function storiesPage(
  models: Models,
  publicBaseUrl: string,
  year: number,
  q: { wijk?: string; offset: number; limit: number },
): Promise<{ total: number; stories: Story[] }> {
  const parts = [String(year), q.wijk ?? ANY];
  const [keys, total] = await Promise.all([refsUnder(models, 'story', parts, { skip: q.offset, limit: q.limit }), countUnder(models, 'story', parts)]);
  if (!keys.length) return { total, stories: [] };
  const docs = new Map(
    ((await models.Application.collection.find({ _id: { $in: [...new Set(keys.map((k) => k.ref))] } } as never, { projection: rowProjection }).toArray()) as unknown as Doc[]).map((d) => [d._id, d]),
  );
  // Only the applications that still have the key read (the year, wijk, report and text it says).
  const found = keys.flatMap((k) => {
    const d = docs.get(k.ref);
    return d && storyKeys(d as unknown as StoryFields).some((s) => s._id === k._id) ? [d] : [];
  });
  const monthOf = amsterdamMonthOf(year);
  const rows = found.map((d) => rowOf(d, new Map(), monthOf));
  const photos = await photosOf(models, publicBaseUrl, rows.map((r) => ({ applicationId: r.id, documentIds: r.story!.documentIds })));
  const stories = rows.map(
    (r): Story => ({
      applicationId: r.id,
      reference: r.reference,
      title: r.title,
      wijken: r.wijken,
      purposes: r.purposes,
      ...(r.activityDate ? { activityDate: r.activityDate } : {}),
      ...(r.report?.submittedAt ? { reportedAt: r.report.submittedAt } : {}),
      participants: r.report?.participants ?? 0,
      volunteers: r.report?.volunteers ?? 0,
      ...(r.report?.selfAssessment ? { selfAssessment: r.report.selfAssessment } : {}),
      ...(r.trafficLight ? { trafficLight: r.trafficLight } : {}),
      text: r.story!.text,
      photos: photos.get(r.id) ?? [],
    }),
  );
  return { total, stories };
}

/** The photos of the reports: the image documents among their documents, in the report's order, by `_id`. */
async function photosOf(models: Models, publicBaseUrl: string, reports: { applicationId: string; documentIds: string[] }[]): Promise<Map<string, Story['photos']>> {
  const ids = [...new Set(reports.flatMap((r) => r.documentIds))];
  const docs = new Map(
    (ids.length ? ((await models.Document.collection.find({ _id: { $in: ids } } as never, { projection: { applicationId: 1, fileName: 1, contentType: 1 } }).toArray()) as unknown as Doc[]) : []).map((d) => [d._id, d]),
  );
  const photos = new Map<string, Story['photos']>();
  for (const r of reports) {
    const list = r.documentIds.flatMap((id) => {
      const d = docs.get(id);
      const contentType = str(d?.contentType);
      if (!d || d.applicationId !== r.applicationId || !contentType?.startsWith('image/')) return [];
      return [{ id, fileName: str(d.fileName) ?? id, contentType, url: `${publicBaseUrl}/api/v1/applications/${r.applicationId}/documents/${id}` }];
    });
    photos.set(r.applicationId, list);
  }
  return photos;
}

const STORIES_BACKFILLED = 'migration:story-keys:v1';

/** Writes the story keys of the reports stored before these keys existed (once per database; one read of the applications at start-up). */
export async function backfillStoryKeys(models: Models): Promise<number> {
  return backfillKeysOnce(models, STORIES_BACKFILLED, async (add) => {
    for await (const d of models.Application.collection.find({}, { projection: storyProjection }) as AsyncIterable<unknown>) {
      for (const k of storyKeys(d as StoryFields)) await add(k);
    }
  });
}
