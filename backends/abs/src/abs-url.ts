import { UsageError, redactURL } from '@litestream-ts/core';
import { assertContainerName, withScheme } from './abs-settings.ts';
import { cleanBlobPath } from './abs-layout.ts';

/** What an `abs://` URL says; everything else comes from config or the environment. */
export interface ParsedAbsUrl {
  readonly options: { readonly container: string; readonly path: string; readonly accountName?: string; readonly endpoint?: string };
  /** Query parameters that were ignored (the ABS URL takes none). */
  readonly ignored: readonly string[];
}

/**
 * Parses the forms of an ABS replica URL:
 * - `abs://CONTAINER/PATH` (account from config), Litestream's `abs://ACCOUNT@CONTAINER/PATH`;
 * - `abs://[ACCOUNT@]ACCOUNT.blob.core.windows.net/CONTAINER/PATH` (any host with a dot or a
 *   port is an endpoint, since container names have neither);
 * - `abs://ACCOUNT@127.0.0.1:10000/CONTAINER/PATH`: a loopback or private host is an emulator
 *   (Azurite), addressed path-style as `http://host:port/ACCOUNT`.
 */
export function parseAbsUrl(text: string): ParsedAbsUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new UsageError(`invalid abs replica URL "${redactURL(text)}"`, { cause });
  }
  if (url.protocol !== 'abs:') throw new UsageError(`not an abs replica URL: "${redactURL(text)}"`);
  if (url.password !== '') {
    throw new UsageError('abs replica URL must not carry a key: put it in "account-key" or "sas-token" (or LITESTREAM_AZURE_ACCOUNT_KEY / LITESTREAM_AZURE_SAS_TOKEN)');
  }
  const user = decode(url.username, 'account name', text);
  const ignored = [...new Set(url.searchParams.keys())];
  const segments = decode(url.pathname, 'path', text).split('/').filter((s) => s !== '');
  if (!url.host.includes('.') && url.port === '') {
    if (url.host === '') throw new UsageError(`abs replica URL "${redactURL(text)}" names no container: use abs://[ACCOUNT@]CONTAINER/PATH`);
    return { options: { container: assertContainerName(url.host), path: cleanBlobPath(segments.join('/')), ...account(user) }, ignored };
  }

  const [container = '', ...rest] = segments;
  if (container === '') throw new UsageError(`abs replica URL "${redactURL(text)}" names no container: use abs://ACCOUNT.blob.core.windows.net/CONTAINER/PATH`);
  const hosted = /^([a-z0-9]{3,24})\.blob\./i.exec(url.hostname);
  const hostAccount = hosted?.[1]?.toLowerCase();
  if (hostAccount !== undefined && user !== '' && user !== hostAccount) {
    throw new UsageError(`abs replica URL names account "${user}" but its host belongs to account "${hostAccount}"`);
  }
  const endpoint = withScheme(url.host);
  const emulator = endpoint.startsWith('http://') && hostAccount === undefined;
  if (emulator && user === '') throw new UsageError(`abs replica URL "${redactURL(text)}" points at an emulator host: name the account, abs://ACCOUNT@${url.host}/CONTAINER/PATH`);
  return {
    options: {
      container: assertContainerName(container),
      path: cleanBlobPath(rest.join('/')),
      ...account(hostAccount ?? user),
      endpoint: emulator ? `${endpoint}/${user}` : endpoint,
    },
    ignored,
  };
}

function account(name: string): { accountName?: string } {
  return name === '' ? {} : { accountName: name };
}

function decode(part: string, what: string, text: string): string {
  try {
    return decodeURIComponent(part);
  } catch (cause) {
    throw new UsageError(`abs replica URL "${redactURL(text)}" has a malformed percent-escape in its ${what}`, { cause });
  }
}
