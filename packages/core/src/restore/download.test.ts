import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { LocalWriteError } from '../io/local-write-error.ts';
import type { LtxFileInfo, LtxFileRef } from '../replica/replica-client.ts';
import { downloadLtxFile } from './download.ts';
import { buildReplicaFixture, ref } from './test-support/replica-fixture.ts';

// A failed transfer is retried; a failed local write is not, and names the local file.
const scratch = await mkdtemp(join(tmpdir(), 'download-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const fixture = await buildReplicaFixture(join(scratch, 'fixture'));

/** The fixture's replica, counting opens, whose first `resets` transfers break midway with a system error. */
class CountingReplica extends FileReplicaClient {
  opens = 0;
  resets: number;
  constructor(root: string, resets = 0) {
    super(root);
    this.resets = resets;
  }
  protected override async _openLtxFile(r: LtxFileRef, range: { offset: number; size: number | undefined }): Promise<Readable> {
    this.opens++;
    const stream = await super._openLtxFile(r, range);
    if (this.resets-- <= 0) return stream;
    return Readable.from(
      (async function* () {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          yield chunk.subarray(0, 100);
          break;
        }
        stream.destroy();
        // What a dropped connection looks like: a system error with a code, like a failed write's.
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
      })(),
    );
  }
}

async function infoOf(client: FileReplicaClient, at: LtxFileRef): Promise<LtxFileInfo> {
  for await (const info of client.listLtxFiles(at.level)) if (info.minTXID === at.minTXID && info.maxTXID === at.maxTXID) return info;
  throw new Error('not in the fixture');
}

describe('downloadLtxFile', () => {
  it('retries a transfer that breaks with a system error, and the copy is whole', async () => {
    const client = new CountingReplica(fixture.root, 2);
    const info = await infoOf(client, ref(0, 2, 2));
    const dest = join(scratch, 'retried.ltx');
    await downloadLtxFile(client, info, dest, { backoffMs: 1 });
    expect(client.opens).toBe(3);
    expect((await readFile(dest)).equals(await readFile(client.ltxPath(info)))).toBe(true);
  });

  it('does not retry a local file that cannot be written, and names it', async () => {
    const client = new CountingReplica(fixture.root);
    const info = await infoOf(client, ref(0, 2, 2));
    const dest = join(scratch, 'no-such-dir', 'copy.ltx');
    const error = await downloadLtxFile(client, info, dest, { backoffMs: 1, stagingFor: '/data/app.db' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LocalWriteError);
    expect((error as LocalWriteError).code).toBe('ENOENT');
    expect((error as LocalWriteError).message).toBe(
      `${dest}: cannot write the downloaded copy of 0/0000000000000002-0000000000000002.ltx (staged for the restore of /data/app.db): no such file or directory (ENOENT)`,
    );
    expect(client.opens).toBe(1);
  });
});
