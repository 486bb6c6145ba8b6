import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { findDatabase, readConfig } from '../context.ts';
import type { DeferredRegistry } from '../deferred-registry.ts';

export function registerReset(program: Command, registry: DeferredRegistry): void {
  program
    .command('reset')
    .summary("remove a database's local replication state")
    .description(
      'Removes the local LTX staging files of a database (its meta directory), so the next `replicate` starts from a fresh snapshot ' +
        'that follows the replica. Use it when local state is damaged. Stop `replicate` first. The database and the replica are not touched.',
    )
    .argument('<db>', 'database path (from the config, or any path with --meta-path defaults)')
    .option('--config <path>', 'config file; without one the default meta path beside the database is used')
    .option('--dry-run', 'print what would be removed, remove nothing')
    .option('--no-expand-env', 'do not expand $VAR and ${VAR} in the config file')
    .action(async (db: string, opts: { config?: string; expandEnv?: boolean; dryRun?: boolean }) => {
      const { LocalLtxFiles, defaultMetaPath, formatTXID } = await import('@litestream-ts/core');
      const configured = opts.config ? findDatabase(await readConfig(registry, opts), db) : undefined;
      const metaPath = configured ? (configured.metaPath ?? defaultMetaPath(configured.path)) : defaultMetaPath(resolve(db));
      const local = new LocalLtxFiles(metaPath);
      const files = await local.list();
      const position = await local.lastPosition().catch(() => undefined);
      const holds = `${position ? `local position TXID ${formatTXID(position.txid)}, ` : ''}${files.length} staged LTX file(s)`;
      if (opts.dryRun) {
        process.stdout.write(`would remove ${metaPath} (${holds})\n`);
        return;
      }
      if (!existsSync(metaPath)) {
        process.stdout.write(`nothing to reset: ${metaPath} does not exist\n`);
        return;
      }
      await rm(metaPath, { recursive: true, force: true });
      process.stdout.write(`removed ${metaPath} (${holds}); the next replicate starts with a snapshot\n`);
    });
}
