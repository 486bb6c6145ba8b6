import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xxhash from 'xxhash-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeLz4FrameStream, Lz4FrameStreamError } from './frame-stream.ts';

// Frames made by the reference `lz4` CLI (installed by scripts/install-test-services.sh) with
// each option the format has, decoded through chunk boundaries of every size. The input goes
// through a file: the CLI records the content size only when it knows it.
const dir = mkdtempSync(join(tmpdir(), 'lts-lz4-frames-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let inputs = 0;
const lz4 = (flags: string[], input: Buffer): Buffer => {
  const file = join(dir, `input-${inputs++}`);
  writeFileSync(file, input);
  return execFileSync('lz4', [...flags, '-c', file], { maxBuffer: 64 * 1024 * 1024 });
};

/** 3 MiB: compressible text with random runs, so some blocks compress and incompressible ones are stored. */
function sample(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; parts.reduce((n, p) => n + p.byteLength, 0) < 3 * 1024 * 1024; i++) {
    parts.push(Buffer.from(`row ${i} ${'abcdefgh'.repeat(i % 50)}\n`));
    if (i % 997 === 0) parts.push(randomBytes(300_000));
  }
  return Buffer.concat(parts);
}

async function decode(data: Buffer, chunk = 65_536): Promise<Buffer> {
  const chunks = async function* () {
    for (let i = 0; i < data.byteLength; i += chunk) yield data.subarray(i, i + chunk);
  };
  const out: Buffer[] = [];
  for await (const part of decodeLz4FrameStream(chunks())) out.push(Buffer.from(part));
  return Buffer.concat(out);
}

describe('decodeLz4FrameStream', () => {
  const input = sample();

  it.each([
    ['default (independent 4 MiB blocks, content checksum)', ['-B7']],
    ['linked blocks', ['-BD', '-B4']],
    ['block checksums', ['-BX', '-B5']],
    ['content size', ['--content-size', '-B6']],
    ['no content checksum', ['--no-frame-crc']],
    ['level 9', ['-9', '-BD', '-B4']],
  ])('decodes frames the lz4 CLI writes: %s', async (_name, flags) => {
    const compressed = lz4(flags, input);
    expect((await decode(compressed)).equals(input)).toBe(true);
    // Chunk boundaries inside every field.
    expect((await decode(compressed, 7)).equals(input)).toBe(true);
  });

  it('decodes concatenated frames and skips skippable frames', async () => {
    const a = lz4([], input.subarray(0, 100_000));
    const b = lz4(['-BD'], input.subarray(100_000, 400_000));
    const skippable = Buffer.alloc(8 + 5);
    skippable.writeUInt32LE(0x184d2a53, 0);
    skippable.writeUInt32LE(5, 4);
    expect((await decode(Buffer.concat([a, skippable, b]))).equals(input.subarray(0, 400_000))).toBe(true);
  });

  it('decodes an empty frame to nothing', async () => {
    expect((await decode(lz4([], Buffer.alloc(0)))).byteLength).toBe(0);
  });

  describe('refuses damaged data with a typed error', () => {
    const good = lz4(['-BX', '-B4'], input);
    const flip = (at: number): Buffer => {
      const copy = Buffer.from(good);
      copy[at]! ^= 0x40;
      return copy;
    };
    const rejects = async (data: Buffer, message: RegExp): Promise<void> => {
      const error = await decode(data).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(Lz4FrameStreamError);
      expect((error as Error).message).toMatch(message);
    };

    it('no data', () => rejects(Buffer.alloc(0), /no frame: the data is empty/));
    it('a bad magic number', () => rejects(flip(0), /bad magic number 0x184d2244/));
    it('a header checksum that does not match', () => rejects(flip(6), /header checksum mismatch/));
    it('a reserved bit', () => rejects(flip(4).fill(0x66, 4, 5), /reserved FLG bit set/));
    it('a damaged block (block checksum)', () => rejects(flip(200), /block checksum mismatch/));
    it('a truncated frame', () => rejects(good.subarray(0, good.byteLength - 3), /ends inside the content checksum \(truncated\)/));
    it('a frame cut inside a block', () => rejects(good.subarray(0, 5000), /ends inside the block \(truncated\)/));
    it('trailing garbage after a frame', () => rejects(Buffer.concat([good, Buffer.from('garbage!')]), /bad magic number/));

    it('a damaged block without block checksums (content checksum)', async () => {
      const plain = lz4(['-B4'], input);
      // Flip a literal byte deep inside the first block: it still decodes, to different bytes.
      const copy = Buffer.from(plain);
      const at = 7 + 4 + 40_000;
      copy[at]! ^= 0x01;
      const error = await decode(copy).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(Lz4FrameStreamError);
      expect((error as Error).message).toMatch(/content checksum mismatch|block does not decompress/);
    });

    it('a declared content size that differs', async () => {
      // By hand: magic, FLG (version 1, independent blocks, content size), BD (64 KiB blocks),
      // a content size of 18, the header checksum, one stored block of 17 bytes, the end mark.
      const data = Buffer.from('hello hello hello');
      const descriptor = Buffer.alloc(10);
      descriptor[0] = 0x68;
      descriptor[1] = 0x40;
      descriptor.writeBigUInt64LE(18n, 2);
      const hc = ((await xxhash()).h32Raw(descriptor, 0) >>> 8) & 0xff;
      const size = Buffer.alloc(4);
      size.writeUInt32LE((0x80000000 | data.byteLength) >>> 0, 0);
      const frame = Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor, Buffer.from([hc]), size, data, Buffer.alloc(4)]);
      await rejects(frame, /declares 18 content bytes but holds 17/);
      // The same frame declaring 17 decodes.
      descriptor.writeBigUInt64LE(17n, 2);
      const fixed = Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor, Buffer.from([((await xxhash()).h32Raw(descriptor, 0) >>> 8) & 0xff]), size, data, Buffer.alloc(4)]);
      expect((await decode(fixed)).toString()).toBe('hello hello hello');
    });
  });
});
