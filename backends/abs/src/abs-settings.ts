import type { TokenCredential } from '@azure/identity';
import { UsageError, checkEndpointURL, type StorageTimeouts } from '@litestream-ts/core';
import { cleanBlobPath } from './abs-layout.ts';

/**
 * Options of {@link AbsReplicaClient}; the config keys map onto these. `connectTimeout` bounds
 * each connection (TCP and TLS); `requestTimeout` ends a call that made no progress that long.
 */
export interface AbsReplicaClientOptions extends StorageTimeouts {
  /** Container name (Litestream's `bucket`). */
  readonly container: string;
  /** Path inside the container (default: the container root). */
  readonly path?: string;
  /** Storage account name; also derived from an `https://ACCOUNT.blob.core.windows.net` endpoint. */
  readonly accountName?: string;
  /** Shared key of the account. */
  readonly accountKey?: string;
  /** SAS token (with or without the leading `?`). */
  readonly sasToken?: string;
  /** Blob service endpoint (default `https://ACCOUNT.blob.core.windows.net`). */
  readonly endpoint?: string;
  /** Token credential used when no key or SAS is set (default: `DefaultAzureCredential`). */
  readonly credential?: TokenCredential;
  /** Environment for `LITESTREAM_AZURE_*` (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Attempts per request, the first included (default 5). */
  readonly maxTries?: number;
  /** First retry delay in ms, doubled each retry (default 1000). */
  readonly retryDelayInMs?: number;
  /** Longest retry delay in ms (default 30000). */
  readonly maxRetryDelayInMs?: number;
  /** Block size of streamed uploads in bytes (default 4 MiB). */
  readonly blockSize?: number;
  /** Blocks uploaded at once (default 4). */
  readonly concurrency?: number;
  /** Blobs deleted at once by `deleteLtxFiles`/`deleteAll` (default 16). */
  readonly deleteConcurrency?: number;
  /** Blobs per listing page (default: the service's, 5000). */
  readonly listPageSize?: number;
  readonly warn?: (message: string) => void;
}

/** Where the credentials come from, for logs and messages (never the credentials). */
export type AbsCredentialSource = 'sas-token' | 'account-key' | 'LITESTREAM_AZURE_SAS_TOKEN' | 'LITESTREAM_AZURE_ACCOUNT_KEY' | 'default-azure-credential';

/** The credential a client will use. */
export type AbsCredentialChoice =
  | { readonly source: 'sas-token' | 'LITESTREAM_AZURE_SAS_TOKEN'; readonly sasToken: string }
  | { readonly source: 'account-key' | 'LITESTREAM_AZURE_ACCOUNT_KEY'; readonly accountKey: string }
  | { readonly source: 'default-azure-credential' };

/** Settings after defaults: where the replica lives. */
export interface AbsSettings {
  readonly container: string;
  readonly path: string;
  /** Account name; '' when only an endpoint that does not name it was given. */
  readonly account: string;
  /** Endpoint without trailing `/` and without a query. */
  readonly endpoint: string;
}

/** Validates and completes the location options. */
export function resolveAbsSettings(options: AbsReplicaClientOptions): AbsSettings {
  const container = assertContainerName(options.container);
  const path = cleanBlobPath(options.path ?? '');
  let endpoint = options.endpoint?.trim() ?? '';
  if (endpoint !== '') endpoint = withScheme(endpoint).replace(/[?#].*$/, '').replace(/\/+$/, '');
  if (endpoint !== '') checkEndpointURL(endpoint, 'abs');
  let account = options.accountName?.trim() ?? '';
  if (account === '' && endpoint !== '') account = accountFromEndpoint(endpoint);
  if (endpoint === '') {
    if (account === '') throw new UsageError('abs replica needs "account-name" (abs://ACCOUNT@CONTAINER/PATH) or an "endpoint"');
    endpoint = `https://${account}.blob.core.windows.net`;
  }
  return { container, path, account, endpoint };
}

/**
 * Picks the credential: the replica's own `sas-token`, then its `account-key`, then
 * `LITESTREAM_AZURE_SAS_TOKEN`, then `LITESTREAM_AZURE_ACCOUNT_KEY`, else DefaultAzureCredential.
 */
export function chooseAbsCredentials(options: AbsReplicaClientOptions, account: string, env: Readonly<Record<string, string | undefined>>): AbsCredentialChoice {
  const candidates: AbsCredentialChoice[] = [];
  const add = (source: AbsCredentialSource, value: string | undefined, kind: 'sas' | 'key'): void => {
    const v = value?.trim();
    if (!v) return;
    candidates.push(kind === 'sas' ? { source: source as 'sas-token', sasToken: v.replace(/^\?/, '') } : { source: source as 'account-key', accountKey: v });
  };
  add('sas-token', options.sasToken, 'sas');
  add('account-key', options.accountKey, 'key');
  add('LITESTREAM_AZURE_SAS_TOKEN', env.LITESTREAM_AZURE_SAS_TOKEN, 'sas');
  add('LITESTREAM_AZURE_ACCOUNT_KEY', env.LITESTREAM_AZURE_ACCOUNT_KEY, 'key');
  const choice = candidates[0] ?? { source: 'default-azure-credential' };
  if ('accountKey' in choice && account === '') {
    throw new UsageError(`abs ${choice.source} needs the storage account's name: set "account-name" or use abs://ACCOUNT@CONTAINER/PATH`);
  }
  return choice;
}

/** How a credential source reads in a message. */
export function describeCredential(source: AbsCredentialSource): string {
  switch (source) {
    case 'sas-token': return 'SAS token (sas-token)';
    case 'account-key': return 'account key (account-key)';
    case 'LITESTREAM_AZURE_SAS_TOKEN': return 'SAS token from LITESTREAM_AZURE_SAS_TOKEN';
    case 'LITESTREAM_AZURE_ACCOUNT_KEY': return 'account key from LITESTREAM_AZURE_ACCOUNT_KEY';
    default: return 'DefaultAzureCredential identity';
  }
}

/**
 * Container names: 3–63 characters, lower-case letters, digits and single hyphens, starting
 * and ending with a letter or digit; `$root` is the account's root container.
 */
export function assertContainerName(name: string): string {
  if (name === '$root' || (/^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/.test(name) && name.length >= 3 && name.length <= 63)) return name;
  if (name === '') throw new UsageError('abs replica needs a container: abs://CONTAINER/PATH or "bucket" in the config');
  throw new UsageError(`abs container name ${JSON.stringify(name)} is invalid: use 3-63 lower-case letters, digits and single hyphens`);
}

/** `https://` for an endpoint without a scheme, `http://` for loopback and private addresses (emulators). */
export function withScheme(endpoint: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) return endpoint;
  const host = endpoint.split(/[/:]/)[0] ?? '';
  const local = /^(localhost|127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|\[?::1\]?$)/.test(host) || host.endsWith('.local');
  return `${local ? 'http' : 'https'}://${endpoint}`;
}

/** `myaccount` from `https://myaccount.blob.core.windows.net` or from a path-style emulator URL. */
export function accountFromEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`abs endpoint ${JSON.stringify(endpoint)} is not a URL`);
  }
  const hosted = /^([a-z0-9]{3,24})\.blob\./.exec(url.hostname);
  if (hosted) return hosted[1]!;
  // Azurite and other emulators put the account first in the path.
  return url.pathname.split('/').find((part) => part !== '') ?? '';
}
