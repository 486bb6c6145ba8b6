import type { Command } from 'commander';
import { writeFileAtomically } from '../atomic-file.ts';
import { snapshotDatabaseFile } from '../../sqlite/snapshot.ts';
import { readSqliteHeader } from '../../sqlite/database-header.ts';
import { formatChecksum } from '../../ltx/position.ts';
import { parseTxidOption } from '../options.ts';

export function registerEncodeDb(program: Command): void {
  program
    .command('encode-db')
    .description('write a snapshot LTX file (TXID 1..N) of a SQLite database file')
    .argument('<db>', 'SQLite database file (only the main file is read; checkpoint the WAL first)')
    .argument('<out>', 'LTX file to write (written to a temporary name, then renamed)')
    .option('--txid <n>', 'max TXID of the snapshot, decimal or 16 hex digits', parseTxidOption, 1)
    .action(async (db: string, out: string, opts: { txid: number }) => {
      const info = await readSqliteHeader(db);
      if (info.walMode) process.stderr.write(`ltx: note: ${db} is in WAL mode; frames not yet checkpointed into the main file are not included\n`);
      const result = await writeFileAtomically(out, (sink) => snapshotDatabaseFile(db, sink, { txid: opts.txid }));
      process.stdout.write(
        `${out}: snapshot of ${result.pageCount} pages (page size ${result.header.pageSize}, commit ${result.header.commit}), ` +
          `${result.size} bytes, post-apply checksum ${formatChecksum(result.postApplyChecksum)}\n`,
      );
    });
}
