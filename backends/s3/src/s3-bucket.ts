import { ListObjectsV2Command, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { isNotFound, wrapS3Error } from './s3-errors.ts';
import type { S3KeyLayout } from './s3-key-layout.ts';
import type { OperationHook, S3Operation } from './s3-settings.ts';
import type { ServerSideEncryption } from './server-side-encryption.ts';

/**
 * One replica's view of its bucket: the SDK client, where keys go, and the one place requests
 * are sent from, so each is counted for metrics and each failure is wrapped without secrets.
 */
export class S3Bucket {
  readonly s3: S3Client;
  /** Bucket name or access point ARN, as the SDK's `Bucket` parameter. */
  readonly name: string;
  readonly layout: S3KeyLayout;
  readonly encryption: ServerSideEncryption;
  private readonly hook: OperationHook | undefined;
  private readonly secrets: readonly string[];

  constructor(init: { s3: S3Client; name: string; layout: S3KeyLayout; encryption: ServerSideEncryption; hook?: OperationHook | undefined; secrets: readonly string[] }) {
    this.s3 = init.s3;
    this.name = init.name;
    this.layout = init.layout;
    this.encryption = init.encryption;
    this.hook = init.hook;
    this.secrets = init.secrets;
  }

  /**
   * Runs one request and reports it. Rejects with the SDK's own error so callers can tell
   * a missing object or a failed precondition apart; they pass anything else to `wrap`.
   */
  async send<T>(operation: S3Operation, run: () => Promise<T>, bytesOf?: (result: T) => number): Promise<T> {
    let result: T;
    try {
      result = await run();
    } catch (error) {
      // A missing object is an answer, not a failure of the store.
      this.report(operation, 0, !isNotFound(error));
      throw error;
    }
    this.report(operation, bytesOf ? bytesOf(result) : 0, false);
    return result;
  }

  /** The error to show for a failed request: typed, naming the key, free of credentials. */
  wrap(error: unknown, api: string, key: string | undefined): Error {
    return wrapS3Error(error, api, key, this.secrets);
  }

  /** Every object under a prefix, page by page (1000 keys a request), in key order. */
  async *list(prefix: string, options: { startAfter?: string | undefined; delimiter?: string } = {}): AsyncGenerator<_Object> {
    let token: string | undefined;
    let first = true;
    do {
      const input = {
        Bucket: this.name,
        Prefix: prefix,
        ...(first && options.startAfter !== undefined ? { StartAfter: options.startAfter } : {}),
        ...(options.delimiter !== undefined ? { Delimiter: options.delimiter } : {}),
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      };
      let page;
      try {
        page = await this.send('LIST', () => this.s3.send(new ListObjectsV2Command(input)));
      } catch (error) {
        throw this.wrap(error, 'ListObjectsV2', prefix);
      }
      first = false;
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  private report(operation: S3Operation, bytes: number, error: boolean): void {
    try {
      this.hook?.(operation, bytes, error);
    } catch {
      // Metrics must never break replication.
    }
  }
}
