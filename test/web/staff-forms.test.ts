/**
 * What the staff forms do, posted as a browser posts them (test/helpers/web.ts: cookies,
 * the CSRF token of the page the form is on): each change is checked in the database or
 * through the API, not only the redirect. Also the staff list's filters (status, wijk,
 * year) and its paging, with more applications than one page holds, and documents
 * opening in the browser (inline) for staff and applicant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amsterdamYear } from '../../src/domain/dates.ts';
import { upcomingMeetings } from '../../src/domain/meetings.ts';
import { calendarRules } from '../../src/temporal/schedule.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { pdfBytes, validApplication } from '../helpers/fixtures.ts';
import { grant, grantWithDocument, submitReady } from '../helpers/grants.ts';
import { webClient, type WebClient } from '../helpers/web.ts';

let ctx: TestContext;
const YEAR = amsterdamYear(new Date());
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

async function staff(email: string): Promise<WebClient> {
  const c = webClient(ctx);
  const res = await c.login(email);
  expect(res.status, `login ${email}`).toBe(303);
  return c;
}

/** A form's post from the page it is on (its CSRF token): the redirect it answers. */
async function submitFrom(c: WebClient, page: string, action: string, fields: Record<string, string> = {}): Promise<string> {
  expect((await c.get(page)).status, page).toBe(200);
  const res = await c.post(action, fields);
  expect(res.status, `${action}: ${res.status} ${res.text?.slice(0, 300)}`).toBe(303);
  return String(res.headers.location);
}

const rowsOf = (html: string) => [...html.matchAll(/<a class="utrecht-link" href="\/beheer\/aanvragen\/[0-9a-f-]{36}">(VW-\d{4}-\d{4})<\/a>/g)].map((m) => m[1]!);

describe('the staff list', () => {
  it('filters by status, wijk and year, pages by 20, and shows the count', async () => {
    // 22 in Stompwijk (more than a page), 2 in Damsigt; all in screening.
    const submit = async (wijk: string, n: number) => {
      const res = await ctx.http().post('/api/v1/applications').send(validApplication({ wijken: [wijk], title: `Lijst ${wijk} ${n}` }));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string; reference: string };
    };
    const stompwijk = await Promise.all(Array.from({ length: 22 }, (_, i) => submit('Stompwijk', i + 1)));
    const damsigt = await Promise.all([submit('Damsigt', 1), submit('Damsigt', 2)]);
    await eventually(async () => (await ctx.models.Application.countDocuments({ status: 'screening' })) === 24, 60_000, 'all 24 in screening');

    const panel = await staff('panel1@buurtfonds.test');
    const list = (q: string) => panel.get(`/beheer/aanvragen?${q}`);
    const first = await list(`status=screening&wijk=Stompwijk&year=${YEAR}`);
    expect(first.status).toBe(200);
    expect(first.text).toContain('22 aanvragen');
    expect(first.text).toContain('Pagina 1 van 2');
    const page1 = rowsOf(first.text);
    expect(page1).toHaveLength(20);
    // The next-page link keeps the filters.
    const next = /<a class="utrecht-link" rel="next" href="([^"]+)">/.exec(first.text)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toBeDefined();
    expect(new URLSearchParams(next!.split('?')[1])).toEqual(new URLSearchParams(`status=screening&wijk=Stompwijk&year=${YEAR}&page=2`));
    const second = await panel.get(next!);
    expect(second.text).toContain('Pagina 2 van 2');
    const page2 = rowsOf(second.text);
    expect(page2).toHaveLength(2);
    expect(new Set([...page1, ...page2])).toEqual(new Set(stompwijk.map((a) => a.reference)));

    const other = await list('wijk=Damsigt');
    expect(other.text).toContain('2 aanvragen');
    expect(new Set(rowsOf(other.text))).toEqual(new Set(damsigt.map((a) => a.reference)));
    expect(other.text).not.toContain('rel="next"');

    // No match: another year, another status.
    for (const q of [`year=${YEAR - 1}`, 'status=paid&wijk=Stompwijk']) {
      const none = await list(q);
      expect(none.text, q).toContain('0 aanvragen');
      expect(rowsOf(none.text), q).toEqual([]);
      expect(none.text, q).toContain('Geen aanvragen gevonden.');
    }
  });
});

describe('the staff forms change what they say', () => {
  it('flag for support: the grant gets a support case and shows in the welfare queue', async () => {
    const g = await grant(ctx, { title: 'Buurtmoestuin zonder hulpvraag', wijken: ['Bovenveen'], wantsSupport: false, supportWish: undefined });
    expect(await ctx.deps.support.get(g.id)).toBeUndefined();
    const panel = await staff('panel1@buurtfonds.test');
    expect(await submitFrom(panel, `/beheer/aanvragen/${g.id}`, `/beheer/aanvragen/${g.id}/ondersteuning`)).toBe(`/beheer/aanvragen/${g.id}`);
    expect(await ctx.deps.support.get(g.id)).toMatchObject({ reason: 'flagged', state: 'unclaimed' });
    const welfare = await staff('welzijn1@buurtfonds.test');
    const queue = await welfare.get('/beheer/ondersteuning?organisatie=');
    expect(queue.text).toContain('Buurtmoestuin zonder hulpvraag');
  });

  it('welfare hand over: the case moves from the worker who claimed it to the other', async () => {
    const g = await grant(ctx, { title: 'Speeltuin Bovenveen', wijken: ['Bovenveen'] });
    await eventually(async () => (await ctx.deps.support.get(g.id))?.state === 'unclaimed', 20_000, 'the support case queued');
    const ids = Object.fromEntries((await ctx.models.StaffUser.find({}, { email: 1 }).lean()).map((u) => [u.email, u._id]));
    const welfare = await staff('welzijn1@buurtfonds.test');
    await submitFrom(welfare, '/beheer/ondersteuning', `/beheer/ondersteuning/${g.id}/oppakken`);
    expect((await ctx.deps.support.get(g.id))?.claimedBy?.id).toBe(ids['welzijn1@buurtfonds.test']);
    await submitFrom(welfare, `/beheer/ondersteuning/${g.id}`, `/beheer/ondersteuning/${g.id}/overdragen`, { toUserId: ids['welzijn2@buurtfonds.test']! });
    expect((await ctx.deps.support.get(g.id))?.claimedBy).toMatchObject({ id: ids['welzijn2@buurtfonds.test'], name: 'Ondersteuner SenW' });
    // The page says who has it now.
    expect((await welfare.get(`/beheer/ondersteuning/${g.id}`)).text).toContain('Ondersteuner SenW');
  });

  it('panel members: a new member made chair (the old chair steps down), another deactivated', async () => {
    const admin = await staff('admin@buurtfonds.test');
    for (const [name, email] of [['Nieuwe Voorzitter', 'voorzitter-nieuw@buurtfonds.test'], ['Vertrekkend Lid', 'vertrekt@buurtfonds.test']]) {
      expect(await submitFrom(admin, '/beheer/panel', '/beheer/panel', { name: name!, email: email!, password: 'een-lang-wachtwoord' })).toBe('/beheer/panel');
    }
    const member = async (email: string) => (await ctx.models.StaffUser.findOne({ email }, { chair: 1, active: 1 }).lean())!;
    const chair = await member('voorzitter-nieuw@buurtfonds.test');
    const leaving = await member('vertrekt@buurtfonds.test');
    expect((await member('panel1@buurtfonds.test')).chair).toBe(true);

    await submitFrom(admin, '/beheer/panel', `/beheer/panel/${chair._id}/voorzitter`);
    expect(await member('voorzitter-nieuw@buurtfonds.test')).toMatchObject({ chair: true, active: true });
    expect((await member('panel1@buurtfonds.test')).chair).toBe(false);

    await submitFrom(admin, '/beheer/panel', `/beheer/panel/${leaving._id}/deactiveren`);
    expect(await member('vertrekt@buurtfonds.test')).toMatchObject({ active: false, chair: false });
    // A deactivated member cannot log in any more.
    expect((await ctx.http().post('/api/v1/auth/login').send({ email: 'vertrekt@buurtfonds.test', password: 'een-lang-wachtwoord' })).status).toBe(401);
    // And the chair back for the rest of the file.
    await submitFrom(admin, '/beheer/panel', `/beheer/panel/${(await member('panel1@buurtfonds.test'))._id}/voorzitter`);
  });

  it('meetings: one skipped, another moved to a new date and time', async () => {
    const upcoming = upcomingMeetings(calendarRules(ctx.config), [], new Date(), 8);
    const [toSkip, toMove] = [upcoming[5]!, upcoming[6]!];
    const newDate = new Date(Date.parse(`${toMove.regularDate}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const admin = await staff('admin@buurtfonds.test');
    await submitFrom(admin, '/beheer/vergaderingen', `/beheer/vergaderingen/${toSkip.meetingId}/overslaan`);
    await submitFrom(admin, '/beheer/vergaderingen', `/beheer/vergaderingen/${toMove.meetingId}/verplaatsen`, { date: newDate, time: '20:15' });
    const listed = await ctx.deps.calendar.list(10);
    expect(listed.skipped).toContain(toSkip.regularDate);
    expect(listed.upcoming.map((m) => m.id)).not.toContain(toSkip.meetingId);
    expect(listed.upcoming.find((m) => m.id === toMove.meetingId)).toMatchObject({ date: newDate, time: '20:15', moved: true });
    const audit = await ctx.models.Audit.find({ action: { $in: ['meeting.skipped', 'meeting.moved'] } }, { action: 1, target: 1 }).lean();
    expect(audit.map((e) => [e.action, e.target]).sort()).toEqual([
      ['meeting.moved', toMove.meetingId],
      ['meeting.skipped', toSkip.meetingId],
    ]);
  });

  it('a staff document: stored with the application (the applicant sees it, from staff), opened inline on the staff page', async () => {
    const a = await submitReady(ctx, { title: 'Buurtbibliotheek' });
    const panel = await staff('panel1@buurtfonds.test');
    await panel.get(`/beheer/aanvragen/${a.id}`);
    const res = await panel.postMultipart(`/beheer/aanvragen/${a.id}/documenten`, {}, [{ field: 'documents', name: 'verslag-gesprek.pdf', bytes: pdfBytes }]);
    expect(res.status, res.text?.slice(0, 300)).toBe(303);
    const view = await ctx.http().get(`/api/v1/applications/${a.id}`).set('Authorization', `Bearer ${a.token}`);
    const doc = view.body.documents.find((d: { fileName: string }) => d.fileName === 'verslag-gesprek.pdf');
    expect(doc, JSON.stringify(view.body.documents)).toMatchObject({ uploadedBy: 'staff', contentType: 'application/pdf' });
    const staffOpen = await panel.get(`/beheer/aanvragen/${a.id}/documenten/${doc.id}`);
    expect(staffOpen.status).toBe(200);
    expect(staffOpen.headers['content-disposition']).toMatch(/^inline; filename="?verslag-gesprek\.pdf"?$/);
    expect(staffOpen.headers['content-type']).toBe('application/pdf');
    expect(Number(staffOpen.headers['content-length'])).toBe(pdfBytes.length);
  });

  it("the applicant's own document opens inline on the status page", async () => {
    const g = await grantWithDocument(ctx, { title: 'Buurtkoor' });
    const resident = webClient(ctx);
    const link = await ctx.deps.signer.signApplicantLink(g.id);
    expect((await resident.get(`/aanvraag/${g.id}?token=${link}`)).status).toBe(303);
    const open = await resident.get(`/aanvraag/${g.id}/documenten/${g.documentId}`);
    expect(open.status).toBe(200);
    expect(open.headers['content-disposition']).toMatch(/^inline; filename="?plan\.pdf"?$/);
  });
});
