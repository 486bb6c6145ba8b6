/**
 * The test module the certification bin hands to vitest: it builds the suite's clients from
 * the URL the bin provides (`inject('certify')`), each on its own scratch prefix, and registers
 * the whole contract suite. Not a `*.test.ts`: only the bin runs it.
 */
import { inject } from 'vitest';
import { childLocation, openScratchClient, type ScratchLocation } from '@litestream-ts/core/probes';
import { runReplicaClientConformance } from '../index.ts';
import { loadBackends } from './backend-lookup.ts';

/** What the bin provides to the suite's worker. */
export interface CertifyInjection {
  readonly location: ScratchLocation;
  readonly largeFileSize: number;
  readonly title: string;
  /** The bin's working directory: backends (and relative `LITESTREAM_PLUGINS` paths) are found from there. */
  readonly cwd: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    certify: CertifyInjection;
  }
}

const { location, largeFileSize, title, cwd } = inject('certify');
const registry = await loadBackends(process.env, cwd);
let n = 0;
runReplicaClientConformance(title, {
  makeClient: () => openScratchClient(registry, childLocation(registry, location, `case-${++n}`)),
  largeFileSize,
});
