// Fuzzing the WAL reader: the replicator reads SQLite's -wal file while SQLite writes it, so
// torn, stale and damaged frames are normal input. The reader never throws on any bytes; it
// takes exactly the frames up to the last commit whose checksum chain and salts hold, and
// stops at the first frame that breaks them (one flipped byte anywhere is always noticed).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzzParameters, fuzzTestTimeout, withinHangBound } from '../test-support/fuzz.ts';
import { makePage, pageRecipe, type PageRecipe } from '../test-support/ltx-fuzz.ts';
import { WalFile } from './wal-file.ts';
import { WAL_FRAME_HEADER_SIZE, WAL_HEADER_SIZE, WalScanner, parseWalHeader, walChecksum, type WalCommitRun } from './wal.ts';

interface WalSpec {
  readonly bigEndian: boolean;
  readonly pageSize: number;
  readonly checkpointSeq: number;
  readonly salt1: number;
  readonly salt2: number;
  readonly frames: ReadonlyArray<{ readonly pgno: number; readonly commit: number; readonly page: PageRecipe }>;
  /** Frames of an earlier generation left after the valid ones (other salts). */
  readonly stale: number;
}

const u32 = fc.nat({ max: 0xffff_ffff });
const walSpecArb: fc.Arbitrary<WalSpec> = fc.record({
  bigEndian: fc.boolean(),
  pageSize: fc.constantFrom(512, 1024, 4096, 65536),
  checkpointSeq: u32,
  salt1: u32,
  salt2: u32,
  frames: fc.array(
    fc.record({
      pgno: fc.integer({ min: 1, max: 20 }),
      commit: fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.integer({ min: 1, max: 40 }), weight: 1 }),
      page: pageRecipe,
    }),
    { maxLength: 12 },
  ),
  stale: fc.nat({ max: 2 }),
});

function frameSize(spec: WalSpec): number {
  return WAL_FRAME_HEADER_SIZE + spec.pageSize;
}

/** The bytes SQLite would have written for a spec (checksums chained from the header's). */
function buildWal(spec: WalSpec): Buffer {
  const header = Buffer.alloc(WAL_HEADER_SIZE);
  header.writeUInt32BE(spec.bigEndian ? 0x377f0683 : 0x377f0682, 0);
  header.writeUInt32BE(3007000, 4);
  header.writeUInt32BE(spec.pageSize === 65536 ? 1 : spec.pageSize, 8);
  header.writeUInt32BE(spec.checkpointSeq, 12);
  header.writeUInt32BE(spec.salt1, 16);
  header.writeUInt32BE(spec.salt2, 20);
  let [s0, s1] = walChecksum(spec.bigEndian, header.subarray(0, 24), 0, 0);
  header.writeUInt32BE(s0, 24);
  header.writeUInt32BE(s1, 28);
  const parts = [header];
  const frames = [...spec.frames.map((f) => ({ ...f, stale: false })), ...Array.from({ length: spec.stale }, (_, i) => ({ pgno: i + 1, commit: i + 1, page: spec.frames[0]?.page ?? { kind: 'zero' as const, seed: 0, head: 0 }, stale: true }))];
  for (const f of frames) {
    // An earlier generation's frames carry its own chain: seeded apart from this one.
    if (f.stale && f.pgno === 1) s0 = (s0 ^ 0x5a5a_5a5a) >>> 0;
    const frame = Buffer.alloc(frameSize(spec));
    frame.writeUInt32BE(f.pgno, 0);
    frame.writeUInt32BE(f.commit, 4);
    frame.writeUInt32BE(f.stale ? (spec.salt1 + 1) >>> 0 : spec.salt1, 8);
    frame.writeUInt32BE(spec.salt2, 12);
    makePage(f.page, spec.pageSize).copy(frame, WAL_FRAME_HEADER_SIZE);
    [s0, s1] = walChecksum(spec.bigEndian, frame.subarray(0, 8), s0, s1);
    [s0, s1] = walChecksum(spec.bigEndian, frame.subarray(WAL_FRAME_HEADER_SIZE), s0, s1);
    frame.writeUInt32BE(s0, 16);
    frame.writeUInt32BE(s1, 20);
    parts.push(frame);
  }
  return Buffer.concat(parts);
}

/** What the reader must find when only the first `valid` frames can be trusted. */
function expectedRun(spec: WalSpec, valid: number): { pages: Map<number, number>; commit: number; endOffset: number; frames: number } | undefined {
  const size = frameSize(spec);
  const pending = new Map<number, number>();
  const committed = new Map<number, number>();
  let result;
  for (let i = 0; i < Math.min(valid, spec.frames.length); i++) {
    const f = spec.frames[i]!;
    pending.set(f.pgno, WAL_HEADER_SIZE + i * size + WAL_FRAME_HEADER_SIZE);
    if (f.commit !== 0) {
      for (const [p, o] of pending) committed.set(p, o);
      pending.clear();
      result = { pages: new Map(committed), commit: f.commit, endOffset: WAL_HEADER_SIZE + (i + 1) * size, frames: i + 1 };
    }
  }
  return result;
}

function summary(run: WalCommitRun | undefined) {
  return run && { pages: new Map(run.pages), commit: run.commit, endOffset: run.endOffset, frames: run.frames };
}

/** Feeds the frames after the header in whole-frame pieces, some copied to unaligned offsets. */
function scan(bytes: Buffer, pieces: readonly number[], misalign: number): WalCommitRun | undefined | 'no header' {
  const header = parseWalHeader(bytes.subarray(0, WAL_HEADER_SIZE));
  if (!header) return 'no header';
  const size = WAL_FRAME_HEADER_SIZE + header.pageSize;
  const scanner = new WalScanner(header, WAL_HEADER_SIZE, header.checksum);
  let pos = WAL_HEADER_SIZE;
  let i = 0;
  while (pos < bytes.byteLength && scanner.open) {
    const take = Math.max(1, pieces[i++ % Math.max(1, pieces.length)] ?? 1) * size;
    const piece = bytes.subarray(pos, pos + take);
    const copy = Buffer.alloc(piece.byteLength + misalign).subarray(misalign);
    piece.copy(copy);
    scanner.feed(copy);
    pos += Math.floor(piece.byteLength / size) * size;
    if (piece.byteLength < size) break;
  }
  return scanner.run;
}

const dir = mkdtempSync(join(tmpdir(), 'lts-wal-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describe('fuzz: WAL reader', () => {
  it('finds exactly the committed frames of a valid WAL, however it is fed', () => {
    fc.assert(
      fc.property(walSpecArb, fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 }), fc.constantFrom(0, 1, 2, 4), (spec, pieces, misalign) => {
        const bytes = buildWal(spec);
        const header = parseWalHeader(bytes);
        expect(header).toMatchObject({ bigEndian: spec.bigEndian, pageSize: spec.pageSize, salt1: spec.salt1, salt2: spec.salt2 });
        expect(summary(scan(bytes, pieces, misalign) as WalCommitRun | undefined)).toEqual(expectedRun(spec, spec.frames.length));
      }),
      { ...fuzzParameters(200), timeout: undefined },
    );
  });

  it('stops at the first frame with a flipped byte, and refuses a header with one', () => {
    fc.assert(
      fc.property(walSpecArb, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 }), (spec, at, mask, pieces) => {
        const bytes = buildWal(spec);
        const pos = at % bytes.byteLength;
        bytes[pos]! ^= mask;
        const result = withinHangBound('WAL scan', () => scan(bytes, pieces, 0));
        if (pos < WAL_HEADER_SIZE) {
          expect(result).toBe('no header');
          return;
        }
        const damagedFrame = Math.floor((pos - WAL_HEADER_SIZE) / frameSize(spec));
        expect(summary(result as WalCommitRun | undefined)).toEqual(expectedRun(spec, damagedFrame));
      }),
      { ...fuzzParameters(300), timeout: undefined },
    );
  });

  it('never throws on random bytes, and reads a header only when its checksum holds', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
      fc.tuple(walSpecArb, fc.uint8Array({ maxLength: 3000 })).map(([spec, noise]) => Buffer.concat([buildWal({ ...spec, frames: [] }), noise])),
    );
    fc.assert(
      fc.property(input, fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }), fc.constantFrom(0, 1, 3), (bytes, pieces, misalign) => {
        const result = withinHangBound('WAL scan', () => scan(bytes, pieces, misalign));
        if (result !== 'no header' && result !== undefined) {
          expect(result.endOffset).toBeLessThanOrEqual(bytes.byteLength);
          expect(result.frames).toBeGreaterThan(0);
        }
      }),
      { ...fuzzParameters(300), timeout: undefined },
    );
  });

  it('reads a -wal file cut anywhere, damaged anywhere, up to any end offset, without throwing', async () => {
    await fc.assert(
      fc.asyncProperty(walSpecArb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.option(fc.nat(), { nil: undefined }), async (spec, cut, at, mask, end) => {
        const full = buildWal(spec);
        const length = cut % (full.byteLength + 1);
        const bytes = full.subarray(0, length);
        if (length > 0) bytes[at % length]! ^= mask;
        const path = join(dir, `wal-${files++}`);
        writeFileSync(path, bytes);
        const wal = new WalFile(path);
        try {
          expect(wal.stat()?.size).toBe(length);
          const header = wal.readHeader();
          const inMemory = scan(Buffer.from(bytes), [1], 0);
          if (!header) {
            expect(inMemory).toBe('no header');
            return;
          }
          const size = frameSize(spec);
          const endOffset = end === undefined ? undefined : end % (length + size + 1);
          const region = await wal.readCommitted(header, WAL_HEADER_SIZE, header.checksum, endOffset === undefined ? {} : { endOffset });
          const limit = endOffset === undefined ? length : Math.min(length, endOffset);
          const frames = Math.max(0, Math.floor((limit - WAL_HEADER_SIZE) / size));
          const damagedFrame = mask === 0 || at % Math.max(1, length) < WAL_HEADER_SIZE ? Infinity : Math.floor((at % length - WAL_HEADER_SIZE) / size);
          expect(summary(region?.run)).toEqual(expectedRun(spec, Math.min(frames, damagedFrame)));
          if (region) {
            for (const [pgno, offset] of region.run.pages) {
              const frame = Math.floor((offset - WAL_HEADER_SIZE) / size);
              expect(region.page(offset).equals(makePage(spec.frames[frame]!.page, spec.pageSize)), `page ${pgno}`).toBe(true);
            }
            expect(wal.checksumAt(header, region.run.endOffset)).toEqual(region.run.checksum);
          }
          // Any offset: a checksum or undefined, never an exception.
          for (const offset of [0, 1, WAL_HEADER_SIZE + 1, WAL_HEADER_SIZE + size, length, length + size, at]) wal.checksumAt(header, offset);
        } finally {
          wal.close();
          rmSync(path, { force: true });
        }
      }),
      fuzzParameters(150),
    );
  }, fuzzTestTimeout());
});
