/**
 * Credentials that must never be printed: a URL's password and the values of credential
 * environment variables (the backends read their keys from those). Everything the bin prints
 * goes through `scrub`.
 */
export function collectSecrets(url: string, env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const found = new Set<string>();
  const add = (value: string | undefined): void => {
    if (value !== undefined && value.trim().length >= 4) found.add(value.trim());
  };
  const password = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/:@]*:([^/@]*)@/.exec(url)?.[1];
  if (password) {
    add(password);
    try {
      add(decodeURIComponent(password));
    } catch {
      // Not percent-encoded: the raw form is already there.
    }
  }
  for (const [name, value] of Object.entries(env)) if (/SECRET|PASSWORD|TOKEN|ACCESS_KEY|ACCOUNT_KEY|SAS_|CREDENTIAL|PASSPHRASE/i.test(name)) add(value);
  return [...found].sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by `****`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('****');
  return out;
}
