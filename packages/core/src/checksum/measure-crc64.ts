/**
 * Throughput of the CRC-64/ISO code paths, in MB/s (10^6 bytes per second).
 * Run: `node packages/core/src/checksum/measure-crc64.ts [MiB]` (default 256 MiB per figure).
 *
 * Data is a 64 MiB random buffer walked repeatedly, larger than the L3 cache here, so
 * the figures include reading from RAM as a real encoder would.
 */
import { crc64Implementation } from './crc64.ts';
import { crc64RawReference } from './crc64-reference.ts';
import { createWasmEngine } from './crc64-wasm.ts';
import { Crc64, crc64Raw, pageChecksum, pageChecksumFromRaw } from './index.ts';

const TOTAL_MIB = Number(process.argv[2] ?? 256);
const TOTAL = TOTAL_MIB * 1024 * 1024;
const BUFFER_BYTES = Math.min(64 * 1024 * 1024, TOTAL);
const PAGE = 4096;

const buffer = new Uint8Array(BUFFER_BYTES);
// crypto.getRandomValues fills at most 64 KiB per call.
for (let i = 0; i < BUFFER_BYTES; i += 65536) crypto.getRandomValues(buffer.subarray(i, i + 65536));
// Views made once: an encoder receives pages as ready-made Uint8Arrays.
const pages = Array.from({ length: BUFFER_BYTES / PAGE }, (_, i) => buffer.subarray(i * PAGE, (i + 1) * PAGE));

// Results feed this sink so no loop can be optimised away.
let sink = 0n;

function measure(label: string, bytes: number, run: (bytes: number) => void): void {
  run(Math.min(bytes, 16 * 1024 * 1024)); // warm-up: compile tiers, shift tables
  const start = process.hrtime.bigint();
  run(bytes);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label.padEnd(64)} ${(bytes / seconds / 1e6).toFixed(0).padStart(6)} MB/s`);
}

/** Calls `each(buffer)` until `bytes` have been covered. */
function overBuffer(bytes: number, each: (data: Uint8Array) => void): void {
  for (let done = 0; done < bytes; done += BUFFER_BYTES) each(bytes - done >= BUFFER_BYTES ? buffer : buffer.subarray(0, bytes - done));
}

/** Calls `each(page, pgno)` for `bytes / 4096` pages. */
function overPages(bytes: number, each: (page: Uint8Array, pgno: number) => void): void {
  const count = bytes / PAGE;
  for (let i = 0; i < count; i++) each(pages[i % pages.length]!, i + 1);
}

console.log(`CRC-64/ISO throughput, ${TOTAL_MIB} MiB per figure, engine: ${crc64Implementation().kind}, node ${process.version}`);

measure('WASM bulk update (crc64Raw over 64 MiB buffers)', TOTAL, (bytes) =>
  overBuffer(bytes, (data) => {
    sink ^= crc64Raw(sink & 0xffn, data);
  }),
);

const wasm8 = createWasmEngine(8);
measure('WASM bulk update, slicing-by-8 variant (not the default)', TOTAL, (bytes) =>
  overBuffer(bytes, (data) => {
    sink ^= wasm8.raw(sink & 0xffn, data);
  }),
);

measure('JS reference, bytewise (crc64RawReference)', Math.min(TOTAL, 256 * 1024 * 1024), (bytes) =>
  overBuffer(bytes, (data) => {
    sink ^= crc64RawReference(sink & 0xffn, data);
  }),
);

measure('per 4096-byte page: crc64Raw + pageChecksumFromRaw + updateRaw', TOTAL, (bytes) => {
  const file = new Crc64();
  overPages(bytes, (page, pgno) => {
    const raw = crc64Raw(0n, page);
    sink ^= pageChecksumFromRaw(pgno, raw, PAGE);
    file.updateRaw(raw, PAGE);
  });
  sink ^= file.digest();
});

measure('per 4096-byte page, two passes: pageChecksum + Crc64.update', TOTAL, (bytes) => {
  const file = new Crc64();
  overPages(bytes, (page, pgno) => {
    sink ^= pageChecksum(pgno, page);
    file.update(page);
  });
  sink ^= file.digest();
});

measure('per 4096-byte page: crc64Raw only', TOTAL, (bytes) => {
  overPages(bytes, (page) => {
    sink ^= crc64Raw(0n, page);
  });
});

console.log(`(sink ${sink.toString(16)})`);
