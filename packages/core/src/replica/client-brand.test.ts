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

// Checked by `tsc` (pnpm typecheck): the interface lists exactly the base class's public members,
// so a public method added to the class is also part of what hosts may call.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const publicSurfaceMatches: Same<keyof core.ReplicaClientBase, keyof core.ReplicaClient> = true;

describe('the ReplicaClient interface', () => {
  it('lists the public members of the base class (checked by tsc)', () => {
    expect(publicSurfaceMatches).toBe(true);
  });
});
