import type { Command } from 'commander';
import { readConfig } from '../context.ts';
import type { DeferredRegistry } from '../deferred-registry.ts';
import { printJSON, printTable } from '../output.ts';

export function registerDatabases(program: Command, registry: DeferredRegistry): void {
  program
    .command('databases')
    .summary('list the databases in the config file')
    .option('--config <path>', 'config file (default: $LITESTREAM_CONFIG or /etc/litestream.yml)')
    .option('--no-expand-env', 'do not expand $VAR and ${VAR} in the config file')
    .option('--json', 'print JSON')
    .action(async (opts: { config?: string; expandEnv?: boolean; json?: boolean }) => {
      const config = await readConfig(registry, opts);
      const { redactURL } = await import('@litestream-ts/core');
      // The databases the `dir` entries hold now, as `replicate` would find them.
      const found = config.dirs.length > 0 ? await (await import('../directories/index.ts')).findDirectoryDatabases(config, await registry.get()) : [];
      const rows = [...config.dbs, ...found].map((d) => ({ path: d.path, replica: d.replica.type, url: d.replica.url ? redactURL(d.replica.url) : '' }));
      if (opts.json) printJSON(rows);
      else printTable(['PATH', 'REPLICA', 'URL'], rows.map((r) => [r.path, r.replica, r.url]));
    });
}
