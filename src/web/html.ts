/**
 * HTML from tagged template literals, escaped by default: every interpolated string
 * or number is escaped; only another `html` result (or a list of them) goes in as
 * markup. There is no way to insert an unescaped string, so text a person typed can
 * only ever be shown as text.
 */
import escapeHtml from 'escape-html';

export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

export type HtmlPart = SafeHtml | string | number | null | undefined | false | readonly HtmlPart[];

function render(part: HtmlPart): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: HtmlPart[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Optional attribute: ` name="value"` when the value is set, nothing otherwise (`true`: the bare attribute). */
export function attr(name: string, value: string | number | boolean | null | undefined): SafeHtml {
  if (value === undefined || value === null || value === false) return new SafeHtml('');
  if (value === true) return new SafeHtml(` ${name}`);
  return new SafeHtml(` ${name}="${escapeHtml(String(value))}"`);
}
