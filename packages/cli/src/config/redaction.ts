import { redactURL } from '@litestream-ts/core';

import { isSecretKey } from '../logging/secret-keys.ts';

/** The placeholder shown instead of a credential. */
export const REDACTED = '****';

/** Whether a config key (the last part of its path) may hold a credential. */
export function isSensitiveKey(key: string): boolean {
  // One rule for config errors and log lines (access-key-id, secret-access-key, account-key,
  // sas-token, password, seed, nkey, jwt, creds, sse-customer-key, … but not key-path).
  return isSecretKey(key);
}

/**
 * A value as it may appear in an error: quoted, with credentials hidden. Keys that may
 * hold secrets show `****`; URLs lose their password.
 */
export function quoteValue(key: string, value: string): string {
  return JSON.stringify(isSensitiveKey(key) ? REDACTED : redactURL(value));
}

/**
 * Remembers credential values seen in a config so that any message about the file can be
 * scrubbed of them, whatever path built it (a YAML parser message, a backend's error…).
 */
export class SecretScrubber {
  private readonly secrets = new Set<string>();

  /** Adds a value to hide. Very short values are skipped: hiding them would garble messages. */
  add(value: string): void {
    const trimmed = value.trim();
    if (trimmed.length >= 4) this.secrets.add(trimmed);
  }

  /** Adds the password of a `scheme://user:password@host` URL, if it has one. */
  addURLPassword(text: string): void {
    const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/:@]*:([^/@]*)@/.exec(text);
    if (match?.[1]) {
      this.add(match[1]);
      try {
        this.add(decodeURIComponent(match[1]));
      } catch {
        // A malformed escape is still hidden in its raw form.
      }
    }
  }

  /**
   * Collects credentials straight from the file text, line by line, so they are known even
   * when the YAML does not parse (the parser's messages may quote a token of the bad line).
   */
  addFromText(text: string): void {
    for (const line of text.split(/\r?\n/)) {
      // Linear-time steps only: patterns such as `(.*?)\s*$` or `\s+#` take quadratic time on a
      // long run of spaces (a 40 KB one cost 1.5 s), and this runs on every line of the file.
      const rest = line.slice(Math.max(0, line.search(/[^\s-]/)));
      const match = /^["']?([A-Za-z0-9_.-]+)["']?\s*:/.exec(rest);
      if (!match) continue;
      const key = match[1] ?? '';
      const rawValue = rest.slice(match[0].length).trimStart();
      const comment = rawValue.search(/\s#/);
      const value = (comment === -1 ? rawValue : rawValue.slice(0, comment)).trim().replace(/^(["'])(.*)\1$/, '$2');
      if (isSensitiveKey(key)) this.add(value);
      this.addURLPassword(value);
    }
  }

  /** The message with every remembered credential replaced by `****`. */
  scrub(message: string): string {
    let result = message;
    // Longest first, so a secret that contains another is hidden whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      result = result.split(secret).join(REDACTED);
    }
    return result;
  }
}
