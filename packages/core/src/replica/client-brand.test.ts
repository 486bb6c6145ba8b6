import { tmpdir } from 'node:os';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { describe, expect, it } from 'vitest';
import * as core from '../index.ts';

// A second copy of core in the same process (the build in dist/), as a backend that resolved
// another version of core would bring.
const other = (await import('../../dist/index.js')) as unknown as typeof core;

describe('ReplicaClient across copies', () => {
  it("instanceof ReplicaClient holds for the other copy's clients; a backend's class still matches by prototype", () => {
    const OtherBase = other.ReplicaClient as unknown as new () => object;
    class OtherCopyClient extends OtherBase {}
    const client = new OtherCopyClient();
    expect(client).toBeInstanceOf(core.ReplicaClient);
    expect(client).not.toBeInstanceOf(FileReplicaClient);
    expect(new FileReplicaClient(tmpdir())).toBeInstanceOf(core.ReplicaClient);
    expect({ type: 'file' }).not.toBeInstanceOf(core.ReplicaClient);
  });
});
