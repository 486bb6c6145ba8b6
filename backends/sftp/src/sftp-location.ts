import { replicaLocation, type ReplicaLocation } from '@litestream-ts/core';
import { sftpSettingsFromConfig } from './sftp-config.ts';

/** Checks a config entry as `fromConfig` reads it (host, port, user), without connecting. */
export function checkSftpConfig(config: Readonly<Record<string, unknown>>): void {
  sftpSettingsFromConfig(config);
}

/**
 * Where an SFTP replica lives: the server and the directory on it. A relative path is taken
 * from the user's login directory, so the user is part of where it lives.
 */
export function locateSftpReplica(config: Readonly<Record<string, unknown>>): ReplicaLocation {
  const { settings } = sftpSettingsFromConfig(config);
  const server = `${settings.host.toLowerCase()}:${settings.port ?? 22}`;
  const path = settings.path ?? '';
  return path.startsWith('/') ? replicaLocation(`sftp ${server}`, path) : replicaLocation(`sftp ${server} ~${settings.user}`, path);
}
