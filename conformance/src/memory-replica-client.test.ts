import { runReplicaClientConformance } from './index.ts';
import { MemoryReplicaClient } from './test-support/memory-replica-client.ts';

// The suite checks itself against a backend with no optional capabilities: the gated groups
// must show up as skipped, with the reason in their names, and the refusal cases must run.
runReplicaClientConformance('MemoryReplicaClient (suite self-check)', {
  makeClient: () => new MemoryReplicaClient(),
  largeFileSize: 8 * 1024 * 1024,
});
