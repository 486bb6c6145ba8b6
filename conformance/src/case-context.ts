import type { ReplicaCapabilities, ReplicaClient } from '@litestream-ts/core';

/** What every group of cases receives from the suite. */
export interface CaseContext {
  /** The fresh client of the running test. */
  readonly client: () => ReplicaClient;
  /** Declared by the backend (read from a client instance), never by the caller. */
  readonly capabilities: ReplicaCapabilities;
  /** Size of the large streamed write. */
  readonly largeFileSize: number;
}

/**
 * How far a store's clock (or its timestamp granularity) may sit from this machine's when a
 * case checks that a createdAt belongs to "now": wide enough for a remote store's clock skew,
 * narrow enough to catch seconds-for-milliseconds and epoch-zero bugs.
 */
export const CLOCK_TOLERANCE_MS = 30_000;

/** Boolean capabilities that switch groups of cases on or off. */
export type GatingCapability = 'conditionalWrite' | 'metadataTimestamps' | 'releasesChunks' | 'rawObjectReads';

/** Test-name suffix that says why a gated case is skipped: empty when the capability is declared. */
export function skipNote(capabilities: ReplicaCapabilities, capability: GatingCapability): string {
  return capabilities[capability] ? '' : ` (skipped: backend declares ${capability}=false)`;
}
