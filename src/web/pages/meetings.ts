/**
 * The panel's meetings: the list (admin skips or moves one, or adds an extra meeting), and the meeting page the
 * agenda e-mail links to: per item everything needed to decide (summary, amount, budget
 * lines, documents, budget left, the spread over wijken, an earlier rejection and what
 * changed), a vote form (full / partial with amount and struck lines / reject / defer,
 * reasons), recusal, invitation, who has voted (not how, until it is closed), the
 * chair's close and, once closed, the decisions with every vote.
 */
import type { ApiDeps } from '../../api/deps.ts';
import { isAllowed } from '../../api/auth.ts';
import type { RouteSpec } from '../../api/route-spec.ts';
import { amsterdamDate, formatDate, formatDateTime } from '../../domain/dates.ts';
import { AppError, ValidationError } from '../../domain/errors.ts';
import { extraMeetingInputSchema, moveMeetingInputSchema, recusalInputSchema, voteInputSchema } from '../../domain/meeting-inputs.ts';
import { problemText } from '../../domain/validation-messages.ts';
import { euros, type FlashCode } from '../../domain/page-messages.ts';
import { voteKinds } from '../../domain/decision.ts';
import type { AgendaItemView, MeetingView } from '../../services/meeting-calendar.ts';
import { actionForm, button, choices, csrfField, errorSummary, fieldId, FormErrors, heading, paragraph, table, textArea, textField } from '../components.ts';
import { amount, list, opt, str, validate, type FormBody } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { pagePaths, staffPaths } from '../paths.ts';
import { sameAccessAs, type Page, type PageSpec } from '../router.ts';

interface ItemForm {
  applicationId: string;
  body: FormBody;
  errors: FormErrors;
}

export function meetingPages(deps: ApiDeps, routes: readonly RouteSpec[]): PageSpec[] {
  const rule = {
    list: sameAccessAs(routes, 'get', '/api/v1/meetings'),
    read: sameAccessAs(routes, 'get', '/api/v1/meetings/:id'),
    vote: sameAccessAs(routes, 'post', '/api/v1/meetings/:id/votes'),
    recuse: sameAccessAs(routes, 'post', '/api/v1/meetings/:id/recusals'),
    invite: sameAccessAs(routes, 'post', '/api/v1/meetings/:id/invitations'),
    close: sameAccessAs(routes, 'post', '/api/v1/meetings/:id/close'),
    skip: sameAccessAs(routes, 'post', '/api/v1/meetings/:id/skip'),
    move: sameAccessAs(routes, 'post', '/api/v1/meetings/:id/move'),
    extra: sameAccessAs(routes, 'post', '/api/v1/meetings/extra'),
  };
  const base = (id: string) => pagePaths.meeting(id);

  async function descriptions(items: readonly AgendaItemView[]): Promise<Map<string, { description: string; targetGroup?: string; activity: { startDate: string; location: string } }>> {
    if (!items.length) return new Map();
    const docs = await deps.models.Application.find({ _id: { $in: items.map((i) => i.applicationId) } }, { description: 1, targetGroup: 1, activity: 1 }).lean();
    return new Map(docs.map((d) => [d._id, { description: d.description, ...(d.targetGroup ? { targetGroup: d.targetGroup } : {}), activity: d.activity }]));
  }

  function itemCard(page: Page, m: MeetingView, item: AgendaItemView, n: number, extra: { description?: string; targetGroup?: string; activity?: { startDate: string; location: string } } | undefined, form?: ItemForm): SafeHtml {
    const { t, locale } = page;
    const mt = t.meeting;
    const me = page.staff?.userId;
    const open = m.status === 'open';
    const members = m.members ?? [];
    const recused = new Set(m.recusals.filter((r) => r.applicationId === item.applicationId).map((r) => r.memberId));
    const lastVotes = new Map<string, (typeof m.votes)[number]>();
    for (const v of m.votes) if (v.applicationId === item.applicationId) lastVotes.set(v.memberId, v);
    const mine = me ? lastVotes.get(me) : undefined;
    const isMember = !!me && members.some((x) => x.id === me);
    const canVote = open && isMember && !recused.has(me!) && isAllowed(rule.vote, page.principal, page.req.params);
    const outcome = m.outcomes.find((o) => o.applicationId === item.applicationId);
    const prefix = `items.${n}`;
    const errors = form?.applicationId === item.applicationId ? form.errors : undefined;
    const v = (name: string) => (form?.applicationId === item.applicationId ? str(form.body, name) : '');
    const wijkSpread = Object.entries(item.fairSpread.wijkGrantedCents ?? {});
    const id = (name: string) => fieldId(`${prefix}.${name}`);
    return html`<li class="bf-card" id="item-${n}">
<h2 class="utrecht-heading-2">${mt.item(n + 1, m.agenda.length)}: ${item.title}</h2>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${pagePaths.application(item.applicationId)}">${item.reference}</a> · ${item.applicantName} · ${item.wijken.join(', ')}</p>
${extra?.description ? html`<p class="utrecht-paragraph bf-pre">${extra.description}</p>` : ''}
<dl class="utrecht-data-list">
<dt class="utrecht-data-list__item-key">${mt.requested}</dt><dd class="utrecht-data-list__item-value">${euros(item.amountRequestedCents, locale)}</dd>
<dt class="utrecht-data-list__item-key">${t.apply.purposes}</dt><dd class="utrecht-data-list__item-value">${item.purposes.map((p) => t.purposes[p as keyof typeof t.purposes] ?? p).join(', ')}</dd>
<dt class="utrecht-data-list__item-key">${t.apply.participants}</dt><dd class="utrecht-data-list__item-value">${String(item.expectedParticipants)}</dd>
${extra?.activity ? html`<dt class="utrecht-data-list__item-key">${t.status.activity}</dt><dd class="utrecht-data-list__item-value">${formatDate(new Date(`${extra.activity.startDate}T12:00:00Z`), locale)}, ${extra.activity.location}</dd>` : ''}
<dt class="utrecht-data-list__item-key">${mt.budgetYear(item.budgetYear)}</dt><dd class="utrecht-data-list__item-value">${mt.remainingAtFreeze}: ${euros(item.budgetRemainingCents, locale)}${item.budgetRemainingCentsNow !== undefined ? html`<br>${mt.remainingNow}: ${euros(item.budgetRemainingCentsNow, locale)}` : ''}</dd>
<dt class="utrecht-data-list__item-key">${mt.applicantHad}</dt><dd class="utrecht-data-list__item-value">${euros(item.fairSpread.applicantGrantedCents, locale)}</dd>
<dt class="utrecht-data-list__item-key">${mt.wijkHad}</dt><dd class="utrecht-data-list__item-value">${wijkSpread.length ? wijkSpread.map(([w, c]) => `${w}: ${euros(c, locale)}`).join('; ') : t.common.none}</dd>
${item.fairSpread.earlierRejection ? html`<dt class="utrecht-data-list__item-key">${mt.earlierRejection}</dt><dd class="utrecht-data-list__item-value"><a class="utrecht-link" href="${pagePaths.application(item.fairSpread.earlierRejection.applicationId)}">${item.fairSpread.earlierRejection.reference}</a>${item.fairSpread.earlierRejection.whatChanged ? html`<br>${mt.whatChanged}: <span class="bf-pre">${item.fairSpread.earlierRejection.whatChanged}</span>` : ''}</dd>` : ''}
${item.rollovers ? html`<dt class="utrecht-data-list__item-key">${t.common.status}</dt><dd class="utrecht-data-list__item-value">${mt.rollovers(item.rollovers)}</dd>` : ''}
</dl>
${table({ caption: mt.budget, head: ['#', t.common.item, t.common.amount], rows: item.budgetLines.map((l, i) => [String(i + 1), l.description, euros(l.amountCents, locale)]), numeric: [2] })}
${item.coFunding.length ? paragraph(html`<strong>${t.apply.coFunding}</strong> ${item.coFunding.map((c) => `${c.source}: ${euros(c.amountCents, locale)}`).join('; ')}`) : ''}
${item.documents.length ? html`<p class="utrecht-paragraph"><strong>${t.staff.documents}:</strong></p><ul class="utrecht-unordered-list">${item.documents.map((d) => html`<li class="utrecht-unordered-list__item"><a class="utrecht-link" href="${pagePaths.application(item.applicationId)}/documenten/${d.id}">${d.fileName}</a></li>`)}</ul>` : ''}
${item.invited ? paragraph(mt.invited) : ''}
<p class="utrecht-paragraph"><strong>${m.status === 'closed' ? mt.votesTable : mt.whoVoted([...lastVotes.keys()].filter((x) => !recused.has(x)).length, members.length - recused.size)}</strong></p>
<ul class="utrecht-unordered-list">${members.map((x) => {
  const vote = lastVotes.get(x.id);
  const state = recused.has(x.id) ? mt.recusedLabel : vote ? (m.status === 'closed' ? `${mt.votes[vote.vote]}${vote.amountCents !== undefined && vote.vote === 'partial' ? ` (${euros(vote.amountCents, locale)})` : ''}` : mt.voted) : mt.notVoted;
  return html`<li class="utrecht-unordered-list__item">${x.name}${x.id === m.chairId ? ` (${mt.chair})` : ''}: ${state}</li>`;
})}</ul>
${
  outcome
    ? html`<div class="utrecht-alert utrecht-alert--${outcome.outcome === 'rejected' ? 'warning' : 'ok'}" role="status"><p class="utrecht-paragraph"><strong>${mt.outcome[outcome.outcome]}</strong>${outcome.outcome === 'approved' || outcome.outcome === 'partially_approved' ? `: ${euros(outcome.grantedCents, locale)}` : ''}</p>${outcome.reasons.length ? html`<ul class="utrecht-unordered-list">${outcome.reasons.map((r) => html`<li class="utrecht-unordered-list__item">${r}</li>`)}</ul>` : ''}</div>`
    : ''
}
${me && recused.has(me) ? paragraph(html`<strong>${mt.youRecused}</strong>`) : ''}
${
  canVote
    ? html`<div class="bf-vote-form">
${mine ? paragraph(mt.yourCurrentVote(mt.votes[mine.vote] ?? mine.vote)) : ''}
${errors ? errorSummary(t, errors) : ''}
<form class="bf-form" method="post" action="${base(m.id)}/stem" novalidate>${csrfField(page.csrf)}
<input type="hidden" name="applicationId" value="${item.applicationId}"><input type="hidden" name="item" value="${String(n)}">
${choices({ id: id('vote'), name: 'vote', label: mt.yourVote, type: 'radio', options: voteKinds.map((k) => ({ value: k, label: mt.votes[k]! })), checked: [v('vote') || mine?.vote || ''], error: errors?.of('vote') })}
<div data-show-when="vote=partial">
${textField({ id: id('amount'), name: 'amount', label: mt.partialAmount, value: v('amount'), inputmode: 'decimal', prefix: '€', width: 'medium', error: errors?.of('amount') })}
${choices({ id: id('struckLines'), name: 'struckLines', label: mt.struckLines, type: 'checkbox', options: item.budgetLines.map((l, i) => ({ value: String(i), label: `${i + 1}. ${l.description} (${euros(l.amountCents, locale)})` })), checked: list(form?.body ?? {}, 'struckLines'), optional: t.common.optional, error: errors?.of('struckLines') })}
</div>
${textArea({ id: id('reasons'), name: 'reasons', label: mt.reasons, value: v('reasons') || mine?.reasons || '', rows: 3, error: errors?.of('reasons') })}
<div class="bf-actions">${button(mt.voteButton)}</div>
</form>
<details><summary>${mt.recuseTitle}</summary>
<form class="bf-form" method="post" action="${base(m.id)}/verschonen" novalidate>${csrfField(page.csrf)}
<input type="hidden" name="applicationId" value="${item.applicationId}"><input type="hidden" name="item" value="${String(n)}">
${textField({ id: id('reason'), name: 'reason', label: mt.recuseReason, value: v('reason'), error: errors?.of('reason') })}
<div class="bf-actions">${button(mt.recuseButton, { variant: 'secondary' })}</div>
</form></details>
${!item.invited && isAllowed(rule.invite, page.principal, page.req.params) ? html`<p class="utrecht-paragraph">${actionForm(`${base(m.id)}/uitnodigen`, page.csrf, mt.inviteButton, { variant: 'secondary', hidden: { applicationId: item.applicationId, item: String(n) } })}</p>` : ''}
</div>`
    : ''
}
</li>`;
  }

  async function meetingPage(page: Page, id: string, form?: ItemForm, status = 200): Promise<void> {
    const { t, locale } = page;
    const mt = t.meeting;
    const m = await deps.calendar.view(id);
    const when = formatDateTime(new Date(m.startsAt), locale);
    const extras = await descriptions(m.agenda);
    const me = page.staff?.userId;
    const isChair = !!me && m.chairId === me;
    const title = m.extra ? mt.extraMeetingTitle(when) : mt.title(when);
    page.render(
      title,
      html`<p class="utrecht-paragraph"><a class="utrecht-link" href="${staffPaths.meetings}">${t.common.back}</a></p>
${heading(1, title)}
${m.status === 'planned' || m.status === 'waiting_for_cutoff' ? paragraph(mt.notFrozen(formatDateTime(new Date(m.cutoffAt), locale))) : ''}
${m.members ? paragraph(html`<strong>${mt.members}:</strong> ${m.members.map((x) => `${x.name}${x.id === m.chairId ? ` (${mt.chair})` : ''}`).join(', ')}`) : ''}
${m.status !== 'planned' && m.status !== 'waiting_for_cutoff' && !m.agenda.length ? paragraph(mt.noItems) : ''}
<ol class="bf-cards">${m.agenda.map((item, n) => itemCard(page, m, item, n, extras.get(item.applicationId), form))}</ol>
${
  m.status === 'closed'
    ? html`<section aria-labelledby="results-title">${heading(2, mt.results, 'results-title')}${table({
        head: [t.common.reference, t.common.title, t.common.status, mt.granted],
        rows: m.agenda.map((item) => {
          const o = m.outcomes.find((x) => x.applicationId === item.applicationId);
          return [item.reference, item.title, o ? mt.outcome[o.outcome] : '', o && o.grantedCents ? euros(o.grantedCents, locale) : ''];
        }),
        numeric: [3],
      })}</section>`
    : ''
}
${m.status === 'open' && isChair && isAllowed(rule.close, page.principal, page.req.params) ? html`<section class="bf-panel" aria-labelledby="close-title">${heading(2, mt.closeTitle, 'close-title')}${paragraph(mt.closeText)}${actionForm(`${base(id)}/sluiten`, page.csrf, mt.closeButton)}</section>` : ''}`,
      { status, wide: true, script: true, hasErrors: !!form?.errors.any },
    );
  }

  /** The meeting page again, with the item's form and its errors, each linked to its field in that item. */
  function itemFormBack(page: Page, id: string, body: FormBody, errors: FormErrors): Promise<void> {
    const anchored = new FormErrors();
    for (const e of errors.list) anchored.add(e.field, e.message, fieldId(`items.${str(body, 'item')}.${e.field}`));
    return meetingPage(page, id, { applicationId: str(body, 'applicationId'), body, errors: anchored }, 422);
  }

  /** Back to the item on the meeting page. */
  function backTo(page: Page, id: string, flash: FlashCode): void {
    const n = Number(str(page.req.body as FormBody, 'item'));
    page.redirect(`${base(id)}${Number.isInteger(n) && n >= 0 ? `#item-${n}` : ''}`, flash);
  }

  /** A refusal of the meeting workflow: on the item's form when it is about the input, else a message. */
  async function refusedVote(page: Page, id: string, body: FormBody, err: unknown, field: string): Promise<void> {
    if (err instanceof AppError && err.status === 422) {
      const errors = new FormErrors();
      const code = String(err.details[0]?.code ?? err.code);
      const at = code === 'invalid_amount' ? 'amount' : code === 'invalid_struck_line' ? 'struckLines' : code === 'reasons_required' ? 'reasons' : field;
      errors.add(at, page.message(err), fieldId(`items.${str(body, 'item')}.${at}`));
      return meetingPage(page, id, { applicationId: str(body, 'applicationId'), body, errors }, 422);
    }
    if (err instanceof AppError && (err.status === 409 || err.status === 403)) return backTo(page, id, 'not_possible');
    throw err;
  }

  const extraFields = ['date', 'time', 'cutoffTime', 'cutoffDate'] as const;

  /** The list of meetings; for the admin the form for an extra meeting (again with its errors). */
  async function listPage(page: Page, form?: { body: FormBody; errors: FormErrors }, status = 200): Promise<void> {
    const { t, locale } = page;
    const mt = t.meeting;
    const list = await deps.calendar.list(8);
    const canChange = isAllowed(rule.skip, page.principal, page.req.params);
    const canAddExtra = isAllowed(rule.extra, page.principal, page.req.params);
    const errors = form?.errors ?? new FormErrors();
    const v = (name: string) => (form ? str(form.body, name) : name === 'date' ? amsterdamDate(deps.now?.() ?? new Date()) : '');
    page.render(
      mt.listTitle,
      html`${heading(1, mt.listTitle)}
${errorSummary(t, errors)}
${heading(2, mt.upcoming)}
<ul class="bf-cards">${list.upcoming.map((m) => {
  const cutoffAhead = Date.parse(m.cutoffAt) > Date.now() && m.status === 'planned';
  return html`<li class="bf-card">
<h3 class="utrecht-heading-3"><a class="utrecht-link" href="${base(m.id)}">${formatDateTime(new Date(m.startsAt), locale)}</a></h3>
${paragraph(html`${mt.cutoff}: ${formatDateTime(new Date(m.cutoffAt), locale)} · ${mt.state[m.status] ?? m.status}${m.moved ? ` · ${mt.moved}` : ''}${m.extra ? ` · ${mt.extra}` : ''}`)}
${
  canChange && cutoffAhead && !m.extra
    ? html`<details><summary>${mt.skipTitle}</summary>
<div class="bf-actions">${actionForm(`${base(m.id)}/overslaan`, page.csrf, mt.skipButton, { variant: 'secondary' })}</div>
<form class="bf-form bf-filters" method="post" action="${base(m.id)}/verplaatsen" novalidate>${csrfField(page.csrf)}
${textField({ id: fieldId(`move.${m.id}.date`), name: 'date', label: mt.moveDate, type: 'date', value: m.date, width: 'medium' })}
${textField({ id: fieldId(`move.${m.id}.time`), name: 'time', label: mt.moveTime, type: 'time', value: m.time, width: 'short' })}
<div class="bf-actions">${button(mt.moveButton, { variant: 'secondary' })}</div></form></details>`
    : ''
}
</li>`;
})}</ul>
${list.skipped.length ? paragraph(html`<strong>${mt.skipped}:</strong> ${list.skipped.join(', ')}`) : ''}
${
  canAddExtra
    ? html`<section class="bf-panel" aria-labelledby="extra-title">${heading(2, mt.extraTitle, 'extra-title')}
${paragraph(mt.extraIntro)}
<form class="bf-form" method="post" action="${staffPaths.meetings}/extra" novalidate>${csrfField(page.csrf)}
${textField({ name: 'date', label: mt.extraDate, type: 'date', value: v('date'), width: 'medium', error: errors.of('date') })}
${textField({ name: 'time', label: mt.extraTime, hint: mt.extraTimeHint, type: 'time', value: v('time'), width: 'short', error: errors.of('time') })}
${textField({ name: 'cutoffTime', label: mt.extraCutoffTime, hint: mt.extraCutoffTimeHint, type: 'time', value: v('cutoffTime'), width: 'short', error: errors.of('cutoffTime') })}
${textField({ name: 'cutoffDate', label: mt.extraCutoffDate, hint: mt.extraCutoffDateHint, optional: t.common.optional, type: 'date', value: v('cutoffDate'), width: 'medium', error: errors.of('cutoffDate') })}
<div class="bf-actions">${button(mt.extraButton)}</div></form></section>`
    : ''
}
${heading(2, mt.past)}
${list.past.length ? html`<ul class="utrecht-unordered-list">${list.past.map((m) => html`<li class="utrecht-unordered-list__item"><a class="utrecht-link" href="${base(m.id)}">${formatDateTime(new Date(m.startsAt), locale)}</a> (${mt.state.closed})</li>`)}</ul>` : paragraph(t.common.none)}`,
      { status, hasErrors: errors.any },
    );
  }

  return [
    {
      method: 'get',
      path: staffPaths.meetings,
      access: rule.list,
      async handler(page) {
        await listPage(page);
      },
    },
    {
      method: 'post',
      path: `${staffPaths.meetings}/extra`,
      access: rule.extra,
      async handler(page) {
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors();
        const input = validate(extraMeetingInputSchema, { date: opt(body, 'date'), time: opt(body, 'time'), cutoffTime: opt(body, 'cutoffTime'), ...(opt(body, 'cutoffDate') ? { cutoffDate: opt(body, 'cutoffDate') } : {}) }, errors, {
          t: page.t,
          locale: page.locale,
        });
        if (!input) return listPage(page, { body, errors: errors.sortBy(extraFields) }, 422);
        try {
          await deps.calendar.addExtra(input, { userId: page.staff!.userId, requestId: String(page.req.id) });
        } catch (err) {
          if (err instanceof ValidationError) {
            for (const issue of err.issues) errors.add(issue.path, problemText(issue.problem, page.locale, issue.path));
            return listPage(page, { body, errors: errors.sortBy(extraFields) }, 422);
          }
          if (err instanceof AppError && err.code === 'meeting_collision') {
            const d = err.details[0] as { code: string; startsAt: string; cutoffAt: string };
            const other = formatDateTime(new Date(d.code === 'cutoff_taken' ? d.cutoffAt : d.startsAt), page.locale);
            errors.add(d.code === 'cutoff_taken' ? 'cutoffTime' : 'date', page.t.meeting.collision(d.code, other));
            return listPage(page, { body, errors }, 409);
          }
          throw err;
        }
        page.redirect(staffPaths.meetings, 'extra_meeting_added');
      },
    },
    {
      method: 'get',
      path: `${staffPaths.meetings}/:id`,
      access: rule.read,
      async handler(page) {
        await meetingPage(page, page.param('id'));
      },
    },
    {
      method: 'post',
      path: `${staffPaths.meetings}/:id/stem`,
      access: rule.vote,
      async handler(page) {
        const id = page.param('id');
        await deps.calendar.assertMeeting(id);
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors();
        const vote = opt(body, 'vote');
        const cents = vote === 'partial' ? amount(body, 'amount', errors, page.t) : undefined;
        const struck = vote === 'partial' ? list(body, 'struckLines').map(Number) : [];
        const input = validate(
          voteInputSchema,
          { applicationId: opt(body, 'applicationId'), vote, ...(cents !== undefined ? { amountCents: cents } : {}), ...(struck.length ? { struckLines: struck } : {}), ...(opt(body, 'reasons') ? { reasons: opt(body, 'reasons') } : {}) },
          errors,
          { t: page.t, locale: page.locale, fieldOf: (p) => (p === 'amountCents' ? 'amount' : p.startsWith('struckLines') ? 'struckLines' : p) },
        );
        if (vote === 'partial' && cents === undefined && !errors.of('amount')) errors.add('amount', page.t.fields.required.amountCents!);
        if (!input || errors.any) return itemFormBack(page, id, body, errors);
        try {
          await deps.meetings.castVote(id, { ...input, memberId: page.staff!.userId });
        } catch (err) {
          return refusedVote(page, id, body, err, 'vote');
        }
        page.req.log.info({ meetingId: id, workflowId: id, applicationId: input.applicationId, vote: input.vote }, 'vote cast (page)');
        backTo(page, id, 'vote_cast');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.meetings}/:id/verschonen`,
      access: rule.recuse,
      async handler(page) {
        const id = page.param('id');
        await deps.calendar.assertMeeting(id);
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors();
        const input = validate(recusalInputSchema, { applicationId: opt(body, 'applicationId'), reason: opt(body, 'reason') }, errors, { t: page.t, locale: page.locale });
        if (!input) return itemFormBack(page, id, body, errors);
        try {
          await deps.meetings.recuse(id, { ...input, memberId: page.staff!.userId });
        } catch (err) {
          return refusedVote(page, id, body, err, 'reason');
        }
        backTo(page, id, 'recused');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.meetings}/:id/uitnodigen`,
      access: rule.invite,
      async handler(page) {
        const id = page.param('id');
        await deps.calendar.assertMeeting(id);
        const body = (page.req.body ?? {}) as FormBody;
        try {
          await deps.meetings.invite(id, { applicationId: str(body, 'applicationId'), memberId: page.staff!.userId });
        } catch (err) {
          return refusedVote(page, id, body, err, 'vote');
        }
        backTo(page, id, 'invited');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.meetings}/:id/sluiten`,
      access: rule.close,
      async handler(page) {
        const id = page.param('id');
        await deps.calendar.assertMeeting(id);
        try {
          await deps.meetings.close(id, page.staff!.userId);
        } catch (err) {
          if (err instanceof AppError && (err.status === 409 || err.status === 403)) return page.redirect(base(id), 'not_possible');
          throw err;
        }
        page.redirect(base(id), 'meeting_closed');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.meetings}/:id/overslaan`,
      access: rule.skip,
      async handler(page) {
        const id = page.param('id');
        try {
          await deps.calendar.skip(id, { userId: page.staff!.userId, requestId: String(page.req.id) });
        } catch (err) {
          if (err instanceof AppError && err.status === 409) return page.redirect(staffPaths.meetings, 'not_possible');
          throw err;
        }
        page.redirect(staffPaths.meetings, 'meeting_skipped');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.meetings}/:id/verplaatsen`,
      access: rule.move,
      async handler(page) {
        const id = page.param('id');
        const body = (page.req.body ?? {}) as FormBody;
        const parsed = moveMeetingInputSchema.safeParse({ date: str(body, 'date'), ...(str(body, 'time') ? { time: str(body, 'time') } : {}) });
        if (!parsed.success) return page.redirect(staffPaths.meetings, 'not_possible');
        try {
          await deps.calendar.move(id, parsed.data, { userId: page.staff!.userId, requestId: String(page.req.id) });
        } catch (err) {
          if (err instanceof AppError && (err.status === 409 || err.status === 422)) return page.redirect(staffPaths.meetings, 'not_possible');
          throw err;
        }
        page.redirect(staffPaths.meetings, 'meeting_moved');
      },
    },
  ];
}
