/**
 * What an S3-compatible provider needs that plain AWS S3 does not. A preset is applied when
 * the endpoint host belongs to the provider; any setting the user gives explicitly wins.
 */
export interface ProviderPreset {
  /** Short identifier, stable for tests and logs (for example `backblaze-b2`). */
  readonly id: string;
  /** Name shown to people. */
  readonly name: string;
  /** Matches an endpoint host (lower case, port included when given). `region` may be captured. */
  readonly endpointHost: RegExp;
  /**
   * Matches a replica URL host of the form `<bucket>.<endpoint host>`, capturing `bucket`,
   * `endpoint` and optionally `region`. Absent when the provider cannot be named in the URL.
   */
  readonly bucketHost?: RegExp;
  /** Region to sign with when none is given and the host does not name one. */
  readonly defaultRegion?: string;
  /** Sign the payload (SigV4 body hash); true everywhere except where a provider forbids it. */
  readonly signPayload?: boolean;
  /** Path-style addressing (`endpoint/bucket/key`) instead of virtual hosts (`bucket.endpoint/key`). */
  readonly forcePathStyle?: boolean;
  /** Send Content-MD5 with DeleteObjects. */
  readonly requireContentMd5?: boolean;
  /** Parallel parts of a multipart upload. */
  readonly concurrency?: number;
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** One line on why the preset holds what it holds (shown in the README table). */
  readonly note: string;
}
