/**
 * Which field names hold credentials. The rule works on the words of a name, so camelCase,
 * kebab-case and snake_case spellings all match (`secretAccessKey`, `secret-access-key`,
 * `SECRET_ACCESS_KEY`):
 *
 * - a word containing `secret`, `password`, `passwd`, `passphrase`, `token`, `credential` or
 *   `authorization` (long enough never to match by accident: `accessToken`, `AWS_SESSION_TOKEN`);
 * - a whole word `sas`, `seed`, `creds`, `jwt`, `nkey`, `pwd`, `sig`, `signature` or `cookie`
 *   (whole, because `seeded` or `season` are not secrets);
 * - a name that *ends* in `key` (`key`, `accountKey`, `apikey`, `sse-customer-key`) or in
 *   `key id` (`access-key-id`: half of an AWS credential, hidden like Litestream's config
 *   redaction does). A name where `key` is followed by something else describes the key rather
 *   than holding it (`keyPath`, `key-file`, `keyCount`) and stays visible. Object names should
 *   therefore be logged as `file`/`path`/`object`, never `key`.
 */
const SECRET_SUBSTRINGS = ['secret', 'password', 'passwd', 'passphrase', 'token', 'credential', 'authorization'];
const SECRET_WORDS = new Set(['sas', 'seed', 'creds', 'jwt', 'nkey', 'pwd', 'sig', 'signature', 'cookie']);

/** Whether a field (or query parameter) named `key` may hold a credential; see the rule above. */
export function isSecretKey(key: string): boolean {
  const words = splitWords(key);
  if (words.some((word) => SECRET_WORDS.has(word) || SECRET_SUBSTRINGS.some((s) => word.includes(s)))) return true;
  const last = words.at(-1) ?? '';
  if (last.endsWith('key') || last === 'keys') return true;
  return last === 'id' && (words.at(-2) ?? '').endsWith('key');
}

/** `secretAccessKey` → secret, access, key; `X-Amz-Signature` → x, amz, signature. */
function splitWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
}
