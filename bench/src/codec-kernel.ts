/**
 * Per-page cost of the codec's building blocks on real database pages, in one process:
 * the WebAssembly page kernel (LZ4 block decode, LZ4 block compress, CRC-64, and the batch
 * loops that combine them) against lz4-napi, the native library it replaced on the hot path.
 *
 * Run: `node bench/src/codec-kernel.ts [database] [MiB]` (default: the 1 GiB bench database,
 * 64 MiB of its pages from the middle). Prints µs per 4 KiB page (best of 5) and the
 * compression ratio of each compressor. CPU time of this thread, so other load matters less.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { decompressBlock, compressBlock } from '../../packages/core/src/lz4/block.ts';
import { PageKernel } from '../../packages/core/src/ltx/page-kernel.ts';
import { LZ4_TABLE, WORK_OFFSET } from '../../packages/core/src/ltx/page-kernel-module.ts';
import { crc64Raw } from '../../packages/core/src/checksum/index.ts';
import { ensureDatabase } from './make-db.ts';

const path = process.argv[2] ?? (await ensureDatabase('db-1gib', 1024 * 1024 * 1024)).path;
const mib = Number(process.argv[3] ?? 64);
const PAGE = 4096;
const N = (mib * 1024 * 1024) / PAGE;

const fd = openSync(path, 'r');
const pages = Buffer.alloc(N * PAGE);
readSync(fd, pages, 0, pages.byteLength, 256 * 1024 * 1024);
closeSync(fd);
const page = (i: number) => pages.subarray(i * PAGE, (i + 1) * PAGE);
const napiBlocks = Array.from({ length: N }, (_, i) => compressBlock(page(i)));

// Kernel memory: the pages, frames for decodeFrames, an output area, checksums, results.
const kernel = PageKernel.create();
kernel.usePageSize(PAGE);
const PAGES = WORK_OFFSET;
const FRAMES = PAGES + N * PAGE + 64;
const framesBytes = napiBlocks.reduce((n, b) => n + 10 + b.byteLength, 0);
const OUT = (FRAMES + framesBytes + 4096 + 7) & ~7;
const SUMS = OUT + N * PAGE + 64;
const PGNOS = SUMS + N * 8;
const RESULT = PGNOS + N * 4;
const ENCODED = RESULT + 64;
kernel.ensure(ENCODED + N * (PAGE + 32));
kernel.bytes.set(pages, PAGES);
const view = new DataView(kernel.memory.buffer);
let p = FRAMES;
for (let i = 0; i < N; i++) {
  view.setUint32(p, i + 1);
  view.setUint16(p + 4, 1);
  view.setUint32(p + 6, napiBlocks[i]!.byteLength);
  kernel.bytes.set(napiBlocks[i]!, p + 10);
  view.setUint32(PGNOS + 4 * i, i + 1, true);
  p += 10 + napiBlocks[i]!.byteLength;
}

let sink = 0;
function measure(label: string, run: () => void): void {
  let best = Infinity;
  for (let round = 0; round < 6; round++) {
    const start = process.threadCpuUsage?.() ?? process.cpuUsage();
    run();
    const used = process.threadCpuUsage?.(start) ?? process.cpuUsage(start);
    // Round 0 warms up (tiers, tables).
    if (round > 0) best = Math.min(best, (used.user + used.system) / N);
  }
  console.log(`${label.padEnd(56)} ${best.toFixed(2).padStart(6)} µs/page  ${((PAGE / best) ).toFixed(0).padStart(5)} MB/s`);
}

console.log(`${path}: ${N} pages of ${PAGE} bytes (${mib} MiB), CPU time of this thread, best of 5\n`);
measure('lz4-napi decompressBlock (new Buffer per page)', () => {
  for (let i = 0; i < N; i++) sink ^= decompressBlock(napiBlocks[i]!, PAGE).byteLength;
});
measure('kernel lz4Decode (into memory)', () => {
  let q = FRAMES;
  for (let i = 0; i < N; i++) {
    const size = napiBlocks[i]!.byteLength;
    sink ^= kernel.exports.lz4Decode(q + 10, size, OUT, PAGE);
    q += 10 + size;
  }
});
measure('lz4-napi compressBlock', () => {
  for (let i = 0; i < N; i++) sink ^= compressBlock(page(i)).byteLength;
});
measure('kernel lz4Compress', () => {
  for (let i = 0; i < N; i++) sink ^= kernel.exports.lz4Compress(PAGES + i * PAGE, PAGE, ENCODED, LZ4_TABLE);
});
measure('crc64Raw per page (JS call, copy into WASM)', () => {
  for (let i = 0; i < N; i++) sink ^= Number(crc64Raw(0n, page(i)) & 1n);
});
measure('kernel decodeFrames: decode + page and file checksums', () => {
  sink ^= kernel.exports.decodeFrames(FRAMES, N, OUT, PAGE, SUMS, RESULT, 0n);
});
measure('kernel encodeFrames: compress + page and file checksums', () => {
  sink ^= kernel.exports.encodeFrames(PAGES, N, PAGE, ENCODED, PGNOS, SUMS, RESULT, 0n);
});

const ours = kernel.exports.encodeFrames(PAGES, N, PAGE, ENCODED, PGNOS, SUMS, RESULT, 0n) - 10 * N;
const theirs = napiBlocks.reduce((n, b) => n + b.byteLength, 0);
console.log(`\ncompression ratio: kernel ${((N * PAGE) / ours).toFixed(3)}, lz4-napi ${((N * PAGE) / theirs).toFixed(3)}`);
if (sink === 0.5) console.log(sink);
