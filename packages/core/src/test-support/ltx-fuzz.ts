/**
 * Generators for the LTX fuzz tests: valid files (single files and chains with real
 * pre/post-apply checksums), raw headers with any field values, and "forged" files whose
 * structure is arbitrary but whose file checksum is computed the way the format defines it,
 * so the decoder's structural checks are reached instead of stopping at the checksum.
 */
import fc from 'fast-check';
import { Crc64, pageChecksum } from '../checksum/index.ts';
import { compressBlock } from '../lz4/block.ts';
import { CHECKSUM_FLAG, HEADER_SIZE, LTX_MAGIC, TRAILER_SIZE, lockPgno } from '../ltx/constants.ts';
import { LtxEncoder } from '../ltx/encoder.ts';
import type { LtxHeaderInit } from '../ltx/header.ts';
import { writeUvarint } from '../ltx/page-index.ts';
import { napiFrame } from './frame-ltx.ts';
import { seededBytes } from './fuzz.ts';
import { MemorySink } from './streams.ts';

/** Makes fast-check print `value` as `text()` in counterexamples (pages would print as kilobytes of digits). */
function printable<T extends object>(value: T, text: () => string): T {
  Object.defineProperty(value, fc.toStringMethod, { value: text, enumerable: false });
  return value;
}

function describeSpec(spec: LtxSpec): string {
  const { init } = spec;
  const pages = spec.pages.map(([pgno, data]) => `${pgno}:${data.subarray(0, 8).toString('hex')}…`).join(' ');
  return `LtxSpec(${JSON.stringify(init, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}, pages [${pages}], post ${spec.post})`;
}

/** How a page's bytes are made: compressible like b-tree pages, random, or all zeros. */
export interface PageRecipe {
  readonly kind: 'zero' | 'random' | 'head' | 'pattern';
  readonly seed: number;
  readonly head: number;
}

export const pageRecipe: fc.Arbitrary<PageRecipe> = fc.record({
  kind: fc.constantFrom('zero', 'random', 'head', 'head', 'pattern'),
  seed: fc.nat(),
  head: fc.nat({ max: 600 }),
});

/** The page a recipe makes, `pageSize` bytes. */
export function makePage(recipe: PageRecipe, pageSize: number): Buffer {
  switch (recipe.kind) {
    case 'zero':
      return Buffer.alloc(pageSize);
    case 'random':
      return seededBytes(recipe.seed, pageSize);
    case 'head': {
      const page = Buffer.alloc(pageSize);
      seededBytes(recipe.seed, Math.min(pageSize, recipe.head)).copy(page);
      return page;
    }
    case 'pattern': {
      const unit = seededBytes(recipe.seed, 1 + (recipe.head % 13));
      const page = Buffer.alloc(pageSize);
      for (let i = 0; i < pageSize; i += unit.byteLength) unit.copy(page, i);
      return page;
    }
  }
}

/** Page sizes, small ones more often (they make more frames per byte). */
export const pageSizeArb = fc.constantFrom(512, 512, 1024, 4096, 4096, 65536);

/** A database as a sparse map of pages and its size. */
export interface DbState {
  readonly pageSize: number;
  readonly commit: number;
  readonly pages: ReadonlyMap<number, Buffer>;
}

/** The LTX database checksum of a state: XOR of its pages' checksums, bit 63 set. */
export function stateChecksum(state: DbState): bigint {
  let x = 0n;
  for (const [pgno, data] of state.pages) if (pgno <= state.commit) x ^= pageChecksum(pgno, data);
  return CHECKSUM_FLAG | x;
}

/** One valid LTX file as generated: header init, pages in order, the post-apply checksum to pass. */
export interface LtxSpec {
  readonly init: LtxHeaderInit;
  readonly pages: ReadonlyArray<readonly [number, Buffer]>;
  readonly post: bigint | undefined;
}

/** Encodes a spec; `bulk` uses `writePageList` (batches) instead of `writePage`. */
export async function encodeSpec(spec: LtxSpec, bulk = false): Promise<Buffer> {
  const sink = new MemorySink();
  const encoder = new LtxEncoder(sink, spec.init);
  if (bulk) await encoder.writePageList(spec.pages.map(([p]) => p), (i) => spec.pages[i]![1]);
  else for (const [pgno, data] of spec.pages) await encoder.writePage(pgno, data);
  await encoder.finish(spec.post);
  return sink.bytes;
}

/** A snapshot of `commit` pages (the lock page left out). */
function snapshotOf(pageSize: number, recipes: readonly PageRecipe[], txid: number, noChecksum: boolean): { spec: LtxSpec; state: DbState } {
  const lock = lockPgno(pageSize);
  const pages = new Map<number, Buffer>();
  const commit = recipes.length;
  recipes.forEach((recipe, i) => {
    if (i + 1 !== lock) pages.set(i + 1, makePage(recipe, pageSize));
  });
  const state = { pageSize, commit, pages };
  return {
    spec: { init: { pageSize, commit, minTXID: 1, maxTXID: txid, timestamp: 1_700_000_000_000 + txid, flags: noChecksum ? 2 : 0 }, pages: [...pages], post: undefined },
    state,
  };
}

/** What an incremental file changes: some pages (by index into the grown page range), and the new size. */
interface Change {
  readonly commitDelta: number;
  readonly writes: ReadonlyArray<readonly [number, PageRecipe]>;
}

const changeArb: fc.Arbitrary<Change> = fc.record({
  commitDelta: fc.integer({ min: -3, max: 5 }),
  writes: fc.array(fc.tuple(fc.nat(), pageRecipe), { maxLength: 6 }),
});

function applyChange(state: DbState, change: Change, minTXID: number, maxTXID: number): { spec: LtxSpec; state: DbState } {
  const { pageSize } = state;
  const lock = lockPgno(pageSize);
  const commit = Math.max(1, state.commit + change.commitDelta);
  const written = new Map<number, Buffer>();
  for (const [n, recipe] of change.writes) {
    const pgno = 1 + (n % commit);
    if (pgno !== lock) written.set(pgno, makePage(recipe, pageSize));
  }
  // A database that grows gets its new pages written (SQLite writes every page it adds).
  for (let pgno = state.commit + 1; pgno <= commit; pgno++) if (pgno !== lock && !written.has(pgno)) written.set(pgno, Buffer.alloc(pageSize));
  const pages = new Map<number, Buffer>();
  for (const [pgno, data] of state.pages) if (pgno <= commit) pages.set(pgno, data);
  for (const [pgno, data] of written) pages.set(pgno, data);
  const next = { pageSize, commit, pages };
  const ordered = [...written].sort((a, b) => a[0] - b[0]);
  return {
    spec: {
      init: { pageSize, commit, minTXID, maxTXID, timestamp: 1_700_000_000_000 + maxTXID, preApplyChecksum: stateChecksum(state) },
      pages: ordered,
      post: stateChecksum(next),
    },
    state: next,
  };
}

/** A chain: a snapshot then incrementals, each with the checksums that tie it to the one before. */
export interface LtxChain {
  readonly files: readonly LtxSpec[];
  /** The database after each file. */
  readonly states: readonly DbState[];
}

export const chainArb: fc.Arbitrary<LtxChain> = fc
  .record({
    pageSize: fc.constantFrom(512, 1024, 4096),
    snapshot: fc.array(pageRecipe, { minLength: 1, maxLength: 12 }),
    changes: fc.array(changeArb, { maxLength: 3 }),
  })
  .map(({ pageSize, snapshot, changes }) => {
    const first = snapshotOf(pageSize, snapshot, 1, false);
    const files = [first.spec];
    const states = [first.state];
    let txid = 1;
    for (const change of changes) {
      const next = applyChange(states[states.length - 1]!, change, txid + 1, txid + 1);
      txid += 1;
      files.push(next.spec);
      states.push(next.state);
    }
    const chain = { files, states };
    return printable(chain, () => `LtxChain[${files.map(describeSpec).join(', ')}]`);
  });

/** One valid file of any kind: a snapshot, an incremental, or a file without checksums. */
export const ltxSpecArb: fc.Arbitrary<LtxSpec> = fc
  .record({
    pageSize: pageSizeArb,
    snapshot: fc.array(pageRecipe, { maxLength: 24 }),
    change: changeArb,
    kind: fc.constantFrom('snapshot', 'incremental', 'no-checksum-snapshot', 'no-checksum-incremental'),
    maxTXID: fc.integer({ min: 2, max: 2 ** 40 }),
  })
  .map(({ pageSize, snapshot, change, kind, maxTXID }) => {
    const snap = snapshotOf(pageSize, snapshot, maxTXID, kind === 'no-checksum-snapshot');
    const inc = applyChange(snap.state, change, 2, maxTXID);
    let spec: LtxSpec;
    if (kind === 'snapshot' || kind === 'no-checksum-snapshot') spec = snap.spec;
    else if (kind === 'incremental') spec = inc.spec;
    else spec = { init: { ...inc.spec.init, flags: 2, preApplyChecksum: 0n }, pages: inc.spec.pages, post: undefined };
    return printable({ ...spec }, () => describeSpec(spec));
  });

/** Raw header field values, any of them out of the format's range. */
export interface RawHeader {
  readonly magic: string;
  readonly flags: number;
  readonly pageSize: number;
  readonly commit: number;
  readonly minTXID: bigint;
  readonly maxTXID: bigint;
  readonly timestamp: bigint;
  readonly preApplyChecksum: bigint;
  readonly walOffset: bigint;
  readonly walSize: bigint;
  readonly walSalt1: number;
  readonly walSalt2: number;
  readonly nodeID: bigint;
}

const u32 = fc.oneof(fc.constantFrom(0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff), fc.nat({ max: 0xffff_ffff }));
const u64 = fc.oneof(fc.constantFrom(0n, 1n, 2n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
const i64 = fc.oneof(
  fc.constantFrom(0n, 1_700_000_000_000n, 8_640_000_000_000_000n, 8_640_000_000_000_001n, 2n ** 53n - 1n, -(2n ** 53n) + 1n, -(2n ** 63n), 2n ** 63n - 1n),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);
const smallTxid = fc.oneof(fc.constantFrom(0n, 1n, 2n, 3n), u64);
const checksumField = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map((v) => v | CHECKSUM_FLAG), u64);

export const rawHeaderArb: fc.Arbitrary<RawHeader> = fc.record({
  magic: fc.oneof({ arbitrary: fc.constant(LTX_MAGIC), weight: 9 }, { arbitrary: fc.string({ minLength: 4, maxLength: 4, unit: 'binary-ascii' }), weight: 1 }),
  flags: fc.oneof({ arbitrary: fc.constantFrom(0, 2), weight: 9 }, { arbitrary: u32, weight: 1 }),
  pageSize: fc.oneof({ arbitrary: fc.constantFrom(512, 1024, 4096, 65536), weight: 9 }, { arbitrary: u32, weight: 1 }),
  commit: fc.oneof(fc.nat({ max: 40 }), u32),
  minTXID: smallTxid,
  maxTXID: smallTxid,
  timestamp: i64,
  preApplyChecksum: checksumField,
  walOffset: fc.oneof({ arbitrary: fc.constant(0n), weight: 4 }, { arbitrary: i64, weight: 1 }),
  walSize: fc.oneof({ arbitrary: fc.constant(0n), weight: 4 }, { arbitrary: i64, weight: 1 }),
  walSalt1: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: u32, weight: 1 }),
  walSalt2: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: u32, weight: 1 }),
  nodeID: u64,
});

/** The 100 header bytes for raw field values (no validation: that is the decoder's job). */
export function headerBytes(h: RawHeader): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  b.write(h.magic, 0, 'latin1');
  b.writeUInt32BE(h.flags >>> 0, 4);
  b.writeUInt32BE(h.pageSize >>> 0, 8);
  b.writeUInt32BE(h.commit >>> 0, 12);
  b.writeBigUInt64BE(h.minTXID, 16);
  b.writeBigUInt64BE(h.maxTXID, 24);
  b.writeBigInt64BE(h.timestamp, 32);
  b.writeBigUInt64BE(h.preApplyChecksum, 40);
  b.writeBigInt64BE(h.walOffset, 48);
  b.writeBigInt64BE(h.walSize, 56);
  b.writeUInt32BE(h.walSalt1 >>> 0, 64);
  b.writeUInt32BE(h.walSalt2 >>> 0, 68);
  b.writeBigUInt64BE(h.nodeID, 72);
  return b;
}

/** One frame of a forged file: a real page (compressed here) or a raw block, and optional lies. */
export interface ForgedFrame {
  readonly pgno: number;
  readonly flags: number;
  readonly page: PageRecipe;
  /** Raw block bytes instead of the compressed page (any bytes: the LZ4 decoder must cope). */
  readonly rawBlock: Uint8Array | undefined;
  /** A size field that lies about the block length. */
  readonly sizeLie: number | undefined;
}

/** A forged file: raw header, frames, and what to do to the page index and trailer. */
export interface ForgedFile {
  readonly header: RawHeader;
  readonly frames: readonly ForgedFrame[];
  readonly index: 'correct' | 'shuffled' | 'random';
  readonly indexNoise: Uint8Array;
  readonly post: 'pages' | bigint;
  readonly tail: Uint8Array;
  /** Store pages as LZ4 frames (flags 0x0000, as Litestream v0.5.0–v0.5.15 did) instead of blocks. */
  readonly framePages: boolean;
}

const forgedFrameArb: fc.Arbitrary<ForgedFrame> = fc.record({
  // Lock pages of 512-byte, 1 KiB, 4 KiB and 64 KiB pages among them.
  pgno: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 30 }), weight: 8 }, { arbitrary: u32, weight: 1 }, { arbitrary: fc.constantFrom(2097153, 1048577, 262145, 16385), weight: 1 }),
  flags: fc.oneof({ arbitrary: fc.constant(1), weight: 12 }, { arbitrary: fc.nat({ max: 0xffff }), weight: 1 }),
  page: pageRecipe,
  rawBlock: fc.option(fc.uint8Array({ maxLength: 300 }), { freq: 6 }).map((b) => b ?? undefined),
  sizeLie: fc.option(u32, { freq: 12 }).map((n) => n ?? undefined),
});

export const forgedFileArb: fc.Arbitrary<ForgedFile> = fc.record({
  header: rawHeaderArb,
  // Mostly ascending page numbers starting at 1, so many files get past the order checks.
  frames: fc.oneof(
    fc.array(forgedFrameArb, { maxLength: 12 }),
    fc.array(forgedFrameArb, { maxLength: 12 }).map((frames) => frames.map((f, i) => ({ ...f, pgno: i + 1 }))),
  ),
  index: fc.constantFrom('correct', 'correct', 'correct', 'shuffled', 'random'),
  indexNoise: fc.uint8Array({ maxLength: 40 }),
  post: fc.oneof({ arbitrary: fc.constant('pages' as const), weight: 3 }, { arbitrary: checksumField, weight: 1 }),
  tail: fc.oneof({ arbitrary: fc.constant(new Uint8Array(0)), weight: 9 }, { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8 }), weight: 1 }),
  framePages: fc.boolean(),
});

/**
 * Lays out a forged file and seals it with a file checksum computed as the format defines
 * it (header, each frame header and its page bytes, the rest up to the trailer's first half).
 */
export function forge(file: ForgedFile): Buffer {
  const pageSize = file.header.pageSize;
  const validSize = pageSize >= 512 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0;
  const header = headerBytes(file.header);
  const crc = new Crc64().update(header);
  const parts: Buffer[] = [header];
  const entries: Array<[number, number, number]> = [];
  let offset = HEADER_SIZE;
  let pagesXor = 0n;
  for (const frame of file.frames) {
    const page = makePage(frame.page, validSize ? pageSize : 512);
    // A frame page: 6-byte page header, then one LZ4 frame; a block page: header, size, block.
    const flags = file.framePages && frame.flags === 1 ? 0 : frame.flags & 0xffff;
    const body = frame.rawBlock ? Buffer.from(frame.rawBlock) : flags === 0 ? lz4Frame(page) : compressBlock(page);
    const head = Buffer.alloc(flags === 0 ? 6 : 10);
    head.writeUInt32BE(frame.pgno >>> 0, 0);
    head.writeUInt16BE(flags, 4);
    if (flags !== 0) head.writeUInt32BE((frame.sizeLie ?? body.byteLength) >>> 0, 6);
    crc.update(head).update(frame.rawBlock ? body : page);
    if (!frame.rawBlock) pagesXor ^= pageChecksum(Math.max(1, frame.pgno >>> 0), page);
    parts.push(head, body);
    entries.push([frame.pgno >>> 0, offset, head.byteLength + body.byteLength]);
    offset += head.byteLength + body.byteLength;
  }
  const terminator = Buffer.alloc(6);
  parts.push(terminator);
  crc.update(terminator);
  if (file.index === 'shuffled') entries.reverse();
  let index: Buffer;
  if (file.index === 'random') {
    index = Buffer.from(file.indexNoise);
  } else {
    index = Buffer.alloc(entries.length * 30 + 1);
    let pos = 0;
    for (const [pgno, at, size] of entries) {
      pos = writeUvarint(index, pos, pgno);
      pos = writeUvarint(index, pos, at);
      pos = writeUvarint(index, pos, size);
    }
    index[pos++] = 0;
    index = index.subarray(0, pos);
  }
  const sizeField = Buffer.alloc(8);
  sizeField.writeBigUInt64BE(BigInt(index.byteLength));
  const trailer = Buffer.alloc(TRAILER_SIZE);
  trailer.writeBigUInt64BE(file.post === 'pages' ? CHECKSUM_FLAG | pagesXor : file.post, 0);
  crc.update(index).update(sizeField).update(trailer.subarray(0, 8));
  trailer.writeBigUInt64BE(CHECKSUM_FLAG | crc.digest(), 8);
  parts.push(index, sizeField, trailer, Buffer.from(file.tail));
  return Buffer.concat(parts);
}

/** An LZ4 frame of a page as lz4_flex writes it (content checksum on). */
function lz4Frame(page: Buffer): Buffer {
  return napiFrame(page);
}
