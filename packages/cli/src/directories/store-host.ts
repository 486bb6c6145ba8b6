import { formatTXID, type Logger, type ReplicaClient, type Store, type StoreDatabase } from '@litestream-ts/core';
import type { DatabaseConfig } from '../config/types.ts';
import type { DirectoryHost } from './directory-replicator.ts';

/** A `DirectoryHost` over a running `Store`, owning the replica clients of the databases it adds. */
export interface StoreHost extends DirectoryHost {
  /** The replica clients of the databases in the store now. */
  clients(): ReplicaClient[];
}

/**
 * Adds found databases to `store` (`Store.add`), each with a client of its own, and releases
 * removed ones (`Store.remove`). A database whose file is gone gets no final sync: its WAL
 * went with it, so a final sync could only fail. Whatever its replica lacks then is said in
 * one warning with both positions, instead of a failed final sync's errors.
 */
export function storeHost(
  store: Store,
  options: {
    readonly clientFor: (db: DatabaseConfig) => Promise<ReplicaClient>;
    readonly storeDatabase: (db: DatabaseConfig, client: ReplicaClient) => StoreDatabase;
    readonly logger: Logger;
  },
): StoreHost {
  const clients = new Map<string, ReplicaClient>();
  const close = (client: ReplicaClient | undefined) =>
    client?.close().catch((err: Error) => options.logger.warn('replica client close failed', { type: client.type, error: err.message }));
  return {
    async add(db) {
      const client = await options.clientFor(db);
      try {
        await store.add(options.storeDatabase(db, client));
      } catch (err) {
        await close(client);
        throw err;
      }
      clients.set(db.path, client);
    },
    firstSync: (path) => store.syncAndWait(path),
    async release(path) {
      const status = store.syncStatus().find((s) => s.path === path);
      if (status && !status.inSync) {
        options.logger.warn('database removed before its last commits reached the replica', {
          db: path,
          localTXID: formatTXID(status.localTXID),
          remoteTXID: formatTXID(status.remoteTXID),
        });
      }
      try {
        await store.remove(path, { timeout: 0 });
      } finally {
        await close(clients.get(path));
        clients.delete(path);
      }
    },
    clients: () => [...clients.values()],
  };
}
