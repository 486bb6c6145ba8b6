import { Redactor } from './logging/index.ts';
import { collectSecrets } from './secrets.ts';

/**
 * Hides URL passwords, credential query parameters and the values of credential environment
 * variables in a message about to be printed (config credentials are already scrubbed by the
 * config loader and the logger).
 */
export function scrubSecrets(message: string): string {
  return new Redactor(collectSecrets(undefined)).redact(message);
}
