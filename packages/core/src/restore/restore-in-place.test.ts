import Database from 'better-sqlite3';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { ChecksumMismatchError, CorruptError } from '../ltx/errors.ts';
import { snapshotDatabaseFile } from '../sqlite/snapshot.ts';
import { MemorySink } from '../test-support/streams.ts';
import { planRestore } from './restore-plan.ts';
import { restore } from './restore.ts';
import { buildReplicaFixture, copyReplica, flipByte, LAST_TXID, ref } from './test-support/replica-fixture.ts';

const scratch = await mkdtemp(join(tmpdir(), 'restore-in-place-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
let dirs = 0;
const outDir = async () => {
  const dir = join(scratch, `out-${++dirs}`);
  await mkdir(dir);
  return dir;
};

/** A real file replica that does not declare `localReads`: restore downloads its files ahead, as from a remote store. */
class RemoteLikeReplica extends FileReplicaClient {
  override readonly capabilities = Object.freeze({ ...new FileReplicaClient('.').capabilities, localReads: false });
}

/** Bytes this process has passed to write(2) and friends so far (Linux), or undefined elsewhere. */
async function bytesWritten(): Promise<number | undefined> {
  try {
    const io = await readFile('/proc/self/io', 'utf8');
    const match = /^wchar:\s*(\d+)$/m.exec(io);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Every name created, renamed or removed directly in `dir` while `run` runs. */
async function namesSeenIn(dir: string, run: () => Promise<unknown>): Promise<Set<string>> {
  const seen = new Set<string>();
  const watcher: FSWatcher = watch(dir, (_event, name) => {
    if (name) seen.add(String(name));
  });
  try {
    await run();
    // inotify events are queued when they happen; give Node a moment to deliver the last ones.
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    watcher.close();
  }
  return seen;
}

/** A replica holding one snapshot of a ~3 MB database of random blobs (it compresses to about its own size). */
async function bigSnapshotReplica(): Promise<{ root: string; source: string; ltxBytes: number }> {
  const dir = join(scratch, `big-${++dirs}`);
  await mkdir(dir);
  const source = join(dir, 'source.db');
  const db = new Database(source);
  db.exec(`CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 750)
    INSERT INTO t SELECT i, randomblob(4000) FROM n;`);
  db.close();
  const sink = new MemorySink();
  await snapshotDatabaseFile(source, sink, { txid: 1 });
  const root = join(dir, 'replica');
  await new FileReplicaClient(root).writeLtxFile(ref(0, 1, 1), sink.bytes);
  return { root, source, ltxBytes: sink.bytes.byteLength };
}

describe('restore from a local file replica', () => {
  it('does not copy the file: only the database is written', async () => {
    const { root, source, ltxBytes } = await bigSnapshotReplica();
    const dbBytes = (await stat(source)).size;
    expect(ltxBytes).toBeGreaterThan(2_500_000);

    // In place: the only names in the output directory are the work directory (which holds the
    // database being built) and the result.
    const dir = await outDir();
    const before = await bytesWritten();
    const seen = await namesSeenIn(dir, () => restore({ client: new FileReplicaClient(root), outputPath: join(dir, 'db') }));
    const written = before === undefined ? undefined : (await bytesWritten())! - before;
    expect([...seen].filter((name) => !/^(db|\.db\.restore-\d+-[0-9a-f]{12})$/.test(name))).toEqual([]);
    expect(await readdir(dir)).toEqual(['db']);
    expect((await readFile(join(dir, 'db'))).equals(await readFile(source))).toBe(true);
    // Writing the database is unavoidable; a copy of the LTX file would add ~3 MB more.
    if (written !== undefined) expect(written).toBeLessThan(dbBytes + ltxBytes / 2);

    // The same replica read as a remote store: the copy shows up, so the measure above can tell.
    const control = await outDir();
    const controlBefore = await bytesWritten();
    await restore({ client: new RemoteLikeReplica(root), outputPath: join(control, 'db') });
    const controlWritten = controlBefore === undefined ? undefined : (await bytesWritten())! - controlBefore;
    if (controlWritten !== undefined) expect(controlWritten).toBeGreaterThanOrEqual(dbBytes + ltxBytes);
    expect(await readdir(control)).toEqual(['db']);
  });

  it('a file deleted after planning fails naming it, and leaves nothing behind', async () => {
    const fixture = await buildReplicaFixture(join(scratch, `fixture-${++dirs}`));
    const c = await copyReplica(fixture, join(scratch, `copy-${++dirs}`));
    const plan = await planRestore(c);
    await rm(c.ltxPath(ref(0, 6, 6)));
    const dir = await outDir();
    const err = await restore({ client: c, outputPath: join(dir, 'db'), plan }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/^0\/0000000000000006-0000000000000006\.ltx: .*not found.*deleted after the restore was planned/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('restore on worker threads', () => {
  it('gives the same bytes as on one thread, for every file of a chain', async () => {
    const fixture = await buildReplicaFixture(join(scratch, `fixture-${++dirs}`));
    const client = new FileReplicaClient(fixture.root);
    const outputs: Buffer[] = [];
    for (const workers of [0, 1, 2]) {
      const output = join(await outDir(), 'db');
      // Every file counts as large, so the snapshot and each incremental go through the pool.
      await restore({ client, outputPath: output, workers, workerFileBytes: 0 });
      outputs.push(await readFile(output));
    }
    const expected = await readFile(fixture.states[LAST_TXID]!);
    for (const output of outputs) expect(output.equals(expected)).toBe(true);
  });

  it('still checks every checksum: a damaged page fails naming the file and the check', async () => {
    const fixture = await buildReplicaFixture(join(scratch, `fixture-${++dirs}`));
    const c = await copyReplica(fixture, join(scratch, `copy-${++dirs}`));
    await c.deleteLtxFiles([ref(9, 1, 3), ref(1, 2, 5)]);
    const path = c.ltxPath(ref(0, 1, 1));
    // A byte inside the first page's compressed data (header 100 + frame header 10).
    await flipByte(path, 100 + 10 + 40);
    const dir = await outDir();
    const err = await restore({ client: c, outputPath: join(dir, 'db'), workers: 1, workerFileBytes: 0 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeDefined();
    // Either the block no longer decodes, or it decodes to other bytes and a checksum catches it.
    expect(err instanceof CorruptError || err instanceof ChecksumMismatchError).toBe(true);
    expect(err!.message.startsWith('0/0000000000000001-0000000000000001.ltx: ')).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });
});
