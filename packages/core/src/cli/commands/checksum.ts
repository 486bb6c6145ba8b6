import type { Command } from 'commander';
import { databaseChecksum } from '../../sqlite/database-checksum.ts';
import { formatChecksum } from '../../ltx/position.ts';

export function registerChecksum(program: Command): void {
  program
    .command('checksum')
    .description("print a SQLite database file's LTX checksum (XOR of page checksums)")
    .argument('<db>', 'SQLite database file')
    .action(async (db: string) => {
      const { checksum, pageCount, pageSize } = await databaseChecksum(db);
      process.stdout.write(`${formatChecksum(checksum)}  ${db} (${pageCount} pages of ${pageSize} bytes)\n`);
    });
}
