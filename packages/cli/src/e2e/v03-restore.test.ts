import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
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
  it('v0.3 wrote every replica without errors; two generations, the first with two snapshots and WAL segments after each', async () => {
    const log = replicator!.output();
    for (const type of ['file', 's3', 'abs', 'gcs', 'sftp']) expect(log, type).toMatch(new RegExp(`msg="snapshot written" .*replica=${type} `));
    // Only stopping the process cancels work in flight.
    const errors = log.split('\n').filter((line) => line.includes('level=ERROR') && !line.includes('context canceled'));
    expect(errors).toEqual([]);
    const generations = await readdir(join(dir, 'file-replica', 'generations'));
    expect(generations).toHaveLength(2);
    const first = await Promise.all(
      generations.map(async (g) => ({
        snapshots: (await readdir(join(dir, 'file-replica', 'generations', g, 'snapshots'))).sort(),
        wal: (await readdir(join(dir, 'file-replica', 'generations', g, 'wal'))).sort(),
      })),
    );
    const older = first.find((g) => g.snapshots.length >= 2)!;
    expect(older).toBeDefined();
    // WAL segments follow the newest snapshot of the first generation.
    const lastSnapshotIndex = older.snapshots[older.snapshots.length - 1]!.slice(0, 8);
    expect(older.wal.some((w) => w.slice(0, 8) >= lastSnapshotIndex)).toBe(true);
    // Three distinct states, each with rows.
    expect(new Set(states.map((s) => s.sha256)).size).toBe(3);
    expect(states.every((s) => s.rows > 0)).toBe(true);
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

  describe('file replica: damage, and what ltx and status say', () => {
    const fileUrl = (root: string) => `file://${root}`;
    let copies = 0;
    const copy = async (): Promise<string> => {
      const root = join(dir, `damaged-${++copies}`);
      await cp(join(dir, 'file-replica'), root, { recursive: true, preserveTimestamps: true });
      return root;
    };
    const planOf = async (root: string, args: string[] = []) => {
      const r = await litestream(['restore', '-dry-run', '-json', '-o', join(dir, 'never.db'), ...args, fileUrl(root)]);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { generation: string; files: Array<{ file: string; kind: string; index: number; offset?: number }> };
    };
    /** Runs a restore that must fail; returns its one-line error after checking nothing was left. */
    const failingRestore = async (root: string, args: string[] = []): Promise<string> => {
      const out = join(dir, `failed-${++copies}`);
      await mkdir(out);
      const r = await litestream(['restore', '-o', join(out, 'restored.db'), ...args, fileUrl(root)]);
      expect(r.status).toBe(1);
      expect(await readdir(out)).toEqual([]);
      // Log lines may come first; exactly one line is the error.
      const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('litestream:') || l.startsWith('error:'));
      expect(lines, r.stderr).toHaveLength(1);
      return lines[0]!;
    };

    it('a missing WAL segment: one line naming it, no output', async () => {
      // A WAL index with several segments and a snapshot at or before it; the later snapshots
      // of its generation are removed so the restore must go through that index.
      const root = await copy();
      const latest = (await planOf(root)).generation;
      let found: { generation: string; index: number; missing: string; offset: number; next: string } | undefined;
      for (const generation of (await readdir(join(root, 'generations'))).sort((x, y) => (x === latest ? 1 : y === latest ? -1 : 0))) {
        const wal = (await readdir(join(root, 'generations', generation, 'wal'))).sort();
        const snapshots = (await readdir(join(root, 'generations', generation, 'snapshots'))).map((n) => parseInt(n.slice(0, 8), 16));
        const byIndex = new Map<number, string[]>();
        for (const name of wal) byIndex.set(parseInt(name.slice(0, 8), 16), [...(byIndex.get(parseInt(name.slice(0, 8), 16)) ?? []), name]);
        for (const [index, names] of byIndex) {
          if (names.length < 2 || !snapshots.some((i) => i <= index)) continue;
          // With three or more, one from the middle; with two, the first (the index then lacks its start).
          const gone = names.length >= 3 ? 1 : 0;
          found = { generation, index, missing: names[gone]!, offset: parseInt(names[gone]!.slice(9, 17), 16), next: names[gone + 1]! };
        }
      }
      expect(found, 'v0.3 wrote no WAL index with two segments or more').toBeDefined();
      const { generation, index, missing, offset, next } = found!;
      for (const name of await readdir(join(root, 'generations', generation, 'snapshots'))) {
        if (parseInt(name.slice(0, 8), 16) > index) await rm(join(root, 'generations', generation, 'snapshots', name));
      }
      await rm(join(root, 'generations', generation, 'wal', missing));
      const args = generation === latest ? [] : ['-timestamp', states[1]!.at.toISOString()];
      const line = await failingRestore(root, args);
      const path = (name: string) => `generations/${generation}/wal/${name}`;
      expect(line).toBe(
        offset > 0
          ? `litestream: ${path(missing)}: missing: WAL index ${index} of generation ${generation} continues at offset ${offset}, but the next segment is ${path(next)}`
          : `litestream: ${path(missing)}: missing: WAL index ${index} of generation ${generation} must start with a segment at offset 0, but its first is ${path(next)}`,
      );
    });

    it('a corrupt snapshot: one line naming it, no output', async () => {
      const root = await copy();
      const { files } = await planOf(root);
      const snapshot = files[0]!.file;
      const path = join(root, snapshot);
      const bytes = await readFile(path);
      const { mtime } = await stat(path);
      bytes[Math.floor(bytes.byteLength / 2)]! ^= 0x5a;
      await writeFile(path, bytes);
      await utimes(path, mtime, mtime);
      const line = await failingRestore(root);
      expect(line).toMatch(new RegExp(`^litestream: ${snapshot.replace(/[./]/g, '\\$&')}: LZ4 frame: `));
    });

    it('ltx says the replica holds v0.3 backups instead of "no LTX files"', async () => {
      const r = await litestream(['ltx', fileUrl(join(dir, 'file-replica'))]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^no LTX files; the replica holds Litestream v0\.3 backups: 2 generations, \d+ snapshots, \d+ WAL segments, last written \S+ \(generation [0-9a-f]{16}\); `litestream restore` reads them\n$/);
      const json = await litestream(['ltx', '-json', fileUrl(join(dir, 'file-replica'))]);
      expect(JSON.parse(json.stdout)).toEqual([]);
      expect(json.stderr).toContain('Litestream v0.3 backups: 2 generations');
    });

    it('status reports the v0.3 backups of a replica without LTX files', async () => {
      const config = join(dir, 'status.yml');
      await writeFile(config, `dbs:\n  - path: ${join(dir, 'app.db')}\n    replica:\n      url: ${fileUrl(join(dir, 'file-replica'))}\n`);
      const r = await litestream(['status', '-json', '-config', config]);
      expect(r.status, r.stderr).toBe(0);
      const [status] = JSON.parse(r.stdout) as Array<{ replicaTXID: string | null; v03?: { generations: number; snapshots: number; walSegments: number; lastWrittenAt: string } }>;
      expect(status!.replicaTXID).toBeNull();
      expect(status!.v03?.generations).toBe(2);
      expect(status!.v03!.walSegments).toBeGreaterThan(2);
      expect(new Date(status!.v03!.lastWrittenAt).getTime()).toBeLessThanOrEqual(Date.now());
      const text = await litestream(['status', '-config', config]);
      expect(text.stdout).toContain('none (Litestream v0.3 backups: 2 generations');
    });
  });

  it('a v0.3 replica that our replicate continues: the latest is LTX, an earlier time still v0.3', async () => {
    const root = join(dir, 'upgraded-replica');
    await cp(join(dir, 'file-replica'), root, { recursive: true, preserveTimestamps: true });
    // The database as v0.3 left it; our replicate writes LTX files beside the generations.
    const replicate = await litestream(['replicate', '-once', join(dir, 'app.db'), `file://${root}`]);
    expect(replicate.status, replicate.stderr).toBe(0);
    expect(await readdir(root)).toEqual(expect.arrayContaining(['generations', 'ltx']));
    for (const [args, format, state] of [
      [[], 'ltx', states[2]!],
      [['-timestamp', states[0]!.at.toISOString()], 'v0.3', states[0]!],
    ] as const) {
      const out = join(dir, `upgraded-${format}.db`);
      const dry = await litestream(['restore', '-dry-run', '-json', '-o', out, ...args, `file://${root}`]);
      expect((JSON.parse(dry.stdout) as { format: string }).format).toBe(format);
      const r = await litestream(['restore', '-o', out, ...args, `file://${root}`]);
      expect(r.status, r.stderr).toBe(0);
      expect(await integrityCheck(out)).toBe('ok');
      expect(await tableContent(out)).toEqual({ sha256: state.sha256, rows: state.rows });
    }
  }, 60_000);
});
