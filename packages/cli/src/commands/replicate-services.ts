import type { Logger, ReplicaClient, Store, StoreDatabase } from '@litestream-ts/core';
import type { DatabaseConfig, LitestreamConfig } from '../config/index.ts';
import { replicaClientFor, shorthandConfig } from '../context.ts';
import { ControlServer } from '../control/control-server.ts';
import { ReplicationControl } from '../control/replication-control.ts';
import type { DeferredRegistry } from '../deferred-registry.ts';
import { Heartbeat } from '../heartbeat/heartbeat.ts';
import { Redactor } from '../logging/redactor.ts';
import { storeDatabase } from './store-database.ts';
import { version } from './version.ts';

/** What `replicate` hands over once its store runs. */
export interface RunningReplication {
  readonly store: Store;
  /** The databases of the config, as given to the store. */
  readonly databases: readonly StoreDatabase[];
  readonly registry: DeferredRegistry;
  /** The clients `replicate` closes when it ends; registered databases' clients join them. */
  readonly clients: ReplicaClient[];
  readonly closeClients: (clients: readonly ReplicaClient[]) => Promise<void>;
}

/** The control socket and the heartbeat of one `replicate`. */
export interface ReplicateServices {
  /** Starts answering commands and sending heartbeats for the running store. */
  serve(running: RunningReplication): void;
  /** Stops both (safe to call more than once). */
  close(): Promise<void>;
}

/**
 * Opens what the config asks for beside replication: binds the control socket (before any
 * database is opened, so a second `replicate` on the same socket is refused at once) and
 * prepares the heartbeat, which starts with `serve`.
 */
export async function openServices(config: LitestreamConfig, logger: Logger): Promise<ReplicateServices> {
  const socket = config.socket?.enabled ? await ControlServer.open({ path: config.socket.path, permissions: config.socket.permissions, logger }) : undefined;
  let heartbeat: Heartbeat | undefined;
  let closing: Promise<void> | undefined;
  return {
    serve(running) {
      const { store, registry, clients } = running;
      socket?.serve(
        new ReplicationControl({
          store,
          databases: running.databases.map((spec, i) => ({ spec, replica: describeReplica(config.dbs[i]!) })),
          build: async (path, url) => {
            const db = (await shorthandConfig(registry, path, url).catch(withoutPosition)).dbs[0]!;
            const client = await replicaClientFor(registry, db, logger);
            return { spec: storeDatabase(db, client), replica: shownURL(url), client };
          },
          adopt: (client) => clients.push(client),
          release: async (client) => {
            const i = clients.indexOf(client);
            if (i >= 0) clients.splice(i, 1);
            await running.closeClients([client]);
          },
          logger,
          version,
          startedAt: new Date(),
        }),
      );
      if (config.heartbeat) {
        heartbeat = new Heartbeat({ url: config.heartbeat.url, interval: config.heartbeat.interval, statuses: () => store.syncStatus(), logger });
        heartbeat.start();
      }
    },
    close() {
      closing ??= (async () => {
        await heartbeat?.stop();
        await socket?.close();
      })();
      return closing;
    },
  };
}

/** Where a configured database is replicated to, for `info` (no credentials). */
function describeReplica(d: DatabaseConfig): string {
  if (d.replica.url) return shownURL(d.replica.url);
  const { path, bucket } = d.replica.settings as { path?: unknown; bucket?: unknown };
  if (d.replica.type === 'file' && typeof path === 'string') return `file://${path}`;
  return [d.replica.type, typeof bucket === 'string' ? `bucket ${bucket}` : '', typeof path === 'string' ? `path ${path}` : ''].filter(Boolean).join(' ');
}

/** A config error about `register`'s arguments, without the position in the config text they were put in. */
function withoutPosition(err: Error): never {
  throw new Error(err.message.replace(/^\(command line\)(?::\d+)*: (?:dbs\[0\]\.(?:path: )?)?/, ''), { cause: err });
}

/** A replica URL as `info` and `list` show it: password and credential query parameters hidden. */
function shownURL(url: string): string {
  return new Redactor().redact(url);
}
