/**
 * Which lag markers (`LAG:000123;`, written by writer-child.ts in `lag` mode) a replica file
 * holds, read from its pages: ours' LTX files through our decoder (every page decompressed and
 * checksummed), the peer's `.lz4` WAL segments and snapshots through the `lz4` command. A
 * marker is in a page image only once its transaction is committed, so a file holding marker k
 * holds commit k.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { LtxDecoder } from '../../../packages/core/src/ltx/decoder.ts';
import type { ToolId } from './tools.ts';

const MARKER = /LAG:(\d{6});/g;

function scan(buf: Buffer, into: Set<number>): void {
  for (const m of buf.toString('latin1').matchAll(MARKER)) into.add(Number(m[1]));
}

export async function markersIn(tool: ToolId, file: string): Promise<Set<number>> {
  const found = new Set<number>();
  if (tool === 'peer') {
    scan(execFileSync('lz4', ['-d', '-c', file], { maxBuffer: 4 << 30 }), found);
    return found;
  }
  const decoder = new LtxDecoder(createReadStream(file, { highWaterMark: 1 << 20 }), { file });
  await decoder.readHeader();
  for await (const page of decoder.pages()) scan(page.data, found);
  await decoder.finish();
  return found;
}
