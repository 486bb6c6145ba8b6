import type { LtxFileInfo } from '@litestream-ts/core';
import { InvalidArgumentError, type Command } from 'commander';
import { findDatabase, isReplicaURL, readConfig } from '../context.ts';
import type { DeferredRegistry } from '../deferred-registry.ts';
import { formatBytes, printJSON, printTable } from '../output.ts';
import { commandLogger } from '../runtime.ts';
import { collectSecrets } from '../secrets.ts';

/** The highest LTX level (core's `MAX_LEVEL`: level 9 holds snapshots), here so parsing `--level` does not load core. */
const MAX_LEVEL = 9;

export function registerLtx(program: Command, registry: DeferredRegistry): void {
  program
    .command('ltx')
    .summary("list the LTX files of a database's replica")
    .argument('<source>', 'a database path from the config, or a replica URL')
    .option('--config <path>', 'config file (default: $LITESTREAM_CONFIG or /etc/litestream.yml)')
    .option('--level <level>', 'a level from 0 to 9, or "all"', parseLevel, 'all' as const)
    .option('--json', 'print JSON')
    .option('--no-expand-env', 'do not expand $VAR and ${VAR} in the config file')
    .action(async (source: string, opts: { config?: string; expandEnv?: boolean; level: number | 'all'; json?: boolean }) => {
      const { describeV03Catalog, formatTXID, readV03Catalog } = await import('@litestream-ts/core');
      let client;
      if (isReplicaURL(source)) client = await registry.fromURL(source);
      else {
        const config = await readConfig(registry, opts);
        const db = await findDatabase(config, source, registry);
        client = await registry.fromConfig(db.replica.settings, { warn: (m) => commandLogger(config.logging, undefined, collectSecrets(config), { forceStderr: true }).warn(m) });
      }
      try {
        const levels = opts.level === 'all' ? Array.from({ length: MAX_LEVEL + 1 }, (_, i) => i) : [opts.level];
        const files: LtxFileInfo[] = [];
        for (const level of levels) for await (const f of client.listLtxFiles(level, { useMetadata: true })) files.push(f);
        const rows = files.map((f) => ({ level: f.level, minTXID: formatTXID(f.minTXID), maxTXID: formatTXID(f.maxTXID), size: f.size, createdAt: f.createdAt.toISOString() }));
        if (files.length === 0 && opts.level === 'all') {
          // Say what the replica holds instead, when it is a Litestream v0.3 replica.
          const catalog = await readV03Catalog(client);
          if (catalog.generations.length > 0) {
            const note = `no LTX files; the replica holds ${describeV03Catalog(catalog)}; \`litestream restore\` reads them\n`;
            if (opts.json) {
              printJSON(rows);
              process.stderr.write(note);
            } else process.stdout.write(note);
            return;
          }
        }
        if (opts.json) printJSON(rows);
        else printTable(['LEVEL', 'MIN_TXID', 'MAX_TXID', 'SIZE', 'CREATED'], rows.map((r) => [String(r.level), r.minTXID, r.maxTXID, formatBytes(r.size), r.createdAt]));
      } finally {
        await client.close();
      }
    });
}

function parseLevel(value: string): number | 'all' {
  if (value === 'all') return 'all';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_LEVEL) throw new InvalidArgumentError(`expected a level from 0 to ${MAX_LEVEL}, or "all"`);
  return n;
}
