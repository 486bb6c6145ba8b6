import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../cli-error.ts';
import { findDatabase, readConfig } from '../context.ts';
import type { DeferredRegistry } from '../deferred-registry.ts';

export function registerReset(program: Command, registry: DeferredRegistry): void {
  program
    .command('reset')
    .summary("remove a database's local replication state")
    .description(
      'Removes the local LTX staging files of a database (its meta directory), so the next `replicate` starts from a fresh snapshot ' +
        'that follows the replica. Use it when local state is damaged. Refused while `replicate` runs on the database. ' +
        'The database and the replica are not touched.\n\n' +
        'With --claim, the next `replicate` also takes the replica over when its owner marker names another database: for a database ' +
        'that was moved or restored to another path or host and should continue the same backup. Never use it to point a second, ' +
        'different database at a replica: that would overwrite the first one\'s backup.',
    )
    .argument('<db>', 'database path (from the config, or any path with --meta-path defaults)')
    .option('--config <path>', 'config file; without one the default meta path beside the database is used')
    .option('--claim', "take the replica over at the next replicate, even if it was written for another database path or host")
    .option('--dry-run', 'print what would be removed, remove nothing')
    .option('--no-expand-env', 'do not expand $VAR and ${VAR} in the config file')
    .action(async (db: string, opts: { config?: string; expandEnv?: boolean; dryRun?: boolean; claim?: boolean }) => {
      const { LocalLtxFiles, ReplicationLock, defaultMetaPath, formatTXID, requestReplicaClaim } = await import('@litestream-ts/core');
      const configured = opts.config ? await findDatabase(await readConfig(registry, opts), db, registry) : undefined;
      const dbPath = configured ? configured.path : resolve(db);
      const metaPath = configured ? (configured.metaPath ?? defaultMetaPath(configured.path)) : defaultMetaPath(dbPath);
      const holder = await new ReplicationLock(dbPath, metaPath).probe();
      if (holder) {
        const who = 'pid' in holder ? `process ${holder.pid} on host ${holder.hostname}` : 'another process';
        throw new CliError(`${dbPath} is being replicated by ${who} (lock file ${metaPath}/replicate.lock); stop it before resetting`);
      }
      const local = new LocalLtxFiles(metaPath);
      const files = await local.list();
      const position = await local.lastPosition().catch(() => undefined);
      const holds = `${position ? `local position TXID ${formatTXID(position.txid)}, ` : ''}${files.length} staged LTX file(s)`;
      const claim = opts.claim ? '; the next replicate takes the replica over' : '';
      if (opts.dryRun) {
        process.stdout.write(`would remove ${metaPath} (${holds})${claim}\n`);
        return;
      }
      if (!existsSync(metaPath) && !opts.claim) {
        process.stdout.write(`nothing to reset: ${metaPath} does not exist\n`);
        return;
      }
      await rm(metaPath, { recursive: true, force: true });
      // A fresh identity, marked to claim the replica when replicate next starts.
      if (opts.claim) await requestReplicaClaim(metaPath);
      process.stdout.write(`removed ${metaPath} (${holds}); the next replicate starts with a snapshot${claim}\n`);
    });
}
