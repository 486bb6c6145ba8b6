import { dockerAvailable } from './docker.ts';
import { startFauxqs } from './fauxqs.ts';
import { findMinioBinary, startMinio } from './minio.ts';
import type { RecordedRequest } from './recording-proxy.ts';
import { startS3rver } from './s3rver.ts';

/** The S3-compatible servers the fixtures can start. */
export type S3Kind = 'minio' | 'fauxqs' | 's3rver';

/** One request the server received from the client under test (see `S3Service.requests`). */
export type S3RequestRecord = RecordedRequest;

/** A running S3-compatible server, whichever one it is. */
export interface S3Service {
  readonly kind: S3Kind;
  /** `http://127.0.0.1:PORT`: a recording proxy in front of the server; use path-style addressing. */
  readonly endpoint: string;
  /** Always `us-east-1`. */
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /**
   * Whether `If-None-Match: *` / `If-Match` on PUT and DELETE are really enforced (MinIO).
   * fauxqs and s3rver accept such writes silently, so a test expecting a 412 must skip there.
   */
  readonly enforcesConditionalWrites: boolean;
  /**
   * The server's process id when it runs as a local process (fauxqs, s3rver, a minio binary):
   * tests freeze it with SIGSTOP to play a store that stops answering. Undefined in Docker.
   */
  readonly pid?: number;
  /** `http://127.0.0.1:PORT` of the server itself, without the recording proxy. */
  readonly directEndpoint: string;
  /** Requests the server received, for tests that assert headers: method, path, query and headers (lower-case names), in order. */
  requests(): readonly S3RequestRecord[];
  /** Forgets the requests recorded so far (e.g. between the cases of one suite). */
  clearRequests(): void;
  /** Creates a bucket (sent straight to the server, so it does not appear in `requests()`). */
  createBucket(name: string): Promise<void>;
  /** The service's own output, for failing tests. */
  log(): string;
  /** Stops the server and the proxy and removes the service's temp data; safe to call twice. */
  stop(): Promise<void>;
}

/** Options for {@link startS3}. */
export interface StartS3Options {
  /** Which server to start; wins over `LTS_S3`. Default: MinIO via Docker, else a `minio` binary, else fauxqs. */
  readonly kind?: S3Kind;
  readonly readyTimeoutMs?: number;
}

const KINDS: readonly S3Kind[] = ['minio', 'fauxqs', 's3rver'];

/** The kind forced by `LTS_S3`, if any; throws on a value that names no server. */
export function s3KindFromEnv(env: NodeJS.ProcessEnv = process.env): S3Kind | undefined {
  const value = env.LTS_S3?.trim();
  if (!value) return undefined;
  if ((KINDS as readonly string[]).includes(value)) return value as S3Kind;
  throw new Error(`LTS_S3=${value} names no S3 server; use one of ${KINDS.join(', ')}`);
}

/**
 * Starts the most faithful S3 server available: MinIO in Docker when an engine answers, else a
 * `minio` binary on PATH, else fauxqs from npm. `options.kind`, then `LTS_S3`, force a choice;
 * a forced server that cannot start is an error, never a silent substitute.
 */
export async function startS3(options: StartS3Options = {}): Promise<S3Service> {
  const timeouts = options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs };
  const kind = options.kind ?? s3KindFromEnv();
  switch (kind) {
    case 'minio':
      return startMinio(timeouts);
    case 'fauxqs':
      return startFauxqs(timeouts);
    case 's3rver':
      return startS3rver(timeouts);
    case undefined:
      if (await dockerAvailable()) return startMinio({ ...timeouts, via: 'docker' });
      if (await findMinioBinary()) return startMinio({ ...timeouts, via: 'binary' });
      return startFauxqs(timeouts);
  }
}
