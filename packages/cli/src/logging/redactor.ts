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
    // Greedy up to the last `@` of the authority, so a raw `@` inside a password is hidden too.
    result = result.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/?#@:]*):[^\s/?#]*@/g, `$1:${REDACTED}@`);
    result = result.replace(/([?&])([^=&\s#?]+)=([^&\s#"']*)/g, (match: string, sep: string, name: string) =>
      isSecretKey(decodeSafe(name)) ? `${sep}${name}=${REDACTED}` : match,
    );
    return result;
  }
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
