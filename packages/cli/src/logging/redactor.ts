import { isSecretKey } from './secret-keys.ts';

/** What a hidden credential is printed as. */
export const REDACTED = '[REDACTED]';

/**
 * Hides credentials inside free text: every registered secret value (the CLI registers each
 * credential it loaded), the password of any `scheme://user:password@host` URL, and the value
 * of credential query parameters (`?sig=…` of an Azure SAS URL, `X-Amz-Signature=…`).
 */
export class Redactor {
  /** Shorter registered values are not matched in text (see the constructor). */
  static readonly MIN_SECRET_LENGTH = 4;

  private readonly pattern: RegExp | undefined;

  /**
   * Values shorter than {@link Redactor.MIN_SECRET_LENGTH} characters are not matched in text:
   * hiding every `abc` in every line would garble logs. Fields named like credentials are
   * still hidden whatever their length.
   */
  constructor(secrets: readonly string[] = []) {
    const variants = new Set<string>();
    for (const secret of secrets) {
      const trimmed = secret.trim();
      if (trimmed.length < Redactor.MIN_SECRET_LENGTH) continue;
      variants.add(trimmed);
      // A password with reserved characters shows up percent-encoded inside URLs.
      variants.add(encodeURIComponent(trimmed));
    }
    // Longest first, so a secret that contains another is hidden whole.
    const sorted = [...variants].sort((a, b) => b.length - a.length);
    this.pattern = sorted.length > 0 ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  /** `text` with every credential replaced by {@link REDACTED}. */
  redact(text: string): string {
    let result = this.pattern ? text.replace(this.pattern, REDACTED) : text;
    result = redactURLPasswords(result);
    result = result.replace(/([?&])([^=&\s#?]+)=([^&\s#"']*)/g, (match: string, sep: string, name: string) =>
      isSecretKey(decodeSafe(name)) ? `${sep}${name}=${REDACTED}` : match,
    );
    return result;
  }
}

const SCHEME_CHAR = /[A-Za-z0-9+.-]/;
const LETTER = /[A-Za-z]/;
/** Ends the user part of an authority (`[^\s/?#@:]`), and the password (`[^\s/?#]`, less `@` and `:`). */
const USER_END = /[\s/?#@:]/;
const AUTHORITY_END = /[\s/?#]/;

/**
 * Hides the password of every `scheme://user:password@host` in `text`, up to the last `@` of the
 * authority so that a raw `@` inside a password is hidden too. One pass from each `://`: a
 * regular expression for this (`[A-Za-z][A-Za-z0-9+.-]*://…`, unanchored) retries from every
 * letter of a long run of them, which made a 300 KB path in an error message cost minutes.
 */
export function redactURLPasswords(text: string): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const separator = text.indexOf('://', from);
    if (separator === -1) break;
    from = separator + 3;
    if (!hasScheme(text, separator)) continue;
    let colon = from;
    while (colon < text.length && !USER_END.test(text[colon]!)) colon++;
    if (text[colon] !== ':') continue;
    let at = -1;
    let end = colon + 1;
    for (; end < text.length && !AUTHORITY_END.test(text[end]!); end++) if (text[end] === '@') at = end;
    if (at === -1) continue;
    out += `${text.slice(copied, colon + 1)}${REDACTED}`;
    copied = at;
    from = at + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** A scheme (`[A-Za-z][A-Za-z0-9+.-]*`) ends just before `index`: some letter starts the run of scheme characters there. */
function hasScheme(text: string, index: number): boolean {
  for (let i = index - 1; i >= 0 && SCHEME_CHAR.test(text[i]!); i--) if (LETTER.test(text[i]!)) return true;
  return false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
