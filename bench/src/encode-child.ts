/**
 * Child process of the codec bench: encodes one SQLite file as an LTX snapshot with
 * `snapshotDatabaseFile` and prints one JSON line with timings and its peak RSS.
 *
 *   node src/encode-child.ts <db> discard         bytes go to a callback that drops them
 *   node src/encode-child.ts <db> file <out.ltx>  bytes go to fs.createWriteStream (no fsync)
 *
 * Timing starts after the modules are loaded and ends when the last byte was handed to
 * the sink (for `file`: when the write stream closed).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { snapshotDatabaseFile } from '../../packages/core/src/index.ts';
import { startMemorySampler } from './memory-sampler.ts';

const [db, mode, out] = process.argv.slice(2);
if (!db || (mode !== 'discard' && mode !== 'file') || (mode === 'file' && !out)) {
  console.error('usage: encode-child.ts <db> discard | <db> file <out.ltx>');
  process.exit(2);
}

const stopSampler = startMemorySampler();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let ltxBytes = 0;
let result;
if (mode === 'discard') {
  result = await snapshotDatabaseFile(db, (chunk) => {
    ltxBytes += chunk.byteLength;
  });
} else {
  const ws = createWriteStream(out!);
  result = await snapshotDatabaseFile(db, ws);
  ws.end();
  await once(ws, 'close');
  ltxBytes = ws.bytesWritten;
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const memory = stopSampler();
console.log(
  JSON.stringify({
    op: 'encode',
    sink: mode,
    db,
    dbBytes: result.header.commit * result.header.pageSize,
    pageSize: result.header.pageSize,
    pages: result.pageCount,
    ltxBytes,
    ms,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    maxRssKiB: process.resourceUsage().maxRSS,
    memoryPeaks: memory,
  }),
);
