import type { ByteSink } from '../io/byte-sink.ts';
import { LtxDecoder, type LtxPage } from './decoder.ts';
import { LtxEncoder, type LtxEncodeResult } from './encoder.ts';
import { ChecksumMismatchError, CorruptError, UsageError } from './errors.ts';
import { hasNoChecksum, type LtxHeader } from './header.ts';
import { formatLtxFilename, isContiguous } from './txid.ts';

/** One input of a compaction: its bytes and a name for error messages. */
export interface CompactionInput {
  readonly source: AsyncIterable<Uint8Array>;
  readonly name: string;
}

export interface CompactOptions {
  /** Name of the output for error messages. */
  readonly file?: string;
  /** Header flags of the output (default 0). */
  readonly flags?: number;
}

/**
 * Merges a contiguous run of LTX files into one, streaming: for each page the latest
 * input wins, pages beyond the final commit are dropped, the pre-apply checksum is the
 * first file's and the post-apply checksum the last's. Every input is fully verified, and
 * the pre/post-apply chain between neighbours must hold; otherwise nothing is trusted and
 * the promise rejects naming the file.
 */
export async function compactLtx(inputs: readonly CompactionInput[], sink: ByteSink, options: CompactOptions = {}): Promise<LtxEncodeResult> {
  if (inputs.length === 0) throw new UsageError('compaction needs at least one input file');
  const decoders = inputs.map((input) => new LtxDecoder(input.source, { file: input.name }));
  const cursors: PageCursor[] = [];
  try {
    const headers: LtxHeader[] = [];
    for (const decoder of decoders) headers.push(await decoder.readHeader());
    checkRun(inputs, headers);
    const first = headers[0]!;
    const last = headers[headers.length - 1]!;
    const encoder = new LtxEncoder(
      sink,
      {
        flags: options.flags ?? 0,
        pageSize: first.pageSize,
        commit: last.commit,
        minTXID: first.minTXID,
        maxTXID: last.maxTXID,
        timestamp: last.timestamp,
        preApplyChecksum: first.preApplyChecksum,
      },
      { file: options.file ?? formatLtxFilename(first.minTXID, last.maxTXID) },
    );
    for (const decoder of decoders) cursors.push(new PageCursor(decoder.pages()));
    for (const cursor of cursors) await cursor.advance();
    for (;;) {
      let pgno = Infinity;
      for (const cursor of cursors) if (cursor.page && cursor.page.pgno < pgno) pgno = cursor.page.pgno;
      if (pgno === Infinity) break;
      // Newest input holding this page wins; older versions are consumed and dropped.
      let winner: LtxPage | undefined;
      for (let i = cursors.length - 1; i >= 0; i--) {
        const cursor = cursors[i]!;
        if (cursor.page?.pgno !== pgno) continue;
        winner ??= cursor.page;
        await cursor.advance();
      }
      if (winner && pgno <= last.commit) await encoder.writePage(pgno, winner.data);
    }
    const trailers = [];
    for (const decoder of decoders) trailers.push(await decoder.finish());
    checkChain(inputs, headers, trailers.map((t) => t.postApplyChecksum));
    const lastPost = trailers[trailers.length - 1]!.postApplyChecksum;
    return await encoder.finish(hasNoChecksum(last) || options.flags ? undefined : lastPost);
  } catch (error) {
    throw await damageBehind(error, decoders, cursors);
  } finally {
    await Promise.all(decoders.map((d) => d.cancel()));
  }
}

function checkRun(inputs: readonly CompactionInput[], headers: readonly LtxHeader[]): void {
  for (let i = 1; i < headers.length; i++) {
    const prev = headers[i - 1]!;
    const cur = headers[i]!;
    if (cur.pageSize !== prev.pageSize) {
      throw new CorruptError('header', `page size ${cur.pageSize} differs from ${inputs[i - 1]!.name} (${prev.pageSize})`, { file: inputs[i]!.name });
    }
    if (!isContiguous(prev.maxTXID, cur.minTXID, cur.maxTXID)) {
      throw new UsageError(
        `cannot compact non-contiguous files: ${inputs[i - 1]!.name} ends at TXID ${prev.maxTXID}, ${inputs[i]!.name} covers ${cur.minTXID}..${cur.maxTXID}`,
      );
    }
  }
}

function checkChain(inputs: readonly CompactionInput[], headers: readonly LtxHeader[], posts: readonly bigint[]): void {
  for (let i = 1; i < headers.length; i++) {
    const cur = headers[i]!;
    if (hasNoChecksum(cur) || hasNoChecksum(headers[i - 1]!)) continue;
    // A file that overlaps its predecessor does not start from the predecessor's end state.
    if (cur.minTXID !== headers[i - 1]!.maxTXID + 1) continue;
    if (cur.preApplyChecksum !== posts[i - 1]) {
      throw new ChecksumMismatchError('pre-apply', cur.preApplyChecksum, posts[i - 1]!, {
        file: inputs[i]!.name,
        detail: `does not continue from ${inputs[i - 1]!.name}`,
      });
    }
  }
}

/**
 * Headers and pages are used before their file checksum is read, so a rule they break (TXIDs
 * that do not line up, pages the output cannot take: a `UsageError`) may just be damage. Reads
 * every input to its end and returns the damage found (CorruptError, ChecksumMismatchError),
 * else `error`. Any other failure (a read that failed, a file that is gone) is returned as it
 * is: reading on would make a broken transfer look like a damaged file.
 */
async function damageBehind(error: unknown, decoders: readonly LtxDecoder[], cursors: readonly PageCursor[]): Promise<unknown> {
  if (!(error instanceof UsageError)) return error;
  for (const cursor of cursors) await cursor.close();
  for (const decoder of decoders) {
    try {
      await decoder.finish();
    } catch (damage) {
      if (damage instanceof CorruptError || damage instanceof ChecksumMismatchError) return damage;
    }
  }
  return error;
}

/** Holds the next unread page of one input. */
class PageCursor {
  page: LtxPage | undefined;
  private readonly pages: AsyncGenerator<LtxPage>;
  constructor(pages: AsyncGenerator<LtxPage>) {
    this.pages = pages;
  }
  async advance(): Promise<void> {
    const next = await this.pages.next();
    this.page = next.done ? undefined : next.value;
  }
  /** Stops reading pages (the decoder can then be finished). */
  async close(): Promise<void> {
    this.page = undefined;
    await this.pages.return(undefined);
  }
}
