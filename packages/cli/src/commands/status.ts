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
  /**
   * False while `replicate` has found a corrupt file on the replica and the full image that
   * repairs it is not uploaded yet: a restore may fail meanwhile.
   */
  readonly healthy: boolean;
  /** The corrupt replica files found, while the replica is unhealthy. */
  readonly corruptFiles?: readonly CorruptFileStatus[];
  /** What a replica without LTX files holds when Litestream v0.3 wrote it (restore reads it). */
  readonly v03?: V03Status;
  readonly error?: string;
}

/** A replica's Litestream v0.3 backups, as `status` reports them. */
export interface V03Status {
  readonly generations: number;
  readonly snapshots: number;
  readonly walSegments: number;
  readonly lastWrittenAt: string | null;
  readonly summary: string;
}

/** A corrupt replica file as `status` reports it. */
export interface CorruptFileStatus {
  /** Its key or path in the store. */
  readonly file: string;
  readonly level: number;
  readonly minTXID: string;
  readonly maxTXID: string;
  /** What failed: `file checksum`, `pre-apply checksum`, … */
  readonly check: string;
  readonly detectedBy: string;
  readonly detectedAt: string;
}

export function registerStatus(program: Command, registry: DeferredRegistry): void {
  program
    .command('status')
    .summary('local versus replica TXID, lag, sizes and replica health of each configured database')
    .option('--config <path>', 'config file (default: $LITESTREAM_CONFIG or /etc/litestream.yml)')
    .option('--json', 'print JSON')
    .option('--no-expand-env', 'do not expand $VAR and ${VAR} in the config file')
    .action(async (opts: { config?: string; expandEnv?: boolean; json?: boolean }) => {
      const { LocalLtxFiles, defaultMetaPath, describeV03Catalog, formatTXID, newestV03Object, readRemotePosition, readReplicaHealth, readV03Catalog } = await import('@litestream-ts/core');
      const config = await readConfig(registry, opts);
      const logger = commandLogger(config.logging, 'error', collectSecrets(config), { forceStderr: true });
      const statuses: DatabaseStatus[] = [];
      // The databases the `dir` entries hold now, as `replicate` would find them.
      const found = config.dirs.length > 0 ? await (await import('../directories/index.ts')).findDirectoryDatabases(config, await registry.get()) : [];
      for (const d of [...config.dbs, ...found]) {
        const metaPath = d.metaPath ?? defaultMetaPath(d.path);
        const local = new LocalLtxFiles(metaPath);
        // What the replicating process found on the replica (corrupt files, repairs).
        const health = await readReplicaHealth(metaPath);
        // The last staged file, or a full image that went straight to the replica.
        const localTXID = (await local.lastPosition())?.txid ?? null;
        let replicaTXID: number | null = null;
        let lastReplicatedAt: string | null = null;
        let error: string | undefined;
        let v03: V03Status | undefined;
        const client = await replicaClientFor(registry, d, logger);
        try {
          const remote = await readRemotePosition(client);
          replicaTXID = remote?.txid ?? null;
          lastReplicatedAt = remote ? remote.file.createdAt.toISOString() : null;
          if (!remote) {
            // No LTX files: a replica Litestream v0.3 wrote says so.
            const catalog = await readV03Catalog(client);
            if (catalog.generations.length > 0) {
              const newest = newestV03Object(catalog);
              v03 = {
                generations: catalog.generations.length,
                snapshots: catalog.generations.reduce((n, g) => n + g.snapshots.length, 0),
                walSegments: catalog.generations.reduce((n, g) => n + g.segments.length, 0),
                lastWrittenAt: newest ? newest.createdAt.toISOString() : null,
                summary: describeV03Catalog(catalog),
              };
            }
          }
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
          healthy: health?.healthy ?? true,
          ...(health && !health.healthy
            ? {
                corruptFiles: health.files.map((f) => ({
                  file: f.file,
                  level: f.level,
                  minTXID: formatTXID(f.minTXID),
                  maxTXID: formatTXID(f.maxTXID),
                  check: f.check,
                  detectedBy: f.detectedBy,
                  detectedAt: f.detectedAt.toISOString(),
                })),
              }
            : {}),
          ...(v03 ? { v03 } : {}),
          ...(error ? { error } : {}),
        });
      }
      if (opts.json) printJSON(statuses);
      else {
        printTable(
          ['DATABASE', 'LOCAL_TXID', 'REPLICA_TXID', 'LAG', 'DB_SIZE', 'WAL_SIZE', 'LAST_REPLICATED', 'HEALTH'],
          statuses.map((s) => [
            s.path,
            s.localTXID ?? '-',
            s.replicaTXID ?? (s.error ? `error: ${s.error}` : s.v03 ? `none (${s.v03.summary})` : '-'),
            s.lag === null ? '-' : String(s.lag),
            s.dbSize === null ? '-' : formatBytes(s.dbSize),
            s.walSize === null ? '-' : formatBytes(s.walSize),
            s.lastReplicatedAt ?? s.v03?.lastWrittenAt ?? '-',
            healthText(s),
          ]),
        );
      }
    });
}

function healthText(s: DatabaseStatus): string {
  if (s.healthy) return 'ok';
  const first = s.corruptFiles?.[0];
  return first ? `corrupt: ${first.file} (${first.check}); repair pending` : 'corrupt; repair pending';
}

async function sizeOf(path: string): Promise<number | null> {
  return stat(path).then((s) => s.size, () => null);
}
