import Database from 'better-sqlite3';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { formatLtxFilename } from '../ltx/txid.ts';
import { frameDir, goldenDir } from '../test-support/paths.ts';
import { restore } from './restore.ts';

// Replicas written by Litestream v0.5.0 – v0.5.15 hold LTX files whose pages are LZ4 frames;
// replicas upgraded in the middle of their life hold both kinds. Built here from the reference
// vectors (testdata/ltx-v3-frame: frame pages; testdata/ltx-v3-golden: the same files in block pages).
const scratch = await mkdtemp(join(tmpdir(), 'restore-frame-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

const frameFile = (name: string) => join(frameDir(), 'set-4096', 'ltx', name);
const blockFile = (name: string) => join(goldenDir(), 'set-4096', 'ltx', name);
const state = (n: number) => readFile(join(frameDir(), 'set-4096', `state${n}.db`));
const l0 = (n: number) => formatLtxFilename(n, n);

let replicas = 0;
/** A file replica (`ltx/<level>/<min>-<max>.ltx`) holding the given files. */
async function replica(files: Array<{ level: number; name: string; from: string }>): Promise<FileReplicaClient> {
  const root = join(scratch, `replica-${++replicas}`);
  for (const f of files) {
    await mkdir(join(root, 'ltx', String(f.level)), { recursive: true });
    await copyFile(f.from, join(root, 'ltx', String(f.level), f.name));
  }
  return new FileReplicaClient(root);
}

/** Read like a remote store: files are downloaded to a temporary directory first. */
class RemoteLikeReplica extends FileReplicaClient {
  override readonly capabilities = Object.freeze({ ...new FileReplicaClient('.').capabilities, localReads: false });
}

let outputs = 0;
async function restoredBytes(client: FileReplicaClient, options: { txid?: number; workers?: number; workerFileBytes?: number } = {}): Promise<Buffer> {
  const outputPath = join(scratch, `out-${++outputs}`, 'db');
  const result = await restore({ client, outputPath, integrityCheck: 'quick', ...options });
  if (options.txid !== undefined) expect(result.txid).toBe(options.txid);
  const db = new Database(outputPath, { readonly: true });
  try {
    expect(db.prepare('PRAGMA integrity_check').pluck().all()).toEqual(['ok']);
  } finally {
    db.close();
  }
  return readFile(outputPath);
}

const frameChain = [1, 2, 3, 4].map((n) => ({ level: 0, name: l0(n), from: frameFile(l0(n)) }));

describe('restore from replicas written with LZ4 frame pages (Litestream v0.5.0 – v0.5.15)', () => {
  it('latest gives state4.db and -txid 2 gives state2.db, byte for byte', async () => {
    const client = await replica(frameChain);
    expect((await restoredBytes(client)).equals(await state(4))).toBe(true);
    expect((await restoredBytes(client, { txid: 2 })).equals(await state(2))).toBe(true);
    expect((await restoredBytes(client, { txid: 3 })).equals(await state(3))).toBe(true);
  });

  it('read like a remote store (downloaded first), and with page workers offered for every file', async () => {
    const client = await replica(frameChain);
    const remote = new RemoteLikeReplica(client.root);
    expect((await restoredBytes(remote)).equals(await state(4))).toBe(true);
    // Frame-page files are decoded on the calling thread even when workers are offered.
    expect((await restoredBytes(client, { workers: 1, workerFileBytes: 0 })).equals(await state(4))).toBe(true);
  });

  it('through the reference compaction filed at level 1', async () => {
    const client = await replica([
      { level: 0, name: l0(1), from: frameFile(l0(1)) },
      { level: 1, name: formatLtxFilename(2, 4), from: frameFile(`compacted-${formatLtxFilename(2, 4)}`) },
    ]);
    expect((await restoredBytes(client)).equals(await state(4))).toBe(true);
  });

  it('a replica upgraded in the middle of its life: frame-page files first, block-page files after', async () => {
    const upgraded = await replica([
      { level: 0, name: l0(1), from: frameFile(l0(1)) },
      { level: 0, name: l0(2), from: frameFile(l0(2)) },
      { level: 0, name: l0(3), from: blockFile(l0(3)) },
      { level: 0, name: l0(4), from: blockFile(l0(4)) },
    ]);
    expect((await restoredBytes(upgraded)).equals(await state(4))).toBe(true);
    expect((await restoredBytes(upgraded, { txid: 3 })).equals(await state(3))).toBe(true);
    // Block files on page workers, frame files on the calling thread, in one restore.
    expect((await restoredBytes(upgraded, { workers: 1, workerFileBytes: 0 })).equals(await state(4))).toBe(true);
    // A frame snapshot with block incrementals, and the reverse.
    const frameSnapshot = await replica([{ level: 0, name: l0(1), from: frameFile(l0(1)) }, ...[2, 3, 4].map((n) => ({ level: 0, name: l0(n), from: blockFile(l0(n)) }))]);
    expect((await restoredBytes(frameSnapshot)).equals(await state(4))).toBe(true);
    const blockSnapshot = await replica([{ level: 0, name: l0(1), from: blockFile(l0(1)) }, ...[2, 3, 4].map((n) => ({ level: 0, name: l0(n), from: frameFile(l0(n)) }))]);
    expect((await restoredBytes(blockSnapshot)).equals(await state(4))).toBe(true);
  });
});
