import type { ReplicaClient } from '../replica/replica-client.ts';

/** A probe's verdict: `warn` works with litestream-ts but deviates from what the protocol promises. */
export type ProbeStatus = 'pass' | 'fail' | 'warn' | 'skip';

/** A setting a probe recommends for replicas on this store (a config key of the backend). */
export interface SettingAdvice {
  /** Config key, as in the replica config (for example `force-path-style`). */
  readonly key: string;
  /** The value to use, as it would be written in the config. */
  readonly value: string;
  /** Why, in one line. */
  readonly reason: string;
}

/** What one probe found. */
export interface ProbeFinding {
  readonly status: ProbeStatus;
  /** One line: what was seen (or why the probe was skipped). */
  readonly detail: string;
  /** Measured values (lag in ms, skew in ms, smallest part in bytes, …), for `--json`. */
  readonly measured?: Readonly<Record<string, number | string | boolean>>;
  /** Settings this finding recommends. */
  readonly settings?: readonly SettingAdvice[];
}

/** Everything a probe may use besides its client. */
export interface ProbeContext {
  /** How long a probe waits for a store to catch up (delete or list lag) before it calls it a failure, ms. */
  readonly recheckMs: number;
  /** Abandons the probe's storage calls. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A check of a provider's behaviour that the contract suite cannot see from the outside (a
 * store that ignores preconditions, deletes late, skews its clock, …). A probe gets a fresh
 * client on its own scratch prefix, writes only there, and need not clean up: the runner
 * deletes everything under the prefix afterwards.
 */
export interface ProviderProbe {
  /** Stable identifier (`conditional-writes`), used in `--json` and by tests. */
  readonly id: string;
  /** What is checked, in a few words (shown in the matrix). */
  readonly title: string;
  /** Why it does not apply to this client (it is then skipped with that reason), or undefined. */
  skipReason?(client: ReplicaClient): string | undefined;
  run(client: ReplicaClient, context: ProbeContext): Promise<ProbeFinding>;
}

/**
 * Probes a backend plugin adds for its own protocol (the s3 plugin's payload-signing,
 * addressing, aws-chunked and multipart probes), as an optional `probes` property of its
 * `BackendPlugin` object. Probes named in `PROTOCOL_PROBES` that a backend does not provide
 * are reported as skipped with the reason given there.
 */
export interface ProbingPlugin {
  readonly probes?: readonly ProviderProbe[];
}

/** The outcome of one probe as reported: its finding plus its identity and duration. */
export interface ProbeResult extends ProbeFinding {
  readonly id: string;
  readonly title: string;
  readonly durationMs: number;
}

/** Protocol-specific probes every report lists, so a backend that lacks them shows why. */
export const PROTOCOL_PROBES: ReadonlyArray<{ readonly id: string; readonly title: string; readonly skipReason: string }> = [
  { id: 'payload-signing', title: 'unsigned payloads (sign-payload)', skipReason: 'S3 only' },
  { id: 'addressing-style', title: 'path-style and virtual-hosted addressing (force-path-style)', skipReason: 'S3 only' },
  { id: 'aws-chunked', title: 'aws-chunked bodies with trailing checksums', skipReason: 'S3 only' },
  { id: 'multipart-min-part', title: 'smallest multipart part accepted (part-size, concurrency)', skipReason: 'S3 only' },
];

/** Whether an error is a failed precondition, recognised by name too so two copies of core agree. */
export function isPreconditionFailure(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { name?: unknown; code?: unknown };
  return e.name === 'PreconditionFailedError' || e.code === 'PRECONDITION_FAILED';
}

/** Whether an error says a file or object is missing, recognised by name too. */
export function isNotFound(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { name?: unknown; code?: unknown };
  return e.name === 'NotFoundError' || e.code === 'NOT_FOUND';
}

/** First line of an error's message, for one-line reports. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.message}` : String(error);
  return text.split('\n')[0]!.trim();
}
