import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, startGcs, startS3, startSftp } from '@litestream-ts/testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContainer } from '../../../../backends/abs/src/test-support/azurite-fixture.ts';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestreamAsync as litestream } from './cli-process.ts';
import { V03Replicator, integrityCheck, litestreamV03, pastNextSecond, tableContent, type V03ReplicaConfig } from './v03-writer.ts';

// Replicas written by the real Litestream v0.3.13 (its npm Go binary) on every backend it can
// write to (file, S3, Azure Blob, GCS, SFTP; v0.3 had no NATS replica), restored by our
// `restore`: the latest state and the states at two earlier times, each equal in content to
// what the writer had then. One v0.3 process writes all five replicas from one history:
//   generation A: snapshot, batch 1 (WAL segments) — time T1 — a second snapshot, batch 2 — T2
//   generation B (v0.3 restarted without its local state): snapshot, batch 3 — the latest.
const v03 = litestreamV03();
if ('skip' in v03 && process.env.CI === 'true') throw new Error(`CI needs Litestream v0.3.13: ${v03.skip}`);
const skip = 'skip' in v03 ? v03.skip : undefined;
if (skip) console.warn(`[v03-restore] skipped: ${skip}`);

interface Backend {
  readonly name: string;
  /** The replica entry in v0.3's config. */
  readonly v03: V03ReplicaConfig;
  /** Environment v0.3 needs for it. */
  readonly v03Env?: Record<string, string>;
  /** Our replica URL and environment for the same place. */
  readonly url: string;
  readonly env: Record<string, string>;
}

interface State {
  readonly at: Date;
  readonly sha256: string;
  readonly rows: number;
}

const dir = await mkdtemp(join(tmpdir(), 'lts-v03-'));
const stops: Array<() => Promise<void>> = [];
const backends: Backend[] = [];
const states: State[] = [];
let replicator: V03Replicator | undefined;

async function startBackends(): Promise<void> {
  const filePath = join(dir, 'file-replica');
  backends.push({ name: 'file', v03: { type: 'file', path: filePath }, url: `file://${filePath}`, env: {} });

  const s3 = await startS3();
  stops.push(() => s3.stop());
  await s3.createBucket('lts-v03');
  backends.push({
    name: 's3',
    v03: { type: 's3', bucket: 'lts-v03', path: 'app', endpoint: s3.endpoint, region: s3.region, 'force-path-style': true, 'access-key-id': s3.accessKeyId, 'secret-access-key': s3.secretAccessKey },
    url: `s3://lts-v03/app?endpoint=${s3.endpoint}&force-path-style=true&region=${s3.region}`,
    env: { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey },
  });

  const azurite = await startAzurite();
  stops.push(() => azurite.stop());
  const container = await createContainer(azurite, 'v03');
  backends.push({
    name: 'abs',
    v03: { type: 'abs', 'account-name': azurite.accountName, 'account-key': azurite.accountKey, bucket: container, path: 'app', endpoint: azurite.blobEndpoint },
    url: `abs://${azurite.accountName}@127.0.0.1:${azurite.port}/${container}/app`,
    env: { LITESTREAM_AZURE_ACCOUNT_KEY: azurite.accountKey },
  });

  const gcs = await startGcs();
  stops.push(() => gcs.stop());
  await gcs.createBucket('lts-v03');
  backends.push({
    name: 'gs',
    v03: { type: 'gcs', bucket: 'lts-v03', path: 'app' },
    // The Go SDK in v0.3 talks to an emulator named by this variable, without credentials.
    v03Env: { STORAGE_EMULATOR_HOST: gcs.endpoint.replace(/^http:\/\//, '') },
    url: `gs://lts-v03/app?endpoint=${gcs.endpoint}`,
    env: {},
  });

  const sftp = await startSftp();
  stops.push(() => sftp.stop());
  backends.push({
    name: 'sftp',
    v03: { type: 'sftp', host: `127.0.0.1:${sftp.port}`, user: sftp.username, password: sftp.password, path: `${sftp.rootDir}/v03` },
    url: `sftp://${sftp.username}:${encodeURIComponent(sftp.password)}@127.0.0.1:${sftp.port}${sftp.rootDir}/v03`,
    env: {},
  });
}

/** Writes the history described at the top, recording the writer's content at T1, T2 and the end. */
async function writeHistory(binary: string): Promise<void> {
  const db = join(dir, 'app.db');
  const app = new AppProcess(db);
  stops.push(() => app.close());
  // v0.3 decides when the WAL is checkpointed, as its docs ask.
  await app.request({ op: 'pragma', sql: 'wal_autocheckpoint = 0' });
  await app.insert(50, 200);
  replicator = new V03Replicator(binary, db, backends.map((b) => b.v03), Object.assign({}, ...backends.map((b) => b.v03Env ?? {})));
  stops.push(() => replicator!.stop());
  await replicator.start();
  const batch = async (n: number): Promise<void> => {
    for (let i = 0; i < 6; i++) {
      await app.insert(40, 300 + n * 50);
      await app.request({ op: 'exec', sql: `UPDATE t SET body = 'batch ${n} update ${i} ' || id WHERE id % 7 = ${i}` });
      if (n > 1) await app.request({ op: 'exec', sql: `DELETE FROM t WHERE id % 11 = ${i + n}` });
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
  };
  const record = async (): Promise<void> => {
    await replicator!.quiet();
    const at = new Date();
    states.push({ at, ...(await tableContent(db)) });
    // Stores keep whole-second modification times: later objects must land after `at`.
    await pastNextSecond(at);
  };

  await batch(1);
  await record(); // T1
  await replicator.snapshotAfter(states[0]!.at);
  await pastNextSecond(new Date());
  await batch(2);
  await record(); // T2
  await replicator.restartWithNewGeneration();
  await batch(3);
  await record(); // latest
  await replicator.stop();
}

beforeAll(async () => {
  if (skip) return;
  await startBackends();
  await writeHistory((v03 as { path: string }).path);
}, 240_000);

afterAll(async () => {
  if (process.env.LTS_V03_LOG) await (await import('node:fs/promises')).writeFile(process.env.LTS_V03_LOG, replicator?.output() ?? '');
  for (const stop of stops.reverse()) await stop().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(skip !== undefined)(`restore of Litestream v0.3.13 backups${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('the history has two generations, the first with two snapshots and WAL segments after each', async () => {
    const generations = await readdir(join(dir, 'file-replica', 'generations'));
    expect(generations).toHaveLength(2);
    const snapshotCounts = await Promise.all(generations.map(async (g) => (await readdir(join(dir, 'file-replica', 'generations', g, 'snapshots'))).length));
    expect(Math.max(...snapshotCounts)).toBeGreaterThanOrEqual(2);
    // Three distinct states, each with rows.
    expect(new Set(states.map((s) => s.sha256)).size).toBe(3);
  });

  const targets = [
    { label: 'latest', state: () => states[2]!, args: () => [] as string[] },
    { label: '-timestamp T2 (second snapshot of the first generation + segments)', state: () => states[1]!, args: () => ['-timestamp', states[1]!.at.toISOString()] },
    { label: '-timestamp T1 (first snapshot + segments)', state: () => states[0]!, args: () => ['-timestamp', states[0]!.at.toISOString()] },
  ];
  for (const name of ['file', 's3', 'abs', 'gs', 'sftp']) {
    for (const target of targets) {
      it(`${name}: ${target.label}`, async () => {
        const backend = backends.find((b) => b.name === name)!;
        const out = join(dir, `${name}-${targets.indexOf(target)}.db`);
        const dry = await litestream(['restore', '-dry-run', '-json', '-o', out, ...target.args(), backend.url], { env: backend.env });
        expect(dry.status, dry.stderr).toBe(0);
        const plan = JSON.parse(dry.stdout) as { format: string; generation: string; files: Array<{ kind: string }> };
        expect(plan.format).toBe('v0.3');
        expect(plan.files[0]!.kind).toBe('snapshot');
        expect(existsSync(out)).toBe(false);

        const r = await litestream(['restore', '-o', out, '-integrity-check', 'full', ...target.args(), backend.url], { env: backend.env });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain(`from Litestream v0.3 generation ${plan.generation}`);
        expect(await integrityCheck(out)).toBe('ok');
        const expected = target.state();
        expect(await tableContent(out)).toEqual({ sha256: expected.sha256, rows: expected.rows });
      }, 60_000);
    }
  }
});
