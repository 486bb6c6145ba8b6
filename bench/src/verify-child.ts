/**
 * Child process of the codec bench: decodes and verifies one LTX file with `verifyLtx`
 * (every frame LZ4-decompressed, page checksums, file CRC-64, page index, trailer) and
 * prints one JSON line with timings and its peak RSS.
 *
 *   node src/verify-child.ts <file.ltx>
 */
import { createReadStream, statSync } from 'node:fs';
import { verifyLtx } from '../../packages/core/src/index.ts';
import { startMemorySampler } from './memory-sampler.ts';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: verify-child.ts <file.ltx>');
  process.exit(2);
}

const stopSampler = startMemorySampler();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const result = await verifyLtx(createReadStream(file, { highWaterMark: 1 << 20 }), { file });
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const memory = stopSampler();
const pageSize = result.header.pageSize;
console.log(
  JSON.stringify({
    op: 'verify',
    file,
    ltxBytes: statSync(file).size,
    pageSize,
    pages: result.pageCount,
    // Uncompressed database bytes the file carries: what the MB/s figure counts.
    dbBytes: result.pageCount * pageSize,
    ms,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    maxRssKiB: process.resourceUsage().maxRSS,
    memoryPeaks: memory,
  }),
);
