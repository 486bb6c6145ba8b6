import Database from 'better-sqlite3';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PageKernel } from '../ltx/page-kernel.ts';
import { LZ4_TABLE, WORK_OFFSET } from '../ltx/page-kernel-module.ts';
import { compressBlock, decompressBlock } from './block.ts';
import { compressBound } from './bounds.ts';
import { LZ4_ERR_OFFSET, LZ4_ERR_OVERFLOW, LZ4_ERR_TRUNCATED, LZ4_SLACK } from './lz4-wasm-decoder.ts';

const scratch = await mkdtemp(join(tmpdir(), 'lz4-wasm-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const kernel = PageKernel.create();
const SRC = WORK_OFFSET;
const DST = SRC + 70 * 1024;
const CANARY = DST + 70 * 1024;
kernel.ensure(CANARY + 4096);

/** Our compressor's block for `data` (≤ 64 KiB). */
function wasmCompress(data: Uint8Array): Buffer {
  kernel.bytes.set(data, SRC);
  const n = kernel.exports.lz4Compress(SRC, data.byteLength, DST, LZ4_TABLE);
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(compressBound(data.byteLength));
  return Buffer.from(kernel.bytes.subarray(DST, DST + n));
}

/**
 * Our decoder's result for `block` into an output of `size` bytes: the bytes, or the error
 * code. Checks that nothing past the output and its slack was touched.
 */
function wasmDecode(block: Uint8Array, size: number): Buffer | number {
  kernel.bytes.set(block, SRC);
  kernel.bytes.fill(0xa5, CANARY - 64, CANARY + 4096);
  const out = CANARY - LZ4_SLACK - size;
  const n = kernel.exports.lz4Decode(SRC, block.byteLength, out, size);
  // The canary starts right after the slack; the 64 bytes before it belong to output + slack.
  expect(kernel.bytes.subarray(CANARY, CANARY + 4096).every((b) => b === 0xa5)).toBe(true);
  return n < 0 ? n : Buffer.from(kernel.bytes.subarray(out, out + n));
}

let pagesOnce: Promise<Buffer[]> | undefined;

/** Pages of a real SQLite database: text, integers, an index, overflow blobs and free space. */
function sqlitePages(): Promise<Buffer[]> {
  return (pagesOnce ??= makeSqlitePages());
}

async function makeSqlitePages(): Promise<Buffer[]> {
  const path = join(scratch, 'pages.db');
  const db = new Database(path);
  db.exec(`CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER, body BLOB); CREATE INDEX t_name ON t(name);
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 400)
    INSERT INTO t SELECT i, 'name ' || (i * 7919 % 1000) || ' of a row', i * i, CASE WHEN i % 5 = 0 THEN randomblob(6000) ELSE zeroblob(i % 300) END FROM c;
    DELETE FROM t WHERE id % 7 = 0;`);
  db.close();
  const bytes = await readFile(path);
  return Array.from({ length: bytes.byteLength / 4096 }, (_, i) => bytes.subarray(i * 4096, (i + 1) * 4096));
}

/** Inputs with every kind of structure: zeros, runs, short periods, text, random, mixtures, odd sizes. */
function syntheticInputs(): Uint8Array[] {
  const random = prng(7);
  const bytes = (n: number, f: (i: number) => number) => Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog; '.repeat(200));
  const inputs: Uint8Array[] = [
    new Uint8Array(0),
    bytes(1, () => 7),
    bytes(12, (i) => i),
    bytes(13, () => 0),
    bytes(4096, () => 0),
    bytes(4096, (i) => i % 2),
    bytes(4096, (i) => i % 3),
    bytes(4096, (i) => i % 7),
    bytes(4096, (i) => i % 16),
    bytes(4096, (i) => i % 255),
    bytes(4096, () => random() * 256),
    bytes(65536, () => random() * 256),
    bytes(65536, (i) => (i < 30000 ? 0 : random() * 256)),
    text.subarray(0, 4096),
    text.subarray(0, 9000),
  ];
  for (const size of [512, 1024, 4096, 8192, 32768, 65536]) {
    // Random stretches, repeats at varying distances and runs.
    inputs.push(
      bytes(size, (i) => {
        const zone = Math.floor(i / 97) % 4;
        return zone === 0 ? random() * 256 : zone === 1 ? 0 : zone === 2 ? i % 11 : text[i % text.byteLength]!;
      }),
    );
  }
  return inputs;
}

describe('LZ4 block compressor (WebAssembly)', () => {
  it('round-trips real SQLite pages through lz4-napi and through our decoder', async () => {
    const pages = await sqlitePages();
    expect(pages.length).toBeGreaterThan(50);
    let ours = 0;
    let theirs = 0;
    for (const page of pages) {
      const block = wasmCompress(page);
      expect(decompressBlock(block, page.byteLength).equals(page)).toBe(true);
      expect(wasmDecode(block, page.byteLength)).toEqual(page);
      ours += block.byteLength;
      theirs += compressBlock(page).byteLength;
    }
    // Same algorithm family as lz4-napi's: the output is within 10% of its size.
    expect(ours).toBeLessThan(theirs * 1.1);
  });

  it('round-trips zeros, runs, short periods, text, random data and odd sizes', () => {
    for (const input of syntheticInputs()) {
      const block = wasmCompress(input);
      expect(decompressBlock(block, input.byteLength).equals(Buffer.from(input)), `size ${input.byteLength}`).toBe(true);
      expect(wasmDecode(block, input.byteLength)).toEqual(Buffer.from(input));
    }
  });

  it('compresses what is compressible and barely grows what is not', () => {
    expect(wasmCompress(new Uint8Array(4096)).byteLength).toBeLessThan(40);
    const random = prng(3);
    const noise = Uint8Array.from({ length: 4096 }, () => random() * 256);
    expect(wasmCompress(noise).byteLength).toBeLessThanOrEqual(compressBound(4096));
  });

  it('ends every block with literals, as the format requires of compressors', () => {
    // The last sequence of a block is literals only: decoding the block minus its last byte fails.
    for (const input of syntheticInputs().filter((i) => i.byteLength > 0)) {
      const block = wasmCompress(input);
      expect(wasmDecode(block.subarray(0, block.byteLength - 1), input.byteLength)).toSatisfy((r) => typeof r === 'number' || r.byteLength !== input.byteLength);
    }
  });

  it('refuses inputs over 64 KiB (its table holds 16-bit positions)', () => {
    expect(kernel.exports.lz4Compress(SRC, 65537, DST, LZ4_TABLE)).toBe(-1);
  });
});

describe('LZ4 block decoder (WebAssembly)', () => {
  it('decodes what lz4-napi compresses, page for page', async () => {
    for (const page of await sqlitePages()) expect(wasmDecode(compressBlock(page), page.byteLength)).toEqual(page);
    for (const input of syntheticInputs()) expect(wasmDecode(compressBlock(input), input.byteLength)).toEqual(Buffer.from(input));
  });

  it('reports truncation, overflow and bad offsets as error codes', () => {
    const page = Buffer.alloc(4096, 0);
    page.write('hello hello hello hello', 100);
    const block = compressBlock(page);
    expect(wasmDecode(block.subarray(0, block.byteLength - 3), 4096)).toBe(LZ4_ERR_TRUNCATED);
    expect(wasmDecode(new Uint8Array(0), 4096)).toBe(LZ4_ERR_TRUNCATED);
    // Into an output one byte too small.
    expect(wasmDecode(block, 4095)).toBe(LZ4_ERR_OVERFLOW);
    // Token: 1 literal, then a match at offset 0, then at offset 2 with only 1 byte written.
    expect(wasmDecode(Uint8Array.from([0x10, 0x41, 0x00, 0x00, 0x00]), 100)).toBe(LZ4_ERR_OFFSET);
    expect(wasmDecode(Uint8Array.from([0x10, 0x41, 0x02, 0x00, 0x00]), 100)).toBe(LZ4_ERR_OFFSET);
    // A literal length running past the block.
    expect(wasmDecode(Uint8Array.from([0xf0, 0xff, 0xff]), 100)).toBe(LZ4_ERR_TRUNCATED);
  });

  it('never writes outside its output, whatever the bytes (random and mutated blocks)', async () => {
    const random = prng(11);
    const pages = await sqlitePages();
    for (let round = 0; round < 3000; round++) {
      let block: Uint8Array;
      if (round % 2 === 0) {
        block = Uint8Array.from({ length: 1 + Math.floor(random() * 200) }, () => random() * 256);
      } else {
        block = Buffer.from(compressBlock(pages[round % pages.length]!));
        for (let k = 0; k < 1 + Math.floor(random() * 4); k++) block[Math.floor(random() * block.byteLength)] = random() * 256;
      }
      const size = [512, 4096, 8192][round % 3]!;
      // wasmDecode checks the canary; a result is an error code or at most `size` bytes.
      const result = wasmDecode(block, size);
      if (typeof result !== 'number') expect(result.byteLength).toBeLessThanOrEqual(size);
    }
  });
});
