import Database from 'better-sqlite3';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { LtxDecoder } from '../ltx/decoder.ts';
import { LtxEncoder } from '../ltx/encoder.ts';
import { ChecksumMismatchError, CorruptError } from '../ltx/errors.ts';
import { formatLtxFilename } from '../ltx/txid.ts';
import type { LtxFileRef } from '../replica/replica-client.ts';
import { databaseChecksum } from '../sqlite/database-checksum.ts';
import { MemorySink } from '../test-support/streams.ts';
import { DownloadError, IntegrityCheckError, OutputExistsError, TxidGapError } from './restore-errors.ts';
import { planRestore } from './restore-plan.ts';
import { restore } from './restore.ts';
import { LAST_TXID, RecordingLogger, buildReplicaFixture, copyReplica, flipByte, ref, snapshotBytes } from './test-support/replica-fixture.ts';

const scratch = await mkdtemp(join(tmpdir(), 'restore-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const fixture = await buildReplicaFixture(join(scratch, 'fixture'));
const client = new FileReplicaClient(fixture.root);
let dirs = 0;
/** A fresh, empty directory for one restore's output, so leftovers are easy to see. */
const outDir = async () => {
  const dir = join(scratch, `out-${++dirs}`);
  await mkdir(dir);
  return dir;
};
const copy = () => copyReplica(fixture, join(scratch, `replica-copy-${++dirs}`));
const ltxPath = (root: string, level: number, min: number, max: number) => join(root, 'ltx', String(level), formatLtxFilename(min, max));

function integrityCheck(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('PRAGMA integrity_check').pluck().all() as string[];
  } finally {
    db.close();
  }
}

/** Asserts the restored file is byte for byte the database at `txid`, and SQLite agrees it is sound. */
async function expectState(path: string, txid: number): Promise<void> {
  const restored = await readFile(path);
  const expected = await readFile(fixture.states[txid]!);
  expect(restored.byteLength, `size of the restore of TXID ${txid}`).toBe(expected.byteLength);
  expect(restored.equals(expected), `bytes of the restore of TXID ${txid}`).toBe(true);
  const copyPath = `${path}.check`;
  // Check a copy, so the -wal/-shm a read-only open of a WAL database leaves do not pollute the output's directory.
  await writeFile(copyPath, restored);
  expect(integrityCheck(copyPath)).toEqual(['ok']);
  await rm(copyPath, { force: true });
  await rm(`${copyPath}-wal`, { force: true });
  await rm(`${copyPath}-shm`, { force: true });
}

/** Root page of a table, read from a copy so the source gets no -wal/-shm. */
async function rootPageOf(path: string, table: string): Promise<number> {
  const copyPath = join(scratch, `schema-${++dirs}.db`);
  await writeFile(copyPath, await readFile(path));
  const db = new Database(copyPath, { readonly: true });
  try {
    return db.prepare('SELECT rootpage FROM sqlite_schema WHERE name = ?').pluck().get(table) as number;
  } finally {
    db.close();
  }
}

async function restoreError(options: Parameters<typeof restore>[0]): Promise<Error> {
  return restore(options).then(
    (r) => new Error(`restored TXID ${r.txid} instead of failing`),
    (error: unknown) => error as Error,
  );
}

describe('restore', () => {
  it('latest: the restored database equals the source at the last TXID, and the result and log say what happened', async () => {
    const dir = await outDir();
    const output = join(dir, 'app.db');
    const logger = new RecordingLogger();
    const plan = await planRestore(client);
    const result = await restore({ client, outputPath: output, logger });
    expect(result).toMatchObject({ txid: LAST_TXID, files: 3, bytes: plan.size, outputPath: output, timestamp: fixture.timeOf(LAST_TXID) });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    await expectState(output, LAST_TXID);
    expect(await readdir(dir)).toEqual(['app.db']);
    const info = logger.records.filter((l) => l.level === 'info');
    expect(info.map((l) => l.message)).toEqual(['restoring', 'restored']);
    expect(info[0]!.fields).toMatchObject({ output, txid: '0000000000000006', files: 3, bytes: plan.size, parallelism: 8 });
    expect(info[1]!.fields).toMatchObject({ output, txid: '0000000000000006', files: 3, bytes: plan.size });
  });

  for (let txid = 1; txid <= LAST_TXID; txid++) {
    it(`TXID ${txid}: byte-equal to the source at that TXID`, async () => {
      const output = join(await outDir(), 'db');
      const result = await restore({ client, outputPath: output, txid });
      expect(result.txid).toBe(txid);
      await expectState(output, txid);
    });
  }

  it('by timestamp: the state as of that time', async () => {
    const cases: Array<[Date, number]> = [
      [fixture.timeOf(1), 1],
      [new Date(fixture.timeOf(3).getTime() + 999), 3],
      [new Date(fixture.timeOf(5).getTime() - 1), 4],
      [fixture.timeOf(5), 5],
    ];
    for (const [timestamp, txid] of cases) {
      const output = join(await outDir(), 'db');
      const result = await restore({ client, outputPath: output, timestamp });
      expect(result.txid).toBe(txid);
      await expectState(output, txid);
    }
  });

  it('through a higher-level file starting at TXID 1 and an L0-only chain', async () => {
    const c = await copy();
    await c.deleteLtxFiles([ref(9, 1, 3), ref(1, 2, 5)]);
    const output = join(await outDir(), 'db');
    expect((await restore({ client: c, outputPath: output })).files).toBe(6);
    await expectState(output, LAST_TXID);
    // Replace the chain's start with a snapshot of state 4 filed at level 2.
    await c.writeLtxFile(ref(2, 1, 4), await snapshotBytes(fixture.states[4]!, 4, fixture.timeOf(4)));
    const output2 = join(await outDir(), 'db');
    expect((await restore({ client: c, outputPath: output2 })).files).toBe(3);
    await expectState(output2, LAST_TXID);
  });

  it('parallelism 1, 2 and 8 give identical bytes', async () => {
    const base = await copy();
    await base.deleteLtxFiles([ref(9, 1, 3), ref(1, 2, 5)]);
    const c = new RemoteLikeReplica(base.root);
    const outputs: Buffer[] = [];
    for (const parallelism of [1, 2, 8]) {
      const output = join(await outDir(), 'db');
      await restore({ client: c, outputPath: output, parallelism });
      outputs.push(await readFile(output));
    }
    expect(outputs[0]!.equals(outputs[1]!)).toBe(true);
    expect(outputs[0]!.equals(outputs[2]!)).toBe(true);
    expect(outputs[0]!.equals(await readFile(fixture.states[LAST_TXID]!))).toBe(true);
  });

  it('downloads at most `parallelism` files at once, and several at once when allowed', async () => {
    class CountingReplica extends RemoteLikeReplica {
      open = 0;
      peak = 0;
      protected override async _openLtxFile(r: LtxFileRef, range: { offset: number; size: number | undefined }): Promise<Readable> {
        this.open++;
        this.peak = Math.max(this.peak, this.open);
        const stream = await super._openLtxFile(r, range);
        stream.once('close', () => this.open--);
        return stream;
      }
    }
    const base = await copy();
    await base.deleteLtxFiles([ref(9, 1, 3), ref(1, 2, 5)]);
    for (const [parallelism, atLeast] of [[1, 1], [2, 2], [8, 6]] as const) {
      const c = new CountingReplica(base.root);
      await restore({ client: c, outputPath: join(await outDir(), 'db'), parallelism });
      expect(c.peak, `parallelism ${parallelism}`).toBeLessThanOrEqual(parallelism);
      expect(c.peak, `parallelism ${parallelism}`).toBeGreaterThanOrEqual(atLeast);
    }
  });

  it('reports progress per chunk, monotonically, ending at the total', async () => {
    const calls: Array<[number, number]> = [];
    const plan = await planRestore(client);
    await restore({ client, outputPath: join(await outDir(), 'db'), onProgress: (done, total) => calls.push([done, total]) });
    expect(calls.length).toBeGreaterThanOrEqual(plan.files.length);
    expect(calls.every(([, total]) => total === plan.size)).toBe(true);
    expect(calls.map(([done]) => done)).toEqual([...calls.map(([done]) => done)].sort((a, b) => a - b));
    expect(calls[calls.length - 1]).toEqual([plan.size, plan.size]);
  });

  it('reuses a plan made earlier', async () => {
    const plan = await planRestore(client, { txid: 4 });
    const output = join(await outDir(), 'db');
    expect((await restore({ client, outputPath: output, plan })).txid).toBe(4);
    await expectState(output, 4);
  });

  it('quick and full integrity checks pass on a good restore and leave no -wal/-shm behind', async () => {
    for (const integrityCheck of ['quick', 'full'] as const) {
      const dir = await outDir();
      const logger = new RecordingLogger();
      await restore({ client, outputPath: join(dir, 'db'), integrityCheck, logger });
      expect(await readdir(dir)).toEqual(['db']);
      await expectState(join(dir, 'db'), LAST_TXID);
      expect(logger.records.map((l) => l.message)).toContain('integrity check passed');
    }
  });
});

describe('restore failures leave no output and no temporary files', () => {
  it('a corrupt file in the replica: the error names the file and the checksum', async () => {
    const c = await copy();
    const damaged = ltxPath(c.root, 0, 6, 6);
    // The last byte of the file checksum: structure intact, only the checksum can tell.
    await flipByte(damaged, (await stat(damaged)).size - 1);
    const dir = await outDir();
    const err = await restoreError({ client: c, outputPath: join(dir, 'db') });
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect(err.message).toMatch(/^0\/0000000000000006-0000000000000006\.ltx: file checksum mismatch: stored [0-9a-f]{16}, computed [0-9a-f]{16}$/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a damaged page in a snapshot: the error names the snapshot', async () => {
    const c = await copy();
    const damaged = ltxPath(c.root, 9, 1, 3);
    await flipByte(damaged, 100 + 10 + 30);
    const dir = await outDir();
    const err = await restoreError({ client: c, outputPath: join(dir, 'db'), txid: 3 });
    expect([ChecksumMismatchError, CorruptError].some((type) => err instanceof type)).toBe(true);
    expect(err.message).toMatch(/^9\/0000000000000001-0000000000000003\.ltx: (file checksum mismatch|corrupt LTX page: page 1 does not decompress)/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a file whose pre-apply checksum does not continue the chain: named, with the TXID', async () => {
    const c = await copy();
    // L0 4-4 made from state 2 instead of 3: well-formed, but it does not follow state 3.
    await c.writeLtxFile(ref(0, 4, 4), await incrementalClaimingState2());
    const dir = await outDir();
    const err = await restoreError({ client: c, outputPath: join(dir, 'db'), txid: 4 });
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect(err.message).toMatch(/^0\/0000000000000004-0000000000000004\.ltx: pre-apply checksum mismatch: .*database at TXID 0000000000000003 is not the state this file was made from/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a gap: the error names the missing TXIDs and nothing is downloaded', async () => {
    const c = await copy();
    await c.deleteLtxFiles([ref(0, 4, 4), ref(1, 2, 5)]);
    const dir = await outDir();
    const err = await restoreError({ client: c, outputPath: join(dir, 'db') });
    expect(err).toBeInstanceOf(TxidGapError);
    expect(err.message).toMatch(/^no LTX file covers TXID 0000000000000004 /);
    expect(await readdir(dir)).toEqual([]);
  });

  it('an existing output is refused, naming it, unless overwrite; overwriting also drops its stale -wal/-shm', async () => {
    const dir = await outDir();
    const output = join(dir, 'db');
    await writeFile(output, 'keep me');
    const err = await restoreError({ client, outputPath: output });
    expect(err).toBeInstanceOf(OutputExistsError);
    expect(err.message).toBe(`${output}: output database already exists; remove it or restore with overwrite (-force)`);
    expect(await readFile(output, 'utf8')).toBe('keep me');
    expect(await readdir(dir)).toEqual(['db']);

    await writeFile(`${output}-wal`, 'stale wal');
    await writeFile(`${output}-shm`, 'stale shm');
    const result = await restore({ client, outputPath: output, overwrite: true });
    expect(result.txid).toBe(LAST_TXID);
    expect(await readdir(dir)).toEqual(['db']);
    await expectState(output, LAST_TXID);
  });

  it('a stale -wal without its database is refused too (SQLite would replay it into the restore)', async () => {
    const dir = await outDir();
    const output = join(dir, 'db');
    await writeFile(`${output}-wal`, 'stale wal');
    const err = await restoreError({ client, outputPath: output });
    expect(err).toBeInstanceOf(OutputExistsError);
    expect(err.message).toBe(`${output}-wal: a -wal file left from an earlier database at ${output} already exists; remove it or restore with overwrite (-force)`);
    expect(await readdir(dir)).toEqual(['db-wal']);
  });

  it('a failed integrity check names the rows SQLite returned, or the error it raised', async () => {
    const dir = await outDir();
    // Databases whose LTX chain is perfect but whose content is not: damage a copy, then snapshot it.
    const replicaOf = async (name: string, damage: (bytes: Buffer, pageSize: number) => void) => {
      const bytes = await readFile(fixture.states[2]!);
      damage(bytes, bytes.readUInt16BE(16));
      const broken = join(dir, `${name}.src`);
      await writeFile(broken, bytes);
      const c = new FileReplicaClient(join(dir, `${name}-replica`));
      await c.writeLtxFile(ref(9, 1, 1), await snapshotBytes(broken, 1, fixture.timeOf(1)));
      await rm(broken);
      return c;
    };
    // The header's freelist page count: 5, where the database has no free page.
    const badFreelist = await replicaOf('freelist', (bytes) => bytes.writeUInt32BE(5, 36));
    // The cell count of the table's root page: far more cells than a page can hold.
    const tableRoot = await rootPageOf(fixture.states[2]!, 't');
    const badRoot = await replicaOf('root', (bytes, pageSize) => bytes.writeUInt16BE(0xffff, (tableRoot - 1) * pageSize + 3));
    const before = await readdir(dir);
    const output = join(dir, 'db');
    for (const integrityCheck of ['quick', 'full'] as const) {
      const pragma = integrityCheck === 'quick' ? 'quick_check' : 'integrity_check';
      let err = await restoreError({ client: badFreelist, outputPath: output, integrityCheck });
      expect(err).toBeInstanceOf(IntegrityCheckError);
      expect(err).toMatchObject({ mode: integrityCheck, rows: ['*** in database main ***\nFreelist: size is 0 but should be 5'] });
      expect(err.message).toBe(`${output}: restored database failed PRAGMA ${pragma}: *** in database main ***\nFreelist: size is 0 but should be 5`);
      expect(await readdir(dir)).toEqual(before);
      // SQLite may refuse to run the check at all; that is a failure too, with its message.
      err = await restoreError({ client: badRoot, outputPath: output, integrityCheck });
      expect(err).toBeInstanceOf(IntegrityCheckError);
      expect(err.message).toBe(`${output}: restored database failed PRAGMA ${pragma}: database disk image is malformed`);
      expect(await readdir(dir)).toEqual(before);
    }
  });

  it('retries a failed download and succeeds', async () => {
    const c = new FlakyReplica(fixture.root);
    c.failures.set('0/6-6', ['open', 'midstream']);
    c.failures.set('9/1-3', ['midstream']);
    const dir = await outDir();
    const result = await restore({ client: c, outputPath: join(dir, 'db') });
    expect(result.txid).toBe(LAST_TXID);
    expect(c.failures.get('0/6-6')).toEqual([]);
    expect(c.failures.get('9/1-3')).toEqual([]);
    await expectState(join(dir, 'db'), LAST_TXID);
    expect(await readdir(dir)).toEqual(['db']);
  });

  it('gives up after a few attempts, naming the file', async () => {
    const c = new FlakyReplica(fixture.root);
    c.failures.set('1/2-5', ['midstream', 'open', 'midstream', 'open', 'open']);
    const dir = await outDir();
    const err = await restoreError({ client: c, outputPath: join(dir, 'db'), parallelism: 1 });
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toBe('1/0000000000000002-0000000000000005.ltx: download failed after 4 attempts: injected open failure');
    expect(c.failures.get('1/2-5')).toEqual(['open']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a file deleted after planning is not retried; the error says to run the restore again', async () => {
    const c = await copy();
    const plan = await planRestore(c);
    await c.deleteLtxFiles([ref(0, 6, 6)]);
    const dir = await outDir();
    const err = await restoreError({ client: c, outputPath: join(dir, 'db'), plan });
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).attempts).toBe(1);
    expect(err.message).toMatch(/^0\/0000000000000006-0000000000000006\.ltx: download failed after 1 attempt: .*not found.*; it was deleted after the restore was planned/);
    expect(await readdir(dir)).toEqual([]);
  });
});

/**
 * A real file replica that does not declare `localReads`, so restore treats it as it treats
 * a remote store: files are downloaded ahead into a staging directory, with retries.
 */
class RemoteLikeReplica extends FileReplicaClient {
  override readonly capabilities = Object.freeze({ ...new FileReplicaClient('.').capabilities, localReads: false });
}

/** A real file replica, read like a remote store, whose reads fail on cue: at open, or after part of the bytes. */
class FlakyReplica extends RemoteLikeReplica {
  /** Per file (`level/min-max` in decimal), the failures still to inject, in order. */
  readonly failures = new Map<string, Array<'open' | 'midstream'>>();
  protected override async _openLtxFile(r: LtxFileRef, range: { offset: number; size: number | undefined }): Promise<Readable> {
    const mode = this.failures.get(`${r.level}/${r.minTXID}-${r.maxTXID}`)?.shift();
    if (mode === 'open') throw new Error('injected open failure');
    const stream = await super._openLtxFile(r, range);
    if (mode !== 'midstream') return stream;
    return Readable.from(
      (async function* () {
        let sent = 0;
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          const part = chunk.subarray(0, Math.max(0, 150 - sent));
          sent += part.byteLength;
          if (part.byteLength > 0) yield part;
          if (sent >= 150) break;
        }
        stream.destroy();
        throw new Error('injected connection reset');
      })(),
      { objectMode: false },
    );
  }
}

/** L0 `4-4`'s pages, but claiming to follow state 2: a well-formed file that breaks the chain at 3. */
async function incrementalClaimingState2(): Promise<Buffer> {
  const decoder = new LtxDecoder(Readable.from([await readFile(ltxPath(fixture.root, 0, 4, 4))]));
  const header = await decoder.readHeader();
  const sink = new MemorySink();
  const encoder = new LtxEncoder(sink, { ...header, preApplyChecksum: (await databaseChecksum(fixture.states[2]!)).checksum });
  for await (const page of decoder.pages()) await encoder.writePage(page.pgno, page.data);
  const { postApplyChecksum } = await decoder.finish();
  await encoder.finish(postApplyChecksum);
  return sink.bytes;
}
