import { createReadStream } from 'node:fs';
import { copyFile, rm, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { tempPathFor } from '../atomic-file.ts';
import { LtxApplier } from '../../restore/ltx-applier.ts';
import { publishDatabase } from '../../restore/output-file.ts';
import { formatPosition } from '../../ltx/position.ts';
import { UsageError } from '../../ltx/errors.ts';
import { parseTxidOption } from '../options.ts';

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('apply LTX files in order to a database: a snapshot first, then incrementals; every checksum and the pre/post-apply chain are checked')
    .argument('<db>', 'database file to write (replaced only if every file applies cleanly)')
    .argument('<files...>', 'LTX files, in TXID order')
    .option('--from-txid <n>', 'the first file is not a snapshot: start from the existing <db>, which is at this TXID', parseTxidOption)
    .action(async (db: string, files: string[], opts: { fromTxid?: number }) => {
      const temp = tempPathFor(db);
      const applier = new LtxApplier(temp, { target: db });
      try {
        if (opts.fromTxid !== undefined) {
          const wal = await stat(`${db}-wal`).catch(() => undefined);
          if (wal && wal.size > 0) throw new UsageError(`${db}-wal exists: checkpoint ${db} first, so its main file holds the whole state`);
          await copyFile(db, temp).catch((cause: NodeJS.ErrnoException) => {
            throw new UsageError(`--from-txid needs an existing database at ${db} (${cause.code ?? cause.message})`);
          });
          await applier.openExisting(opts.fromTxid);
        }
        for (const file of files) await applier.apply(createReadStream(file), file);
        await applier.close({ sync: true });
        // Replaces the database and drops stale -wal/-shm beside it, which SQLite would replay.
        await publishDatabase(temp, db, true);
      } catch (err) {
        await applier.close({ sync: false }).catch(() => {});
        await rm(temp, { force: true });
        throw err;
      }
      process.stdout.write(`${db}: applied ${files.length} file(s), position ${formatPosition(applier.position)}\n`);
    });
}
