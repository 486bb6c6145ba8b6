import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import type { LogFields } from '../engine/logger.ts';
import type { LtxFileInfo } from '../replica/replica-client.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { currentProcess } from './process-identity.ts';
import { OutputExistsError } from './restore-errors.ts';
import { restore } from './restore.ts';
import { buildReplicaFixture, LAST_TXID } from './test-support/replica-fixture.ts';
import { OWNER_FILE } from './work-dir.ts';

// A restore cleans up after itself when stopped (AbortSignal), removes what a killed restore of
// the same output left, and leaves alone the work of another restore still running.
const scratch = await mkdtemp(join(tmpdir(), 'restore-cleanup-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const fixture = await buildReplicaFixture(join(scratch, 'fixture'));
let dirs = 0;
const outDir = async () => {
  const dir = join(scratch, `out-${++dirs}`);
  await mkdir(dir);
  return dir;
};

/** The fixture's replica read as a remote store (files downloaded ahead into the work directory). */
class RemoteLikeReplica extends FileReplicaClient {
  override readonly capabilities = Object.freeze({ ...new FileReplicaClient('.').capabilities, localReads: false });
}

/** A remote-like replica whose files after the first never finish downloading until `release()`. */
class StallingReplica extends RemoteLikeReplica {
  private opened = 0;
  private readonly gate: Promise<void>;
  release!: () => void;
  constructor(root: string) {
    super(root);
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  override async openLtxFile(info: LtxFileInfo): Promise<Readable> {
    if (this.opened++ === 0) return super.openLtxFile(info);
    const bytes = await readFile(this.ltxPath(info));
    // A few bytes now, the rest only once released: a transfer in flight.
    const stream = new Readable({ read() {} });
    stream.push(bytes.subarray(0, 10));
    void this.gate.then(() => {
      if (stream.destroyed) return;
      stream.push(bytes.subarray(10));
      stream.push(null);
    });
    return stream;
  }
}

/** A logger that calls `onLine` for every line, after recording it. */
class WatchingLogger extends RecordingLogger {
  onLine: (message: string, fields: LogFields | undefined) => void = () => {};
  override debug(message: string, fields?: LogFields): void {
    super.debug(message, fields);
    this.onLine(message, fields);
  }
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => new Error('resolved instead of rejecting'),
    (error: unknown) => error,
  );

describe('restore with an AbortSignal', () => {
  for (const [kind, client] of [
    ['read in place', new FileReplicaClient(fixture.root)],
    ['downloaded ahead', new RemoteLikeReplica(fixture.root)],
  ] as const) {
    it(`${kind}: an abort after the first file rejects with the reason and leaves nothing`, async () => {
      const dir = await outDir();
      const controller = new AbortController();
      const reason = new Error('stop now');
      const logger = new WatchingLogger();
      logger.onLine = (message) => {
        if (message === 'applied ltx file') controller.abort(reason);
      };
      const error = await rejection(restore({ client, outputPath: join(dir, 'db'), signal: controller.signal, logger, parallelism: 2 }));
      expect(error).toBe(reason);
      expect(await readdir(dir)).toEqual([]);
      expect(logger.records.map((r) => r.message)).toContain('restore aborted; its partial files were removed');
      expect(logger.records.map((r) => r.message)).not.toContain('restored');
    });
  }

  it('an abort while files are still downloading stops the transfers, rejects, and leaves nothing', async () => {
    const dir = await outDir();
    const client = new StallingReplica(fixture.root);
    const controller = new AbortController();
    const logger = new WatchingLogger();
    logger.onLine = (message) => {
      // The first file is applied; the next ones are stuck mid-transfer.
      if (message === 'applied ltx file') setTimeout(() => controller.abort(), 50);
    };
    const error = await rejection(restore({ client, outputPath: join(dir, 'db'), signal: controller.signal, logger }));
    expect((error as Error).name).toBe('AbortError');
    expect(await readdir(dir)).toEqual([]);
    client.release();
  });

  it('an already aborted signal: rejects before touching anything', async () => {
    const dir = await outDir();
    const error = await rejection(restore({ client: new FileReplicaClient(fixture.root), outputPath: join(dir, 'sub', 'db'), signal: AbortSignal.abort() }));
    expect((error as Error).name).toBe('AbortError');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('restore and the files of other restores of the same output', () => {
  it('removes what a killed restore left, logs it, and restores', async () => {
    const dir = await outDir();
    const output = join(dir, 'db');
    // As a SIGKILLed restore leaves it: its work directory, owner file and partial database.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(gone.stdout);
    const left = join(dir, `.db.restore-${pid}-00000000beef`);
    await mkdir(left);
    await writeFile(join(left, OWNER_FILE), JSON.stringify({ ...currentProcess(), pid, startTicks: undefined, output, startedAt: new Date().toISOString() }));
    await writeFile(join(left, 'partial.db'), await readFile(fixture.states[2]!));
    const logger = new RecordingLogger();
    await restore({ client: new FileReplicaClient(fixture.root), outputPath: output, logger });
    expect(await readdir(dir)).toEqual(['db']);
    expect((await readFile(output)).equals(await readFile(fixture.states[LAST_TXID]!))).toBe(true);
    const line = logger.records.find((r) => r.message === 'removed the files of an interrupted restore');
    expect(line?.fields).toMatchObject({ output, path: left, pid });
    expect(line?.fields.bytes).toBeGreaterThan(0);
  });

  it('leaves alone the work directory of a restore of the same output still running (here, in this process)', async () => {
    const dir = await outDir();
    const output = join(dir, 'db');
    const slow = new StallingReplica(fixture.root);
    const logger = new WatchingLogger();
    let midway!: () => void;
    const reachedMidway = new Promise<void>((resolve) => (midway = resolve));
    logger.onLine = (message) => {
      if (message === 'applied ltx file') midway();
    };
    const first = rejection(restore({ client: slow, outputPath: output, logger }));
    await reachedMidway;
    const theirs = await readdir(dir);
    expect(theirs).toHaveLength(1);
    expect(theirs[0]).toMatch(/^\.db\.restore-\d+-[0-9a-f]{12}$/);

    const secondLog = new RecordingLogger();
    await restore({ client: new FileReplicaClient(fixture.root), outputPath: output, logger: secondLog });
    expect((await readdir(dir)).sort()).toEqual(['db', theirs[0]!].sort());
    expect(secondLog.records.find((r) => r.message === 'kept the files of a restore that is still running')?.fields).toMatchObject({ path: join(dir, theirs[0]!) });

    // The first cannot publish over the second's result: it fails and removes its own files.
    slow.release();
    expect(await first).toBeInstanceOf(OutputExistsError);
    expect(await readdir(dir)).toEqual(['db']);
  });
});
