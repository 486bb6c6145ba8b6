import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

/** The package version, read from package.json (works from src and dist). */
export const version: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function registerVersion(program: Command): void {
  program
    .command('version')
    .summary('print the version')
    .action(() => {
      process.stdout.write(`litestream-ts v${version} (node ${process.versions.node})\n`);
    });
}
