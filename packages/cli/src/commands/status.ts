import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { readConfig, replicaClientFor } from '../context.ts';
import type { DeferredRegistry } from '../deferred-registry.ts';
import { formatBytes, printJSON, printTable } from '../output.ts';
import { commandLogger } from '../runtime.ts';
import { collectSecrets } from '../secrets.ts';

/** One database's replication status, as `status` prints it. */
export interface DatabaseStatus {
  readonly path: string;
  readonly dbSize: number | null;
  readonly walSize: number | null;
  readonly localTXID: string | null;
  readonly replicaTXID: string | null;
  /** Transactions staged locally that the replica does not hold yet. */
  readonly lag: number | null;
  readonly lastReplicatedAt: string | null;
  readonly error?: string;
}

export function registerStatus(program: Command, registry: DeferredRegistry): void {
  program
    .command('status')
    .summary('local versus replica TXID, lag and sizes of each configured database')
    .option('--config <path>', 'config file (default: $LITESTREAM_CONFIG or /etc/litestream.yml)')
    .option('--json', 'print JSON')
    .option('--no-expand-env', 'do not expand $VAR and ${VAR} in the config file')
    .action(async (opts: { config?: string; expandEnv?: boolean; json?: boolean }) => {
      const { LocalLtxFiles, defaultMetaPath, formatTXID, readRemotePosition } = await import('@litestream-ts/core');
      const config = await readConfig(registry, opts);
      const logger = commandLogger(config.logging, 'error', collectSecrets(config), { forceStderr: true });
      const statuses: DatabaseStatus[] = [];
      for (const d of config.dbs) {
        const local = new LocalLtxFiles(d.metaPath ?? defaultMetaPath(d.path));
        // The last staged file, or a full image that went straight to the replica.
        const localTXID = (await local.lastPosition())?.txid ?? null;
        let replicaTXID: number | null = null;
        let lastReplicatedAt: string | null = null;
        let error: string | undefined;
        const client = await replicaClientFor(registry, d, logger);
        try {
          const remote = await readRemotePosition(client);
          replicaTXID = remote?.txid ?? null;
          lastReplicatedAt = remote ? remote.file.createdAt.toISOString() : null;
        } catch (err) {
          error = (err as Error).message;
        } finally {
          await client.close();
        }
        statuses.push({
          path: d.path,
          dbSize: await sizeOf(d.path),
          walSize: await sizeOf(`${d.path}-wal`),
          localTXID: localTXID === null ? null : formatTXID(localTXID),
          replicaTXID: replicaTXID === null ? null : formatTXID(replicaTXID),
          lag: localTXID === null ? null : Math.max(0, localTXID - (replicaTXID ?? 0)),
          lastReplicatedAt,
          ...(error ? { error } : {}),
        });
      }
      if (opts.json) printJSON(statuses);
      else {
        printTable(
          ['DATABASE', 'LOCAL_TXID', 'REPLICA_TXID', 'LAG', 'DB_SIZE', 'WAL_SIZE', 'LAST_REPLICATED'],
          statuses.map((s) => [s.path, s.localTXID ?? '-', s.replicaTXID ?? (s.error ? `error: ${s.error}` : '-'), s.lag === null ? '-' : String(s.lag), s.dbSize === null ? '-' : formatBytes(s.dbSize), s.walSize === null ? '-' : formatBytes(s.walSize), s.lastReplicatedAt ?? '-']),
        );
      }
    });
}

async function sizeOf(path: string): Promise<number | null> {
  return stat(path).then((s) => s.size, () => null);
}
