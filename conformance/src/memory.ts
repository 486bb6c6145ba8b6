import { Readable } from 'node:stream';
import {
  NotFoundError,
  ReplicaClient,
  compareLtxFiles,
  ltxFilename,
  type ListLtxOptions,
  type LtxFileInfo,
  type LtxFileRef,
  type ReplicaCapabilities,
  type StoredObject,
  type WriteLtxResult,
} from '@litestream-ts/core';

/**
 * `@litestream-ts/conformance/memory`: the smallest backend that keeps the `ReplicaClient`
 * contract, held in this process's memory. Read it as a worked example of the `_methods` a
 * backend implements, or use it in tests of code that needs some replica. It declares no
 * optional capability, so running the suite against it shows the gated groups being skipped
 * and the refusal cases running. It imports only `@litestream-ts/core` and Node built-ins (no
 * vitest), so it loads anywhere.
 *
 * ```ts
 * import { MemoryReplicaClient } from '@litestream-ts/conformance/memory';
 * const replica = new MemoryReplicaClient();
 * ```
 */
export class MemoryReplicaClient extends ReplicaClient {
  readonly type = 'memory';
  readonly capabilities: ReplicaCapabilities = Object.freeze({ conditionalWrite: false, metadataTimestamps: false, rangedReads: 'emulated' });
  private readonly files = new Map<string, LtxFileInfo & { readonly data: Buffer }>();
  private readonly objects = new Map<string, StoredObject>();
  private versions = 0;

  protected async *_listLtxFiles(level: number, options: ListLtxOptions): AsyncIterable<LtxFileInfo> {
    const infos = [...this.files.values()]
      .filter((f) => f.level === level && (options.seek === undefined || f.minTXID >= options.seek))
      .sort(compareLtxFiles);
    for (const { data: _data, ...info } of infos) yield info;
  }

  protected async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined }): Promise<Readable> {
    const file = this.files.get(keyOf(ref));
    if (file === undefined) throw new NotFoundError(`level ${ref.level} LTX file ${ltxFilename(ref)}`, { file: keyOf(ref) });
    const end = range.size === undefined ? undefined : range.offset + range.size;
    return Readable.from([file.data.subarray(range.offset, end)], { objectMode: false });
  }

  protected async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>): Promise<WriteLtxResult> {
    const chunks: Buffer[] = [];
    // Collected first, so a source that fails midway replaces nothing.
    for await (const chunk of data) chunks.push(Buffer.from(chunk));
    const file = { level: ref.level, minTXID: ref.minTXID, maxTXID: ref.maxTXID, data: Buffer.concat(chunks), createdAt: new Date() };
    this.files.set(keyOf(ref), { ...file, size: file.data.byteLength });
    return { size: file.data.byteLength, createdAt: file.createdAt };
  }

  protected async _deleteLtxFiles(refs: readonly LtxFileRef[]): Promise<void> {
    for (const ref of refs) this.files.delete(keyOf(ref));
  }

  protected async _deleteAll(): Promise<void> {
    this.files.clear();
    this.objects.clear();
  }

  // Without conditionalWrite the contract passes no conditions here.
  protected async _readObject(name: string): Promise<StoredObject | undefined> {
    return this.objects.get(name);
  }

  protected async _writeObject(name: string, data: Uint8Array): Promise<{ etag: string }> {
    const etag = String(++this.versions);
    this.objects.set(name, { data: Uint8Array.from(data), etag });
    return { etag };
  }

  protected async _deleteObject(name: string): Promise<void> {
    this.objects.delete(name);
  }
}

function keyOf(ref: LtxFileRef): string {
  return `${ref.level}/${ltxFilename(ref)}`;
}
