/**
 * The parts of a heartbeat URL that may be a secret (healthchecks.io and its kind put the
 * check's token in the path, others in the query or as a password): registered with the
 * logger's redactor, so the URL is logged as `https://hc-ping.com/[REDACTED]` wherever it
 * appears, error messages included.
 */
export function heartbeatURLSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [url];
  }
  const secrets: string[] = [];
  const rest = `${parsed.pathname}${parsed.search}`.replace(/^\/+/, '');
  if (rest !== '') secrets.push(rest, decodeSafe(rest));
  if (parsed.password) secrets.push(decodeSafe(parsed.password));
  if (parsed.username) secrets.push(decodeSafe(parsed.username));
  return secrets;
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
