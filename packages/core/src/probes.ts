/**
 * `@litestream-ts/core/probes`: provider probes, the checks of a store's behaviour that the
 * contract suite cannot make from the outside (preconditions really enforced, delete and list
 * lag, clock skew, and each backend's protocol probes). Shared by `litestream doctor` and the
 * `@litestream-ts/conformance` certification bin. Imports nothing beyond core.
 */
export * from './probes/probe.ts';
export { clockSkewProbe, conditionalWritesProbe, deleteProbe, GENERIC_PROBES, listAfterWriteProbe } from './probes/generic-probes.ts';
export { runProviderProbes, type ProbeReport, type RunProbesOptions } from './probes/run-probes.ts';
export { childLocation, openScratchClient, removeScratch, scratchLocation, uniqueScratchPrefix, type ScratchLocation } from './probes/scratch-location.ts';
