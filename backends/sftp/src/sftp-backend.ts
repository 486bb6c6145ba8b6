import { defaultRegistry, type BackendContext, type BackendPlugin, type BackendRegistry } from '@litestream-ts/core';
import { sftpBackendInfo } from './plugin.ts';
import { parseSftpURL, sftpSettingsFromConfig } from './sftp-config.ts';
import { SftpReplicaClient } from './sftp-replica-client.ts';

/**
 * The `sftp` backend plugin: `sftp://user[:password]@host[:port]/path` URLs and config entries
 * with `type: sftp` and Litestream's keys (`host`, `user`, `password`, `path`, `key-path`,
 * `host-key`, `concurrent-writes`).
 */
export const sftpBackend: BackendPlugin = {
  ...sftpBackendInfo,
  fromURL(url: string, context?: BackendContext): SftpReplicaClient {
    const { settings, ignored } = parseSftpURL(url);
    warnIgnored(ignored, context);
    return new SftpReplicaClient({ ...settings, ...context?.timeouts, ...(context?.warn ? { warn: context.warn } : {}) });
  },
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): SftpReplicaClient {
    const { settings, ignored } = sftpSettingsFromConfig(config);
    warnIgnored(ignored, context);
    return new SftpReplicaClient({ ...settings, ...context?.timeouts, ...(context?.warn ? { warn: context.warn } : {}) });
  },
};

/** Adds the sftp backend to a registry (the default one unless given). Importing this package registers nothing. */
export function registerSftpBackend(registry: BackendRegistry = defaultRegistry): BackendRegistry {
  return registry.register(sftpBackend);
}

function warnIgnored(ignored: readonly string[], context: BackendContext | undefined): void {
  if (ignored.length > 0) context?.warn?.(`sftp replica URL: ignoring unknown query parameter(s) ${ignored.map((k) => JSON.stringify(k)).join(', ')}`);
}
