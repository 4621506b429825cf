/**
 * /aanvragen: the application form, one page that works on a 360 px phone and without
 * JavaScript. It is sent to the same intake the API uses and checked by the same
 * schema; errors come back GOV.UK-style (a summary at the top linking to each field, the
 * message at the field), with everything typed kept, and the chosen files too (kept on
 * the server, listed with a checkbox). The form carries an idempotency key, so a double
 * click, a reload of the POST or a retry after an error never makes two applications.
 */
import { randomUUID } from 'node:crypto';
import type { ApiDeps } from '../../api/deps.ts';
import type { RouteSpec } from '../../api/route-spec.ts';
import { idempotencyKeySchema } from '../../api/schemas.ts';
import { inspectFile, uploadedFiles, type IngestedFile } from '../../api/uploads.ts';
import { purposes, WHOLE_MUNICIPALITY } from '../../domain/application.ts';
import { AppError } from '../../domain/errors.ts';
import { errorMessages } from '../../domain/messages.ts';
import { formatEuros, sumCents } from '../../domain/money.ts';
import { requestHash } from '../../services/intake.ts';
import { applicationIdByReference } from '../../db/keys.ts';
import { button, checkbox, choices, csrfField, errorSummary, fieldId, fileField, FormErrors, heading, paragraph, textArea, textField, alert } from '../components.ts';
import { amount, int, list, opt, str, validate, type FormBody } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { KeptFiles, type KeptFile } from '../kept-files.ts';
import { slot } from '../page-cache.ts';
import { pagePaths } from '../paths.ts';
import { cookies, sameAccessAs, type Page, type PageSpec } from '../router.ts';

/** What the form shows: the values as typed (not parsed), so nothing a person typed is lost or changed. */
interface ApplyState {
  body: FormBody;
  lines: { description: string; amount: string }[];
  coFunding: { source: string; amount: string }[];
  kept: KeptFile[];
  key: string;
}

const FILE_ACCEPT = '.pdf,.jpg,.jpeg,.png,.doc,.docx,.odt,.xls,.xlsx,.ods,.csv,application/pdf,image/jpeg,image/png';

function rows<K extends string>(body: FormBody, prefix: string, keys: readonly K[]): Record<K, string>[] {
  const indexes = new Set<number>();
  for (const key of Object.keys(body)) {
    const m = new RegExp(`^${prefix}\\.(\\d{1,3})\\.`).exec(key);
    if (m) indexes.add(Number(m[1]));
  }
  return [...indexes]
    .sort((a, b) => a - b)
    .map((i) => Object.fromEntries(keys.map((k) => [k, str(body, `${prefix}.${i}.${k}`)])) as Record<K, string>);
}

/** The form's fields in reading order (the error summary follows it). */
const FIELD_ORDER = [
  'applicant.name',
  'applicant.email',
  'applicant.phone',
  'applicant.address.street',
  'applicant.address.postalCode',
  'applicant.address.city',
  'applicant.organisation',
  'title',
  'description',
  'purposes',
  'wijken',
  'targetGroup',
  'expectedParticipants',
  'volunteers',
  'activity.startDate',
  'activity.endDate',
  'activity.location',
  'budgetLines',
  'coFunding',
  'wantsSupport',
  'supportWish',
  'iban',
  'accountHolder',
  'previousReference',
  'whatChanged',
  'privacyConsent',
  'documents',
];

/** Maps the input's paths onto the form's fields. */
function fieldOf(path: string): string {
  if (path === 'amountRequestedCents') return 'budgetLines';
  if (path === 'previousApplicationId') return 'previousReference';
  if (/^(purposes|wijken)\.\d+$/.test(path)) return path.split('.')[0]!;
  if (path === '') return 'title';
  return path.replace(/\.amountCents$/, '.amount');
}

export function applyPages(deps: ApiDeps, routes: readonly RouteSpec[]): PageSpec[] {
  const access = sameAccessAs(routes, 'post', '/api/v1/applications');
  const kept = new KeptFiles(deps.store);
  const { uploads, fund } = deps.config;
  const secure = deps.config.env === 'production';
  const sweep = setInterval(() => void kept.sweep().catch(() => undefined), 60 * 60 * 1000);
  sweep.unref();

  function form(page: Page, s: ApplyState, errors: FormErrors, csrf = page.csrf): SafeHtml {
    const { t } = page;
    const a = t.apply;
    const v = (name: string) => str(s.body, name);
    const e = (name: string) => errors.of(name);
    const lines = s.lines.length ? s.lines : [{ description: '', amount: '' }];
    const coFunding = s.coFunding.length ? s.coFunding : [{ source: '', amount: '' }];
    const lineRow = (l: { description: string; amount: string }, i: number) => html`<div class="bf-line" data-line>
${textField({ name: `budgetLines.${i}.description`, label: a.lineDescription(i + 1), dataLabel: a.lineDescription(Number.NaN).replace('NaN', '{n}'), value: l.description, error: e(`budgetLines.${i}.description`) })}
${textField({ name: `budgetLines.${i}.amount`, label: a.lineAmount(i + 1), dataLabel: a.lineAmount(Number.NaN).replace('NaN', '{n}'), value: l.amount, inputmode: 'decimal', amount: true, prefix: '€', error: e(`budgetLines.${i}.amount`) })}
</div>`;
    const coRow = (c: { source: string; amount: string }, i: number) => html`<div class="bf-line" data-line>
${textField({ name: `coFunding.${i}.source`, label: a.coFundingSource(i + 1), dataLabel: a.coFundingSource(Number.NaN).replace('NaN', '{n}'), value: c.source, optional: t.common.optional, error: e(`coFunding.${i}.source`) })}
${textField({ name: `coFunding.${i}.amount`, label: a.coFundingAmount(i + 1), dataLabel: a.coFundingAmount(Number.NaN).replace('NaN', '{n}'), value: c.amount, inputmode: 'decimal', amount: true, prefix: '€', optional: t.common.optional, error: e(`coFunding.${i}.amount`) })}
</div>`;
    const wijkOptions = [...fund.wijken, WHOLE_MUNICIPALITY].map((w) => ({ value: w, label: w }));
    return html`${heading(1, a.title)}
${errorSummary(t, errors)}
${paragraph(a.intro)}
<form class="bf-form" method="post" action="${pagePaths.apply}" enctype="multipart/form-data" novalidate data-progress="upload-progress">
${csrfField(csrf)}
<input type="hidden" name="idempotencyKey" value="${s.key}">
<fieldset class="bf-section utrecht-form-fieldset"><legend class="bf-section-title">${a.aboutYou}</legend>
${textField({ name: 'applicant.name', label: a.name, value: v('applicant.name'), autocomplete: 'name', error: e('applicant.name') })}
${textField({ name: 'applicant.email', label: a.email, hint: a.emailHint, type: 'email', value: v('applicant.email'), autocomplete: 'email', spellcheck: false, error: e('applicant.email') })}
${textField({ name: 'applicant.phone', label: a.phone, type: 'tel', value: v('applicant.phone'), autocomplete: 'tel', width: 'medium', error: e('applicant.phone') })}
${textField({ name: 'applicant.address.street', label: a.street, value: v('applicant.address.street'), autocomplete: 'street-address', error: e('applicant.address.street') })}
${textField({ name: 'applicant.address.postalCode', label: a.postalCode, value: v('applicant.address.postalCode'), autocomplete: 'postal-code', width: 'short', error: e('applicant.address.postalCode') })}
${textField({ name: 'applicant.address.city', label: a.city, value: v('applicant.address.city'), autocomplete: 'address-level2', width: 'medium', error: e('applicant.address.city') })}
${textField({ name: 'applicant.organisation', label: a.organisation, value: v('applicant.organisation'), autocomplete: 'organization', optional: t.common.optional, error: e('applicant.organisation') })}
</fieldset>
<fieldset class="bf-section utrecht-form-fieldset"><legend class="bf-section-title">${a.aboutPlan}</legend>
${textField({ name: 'title', label: a.planTitle, hint: a.planTitleHint, value: v('title'), error: e('title') })}
${textArea({ name: 'description', label: a.description, hint: a.descriptionHint, value: v('description'), rows: 6, error: e('description') })}
${choices({ name: 'purposes', label: a.purposes, hint: a.purposesHint, type: 'checkbox', options: purposes.map((p) => ({ value: p, label: t.purposes[p] })), checked: list(s.body, 'purposes'), error: e('purposes') })}
${choices({ name: 'wijken', label: a.wijken, hint: a.wijkenHint, type: 'checkbox', columns: true, options: wijkOptions, checked: list(s.body, 'wijken'), error: e('wijken') })}
${textField({ name: 'targetGroup', label: a.targetGroup, hint: a.targetGroupHint, value: v('targetGroup'), error: e('targetGroup') })}
${textField({ name: 'expectedParticipants', label: a.participants, value: v('expectedParticipants'), inputmode: 'numeric', width: 'short', error: e('expectedParticipants') })}
${textField({ name: 'volunteers', label: a.volunteers, value: v('volunteers'), inputmode: 'numeric', width: 'short', error: e('volunteers') })}
</fieldset>
<fieldset class="bf-section utrecht-form-fieldset"><legend class="bf-section-title">${a.when}</legend>
${textField({ name: 'activity.startDate', label: a.startDate, type: 'date', value: v('activity.startDate'), width: 'medium', error: e('activity.startDate') })}
${textField({ name: 'activity.endDate', label: a.endDate, hint: a.endDateHint, type: 'date', value: v('activity.endDate'), width: 'medium', error: e('activity.endDate') })}
${textField({ name: 'activity.location', label: a.location, hint: a.locationHint, value: v('activity.location'), error: e('activity.location') })}
</fieldset>
<fieldset class="bf-section utrecht-form-fieldset"><legend class="bf-section-title">${a.money}</legend>
<div class="utrecht-form-fieldset${e('budgetLines') ? ' utrecht-form-field--invalid' : ''}">
<fieldset class="utrecht-form-fieldset--html-fieldset" aria-describedby="f-budgetLines-hint${e('budgetLines') ? ' f-budgetLines-error' : ''}">
<legend class="utrecht-form-label">${a.budgetLines}</legend>
<p class="utrecht-form-field-description" id="f-budgetLines-hint">${a.budgetLinesHint} ${a.amountHint}</p>
${e('budgetLines') ? html`<p class="utrecht-form-field-error-message" id="f-budgetLines-error">${e('budgetLines')}</p>` : ''}
<div class="bf-lines" id="lines-budget" data-lines data-total="total-budget">${lines.map(lineRow)}</div>
${button(a.addLine, { variant: 'secondary', name: 'action', value: 'add-line', dataAddLine: 'lines-budget' })}
<p class="utrecht-paragraph bf-total">${a.totalRequested}: <output id="total-budget" aria-live="polite">${totalText(page, lines.map((l) => l.amount))}</output></p>
</fieldset>
</div>
<div class="utrecht-form-fieldset">
<fieldset class="utrecht-form-fieldset--html-fieldset" aria-describedby="f-coFunding-hint">
<legend class="utrecht-form-label">${a.coFunding} <span class="bf-muted">${t.common.optional}</span></legend>
<p class="utrecht-form-field-description" id="f-coFunding-hint">${a.coFundingHint}</p>
<div class="bf-lines" id="lines-cofunding" data-lines data-total="total-cofunding">${coFunding.map(coRow)}</div>
${button(a.addCoFunding, { variant: 'secondary', name: 'action', value: 'add-cofunding', dataAddLine: 'lines-cofunding' })}
<p class="bf-visually-hidden"><output id="total-cofunding"></output></p>
</fieldset>
</div>
</fieldset>
<fieldset class="bf-section utrecht-form-fieldset"><legend class="bf-section-title">${a.support}</legend>
${choices({ name: 'wantsSupport', label: a.wantsSupport, hint: a.wantsSupportHint, type: 'radio', options: [{ value: 'ja', label: a.yesSupport }, { value: 'nee', label: a.noSupport }], checked: [v('wantsSupport')], error: e('wantsSupport') })}
<div data-show-when="wantsSupport=ja">
${textArea({ name: 'supportWish', label: a.supportWish, value: v('supportWish'), rows: 3, error: e('supportWish') })}
</div>
</fieldset>
<fieldset class="bf-section utrecht-form-fieldset"><legend class="bf-section-title">${a.payment}</legend>
${textField({ name: 'iban', label: a.iban, hint: a.ibanHint, value: v('iban'), autocomplete: 'off', spellcheck: false, error: e('iban') })}
${textField({ name: 'accountHolder', label: a.accountHolder, value: v('accountHolder'), error: e('accountHolder') })}
</fieldset>
<fieldset class="bf-section utrecht-form-fieldset"><legend class="bf-section-title">${a.again} <span class="bf-muted">${t.common.optional}</span></legend>
${textField({ name: 'previousReference', label: a.previousReference, hint: a.previousReferenceHint, value: v('previousReference'), width: 'medium', optional: t.common.optional, error: e('previousReference') })}
${textArea({ name: 'whatChanged', label: a.whatChanged, value: v('whatChanged'), rows: 3, optional: t.common.optional, error: e('whatChanged') })}
</fieldset>
<fieldset class="bf-section utrecht-form-fieldset"><legend class="bf-section-title">${a.consent}</legend>
${checkbox({ name: 'privacyConsent', label: a.consentLabel, hint: a.consentHint, value: 'ja', checked: v('privacyConsent') === 'ja', error: e('privacyConsent') })}
</fieldset>
<fieldset class="bf-section utrecht-form-fieldset"><legend class="bf-section-title">${a.documents} <span class="bf-muted">${t.common.optional}</span></legend>
${s.kept.length ? html`<div class="bf-kept"><p class="utrecht-paragraph">${a.keptFiles}</p>${s.kept.map((k, i) => html`<div class="bf-choice"><input class="utrecht-checkbox utrecht-checkbox--html-input" type="checkbox" id="kept-${i}" name="keptFiles" value="${k.id}" checked><label class="utrecht-form-label utrecht-form-label--checkbox" for="kept-${i}">${a.keepFile(k.fileName)} (${t.common.kb(Math.max(1, Math.round(k.size / 1024)))})</label></div>`)}</div>` : ''}
${fileField({ name: 'documents', label: a.documentsLabel, hint: a.documentsHint(uploads.maxFiles, Math.round(uploads.maxBytes / 1024 / 1024)), accept: FILE_ACCEPT, optional: t.common.optional, error: e('documents') })}
<progress id="upload-progress" class="bf-progress" max="100" value="0" hidden></progress>
</fieldset>
<div class="bf-actions">${button(a.submit, { name: 'action', value: 'send' })}</div>
</form>`;
  }

  function totalText(page: Page, amounts: string[]): string {
    const errors = new FormErrors();
    const cents = amounts.map((x) => amount({ x }, 'x', errors, page.t) ?? 0);
    return errors.any ? '–' : formatEuros(sumCents(cents), page.locale);
  }

  function show(page: Page, s: ApplyState, errors: FormErrors, status = 200): void {
    errors.sortBy(FIELD_ORDER);
    page.render(page.t.apply.title, form(page, s, errors), { status, hasErrors: errors.any, script: true });
  }

  /** The contract's application input from the form; amounts typed in euros become cents. */
  async function inputOf(page: Page, body: FormBody, errors: FormErrors) {
    const { t } = page;
    const lines = rows(body, 'budgetLines', ['description', 'amount'] as const)
      .map((l, i) => ({ ...l, i }))
      .filter((l) => l.description || l.amount);
    const budgetLines = lines.map((l) => ({ description: l.description || undefined, amountCents: amount(body, `budgetLines.${l.i}.amount`, errors, t) }));
    const coFunding = rows(body, 'coFunding', ['source', 'amount'] as const)
      .map((c, i) => ({ ...c, i }))
      .filter((c) => c.source || c.amount)
      .map((c) => ({ source: c.source || undefined, amountCents: amount(body, `coFunding.${c.i}.amount`, errors, t) }));
    const lineCents = budgetLines.map((l) => l.amountCents);
    const wants = str(body, 'wantsSupport');
    let previousApplicationId: string | undefined;
    const previousReference = str(body, 'previousReference').toUpperCase();
    if (previousReference) {
      // By its key (src/db/keys.ts), not by reading every application.
      previousApplicationId = await applicationIdByReference(deps.models, previousReference);
      if (!previousApplicationId) errors.add('previousReference', t.fields.previousReferenceUnknown);
    }
    return {
      applicant: {
        name: opt(body, 'applicant.name'),
        email: opt(body, 'applicant.email'),
        phone: opt(body, 'applicant.phone'),
        address: { street: opt(body, 'applicant.address.street'), postalCode: opt(body, 'applicant.address.postalCode'), city: opt(body, 'applicant.address.city') },
        ...(opt(body, 'applicant.organisation') ? { organisation: opt(body, 'applicant.organisation') } : {}),
      },
      title: opt(body, 'title'),
      description: opt(body, 'description'),
      purposes: list(body, 'purposes'),
      wijken: list(body, 'wijken'),
      targetGroup: opt(body, 'targetGroup'),
      expectedParticipants: int(body, 'expectedParticipants'),
      volunteers: int(body, 'volunteers'),
      activity: { startDate: opt(body, 'activity.startDate'), endDate: opt(body, 'activity.endDate'), location: opt(body, 'activity.location') },
      budgetLines,
      amountRequestedCents: lineCents.every((c) => c !== undefined) && lineCents.length ? sumCents(lineCents as number[]) : undefined,
      coFunding,
      wantsSupport: wants === 'ja' ? true : wants === 'nee' ? false : undefined,
      ...(wants === 'ja' && opt(body, 'supportWish') ? { supportWish: opt(body, 'supportWish') } : {}),
      iban: opt(body, 'iban'),
      accountHolder: opt(body, 'accountHolder'),
      privacyConsent: str(body, 'privacyConsent') === 'ja',
      ...(previousApplicationId ? { previousApplicationId } : {}),
      ...(opt(body, 'whatChanged') ? { whatChanged: opt(body, 'whatChanged') } : {}),
      lineIndexes: lines.map((l) => l.i),
    };
  }

  /** Checks the uploaded files one by one: good ones are kept with the form, a bad one is named. */
  async function takeFiles(page: Page, errors: FormErrors): Promise<IngestedFile[]> {
    const { t } = page;
    const good: IngestedFile[] = [];
    const files = uploadedFiles(page.req).filter((f) => f.size > 0 || f.originalname);
    for (const [i, f] of files.entries()) {
      if (f.size === 0 && !f.originalname) continue;
      const result = await inspectFile(f, i);
      if (result instanceof AppError) {
        errors.add('documents', result.code === 'invalid_file_name' ? t.fields.fileName(f.originalname) : t.fields.fileType(f.originalname));
        continue;
      }
      good.push(result);
    }
    return good;
  }

  return [
    {
      method: 'get',
      path: pagePaths.apply,
      access,
      async handler(page) {
        // The empty form is the same for everyone but its CSRF token and idempotency key: rendered and compressed once.
        await page.renderShared('apply', () => ({ title: page.t.apply.title, content: form(page, { body: {}, lines: [], coFunding: [], kept: [], key: slot(1) }, new FormErrors(), slot(0)), opts: { script: true } }), [page.csrf, randomUUID()]);
      },
    },
    {
      method: 'post',
      path: pagePaths.apply,
      access,
      upload: true,
      async handler(page) {
        const { t, req } = page;
        const body = (req.body ?? {}) as FormBody;
        const errors = new FormErrors({ budgetLines: fieldId('budgetLines.0.description') });
        const keyRaw = str(body, 'idempotencyKey');
        const key = idempotencyKeySchema.safeParse(keyRaw).success ? keyRaw : randomUUID();
        if (req.uploadError) {
          errors.add('documents', req.uploadError.code === 'too_many_files' ? t.fields.tooManyFiles(uploads.maxFiles) : t.fields.fileTooLarge(Math.round(uploads.maxBytes / 1024 / 1024)));
        }
        const fresh = await takeFiles(page, errors);
        const keptBefore = await kept.load(list(body, 'keptFiles'));
        if (keptBefore.length + fresh.length > uploads.maxFiles) errors.add('documents', t.fields.tooManyFiles(uploads.maxFiles));
        const state = (extra: KeptFile[]): ApplyState => ({
          body,
          lines: rows(body, 'budgetLines', ['description', 'amount'] as const),
          coFunding: rows(body, 'coFunding', ['source', 'amount'] as const),
          kept: [...keptBefore, ...extra],
          key,
        });

        // Without JavaScript, "add a line" comes back here: the same form with one more empty line.
        const action = str(body, 'action');
        if (action === 'add-line' || action === 'add-cofunding') {
          const s = state(await kept.keep(fresh));
          if (action === 'add-line') s.lines.push({ description: '', amount: '' });
          else s.coFunding.push({ source: '', amount: '' });
          return show(page, s, errors.any ? errors : new FormErrors());
        }

        const { lineIndexes, ...raw } = await inputOf(page, body, errors);
        const input = validate(deps.intake.inputSchema, raw, errors, {
          t,
          locale: page.locale,
          // The input's budget line n is the form's line lineIndexes[n] (empty lines are left out).
          fieldOf: (path) => fieldOf(path.replace(/^(budgetLines)\.(\d+)/, (_m, g: string, n: string) => `${g}.${lineIndexes[Number(n)] ?? n}`)),
        });
        if (!input) return show(page, state(await kept.keep(fresh)), errors, 422);

        // Intake takes copies: if it fails, the files are still here for the form that comes back.
        const all = [...keptBefore, ...(await kept.keep(fresh))];
        const again = (): ApplyState => ({ ...state([]), kept: all });
        let result;
        try {
          const files = await kept.copies(all);
          try {
            result = await deps.intake.submit(input, files, { idempotencyKey: key, requestHash: requestHash(input, files) });
          } catch (err) {
            if (!(err instanceof AppError && err.code === 'idempotency_key_reused')) throw err;
            // The same form sent again with other answers (after the back button): a new application.
            const copies = await kept.copies(all);
            result = await deps.intake.submit(input, copies, { idempotencyKey: randomUUID(), requestHash: requestHash(input, copies) });
          }
        } catch (err) {
          if (err instanceof AppError && (err.code === 'previous_application_not_found' || err.code === 'previous_application_not_rejected')) {
            errors.add('previousReference', errorMessages[page.locale][err.code]);
            return show(page, again(), errors, 422);
          }
          if (err instanceof AppError && (err.status === 503 || err.status === 409)) {
            // Nothing was stored: the form comes back as it was, files kept, to send again in a moment.
            page.render(t.apply.title, html`${alert('error', html`<p class="utrecht-paragraph">${t.errors.unavailable}</p>`)}${form(page, again(), errors)}`, { status: err.status, script: true });
            return;
          }
          throw err;
        }
        await kept.discard(all);
        const id = result.application._id;
        page.res.cookie(cookies.applicant, result.accessToken, { path: pagePaths.status(id), httpOnly: true, sameSite: 'lax', secure, maxAge: 180 * 24 * 60 * 60 * 1000 });
        req.log.info({ applicationId: id, workflowId: result.application.workflowId, reference: result.application.reference, replayed: result.replayed }, 'application submitted (form)');
        page.redirect(`${pagePaths.status(id)}/verzonden`);
      },
    },
  ];
}
