import type { LitestreamConfig } from './config/types.ts';
import { heartbeatURLSecrets } from './heartbeat/heartbeat-url.ts';
// The config's rule for sensitive keys, from its leaf module: the config loader (YAML, core) is
// loaded only by commands that read a config.
import { isSecretKey as isSensitiveKey } from './logging/secret-keys.ts';

/**
 * Every credential a command knows (config values under sensitive keys, URL passwords, and
 * the credential environment variables), so the logger and error output can hide them.
 */
export function collectSecrets(config: LitestreamConfig | undefined, ...urls: Array<string | undefined>): string[] {
  const found = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' && value.trim().length >= 4) found.add(value.trim());
  };
  for (const db of [...(config?.dbs ?? []), ...(config?.dirs ?? [])]) {
    for (const [key, value] of Object.entries(db.replica.settings)) if (isSensitiveKey(key)) add(value);
    urls.push(db.replica.url);
  }
  // A heartbeat URL usually carries its check's token in the path.
  if (config?.heartbeat) for (const part of heartbeatURLSecrets(config.heartbeat.url)) add(part);
  for (const url of urls) {
    const match = url && /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/:@]*:([^/@]*)@/.exec(url);
    if (match?.[1]) add(decodeURIComponentSafe(match[1]));
  }
  for (const [name, value] of Object.entries(process.env)) {
    if (/SECRET|PASSWORD|TOKEN|ACCESS_KEY|ACCOUNT_KEY|SAS_|CREDENTIAL/i.test(name)) add(value);
  }
  return [...found];
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
