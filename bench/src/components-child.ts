/**
 * Child process of `profile`: speed of each building block of the codec on its own, on
 * real pages (the first 64 MiB of a bench database, held in memory): per-page LZ4 block
 * compress / decompress through core's `compressBlock` / `decompressBlock`, the per-page
 * CRC-64 (`crc64Raw`), and a plain per-page copy as a floor, in MB per CPU-second of the
 * main thread. These are ceilings: the full encoder cannot be faster than
 * 1 / (1/lz4 + 1/crc) of them.
 *
 *   node src/components-child.ts <db> [MiB]
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { compressBlock, crc64Raw, decompressBlock } from '../../packages/core/src/index.ts';

const [db, mibArg] = process.argv.slice(2);
if (!db) {
  console.error('usage: components-child.ts <db> [MiB]');
  process.exit(2);
}
const PAGE = 4096;
const bytes = Number(mibArg ?? 64) * (1 << 20);
const data = Buffer.allocUnsafe(bytes);
const fd = openSync(db, 'r');
let got = 0;
while (got < bytes) {
  const n = readSync(fd, data, got, bytes - got, got);
  if (n === 0) break;
  got += n;
}
closeSync(fd);
const pages: Buffer[] = [];
for (let off = 0; off + PAGE <= got; off += PAGE) pages.push(data.subarray(off, off + PAGE));
const total = pages.length * PAGE;
const blocks = pages.map((p) => compressBlock(p));
const scratch = Buffer.allocUnsafe(PAGE);

/**
 * Main-thread CPU time of `fn`, ms, best of `reps`: CPU time rather than wall time, so other
 * processes taking turns on the core do not count (this machine is shared).
 */
function best(fn: () => void, reps = 5): { ms: number; systemMs: number; minorFaults: number } {
  let bestRun = { ms: Infinity, systemMs: 0, minorFaults: 0 };
  for (let i = 0; i < reps; i++) {
    const f = process.resourceUsage().minorPageFault;
    const t = process.threadCpuUsage();
    fn();
    const d = process.threadCpuUsage(t);
    const ms = (d.user + d.system) / 1000;
    if (ms < bestRun.ms) bestRun = { ms, systemMs: d.system / 1000, minorFaults: process.resourceUsage().minorPageFault - f };
  }
  return bestRun;
}

let sink = 0;
const ops: Record<string, () => void> = {
  'copy page (Buffer.set, floor)': () => {
    for (const p of pages) scratch.set(p);
  },
  'crc64Raw(0n, page) (WASM CRC-64)': () => {
    for (const p of pages) sink ^= Number(crc64Raw(0n, p) & 1n);
  },
  'compressBlock(page) (lz4-napi)': () => {
    for (const p of pages) sink ^= compressBlock(p).byteLength;
  },
  'decompressBlock(block) (lz4-napi)': () => {
    for (const b of blocks) sink ^= decompressBlock(b, PAGE).byteLength;
  },
};
const results: Record<string, number> = {};
const detail: Record<string, { ms: number; systemMs: number; minorFaults: number }> = {};
for (const [name, fn] of Object.entries(ops)) {
  fn(); // warm-up (JIT)
  // Repeat cheap operations so one measurement spans well over the CPU clock's granularity.
  const t = performance.now();
  fn();
  const repeat = Math.max(1, Math.ceil(100 / Math.max(performance.now() - t, 0.01)));
  const loop = () => {
    for (let i = 0; i < repeat; i++) fn();
  };
  const b = best(loop);
  detail[name] = { ...b, ms: b.ms / repeat, systemMs: b.systemMs / repeat, minorFaults: b.minorFaults / repeat };
  results[name] = total / 1e6 / (b.ms / repeat / 1000);
}
const compressed = blocks.reduce((s, b) => s + b.byteLength, 0);
console.log(JSON.stringify({ op: 'components', bytes: total, pages: pages.length, ratio: total / compressed, mbPerS: results, detail, sink }));
