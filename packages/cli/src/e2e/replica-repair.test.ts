import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { S3ReplicaClient } from '@litestream-ts/backend-s3';
import { defaultMetaPath, writeReplicaHealth, type LtxFileRef, type ReplicaClient } from '@litestream-ts/core';
import { startS3 } from '@litestream-ts/testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestreamAsync as litestream, RunningCli } from './cli-process.ts';

// A replica file is damaged while `litestream replicate` runs (the real bin): the next
// compaction finds it, the process logs it once, uploads a full image, and the replica
// restores equal to the writer. On the local file backend and on a real S3 server.
const dir = await mkdtemp(join(tmpdir(), 'lts-repair-'));
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop().catch(() => {})));
  await rm(dir, { recursive: true, force: true });
});
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

interface Target {
  /** The replica URL for the config. */
  readonly url: string;
  readonly env: Record<string, string>;
  /** A client on the same replica, for the test's own reads and the damage. */
  readonly client: ReplicaClient;
  /** How the replicating process names a file in its log (a path or an object key). */
  readonly location: (ref: LtxFileRef) => string;
}

const targets: Record<string, () => Promise<Target>> = {
  file: async () => {
    const replica = join(dir, 'file-replica');
    const client = new FileReplicaClient(replica);
    return { url: `file://${replica}`, env: {}, client, location: (ref) => client.ltxPath(ref) };
  },
  s3: async () => {
    const s3 = await startS3();
    stops.push(() => s3.stop());
    await s3.createBucket('lts-repair');
    const client = new S3ReplicaClient({ bucket: 'lts-repair', path: 'app', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, env: {} });
    stops.push(() => client.close());
    return {
      url: `s3://lts-repair/app?endpoint=${s3.endpoint}&force-path-style=true&region=${s3.region}`,
      env: { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey },
      client,
      location: (ref) => client.layout.ltxKey(ref),
    };
  },
};

/** Rewrites a stored file with one byte flipped in its middle (through the store's own API). */
async function damage(client: ReplicaClient, ref: LtxFileRef): Promise<void> {
  const parts: Buffer[] = [];
  for await (const chunk of await client.openLtxFile(ref)) parts.push(Buffer.from(chunk as Uint8Array));
  const bytes = Buffer.concat(parts);
  bytes[bytes.byteLength >> 1]! ^= 0x5a;
  await client.writeLtxFile(ref, bytes);
}

async function levelEnd(client: ReplicaClient, level: number): Promise<number> {
  let end = 0;
  for await (const f of client.listLtxFiles(level)) end = Math.max(end, f.maxTXID);
  return end;
}

/** The newest level-0 file that level 1 does not hold yet: the next compaction must read it. */
async function uncompactedFile(client: ReplicaClient): Promise<LtxFileRef | undefined> {
  const end = await levelEnd(client, 1);
  let newest: LtxFileRef | undefined;
  for await (const f of client.listLtxFiles(0)) if (f.minTXID > end && f.minTXID > 1) newest = f;
  return newest;
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('a replica file damaged while replicate runs is repaired (real bin)', () => {
  for (const [name, start] of Object.entries(targets)) {
    it(`${name}://`, async () => {
      const target = await start();
      const db = join(dir, `${name}.db`);
      const app = new AppProcess(db);
      await app.insert(20, 500);
      const config = join(dir, `${name}.yml`);
      await writeFile(config, `addr: 127.0.0.1:0\nlevels:\n  - interval: 2s\ndbs:\n  - path: ${db}\n    monitor-interval: 50ms\n    replica:\n      url: ${target.url}\n`);
      const cli = new RunningCli(['replicate', '-config', config], { env: target.env });
      let writing = true;
      const writer = (async () => {
        while (writing) {
          await app.insert(2, 300);
          await sleep(40);
        }
      })();
      let bad: LtxFileRef | undefined;
      try {
        await cli.waitFor('serving metrics on');
        await cli.waitFor('compaction completed');
        // Right after a compaction, damage a file the next one (2 s later) has to read.
        for (let i = 0; i < 100 && !bad; i++) {
          bad = await uncompactedFile(target.client);
          if (!bad) await sleep(20);
        }
        if (!bad) throw new Error('no level-0 file appeared after the compaction');
        await damage(target.client, bad);
        await cli.waitFor('replica repaired');
        await cli.waitFor('corrupt replica files deleted');

        const metricsURL = /msg="serving metrics on" url=(\S+)/.exec(cli.stdout)![1]!;
        const exposition = await (await fetch(metricsURL)).text();
        const labels = `db="${db}",replica_type="${name}"`;
        expect(exposition.split('\n')).toEqual(
          expect.arrayContaining([
            `litestream_replica_healthy{${labels}} 1`,
            `litestream_replica_corrupt_files_total{${labels},detected_by="compaction"} 1`,
            `litestream_replica_repairs_total{${labels}} 1`,
          ]),
        );
      } finally {
        writing = false;
        await writer;
      }
      const expected = await app.hash();
      cli.child.kill('SIGTERM');
      expect((await cli.exited).code, cli.stderr).toBe(0);

      // Logged once, naming the file, its level, its TXIDs and what failed.
      const line = cli.stdout.split('\n').find((l) => l.includes('msg="replica file corrupt"'));
      expect(count(cli.stdout, 'msg="replica file corrupt"'), cli.stdout).toBe(1);
      expect(line).toContain('level=ERROR');
      expect(line).toContain(`file=${target.location(bad)}`);
      expect(line).toContain(' field.level=0 '); // `level` is the line's own key
      expect(line).toContain(`minTXID=${bad.minTXID.toString(16).padStart(16, '0')}`);
      expect(line).toMatch(/check="?[a-z-]+ (checksum|structure)/);
      expect(line).toContain('detectedBy=compaction');
      expect(cli.stdout).not.toContain('msg="maintenance error"');
      const deleted = [];
      for await (const f of target.client.listLtxFiles(0)) if (f.minTXID === bad.minTXID && f.maxTXID === bad.maxTXID) deleted.push(f);
      expect(deleted).toEqual([]);

      const out = join(dir, `${name}-restored.db`);
      const r = await litestream(['restore', '-config', config, '-o', out, '-integrity-check', 'full', db], { env: target.env });
      expect(r.status, r.stderr).toBe(0);
      expect(await sha256(out)).toBe(expected);

      const status = await litestream(['status', '-config', config, '-json'], { env: target.env });
      expect(status.status, status.stderr).toBe(0);
      const [s] = JSON.parse(status.stdout) as Array<{ healthy: boolean; corruptFiles?: unknown; lag: number }>;
      expect(s).toMatchObject({ healthy: true, lag: 0 });
      expect(s!.corruptFiles).toBeUndefined();
      await app.close();
    }, 120_000);
  }

  it('validation-interval: replicate re-reads what the replica holds and repairs a damaged file no compaction reads', async () => {
    const db = join(dir, 'validated.db');
    const replica = join(dir, 'validated-replica');
    const client = new FileReplicaClient(replica);
    const app = new AppProcess(db);
    await app.insert(20, 500);
    const config = join(dir, 'validated.yml');
    // Compaction and snapshots an hour away: only validation reads the replica.
    await writeFile(config, `levels:\n  - interval: 1h\ndbs:\n  - path: ${db}\n    monitor-interval: 50ms\n    replica:\n      url: file://${replica}\n      validation-interval: 200ms\n`);
    expect((await litestream(['replicate', '-once', '-config', config])).status).toBe(0);
    const bad = { level: 0, minTXID: 1, maxTXID: 1 };
    await damage(client, bad);
    const cli = new RunningCli(['replicate', '-config', config]);
    await cli.waitFor('replicating to');
    await app.insert(5);
    await cli.waitFor('replica repaired');
    await cli.waitFor('corrupt replica files deleted');
    const expected = await app.hash();
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code, cli.stderr).toBe(0);
    expect(count(cli.stdout, 'msg="replica file corrupt"'), cli.stdout).toBe(1);
    expect(cli.stdout).toContain(`file=${client.ltxPath(bad)}`);
    expect(cli.stdout).toContain('detectedBy=validation');
    expect(cli.stdout).not.toContain('msg="compaction completed"');
    const out = join(dir, 'validated-restored.db');
    const r = await litestream(['restore', '-config', config, '-o', out, db]);
    expect(r.status, r.stderr).toBe(0);
    expect(await sha256(out)).toBe(expected);
    await app.close();
  }, 60_000);

  it('status reports the replica unhealthy, naming the file, while replicate records a repair as pending', async () => {
    const db = join(dir, 'pending.db');
    const app = new AppProcess(db);
    await app.insert(5);
    await app.close();
    const replica = join(dir, 'pending-replica');
    const config = join(dir, 'pending.yml');
    await writeFile(config, `dbs:\n  - path: ${db}\n    replica:\n      url: file://${replica}\n`);
    expect((await litestream(['replicate', '-once', '-config', config])).status).toBe(0);
    const file = join(replica, 'ltx/0/0000000000000001-0000000000000001.ltx');
    // The record `replicate` keeps while a repair is under way (see core's ReplicaRepair).
    const detectedAt = new Date();
    await writeReplicaHealth(defaultMetaPath(db), {
      files: [{ file, level: 0, minTXID: 1, maxTXID: 1, check: 'file checksum', detectedBy: 'validation', detectedAt, error: 'file checksum mismatch' }],
    });
    const json = await litestream(['status', '-config', config, '-json']);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        healthy: false,
        corruptFiles: [{ file, level: 0, minTXID: '0000000000000001', maxTXID: '0000000000000001', check: 'file checksum', detectedBy: 'validation', detectedAt: detectedAt.toISOString() }],
      }),
    ]);
    const table = await litestream(['status', '-config', config]);
    expect(table.stdout).toContain('HEALTH');
    expect(table.stdout).toContain(`corrupt: ${file} (file checksum); repair pending`);
    // Once the repair is uploaded the record says so, and status is healthy again.
    await writeReplicaHealth(defaultMetaPath(db), {
      files: [{ file, level: 0, minTXID: 1, maxTXID: 1, check: 'file checksum', detectedBy: 'validation', detectedAt, error: 'file checksum mismatch' }],
      repairTXID: 2,
      repairedAt: new Date(),
    });
    const after = await litestream(['status', '-config', config, '-json']);
    expect(JSON.parse(after.stdout)).toEqual([expect.objectContaining({ healthy: true })]);
  }, 60_000);
});
