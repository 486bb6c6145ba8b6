import Database from 'better-sqlite3';
import { cp, mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { DownloadError, NoBackupsError } from '../restore-errors.ts';
import { restore } from '../restore.ts';
import { restoreIfNotExists } from '../restore-if-not-exists.ts';
import { buildV03Fixture, contentOf, lz4Frame, type V03Fixture } from './test-support/v03-fixture.ts';
import { readV03Catalog, v03SegmentPath, v03SnapshotPath } from './v03-catalog.ts';
import { V03BackupError } from './v03-errors.ts';
import { planV03Restore } from './v03-plan.ts';
import type { V03RestoreResult } from './v03-restore.ts';

const scratch = await mkdtemp(join(tmpdir(), 'v03-restore-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const fixture = await buildV03Fixture(join(scratch, 'fixture'));
let dirs = 0;
const outDir = async (): Promise<string> => {
  const dir = join(scratch, `out-${++dirs}`);
  await mkdir(dir);
  return dir;
};
/** A copy of the fixture replica, times kept, to damage. */
async function copy(): Promise<string> {
  const root = join(scratch, `replica-${++dirs}`);
  await cp(fixture.root, root, { recursive: true, preserveTimestamps: true });
  return root;
}
const lastState = (f: V03Fixture): string => f.states[f.states.length - 1]!;

function integrity(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('PRAGMA integrity_check').pluck().all() as string[];
  } finally {
    db.close();
  }
}

/** Restores `root` into a fresh directory; returns the error (or result) and what the directory holds afterwards. */
async function attempt(root: string, timestamp?: Date): Promise<{ error?: Error; result?: V03RestoreResult; left: string[]; output: string }> {
  const dir = await outDir();
  const output = join(dir, 'out.db');
  try {
    const result = (await restore({ client: new FileReplicaClient(root), outputPath: output, ...(timestamp ? { timestamp } : {}) })) as V03RestoreResult;
    return { result, left: await readdir(dir), output };
  } catch (error) {
    return { error: error as Error, left: await readdir(dir), output };
  }
}

describe('restore of a Litestream v0.3 replica (library)', () => {
  it('restores the latest state: the newest snapshot and the WAL index after it', async () => {
    const { result, error, output } = await attempt(fixture.root);
    expect(error).toBeUndefined();
    expect(result!.format).toBe('v0.3');
    expect(result!.generation).toBe(fixture.generation);
    expect(result!.index).toBe(2);
    expect(result!.files).toBe(2);
    expect(integrity(output)).toEqual(['ok']);
    expect(contentOf(output)).toBe(lastState(fixture));
  });

  it('restores every earlier time to exactly the state of the last object written by then', async () => {
    for (const object of fixture.objects) {
      // Half a second after the object, before the next one.
      const at = new Date(object.at.getTime() + 500);
      const { result, error, output } = await attempt(fixture.root, at);
      expect(error, object.path).toBeUndefined();
      expect(contentOf(output), object.path).toBe(fixture.states[object.state]);
      expect(integrity(output), object.path).toEqual(['ok']);
      expect(result!.timestamp).toEqual(object.at);
    }
  });

  it('refuses a time before the first snapshot, naming the earliest one', async () => {
    const { error, left } = await attempt(fixture.root, new Date(fixture.objects[0]!.at.getTime() - 1000));
    expect(error?.message).toMatch(/^not found: a Litestream v0\.3 snapshot at or before .*: the earliest is generations\/0123456789abcdef\/snapshots\/00000000\.snapshot\.lz4, written 2026-03-01T10:00:00\.000Z; choose a later time$/);
    expect(left).toEqual([]);
  });

  it('restores from an older snapshot when the newer one is gone (the WAL indexes in between are applied)', async () => {
    const root = await copy();
    await rm(join(root, v03SnapshotPath(fixture.generation, 2)));
    const { error, output } = await attempt(root);
    expect(error).toBeUndefined();
    expect(contentOf(output)).toBe(lastState(fixture));
  });

  describe('damaged or incomplete backups: one line naming the object, no output left', () => {
    const expectFailure = async (root: string, message: RegExp, timestamp?: Date): Promise<Error> => {
      const { error, left } = await attempt(root, timestamp);
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).toMatch(message);
      expect(error!.message).not.toContain('\n');
      // No output, no temp file, no staged WAL.
      expect(left).toEqual([]);
      return error!;
    };
    const segment0 = (n: number) => fixture.objects.filter((o) => o.path.includes('/wal/00000000_'))[n]!.path;

    it('a missing WAL segment in the middle of an index', async () => {
      const root = await copy();
      const gone = segment0(1);
      await rm(join(root, gone));
      await rm(join(root, v03SnapshotPath(fixture.generation, 2)));
      const error = await expectFailure(root, new RegExp(`^${escape(gone)}: missing: WAL index 0 of generation 0123456789abcdef continues at offset \\d+, but the next segment is generations/0123456789abcdef/wal/00000000_[0-9a-f]{8}\\.wal\\.lz4$`));
      expect(error).toBeInstanceOf(V03BackupError);
    });

    it('a missing WAL index', async () => {
      const root = await copy();
      await rm(join(root, v03SegmentPath(fixture.generation, 1, 0)));
      await rm(join(root, v03SnapshotPath(fixture.generation, 2)));
      await expectFailure(root, /^generations\/0123456789abcdef\/wal\/00000001_00000000\.wal\.lz4: missing: WAL index 1 of generation 0123456789abcdef must start with a segment at offset 0, but its first is generations\/0123456789abcdef\/wal\/00000001_[0-9a-f]{8}\.wal\.lz4$/);
      // Both segments of index 1 gone: index 2 follows index 0.
      const root2 = await copy();
      await rm(join(root2, 'generations', fixture.generation, 'wal'), { recursive: true });
      await mkdir(join(root2, 'generations', fixture.generation, 'wal'));
      for (const o of fixture.objects.filter((o) => /\/wal\/0000000[02]_/.test(o.path))) {
        await writeFile(join(root2, o.path), lz4Frame(fixture.raw.get(o.path)!));
        await utimes(join(root2, o.path), o.at, o.at);
      }
      await rm(join(root2, v03SnapshotPath(fixture.generation, 2)));
      await expectFailure(root2, /^generations\/0123456789abcdef\/wal\/00000001_00000000\.wal\.lz4: missing: WAL index 1 of generation 0123456789abcdef has no segments, but generations\/0123456789abcdef\/wal\/00000002_00000000\.wal\.lz4 follows/);
    });

    it('a corrupt snapshot', async () => {
      const root = await copy();
      const path = v03SnapshotPath(fixture.generation, 2);
      await flipByte(join(root, path), 0.5);
      await expectFailure(root, /^generations\/0123456789abcdef\/snapshots\/00000002\.snapshot\.lz4: LZ4 frame: (content checksum mismatch|block does not decompress)/);
    });

    it('a truncated snapshot', async () => {
      const root = await copy();
      const path = join(root, v03SnapshotPath(fixture.generation, 2));
      const { size } = await stat(path);
      await truncateFile(path, size - 20);
      await expectFailure(root, /^generations\/0123456789abcdef\/snapshots\/00000002\.snapshot\.lz4: LZ4 frame: the data ends inside the .* \(truncated\)/);
    });

    it('a snapshot that is not a database', async () => {
      const root = await copy();
      const path = v03SnapshotPath(fixture.generation, 2);
      await writeFile(join(root, path), lz4Frame(Buffer.from('not a database at all, just text')));
      await expectFailure(root, /^generations\/0123456789abcdef\/snapshots\/00000002\.snapshot\.lz4: the snapshot is not a SQLite database image: not a SQLite database/);
    });

    it('a WAL frame whose page was damaged before compression (frame checksum)', async () => {
      const root = await copy();
      const path = v03SegmentPath(fixture.generation, 2, 0);
      const bytes = Buffer.from(fixture.raw.get(path)!);
      bytes[32 + 24 + fixture.pageSize + 24 + 100]! ^= 0x01; // inside the second frame's page
      await writeFile(join(root, path), lz4Frame(bytes));
      await expectFailure(root, new RegExp(`^${escape(path)}: WAL frame at offset ${32 + 24 + fixture.pageSize} \\(page \\d+\\) fails its checksum: the data is damaged$`));
    });

    it('a WAL index that ends inside a transaction', async () => {
      const root = await copy();
      const path = v03SegmentPath(fixture.generation, 2, 0);
      const bytes = fixture.raw.get(path)!;
      await writeFile(join(root, path), lz4Frame(bytes.subarray(0, 32 + 3 * (24 + fixture.pageSize))));
      await expectFailure(root, new RegExp(`^${escape(path)}: the WAL ends inside a transaction: 3 frame\\(s\\) after the last commit`));
    });

    it('an object encrypted with age', async () => {
      const root = await copy();
      await writeFile(join(root, v03SegmentPath(fixture.generation, 2, 0)), 'age-encryption.org/v1\n-> X25519 abc\n');
      await expectFailure(root, /00000002_00000000\.wal\.lz4: LZ4 frame: the data is encrypted with age/);
    });
  });

  it('an aborted restore rejects with the reason and leaves nothing behind', async () => {
    const dir = await outDir();
    const controller = new AbortController();
    const reason = new Error('stop now');
    const error = await restore({
      client: new FileReplicaClient(fixture.root),
      outputPath: join(dir, 'out.db'),
      signal: controller.signal,
      // Abort as the first bytes of the snapshot arrive: the work directory already exists.
      onProgress: () => controller.abort(reason),
    }).then(() => undefined, (e: unknown) => e);
    expect(error).toBe(reason);
    expect(await readdir(dir)).toEqual([]);
  });

  describe('from a replica read like a remote store', () => {
    it('downloads ahead, a few at a time, retrying failed transfers; progress ends at the plan size; nothing is left', async () => {
      const segment = v03SegmentPath(fixture.generation, 2, 0);
      const dir = await outDir();
      const progress: number[] = [];
      const root = await copy();
      // Without the newer snapshot the plan reads all seven objects.
      await rm(join(root, v03SnapshotPath(fixture.generation, 2)));
      const remote = new FlakyRemoteReplica(root);
      remote.failures.set(segment, ['open', 'midstream']);
      remote.failures.set(v03SegmentPath(fixture.generation, 0, 0), ['midstream']);
      const result = (await restore({ client: remote, outputPath: join(dir, 'out.db'), parallelism: 3, onProgress: (done, total) => progress.push(done / total) })) as V03RestoreResult;
      // No downloaded copy, staged WAL or work directory is left.
      expect(await readdir(dir)).toEqual(['out.db']);
      expect(contentOf(join(dir, 'out.db'))).toBe(lastState(fixture));
      expect(result.files).toBe(7);
      expect(remote.opens).toBe(7 + 3);
      expect(remote.maxOpen).toBeGreaterThan(1);
      expect(remote.maxOpen).toBeLessThanOrEqual(3);
      expect(progress[progress.length - 1]).toBe(1);
      expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true);
    });

    it('an object that keeps failing, or was deleted after planning, fails naming it; nothing is left', async () => {
      const segment = v03SegmentPath(fixture.generation, 2, 0);
      const flaky = new FlakyRemoteReplica(fixture.root);
      flaky.failures.set(segment, ['open', 'open', 'open', 'open']);
      const dir = await outDir();
      const error = await restore({ client: flaky, outputPath: join(dir, 'out.db') }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(DownloadError);
      expect((error as Error).message).toBe(`${segment}: download failed after 4 attempts: injected open failure`);
      expect(await readdir(dir)).toEqual([]);

      const gone = new FlakyRemoteReplica(fixture.root);
      gone.failures.set(segment, ['gone']);
      const error2 = await restore({ client: gone, outputPath: join(dir, 'out.db') }).then(() => undefined, (e: unknown) => e);
      expect((error2 as Error).message).toMatch(new RegExp(`^${escape(segment)}: download failed after 1 attempt: .*not found: object ${escape(segment)}-deleted.*; it was deleted after the restore was planned; run the restore again$`));
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('a replica with neither LTX files nor v0.3 generations says it looked for both', async () => {
    const { error } = await attempt(join(scratch, 'empty'));
    expect(error).toBeInstanceOf(NoBackupsError);
    expect(error!.message).toContain('holds no LTX files (levels 0-9 listed, all empty) and no Litestream v0.3 generations');
    // restoreIfNotExists still treats it as a fresh deployment.
    expect(await restoreIfNotExists({ client: new FileReplicaClient(join(scratch, 'empty')), outputPath: join(await outDir(), 'x.db') })).toBeUndefined();
  });

  it('restoreIfNotExists restores a v0.3 replica', async () => {
    const output = join(await outDir(), 'fresh.db');
    const result = await restoreIfNotExists({ client: new FileReplicaClient(fixture.root), outputPath: output });
    expect((result as V03RestoreResult).format).toBe('v0.3');
    expect(contentOf(output)).toBe(lastState(fixture));
  });

  it('the catalog lists what the fixture wrote, and the plan for the latest starts at the newest snapshot', async () => {
    const catalog = await readV03Catalog(new FileReplicaClient(fixture.root));
    expect(catalog.generations.map((g) => g.id)).toEqual([fixture.generation]);
    expect(catalog.generations[0]!.snapshots.map((s) => s.index)).toEqual([0, 2]);
    expect(catalog.generations[0]!.segments.map((s) => `${s.index}/${s.offset > 0 ? '+' : '0'}`)).toEqual(['0/0', '0/+', '0/+', '1/0', '1/+', '2/0']);
    const plan = planV03Restore(catalog);
    expect(plan.snapshot.index).toBe(2);
    expect(plan.segments.map((s) => s.index)).toEqual([2]);
  });
});

/** A real file replica read like a remote store (no `localReads`), whose reads fail on cue. */
class FlakyRemoteReplica extends FileReplicaClient {
  override readonly capabilities = Object.freeze({ ...new FileReplicaClient('.').capabilities, localReads: false });
  /** Per object path, the failures still to inject, in order. */
  readonly failures = new Map<string, Array<'open' | 'midstream' | 'gone'>>();
  opens = 0;
  open = 0;
  maxOpen = 0;
  protected override async _openRawObject(path: string): Promise<Readable> {
    this.opens++;
    const mode = this.failures.get(path)?.shift();
    if (mode === 'open') throw new Error('injected open failure');
    if (mode === 'gone') return super._openRawObject(`${path}-deleted`);
    const stream = await super._openRawObject(path);
    this.maxOpen = Math.max(this.maxOpen, ++this.open);
    const done = () => this.open--;
    return Readable.from(
      (async function* () {
        let sent = 0;
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            // Let other downloads start meanwhile, so overlap shows.
            await new Promise((resolve) => setTimeout(resolve, 5));
            if (mode === 'midstream') {
              yield chunk.subarray(0, 20);
              throw new Error('injected connection reset');
            }
            sent += chunk.byteLength;
            yield chunk;
          }
        } finally {
          stream.destroy();
          done();
        }
      })(),
      { objectMode: false },
    );
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

async function flipByte(path: string, at: number): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile(path);
  bytes[Math.floor(bytes.byteLength * at)]! ^= 0xff;
  const { mtime } = await stat(path);
  await writeFile(path, bytes);
  await utimes(path, mtime, mtime);
}

async function truncateFile(path: string, size: number): Promise<void> {
  const { truncate } = await import('node:fs/promises');
  const { mtime } = await stat(path);
  await truncate(path, size);
  await utimes(path, mtime, mtime);
}
