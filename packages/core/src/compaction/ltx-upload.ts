import { PassThrough } from 'node:stream';
import type { ByteSink } from '../io/byte-sink.ts';
import { HEADER_SIZE } from '../ltx/constants.ts';
import { CorruptError, LitestreamError } from '../ltx/errors.ts';
import { decodeHeader, type LtxHeader } from '../ltx/header.ts';
import type { LtxFileRef, ReplicaClient, WriteLtxResult } from '../replica/replica-client.ts';

/** What `uploadLtx` reports once the replica holds the file. */
export interface LtxUpload<T> {
  /** What the producer returned. */
  readonly produced: T;
  /** The header of the stored file, as the producer wrote it. */
  readonly header: LtxHeader;
  readonly written: WriteLtxResult;
}

/**
 * Streams an LTX file that `produce` writes into a replica file, holding at most one
 * output chunk in memory. The upload starts once the producer has written the 100-byte
 * header, so the stored timestamp is exactly the file's own header timestamp without
 * reading any input twice. If either side fails the other is stopped, and the backend,
 * whose source stream then errors, stores nothing.
 *
 * @param produce writes the whole file to the sink it is given, then resolves.
 * @param options.file a name for error messages.
 * @param options.signal abandons the upload (the backend then stores nothing).
 */
export async function uploadLtx<T>(
  client: ReplicaClient,
  ref: LtxFileRef,
  produce: (sink: ByteSink) => Promise<T>,
  options: { readonly file?: string; readonly signal?: AbortSignal } = {},
): Promise<LtxUpload<T>> {
  const pipe = new PassThrough();
  // Failures surface through the promises below; an unheard 'error' event would crash the process.
  pipe.on('error', () => {});
  let header: LtxHeader | undefined;
  let upload: Promise<WriteLtxResult> | undefined;
  // The first failure on either side is the one worth reporting; the other is its echo.
  let failure: { readonly error: unknown } | undefined;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const startUpload = (head: Buffer): void => {
    header = decodeHeader(head.subarray(0, HEADER_SIZE), options.file);
    upload = client.writeLtxFile(ref, pipe, { timestamp: new Date(header.timestamp), signal: options.signal });
    upload.catch((error: unknown) => {
      failure ??= { error };
      // Unblocks a producer waiting for 'drain' that will never come.
      pipe.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  };

  const sink = async (chunk: Buffer): Promise<void> => {
    if (upload === undefined) {
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes < HEADER_SIZE) return;
      chunk = Buffer.concat(pending);
      pending = [];
      startUpload(chunk);
    }
    if (pipe.destroyed) throw closedEarly(pipe, options.file);
    if (!pipe.write(chunk)) await drained(pipe, options.file);
  };

  try {
    const produced = await produce(sink);
    if (upload === undefined) {
      throw new CorruptError('file', `producer wrote only ${pendingBytes} bytes, less than an LTX header`, { file: options.file });
    }
    pipe.end();
    const written = await upload;
    return { produced, header: header!, written };
  } catch (error) {
    failure ??= { error };
    pipe.destroy(error instanceof Error ? error : new Error(String(error)));
    // Let the backend finish cleaning up (temp files, aborted uploads) before reporting.
    const uploadError = upload === undefined ? undefined : await upload.then(() => undefined, (e: unknown) => e ?? new Error('upload failed'));
    // A producer that saw the pipe close only echoes the upload's failure, which says why.
    if (failure.error instanceof UploadAbandonedError && uploadError !== undefined) throw uploadError;
    throw failure.error;
  }
}

/**
 * Waits until the pipe wants more. A backend that stops reading destroys the pipe, often
 * without an error (an abandoned async iterator), so 'close' must end the wait too.
 */
function drained(pipe: PassThrough, file: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: unknown) => {
      pipe.off('drain', onDrain);
      pipe.off('close', onClose);
      pipe.off('error', onError);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = () => settle();
    const onClose = () => settle(closedEarly(pipe, file));
    const onError = () => settle(closedEarly(pipe, file));
    pipe.on('drain', onDrain);
    pipe.on('close', onClose);
    pipe.on('error', onError);
  });
}

/** The backend stopped reading before the end of the file. */
class UploadAbandonedError extends LitestreamError {}

function closedEarly(pipe: PassThrough, file: string | undefined): UploadAbandonedError {
  return new UploadAbandonedError('the replica stopped reading the upload before its end', { file, cause: pipe.errored ?? undefined });
}
