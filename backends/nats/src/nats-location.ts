import { replicaLocation, type ReplicaLocation } from '@litestream-ts/core';
import { natsOptionsFromConfig } from './nats-config.ts';
import { resolveNatsSettings } from './nats-settings.ts';

const DEFAULT_PORT = '4222';

/** Checks a config entry as `fromConfig` reads it (bucket, servers, credentials' combination), without the client. */
export function checkNatsConfig(config: Readonly<Record<string, unknown>>): void {
  resolveNatsSettings(natsOptionsFromConfig(config).options);
}

/** Where a NATS replica lives: the servers and the object store bucket, then the path in it. */
export function locateNatsReplica(config: Readonly<Record<string, unknown>>): ReplicaLocation {
  const settings = resolveNatsSettings(natsOptionsFromConfig(config).options);
  const servers = settings.servers.map(serverKey).sort().join(',');
  return replicaLocation(`nats ${servers} ${settings.bucket}`, settings.path);
}

/** `host:port` of a server URL (`nats://h`, `tls://h:4443`, `h:4222`), lower-cased, with the default port. */
function serverKey(server: string): string {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `nats://${server}`);
    return `${url.hostname.toLowerCase()}:${url.port || DEFAULT_PORT}`;
  } catch {
    return server.toLowerCase();
  }
}
