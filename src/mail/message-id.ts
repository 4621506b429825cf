/**
 * The Message-ID of an outbox row: a pure function of the row's key and the mail domain,
 * so every resend of a row carries the same one (a receiver that de-duplicates by
 * Message-ID drops the second copy), in any process, on any retry.
 *
 * RFC 5322 msg-id: "<" dot-atom-text "@" domain ">". The key is written so that it can
 * be read back, so two keys never share a Message-ID: letters, digits, "-" and "_" stay;
 * ":" (the keys' separator) becomes "."; every other byte of the key's UTF-8 becomes "="
 * and two upper-case hex digits, and so does a ":" where a "." would start or end the id
 * or follow another "." (a dot-atom has none of those). Reading back: "." is ":", "=XX"
 * is the byte XX, anything else is itself.
 */
const KEPT = /^[A-Za-z0-9_-]$/;
const COLON = 0x3a;

export function outboxMessageId(key: string, mailDomain: string): string {
  if (key === '') throw new Error('an outbox key is never empty');
  const bytes = Buffer.from(key, 'utf8');
  let left = '';
  bytes.forEach((b, i) => {
    const c = String.fromCharCode(b);
    if (KEPT.test(c)) left += c;
    else if (b === COLON && i > 0 && i < bytes.length - 1 && bytes[i - 1] !== COLON && bytes[i + 1] !== COLON) left += '.';
    else left += `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  });
  return `<${left}@${mailDomain}>`;
}

/** The domain our Message-IDs end in: the host of the public base URL. */
export function mailDomain(publicBaseUrl: string): string {
  return new URL(publicBaseUrl).hostname || 'buurtfonds.local';
}
