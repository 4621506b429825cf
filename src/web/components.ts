/**
 * Building blocks of the pages, in NL Design System markup (Utrecht component classes):
 * form fields with their label, hint and error message (GOV.UK's error pattern), the
 * error summary, alerts, tables, status badges and paging.
 */
import type { ApplicationStatus } from '../domain/status.ts';
import type { PageTexts } from '../domain/page-messages.ts';
import { attr, html, type HtmlPart, type SafeHtml } from './html.ts';

/** A form field's id from its name: `applicant.address.city` → `f-applicant-address-city`. */
export function fieldId(name: string): string {
  return `f-${name.replace(/[^A-Za-z0-9]+/g, '-')}`;
}

export interface FieldError {
  /** The form field's name (as in the form), whose id the summary links to. */
  field: string;
  message: string;
  /** Where the summary links to when it is not the field's own id (a group: its first input). */
  anchor?: string;
}

/** The errors of one form, by field name. */
export class FormErrors {
  readonly list: FieldError[] = [];
  private readonly anchors: Record<string, string>;
  /** `anchors`: for a group of inputs (budget lines), the id of the input its summary link goes to. */
  constructor(anchors: Record<string, string> = {}) {
    this.anchors = anchors;
  }
  add(field: string, message: string, anchor?: string): void {
    const to = anchor ?? this.anchors[field];
    if (!this.list.some((e) => e.field === field)) this.list.push({ field, message, ...(to ? { anchor: to } : {}) });
  }
  /** Puts the errors in the order of the form's fields (a field of a group, `budgetLines.1.amount`, sorts by its group and line). */
  sortBy(fields: readonly string[]): this {
    const rank = (f: string) => {
      const exact = fields.indexOf(f);
      if (exact >= 0) return exact * 1000;
      const [group, line] = f.split('.');
      const g = fields.indexOf(group!);
      return (g >= 0 ? g : fields.length) * 1000 + (Number(line) || 0) + 1;
    };
    this.list.sort((a, b) => rank(a.field) - rank(b.field));
    return this;
  }
  of(field: string): string | undefined {
    return this.list.find((e) => e.field === field)?.message;
  }
  get any(): boolean {
    return this.list.length > 0;
  }
}

/** GOV.UK-style: at the top, focused on load (so it is read out), each error a link to its field. */
export function errorSummary(t: PageTexts, errors: FormErrors): SafeHtml {
  if (!errors.any) return html``;
  return html`<div class="bf-error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus>
<h2 class="utrecht-heading-2" id="error-summary-title">${t.common.errorSummaryTitle}</h2>
<ul class="utrecht-unordered-list">${errors.list.map((e) => html`<li><a class="utrecht-link" href="#${e.anchor ?? fieldId(e.field)}">${e.message}</a></li>`)}</ul>
</div>`;
}

export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

interface FieldBase {
  name: string;
  label: string;
  hint?: string;
  error?: string | undefined;
  optional?: string;
  /** Overrides the id (default from the name). */
  id?: string;
}

function describedBy(id: string, f: FieldBase): string | undefined {
  const ids = [f.hint ? `${id}-hint` : '', f.error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

function fieldStart(id: string, f: FieldBase, labelExtra: SafeHtml | '' = ''): SafeHtml {
  return html`<label class="utrecht-form-label" for="${id}"${labelExtra}>${f.label}${f.optional ? html` <span class="bf-muted">${f.optional}</span>` : ''}</label>
${f.hint ? html`<p class="utrecht-form-field-description" id="${id}-hint">${f.hint}</p>` : ''}
${f.error ? html`<p class="utrecht-form-field-error-message" id="${id}-error">${f.error}</p>` : ''}`;
}

export interface TextFieldInput extends FieldBase {
  value?: string | number | undefined;
  type?: 'text' | 'email' | 'tel' | 'date' | 'number' | 'password' | 'time' | 'search';
  autocomplete?: string;
  inputmode?: 'numeric' | 'decimal' | 'email' | 'tel' | 'text';
  width?: 'short' | 'medium';
  spellcheck?: boolean;
  /** Marks the input as an amount that the page script adds up. */
  amount?: boolean;
  /** Text before the input (e.g. €). */
  prefix?: string;
  /** A label the page script renumbers when it copies a line ({n}). */
  dataLabel?: string;
  required?: boolean;
}

export function textField(f: TextFieldInput): SafeHtml {
  const id = f.id ?? fieldId(f.name);
  const input = html`<input class="utrecht-textbox utrecht-textbox--html-input${f.width ? ` bf-input--${f.width}` : ''}${f.error ? ' utrecht-textbox--invalid' : ''}" id="${id}" name="${f.name}" type="${f.type ?? 'text'}"${attr('value', f.value)}${attr(
    'autocomplete',
    f.autocomplete,
  )}${attr('inputmode', f.inputmode)}${attr('spellcheck', f.spellcheck === false ? 'false' : undefined)}${attr('aria-describedby', describedBy(id, f))}${attr('aria-invalid', f.error ? 'true' : undefined)}${attr(
    'data-amount',
    f.amount === true,
  )}${attr('required', f.required === true)}>`;
  return html`<div class="utrecht-form-field utrecht-form-field--text${f.error ? ' utrecht-form-field--invalid' : ''}">
${fieldStart(id, f, f.dataLabel ? html` data-label="${f.dataLabel}"` : '')}
${f.prefix ? html`<div class="bf-amount"><span aria-hidden="true">${f.prefix}</span>${input}</div>` : input}
</div>`;
}

export function textArea(f: FieldBase & { value?: string | undefined; rows?: number }): SafeHtml {
  const id = f.id ?? fieldId(f.name);
  return html`<div class="utrecht-form-field utrecht-form-field--textarea${f.error ? ' utrecht-form-field--invalid' : ''}">
${fieldStart(id, f)}
<textarea class="utrecht-textarea utrecht-textarea--html-textarea${f.error ? ' utrecht-textarea--invalid' : ''}" id="${id}" name="${f.name}" rows="${f.rows ?? 5}"${attr('aria-describedby', describedBy(id, f))}${attr('aria-invalid', f.error ? 'true' : undefined)}>${f.value ?? ''}</textarea>
</div>`;
}

export interface ChoiceInput extends FieldBase {
  options: readonly { value: string; label: string; hint?: string }[];
  checked: readonly string[];
  type: 'checkbox' | 'radio';
  columns?: boolean;
}

/** Checkboxes or radios in a fieldset whose legend is the question; the error links to the first option. */
export function choices(f: ChoiceInput): SafeHtml {
  const id = f.id ?? fieldId(f.name);
  const d = describedBy(id, f);
  return html`<div class="utrecht-form-fieldset${f.error ? ' utrecht-form-fieldset--invalid utrecht-form-field--invalid' : ''}">
<fieldset class="utrecht-form-fieldset__fieldset utrecht-form-fieldset--html-fieldset"${attr('aria-describedby', d)}>
<legend class="utrecht-form-fieldset__legend utrecht-form-label">${f.label}${f.optional ? html` <span class="bf-muted">${f.optional}</span>` : ''}</legend>
${f.hint ? html`<p class="utrecht-form-field-description" id="${id}-hint">${f.hint}</p>` : ''}
${f.error ? html`<p class="utrecht-form-field-error-message" id="${id}-error">${f.error}</p>` : ''}
<div class="${f.columns ? 'bf-choices--columns' : ''}">
${f.options.map((o, i) => {
  const oid = i === 0 ? id : `${id}-${i}`;
  return html`<div class="bf-choice utrecht-form-field utrecht-form-field--${f.type === 'checkbox' ? 'checkbox' : 'radio'}">
<input class="${f.type === 'checkbox' ? 'utrecht-checkbox utrecht-checkbox--html-input' : 'utrecht-radio-button utrecht-radio-button--html-input'}" type="${f.type}" id="${oid}" name="${f.name}" value="${o.value}"${attr('checked', f.checked.includes(o.value))}${attr(
    'aria-invalid',
    f.error ? 'true' : undefined,
  )}>
<label class="utrecht-form-label utrecht-form-label--${f.type === 'checkbox' ? 'checkbox' : 'radio'}" for="${oid}">${o.label}${o.hint ? html`<br><span class="bf-muted">${o.hint}</span>` : ''}</label>
</div>`;
})}
</div>
</fieldset>
</div>`;
}

/** A single checkbox (consent). */
export function checkbox(f: FieldBase & { value: string; checked: boolean }): SafeHtml {
  const id = f.id ?? fieldId(f.name);
  return html`<div class="utrecht-form-field utrecht-form-field--checkbox${f.error ? ' utrecht-form-field--invalid' : ''}">
${f.error ? html`<p class="utrecht-form-field-error-message" id="${id}-error">${f.error}</p>` : ''}
<div class="bf-choice">
<input class="utrecht-checkbox utrecht-checkbox--html-input" type="checkbox" id="${id}" name="${f.name}" value="${f.value}"${attr('checked', f.checked)}${attr('aria-describedby', describedBy(id, f))}${attr('aria-invalid', f.error ? 'true' : undefined)}>
<label class="utrecht-form-label utrecht-form-label--checkbox" for="${id}">${f.label}</label>
</div>
${f.hint ? html`<p class="utrecht-form-field-description" id="${id}-hint">${f.hint}</p>` : ''}
</div>`;
}

export function select(f: FieldBase & { options: readonly { value: string; label: string }[]; value?: string | undefined }): SafeHtml {
  const id = f.id ?? fieldId(f.name);
  return html`<div class="utrecht-form-field utrecht-form-field--select${f.error ? ' utrecht-form-field--invalid' : ''}">
${fieldStart(id, f)}
<select class="utrecht-select utrecht-select--html-select${f.error ? ' utrecht-select--invalid' : ''}" id="${id}" name="${f.name}"${attr('aria-describedby', describedBy(id, f))}${attr('aria-invalid', f.error ? 'true' : undefined)}>
${f.options.map((o) => html`<option value="${o.value}"${attr('selected', o.value === (f.value ?? ''))}>${o.label}</option>`)}
</select>
</div>`;
}

export function fileField(f: FieldBase & { multiple?: boolean; accept?: string }): SafeHtml {
  const id = f.id ?? fieldId(f.name);
  return html`<div class="utrecht-form-field utrecht-form-field--file${f.error ? ' utrecht-form-field--invalid' : ''}">
${fieldStart(id, f)}
<input class="utrecht-textbox" type="file" id="${id}" name="${f.name}"${attr('multiple', f.multiple !== false)}${attr('accept', f.accept)}${attr('aria-describedby', describedBy(id, f))}${attr('aria-invalid', f.error ? 'true' : undefined)}>
</div>`;
}

export function button(label: string, opts: { variant?: 'primary' | 'secondary' | 'danger'; name?: string; value?: string; dataAddLine?: string; formnovalidate?: boolean } = {}): SafeHtml {
  const cls = opts.variant === 'danger' ? 'bf-button--danger' : opts.variant === 'secondary' ? 'utrecht-button--secondary-action' : 'utrecht-button--primary-action';
  return html`<button class="utrecht-button ${cls}" type="submit"${attr('name', opts.name)}${attr('value', opts.value)}${attr('data-add-line', opts.dataAddLine)}${attr('formnovalidate', opts.formnovalidate === true)}>${label}</button>`;
}

/** A one-button form (an action on a list or detail page), with its CSRF token. */
export function actionForm(action: string, csrf: string, label: string, opts: { variant?: 'primary' | 'secondary' | 'danger'; hidden?: Record<string, string> } = {}): SafeHtml {
  return html`<form class="bf-inline-form" method="post" action="${action}">${csrfField(csrf)}${Object.entries(opts.hidden ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}${button(label, opts)}</form>`;
}

export function alert(kind: 'info' | 'ok' | 'warning' | 'error', content: HtmlPart, opts: { role?: 'status' | 'alert' } = {}): SafeHtml {
  return html`<div class="utrecht-alert utrecht-alert--${kind}"${attr('role', opts.role ?? (kind === 'error' ? 'alert' : 'status'))}>${content}</div>`;
}

const badgeKind = (s: ApplicationStatus): string =>
  ['rejected', 'rejected_budget_exhausted', 'lapsed', 'reclaimed', 'withdrawn'].includes(s)
    ? 'danger'
    : ['approved', 'partially_approved', 'reserved', 'paid', 'settled', 'closed'].includes(s)
      ? 'success'
      : ['awaiting_information', 'report_due', 'clarification_requested'].includes(s)
        ? 'warning'
        : 'neutral';

export function statusBadge(status: ApplicationStatus, t: PageTexts): SafeHtml {
  return html`<span class="utrecht-status-badge utrecht-status-badge--${badgeKind(status)}">${t.statuses[status]}</span>`;
}

export function dataList(items: readonly [string, HtmlPart][]): SafeHtml {
  return html`<dl class="utrecht-data-list">${items.map(([k, v]) => html`<dt class="utrecht-data-list__item-key">${k}</dt><dd class="utrecht-data-list__item-value utrecht-data-list__item-value--html-dd">${v}</dd>`)}</dl>`;
}

export interface TableInput {
  caption?: string;
  head: readonly string[];
  rows: readonly (readonly HtmlPart[])[];
  /** Column indexes with amounts or counts (aligned right). */
  numeric?: readonly number[];
  foot?: readonly HtmlPart[];
}

export function table(tb: TableInput): SafeHtml {
  const num = (i: number) => tb.numeric?.includes(i);
  // A table wider than the screen scrolls: the scrolling box can take focus, so it scrolls by keyboard too.
  return html`<div class="utrecht-table-container" role="region" tabindex="0" aria-label="${tb.caption ?? tb.head.join(', ')}"><table class="utrecht-table utrecht-table--html-table">
${tb.caption ? html`<caption class="utrecht-table__caption">${tb.caption}</caption>` : ''}
<thead class="utrecht-table__header"><tr class="utrecht-table__row">${tb.head.map(
    (h, i) => html`<th scope="col" class="utrecht-table__header-cell${num(i) ? ' utrecht-table__header-cell--numeric-column' : ''}">${h}</th>`,
  )}</tr></thead>
<tbody class="utrecht-table__body">${tb.rows.map(
    (r) => html`<tr class="utrecht-table__row">${r.map((c, i) => html`<td class="utrecht-table__cell${num(i) ? ' utrecht-table__cell--numeric-column' : ''}">${c}</td>`)}</tr>`,
  )}</tbody>
${tb.foot ? html`<tfoot class="utrecht-table__footer"><tr class="utrecht-table__row">${tb.foot.map((c, i) => html`<td class="utrecht-table__cell${num(i) ? ' utrecht-table__cell--numeric-column' : ''}"><strong>${c}</strong></td>`)}</tr></tfoot>` : ''}
</table></div>`;
}

/** Previous / next links with "page n of m"; `href` builds the URL of a page (filters kept). */
export function pagination(t: PageTexts, p: { page: number; pageSize: number; total: number; href: (page: number) => string }): SafeHtml {
  const pages = Math.max(1, Math.ceil(p.total / p.pageSize));
  if (pages <= 1) return html``;
  return html`<nav class="bf-pagination" aria-label="${t.common.pageOf(p.page, pages)}">
${p.page > 1 ? html`<a class="utrecht-link" rel="prev" href="${p.href(p.page - 1)}">${t.common.previous}</a>` : ''}
<span>${t.common.pageOf(p.page, pages)}</span>
${p.page < pages ? html`<a class="utrecht-link" rel="next" href="${p.href(p.page + 1)}">${t.common.next}</a>` : ''}
</nav>`;
}

export const heading = (level: 1 | 2 | 3, text: HtmlPart, id?: string) =>
  level === 1
    ? html`<h1 class="utrecht-heading-1"${attr('id', id)}>${text}</h1>`
    : level === 2
      ? html`<h2 class="utrecht-heading-2"${attr('id', id)}>${text}</h2>`
      : html`<h3 class="utrecht-heading-3"${attr('id', id)}>${text}</h3>`;

export const paragraph = (text: HtmlPart, cls = '') => html`<p class="utrecht-paragraph${cls ? ` ${cls}` : ''}">${text}</p>`;

/** A query string from a record, leaving out empty values. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
