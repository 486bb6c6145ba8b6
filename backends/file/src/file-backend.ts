import { defaultRegistry, type BackendContext, type BackendPlugin, type BackendRegistry } from '@litestream-ts/core';
import { fileBackendInfo } from './plugin.ts';
import { FileReplicaClient } from './file-replica-client.ts';
import { directoryFromURLText, replicaDirectory } from './file-location.ts';

export { directoryFromURL, expandPath } from './file-location.ts';

/**
 * The `file` backend plugin: `file:///abs/dir` URLs, plain paths (the registry turns them
 * into file URLs), and config entries with `path` (or `url`).
 */
export const fileBackend: BackendPlugin = {
  ...fileBackendInfo,
  fromURL(url: string, context?: BackendContext): FileReplicaClient {
    return new FileReplicaClient(directoryFromURLText(url), { ...context?.timeouts });
  },
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): FileReplicaClient {
    return new FileReplicaClient(replicaDirectory(config), { ...context?.timeouts });
  },
};

/** Adds the file backend to a registry (the default one unless given). Importing this package registers nothing. */
export function registerFileBackend(registry: BackendRegistry = defaultRegistry): BackendRegistry {
  return registry.register(fileBackend);
}
