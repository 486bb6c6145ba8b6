import { cp, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import type { ReplicaCapabilities } from '../../replica/replica-client.ts';
import { RestoreTargetError } from '../restore-errors.ts';
import { restore } from '../restore.ts';
import { buildReplicaFixture } from '../test-support/replica-fixture.ts';
import { buildV03Fixture, contentOf } from './test-support/v03-fixture.ts';
import { planReplicaRestore } from './replica-restore-plan.ts';
import { v03SegmentPath, v03SnapshotPath } from './v03-catalog.ts';
import { V03BackupError } from './v03-errors.ts';

// A replica that Litestream v0.3 wrote first and LTX replication continued (or the other way
// round): both formats under one path, each with its own times.
const scratch = await mkdtemp(join(tmpdir(), 'v03-choice-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const ltx = await buildReplicaFixture(join(scratch, 'ltx'));
const v03 = await buildV03Fixture(join(scratch, 'v03'));
const ltxStart = ltx.timeOf(1).getTime();
const ltxEnd = ltx.timeOf(6).getTime();
let copies = 0;

/** Both fixtures in one directory, the v0.3 objects written from `v03Start` on, a second apart. */
async function mixed(v03Start: number): Promise<{ root: string; v03Time: (n: number) => Date }> {
  const root = join(scratch, `mixed-${++copies}`);
  await cp(ltx.root, root, { recursive: true, preserveTimestamps: true });
  await cp(join(v03.root, 'generations'), join(root, 'generations'), { recursive: true });
  const v03Time = (n: number): Date => new Date(v03Start + n * 1000);
  for (const [n, o] of v03.objects.entries()) await utimes(join(root, o.path), v03Time(n), v03Time(n));
  return { root, v03Time };
}

describe('planReplicaRestore: LTX files and Litestream v0.3 generations in one replica', () => {
  it('v0.3 history, then LTX: the latest is LTX, a time before the LTX files is v0.3', async () => {
    const { root, v03Time } = await mixed(ltxStart - 60_000);
    const client = new FileReplicaClient(root);
    expect((await planReplicaRestore(client)).format).toBe('ltx');
    expect((await planReplicaRestore(client, { timestamp: new Date(ltxEnd) })).format).toBe('ltx');
    const middle = await planReplicaRestore(client, { timestamp: new Date(v03Time(3).getTime() + 500) });
    expect(middle.format).toBe('v0.3');
    // And restore() follows the same choice.
    const out = join(scratch, `out-${++copies}.db`);
    await restore({ client, outputPath: out, timestamp: new Date(v03Time(3).getTime() + 500) });
    expect(contentOf(out)).toBe(v03.states[v03.objects[3]!.state]);
  });

  it('LTX, then newer v0.3 objects: the latest is v0.3; a TXID is always LTX', async () => {
    const { root } = await mixed(ltxEnd + 60_000);
    const client = new FileReplicaClient(root);
    const latest = await planReplicaRestore(client);
    expect(latest.format).toBe('v0.3');
    expect((await planReplicaRestore(client, { txid: 4 })).format).toBe('ltx');
    // At a time between them, the LTX state.
    expect((await planReplicaRestore(client, { timestamp: new Date(ltxEnd + 1000) })).format).toBe('ltx');
  });

  it('equal times go to LTX', async () => {
    const { root } = await mixed(ltxEnd - (v03.objects.length - 1) * 1000);
    expect((await planReplicaRestore(new FileReplicaClient(root))).format).toBe('ltx');
  });

  it('newer v0.3 data with a missing segment fails naming it, rather than restoring the older LTX state', async () => {
    const { root } = await mixed(ltxEnd + 60_000);
    // Without the second snapshot the chain runs through WAL index 1, whose first segment is gone.
    await rm(join(root, v03SegmentPath(v03.generation, 1, 0)));
    await rm(join(root, v03SnapshotPath(v03.generation, 2)));
    const error = await planReplicaRestore(new FileReplicaClient(root)).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(V03BackupError);
    expect((error as Error).message).toMatch(/^generations\/0123456789abcdef\/wal\/00000001_00000000\.wal\.lz4: missing/);
  });

  it('a TXID on a v0.3-only replica says v0.3 has no TXIDs', async () => {
    const error = await planReplicaRestore(new FileReplicaClient(v03.root), { txid: 3 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(RestoreTargetError);
    expect((error as Error).message).toMatch(/^not found: TXID 0000000000000003: the replica holds no LTX files, only Litestream v0\.3 backups: 1 generation, 2 snapshots, 6 WAL segments, .*which have no TXIDs; restore the latest state or use a timestamp$/);
  });

  it('a backend without raw object reads plans LTX only and never lists generations/', async () => {
    const { root } = await mixed(ltxEnd + 60_000);
    class LtxOnly extends FileReplicaClient {
      override readonly capabilities: ReplicaCapabilities = { ...new FileReplicaClient(root).capabilities, rawObjectReads: false };
      listed = 0;
      protected override _listRawObjects(prefix: string) {
        this.listed++;
        return super._listRawObjects(prefix);
      }
    }
    const client = new LtxOnly(root);
    expect((await planReplicaRestore(client)).format).toBe('ltx');
    expect(client.listed).toBe(0);
  });
});
