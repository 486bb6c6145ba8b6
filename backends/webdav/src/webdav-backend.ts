import { defaultRegistry, type BackendContext, type BackendPlugin, type BackendRegistry } from '@litestream-ts/core';
import { webdavBackendInfo } from './plugin.ts';
import { parseWebdavURL, webdavSettingsFromConfig, type WebdavSettings } from './webdav-config.ts';
import { WebdavReplicaClient } from './webdav-replica-client.ts';

/**
 * The `webdav` backend plugin: `webdav://[user[:password]@]host[:port]/path` (HTTP) and
 * `webdavs://…` (HTTPS) URLs, and config entries with `type: webdav` and Litestream's keys
 * (`webdav-url`, `webdav-username`, `webdav-password`, `path`).
 */
export const webdavBackend: BackendPlugin = {
  ...webdavBackendInfo,
  fromURL(url: string, context?: BackendContext): WebdavReplicaClient {
    const { settings, ignored } = parseWebdavURL(url);
    return build(settings, ignored, context);
  },
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): WebdavReplicaClient {
    const { settings, ignored } = webdavSettingsFromConfig(config);
    return build(settings, ignored, context);
  },
};

/** Adds the webdav backend to a registry (the default one unless given). Importing this package registers nothing. */
export function registerWebdavBackend(registry: BackendRegistry = defaultRegistry): BackendRegistry {
  return registry.register(webdavBackend);
}

function build(settings: WebdavSettings, ignored: readonly string[], context: BackendContext | undefined): WebdavReplicaClient {
  if (ignored.length > 0) context?.warn?.(`webdav replica URL: ignoring unknown query parameter(s) ${ignored.map((k) => JSON.stringify(k)).join(', ')}`);
  return new WebdavReplicaClient({ ...settings, ...context?.timeouts });
}
