import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { verifyLtx } from '../../ltx/decoder.ts';
import { formatLtxFilename } from '../../ltx/txid.ts';
import { formatChecksum } from '../../ltx/position.ts';
import { describeError } from '../output.ts';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('decode LTX files and check structure, page index and checksums; exit 1 if any fails')
    .argument('<files...>', 'LTX files')
    .action(async (files: string[]) => {
      let failed = 0;
      for (const file of files) {
        try {
          const r = await verifyLtx(createReadStream(file), { file });
          process.stdout.write(
            `${file}: ok (TXID ${formatLtxFilename(r.header.minTXID, r.header.maxTXID).slice(0, -4)}, ${r.pageCount} pages${r.pageEncoding ? ` (${r.pageEncoding})` : ''}, ` +
              `post-apply ${formatChecksum(r.postApplyChecksum)})\n`,
          );
        } catch (err) {
          failed += 1;
          const message = describeError(err);
          process.stdout.write(`${message.startsWith(file) ? '' : `${file}: `}${message}\n`);
        }
      }
      if (failed > 0) {
        process.stderr.write(`ltx: ${failed} of ${files.length} file(s) failed verification\n`);
        process.exitCode = 1;
      }
    });
}
