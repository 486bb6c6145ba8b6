import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { TxidGapError } from './restore-errors.ts';
import { restoreIfNotExists } from './restore-if-not-exists.ts';
import { LAST_TXID, RecordingLogger, buildReplicaFixture, copyReplica, ref } from './test-support/replica-fixture.ts';

const scratch = await mkdtemp(join(tmpdir(), 'restore-if-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const fixture = await buildReplicaFixture(join(scratch, 'fixture'));
const client = new FileReplicaClient(fixture.root);
let dirs = 0;
const outDir = async () => {
  const dir = join(scratch, `out-${++dirs}`);
  await mkdir(dir);
  return dir;
};

describe('restoreIfNotExists', () => {
  it('restores when the output does not exist', async () => {
    const output = join(await outDir(), 'db');
    const result = await restoreIfNotExists({ client, outputPath: output });
    expect(result?.txid).toBe(LAST_TXID);
    expect((await readFile(output)).equals(await readFile(fixture.states[LAST_TXID]!))).toBe(true);
  });

  it('does nothing when the output exists, without reading the replica', async () => {
    const dir = await outDir();
    const output = join(dir, 'db');
    await writeFile(output, 'existing');
    const logger = new RecordingLogger();
    // A replica path that does not exist: any listing would find nothing and any download fail.
    const result = await restoreIfNotExists({ client: new FileReplicaClient(join(scratch, 'nowhere')), outputPath: output, logger });
    expect(result).toBeUndefined();
    expect(await readFile(output, 'utf8')).toBe('existing');
    expect(await readdir(dir)).toEqual(['db']);
    expect(logger.records).toEqual([{ level: 'info', message: 'database already exists, skipping restore', fields: { output } }]);
  });

  it('does nothing, but logs it, when the replica holds no backups (a fresh deployment)', async () => {
    const dir = await outDir();
    const logger = new RecordingLogger();
    const empty = new FileReplicaClient(await mkdtemp(join(scratch, 'empty-')));
    const result = await restoreIfNotExists({ client: empty, outputPath: join(dir, 'db'), logger });
    expect(result).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    expect(logger.records).toEqual([{ level: 'info', message: 'no backups found, skipping restore', fields: { output: join(dir, 'db'), replica: 'file' } }]);
  });

  it('propagates every other failure', async () => {
    const c = await copyReplica(fixture, join(scratch, 'gap'));
    await c.deleteLtxFiles([ref(0, 4, 4), ref(1, 2, 5)]);
    const dir = await outDir();
    await expect(restoreIfNotExists({ client: c, outputPath: join(dir, 'db') })).rejects.toThrow(TxidGapError);
    expect(await readdir(dir)).toEqual([]);
  });
});
