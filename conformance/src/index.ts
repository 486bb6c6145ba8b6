import { afterEach, beforeEach, describe } from 'vitest';
import type { ReplicaClient } from '@litestream-ts/core';
import { skipNote, type CaseContext } from './case-context.ts';
import { abortCases } from './cases/abort.ts';
import { codecRoundTripCases } from './cases/codec-round-trip.ts';
import { conditionalWriteCases, conditionalWritesRefusedCases, probeConditionalWrites } from './cases/conditional-writes.ts';
import { deleteCases } from './cases/deletes.ts';
import { listingCases } from './cases/listing.ts';
import { rangedReadCases } from './cases/ranged-reads.ts';
import { rawObjectReadCases, rawObjectReadsRefusedCases } from './cases/raw-object-reads.ts';
import { smallObjectCases } from './cases/small-objects.ts';
import { writeCases } from './cases/writes.ts';

/**
 * `@litestream-ts/conformance`: the executable definition of the `ReplicaClient` contract.
 * A backend's test file calls `runReplicaClientConformance` with a factory of fresh clients.
 */

export interface ConformanceOptions {
  /** A fresh, empty client for each test (unique path/prefix per call). */
  makeClient: () => Promise<ReplicaClient> | ReplicaClient;
  /** Size of the large streamed write (default 64 MiB). */
  largeFileSize?: number;
  /** Extra backend-specific cases, run inside the same describe. */
  additionalTests?: (getClient: () => ReplicaClient) => void;
}

const DEFAULT_LARGE_FILE_SIZE = 64 * 1024 * 1024;

/**
 * Registers the contract suite under `describe(name)`. Capabilities come from a client the
 * factory returns (never from the caller); groups a backend does not declare are skipped
 * with the reason in their names.
 */
export function runReplicaClientConformance(name: string, options: ConformanceOptions): void {
  // An async describe lets vitest await one probe client, whose declared capabilities decide
  // which groups run, before any case is registered.
  describe(name, async () => {
    const probe = await options.makeClient();
    const capabilities = probe.capabilities;
    // A declared capability is still checked against the store: some servers ignore preconditions.
    let conditionalSkip: string | undefined;
    try {
      if (capabilities.conditionalWrite) conditionalSkip = await probeConditionalWrites(probe);
    } finally {
      await probe.close();
    }

    let current: ReplicaClient | undefined;
    const client = (): ReplicaClient => {
      if (current === undefined) throw new Error('the conformance client exists only while a test runs');
      return current;
    };
    beforeEach(async () => {
      current = await options.makeClient();
    });
    afterEach(async () => {
      const done = current;
      current = undefined;
      if (done === undefined) return;
      // Leave a shared store (a bucket, a server) as the test found it; failures here are not the test's.
      await done.deleteAll().catch(() => {});
      await done.close();
    });

    const context: CaseContext = { client, capabilities, largeFileSize: options.largeFileSize ?? DEFAULT_LARGE_FILE_SIZE };
    describe('listing', () => listingCases(context));
    describe('ranged reads', () => rangedReadCases(context));
    describe('writes', () => writeCases(context));
    describe('deletes', () => deleteCases(context));
    describe('small objects', () => smallObjectCases(context));
    const conditionalNote = conditionalSkip === undefined ? skipNote(capabilities, 'conditionalWrite') : ` (skipped: ${conditionalSkip})`;
    describe.skipIf(!capabilities.conditionalWrite || conditionalSkip !== undefined)(`conditional writes${conditionalNote}`, () => conditionalWriteCases(context));
    describe.runIf(!capabilities.conditionalWrite)(
      `conditional writes refused${capabilities.conditionalWrite ? ' (skipped: backend declares conditionalWrite=true)' : ''}`,
      () => conditionalWritesRefusedCases(context),
    );
    describe('LTX codec round trip', () => codecRoundTripCases(context));
    describe('abort', () => abortCases(context));
    describe.runIf(capabilities.rawObjectReads === true)(`raw object reads${skipNote(capabilities, 'rawObjectReads')}`, () => rawObjectReadCases(context));
    describe.runIf(capabilities.rawObjectReads !== true)(
      `raw object reads refused${capabilities.rawObjectReads === true ? ' (skipped: backend declares rawObjectReads=true)' : ''}`,
      () => rawObjectReadsRefusedCases(context),
    );
    if (options.additionalTests) describe('backend-specific', () => options.additionalTests!(client));
  });
}
