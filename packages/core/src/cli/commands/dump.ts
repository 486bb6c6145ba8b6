import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { LtxDecoder } from '../../ltx/decoder.ts';
import { formatChecksum } from '../../ltx/position.ts';
import { describeHeader, formatFields, toJSON } from '../output.ts';

export function registerDump(program: Command): void {
  program
    .command('dump')
    .description('print the header, page frames (with how each is stored: lz4-block or lz4-frame), page index and trailer of an LTX file')
    .argument('<file>', 'LTX file')
    .option('--json', 'print JSON instead of text')
    .action(async (file: string, opts: { json?: boolean }) => {
      const decoder = new LtxDecoder(createReadStream(file), { file, collectIndex: true });
      const header = await decoder.readHeader();
      const pages = [];
      for await (const p of decoder.pages()) {
        pages.push({ pgno: p.pgno, frameOffset: p.frameOffset, frameSize: p.frameSize, encoding: p.encoding, checksum: formatChecksum(p.checksum) });
      }
      const result = await decoder.finish();
      const trailer = { postApplyChecksum: formatChecksum(result.postApplyChecksum), fileChecksum: formatChecksum(result.fileChecksum) };
      if (opts.json) {
        process.stdout.write(`${toJSON({ file, size: result.size, header: describeHeader(header), pages, pageIndex: result.pageIndex, trailer })}\n`);
        return;
      }
      const lines = [`# ${file} (${result.size} bytes)`, '', 'Header', formatFields(describeHeader(header), '  '), '', `Pages (${pages.length})`];
      for (const p of pages) lines.push(`  pgno ${String(p.pgno).padStart(10)}  offset ${String(p.frameOffset).padStart(12)}  size ${String(p.frameSize).padStart(6)}  ${p.encoding}  checksum ${p.checksum}`);
      lines.push('', `Page index (${result.pageIndex?.length ?? 0} entries)`);
      for (const e of result.pageIndex ?? []) lines.push(`  pgno ${String(e.pgno).padStart(10)}  offset ${String(e.offset).padStart(12)}  size ${String(e.size).padStart(6)}`);
      lines.push('', 'Trailer', formatFields(trailer, '  '));
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
