import { HEADER_SIZE, TRAILER_SIZE } from '../ltx/constants.ts';
import { verifyLtx, type LtxDecodeResult } from '../ltx/decoder.ts';
import { ChecksumMismatchError, CorruptError, LitestreamError, NotFoundError } from '../ltx/errors.ts';
import { decodeHeader, hasNoChecksum } from '../ltx/header.ts';
import { formatTXID } from '../ltx/txid.ts';
import type { LtxFileRef, ReplicaClient } from './replica-client.ts';

/**
 * A file stored in a replica fails verification: its bytes break the LTX format or a checksum
 * (`check` says which), or, with `after`, its pre-apply checksum does not continue from the
 * file before it. Names the file by level, TXID range and its key or path in the store.
 */
export class CorruptReplicaFileError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_CORRUPT_REPLICA_FILE';
  readonly ref: LtxFileRef;
  /** The file's key or path in the store (`ReplicaClient.ltxFileLocation`). */
  readonly location: string;
  /** What failed: `file checksum`, `post-apply checksum`, `pre-apply checksum`, `page-index structure`, … */
  readonly check: string;
  /** For a broken chain: the file this one should continue from. */
  readonly after: LtxFileRef | undefined;

  constructor(ref: LtxFileRef, location: string, check: string, cause: Error, after?: LtxFileRef) {
    super(`replica file ${location} (level ${ref.level}, TXIDs ${formatTXID(ref.minTXID)}-${formatTXID(ref.maxTXID)}) is corrupt: ${cause.message}`, { cause });
    this.ref = copyRef(ref);
    this.location = location;
    this.check = check;
    this.after = after && copyRef(after);
  }
}

/** True for the errors that mean "these bytes are not a valid LTX file" (or do not chain). */
export function isCorruption(err: unknown): err is ChecksumMismatchError | CorruptError {
  return err instanceof ChecksumMismatchError || err instanceof CorruptError;
}

/** Which check an LTX error reports, in words for logs: `file checksum`, `page structure`, … */
export function failedCheck(err: ChecksumMismatchError | CorruptError): string {
  return err instanceof ChecksumMismatchError ? `${err.kind} checksum` : `${err.section} structure`;
}

/**
 * When `err` is a format or checksum error raised while reading one of `inputs` (matched by
 * the name the reader was given, in the order they were merged), the same error as a
 * `CorruptReplicaFileError` naming that replica file; undefined for any other error (a failed
 * request, a damaged output). A pre-apply mismatch is the compactor's chain check between
 * neighbours, so it names the input before as `after`.
 */
export function corruptInput(client: ReplicaClient, err: unknown, inputs: ReadonlyArray<{ readonly name: string; readonly ref: LtxFileRef }>): CorruptReplicaFileError | undefined {
  if (!isCorruption(err) || err.file === undefined) return undefined;
  const index = inputs.findIndex((i) => i.name === err.file);
  if (index < 0) return undefined;
  const ref = inputs[index]!.ref;
  const chain = err instanceof ChecksumMismatchError && err.kind === 'pre-apply' ? inputs[index - 1]?.ref : undefined;
  return new CorruptReplicaFileError(ref, client.ltxFileLocation(ref), failedCheck(err), err, chain);
}

/**
 * Reads a replica file whole and verifies it (format, page and file checksums, and for a
 * snapshot the post-apply checksum). Rejects with `CorruptReplicaFileError` when it fails;
 * any other error (the request failed, the file is gone) is passed on as it is.
 */
export async function verifyReplicaFile(client: ReplicaClient, ref: LtxFileRef): Promise<LtxDecodeResult> {
  const location = client.ltxFileLocation(ref);
  const stream = await client.openLtxFile(ref);
  try {
    return await verifyLtx(stream, { file: location });
  } catch (err) {
    if (isCorruption(err)) throw new CorruptReplicaFileError(ref, location, failedCheck(err), err);
    throw err;
  } finally {
    stream.destroy();
  }
}

/**
 * Reads the damage a reader reported once more, independently: a body cut short by the
 * network reads as a truncated file, and must not be mistaken for a damaged one. Returns the
 * damage as found this time, or undefined when the file now verifies (or is gone, or chains).
 */
export async function confirmCorruption(client: ReplicaClient, damage: CorruptReplicaFileError): Promise<CorruptReplicaFileError | undefined> {
  try {
    if (damage.after) return (await chainBreak(client, damage.after, damage.ref)) ?? undefined;
    await verifyReplicaFile(client, damage.ref);
    return undefined;
  } catch (err) {
    if (err instanceof CorruptReplicaFileError) return err;
    if (err instanceof NotFoundError) return undefined;
    // A header or trailer of the pair that cannot even be read back is damage too.
    const ref = damage.after && err instanceof LitestreamError && err.file === client.ltxFileLocation(damage.after) ? damage.after : damage.ref;
    if (isCorruption(err)) return new CorruptReplicaFileError(ref, client.ltxFileLocation(ref), failedCheck(err), err);
    throw err;
  }
}

/**
 * Compares `next`'s pre-apply checksum with `prev`'s post-apply checksum (two small ranged
 * reads). Returns the error when `next` should continue from `prev` and does not.
 */
export async function chainBreak(client: ReplicaClient, prev: LtxFileRef & { readonly size?: number }, next: LtxFileRef): Promise<CorruptReplicaFileError | undefined> {
  if (next.minTXID !== prev.maxTXID + 1) return undefined;
  const prevLocation = client.ltxFileLocation(prev);
  const nextLocation = client.ltxFileLocation(next);
  const prevHeader = decodeHeader(await readRange(client, prev, 0, HEADER_SIZE), prevLocation);
  const nextHeader = decodeHeader(await readRange(client, next, 0, HEADER_SIZE), nextLocation);
  if (hasNoChecksum(prevHeader) || hasNoChecksum(nextHeader)) return undefined;
  const size = prev.size ?? (await storedSize(client, prev));
  const post = (await readRange(client, prev, size - TRAILER_SIZE, TRAILER_SIZE)).readBigUInt64BE(0);
  if (nextHeader.preApplyChecksum === post) return undefined;
  const cause = new ChecksumMismatchError('pre-apply', nextHeader.preApplyChecksum, post, { file: nextLocation, detail: `does not continue from ${prevLocation}` });
  return new CorruptReplicaFileError(next, nextLocation, 'pre-apply checksum', cause, prev);
}

async function storedSize(client: ReplicaClient, ref: LtxFileRef): Promise<number> {
  for await (const info of client.listLtxFiles(ref.level, { seek: ref.minTXID })) {
    if (info.minTXID === ref.minTXID && info.maxTXID === ref.maxTXID) return info.size;
    if (info.minTXID > ref.minTXID) break;
  }
  throw new NotFoundError(`level ${ref.level} file ${formatTXID(ref.minTXID)}-${formatTXID(ref.maxTXID)}`, { file: client.ltxFileLocation(ref) });
}

async function readRange(client: ReplicaClient, ref: LtxFileRef, offset: number, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await client.openLtxFile(ref, { offset, size })) parts.push(Buffer.from(chunk as Uint8Array));
  const bytes = Buffer.concat(parts);
  if (bytes.byteLength < size) {
    throw new CorruptError('file', `only ${bytes.byteLength} of ${size} bytes at offset ${offset}`, { file: client.ltxFileLocation(ref) });
  }
  return bytes;
}

function copyRef(ref: LtxFileRef): LtxFileRef {
  return { level: ref.level, minTXID: ref.minTXID, maxTXID: ref.maxTXID };
}
