import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startS3 } from '@litestream-ts/testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackendRegistry } from '../backends.ts';
import { LITESTREAM_BIN } from './cli-process.ts';
import { ALL_PLUGINS, CERTIFY_TARGETS, CONFORMANCE_BIN, type CertifyTarget } from './test-support/certify-targets.ts';

// `npx @litestream-ts/conformance <url>` (its built bin) and `litestream doctor <url>` against
// every local service of @litestream-ts/testcontainers and a local directory: the contract
// suite plus the provider probes, in a scratch prefix each removes. What each service is known
// to do is asserted probe by probe: fauxqs and s3rver accept preconditions silently, and the
// probe must say so (fail), never pass. A service that cannot start fails the test.

type Status = 'pass' | 'fail' | 'warn' | 'skip';
interface Row {
  kind: 'suite' | 'probe';
  id?: string;
  name: string;
  status: Status;
  detail: string;
  measured?: Record<string, unknown>;
}
interface Advice {
  key: string;
  value: string;
}

const S3_PROBES_SKIPPED = { 'payload-signing': 'skip', 'addressing-style': 'skip', 'aws-chunked': 'skip', 'multipart-min-part': 'skip' } as const;
const ENFORCING = { 'conditional-writes': 'pass', 'delete-visibility': 'pass', 'list-after-write': 'pass', 'clock-skew': 'pass', ...S3_PROBES_SKIPPED } as const;
const IGNORES_PRECONDITIONS = { 'conditional-writes': 'fail', 'delete-visibility': 'pass', 'list-after-write': 'pass', 'clock-skew': 'pass', 'payload-signing': 'pass', 'addressing-style': 'pass' } as const;

/** Each service's known probe results, and whether the suite's conditional-write group runs there. */
const EXPECTED: Record<string, { probes: Record<string, Status>; conditionalGroup: 'pass' | 'skip'; exit: number }> = {
  file: { probes: ENFORCING, conditionalGroup: 'pass', exit: 0 },
  // fauxqs: stores aws-chunked bodies correctly and enforces the 5 MiB part minimum.
  fauxqs: { probes: { ...IGNORES_PRECONDITIONS, 'aws-chunked': 'pass', 'multipart-min-part': 'pass' }, conditionalGroup: 'skip', exit: 1 },
  // s3rver: keeps the aws-chunked framing in the object, and takes a 1 MiB first part.
  s3rver: { probes: { ...IGNORES_PRECONDITIONS, 'aws-chunked': 'warn', 'multipart-min-part': 'pass' }, conditionalGroup: 'skip', exit: 1 },
  azurite: { probes: ENFORCING, conditionalGroup: 'pass', exit: 0 },
  nats: { probes: ENFORCING, conditionalGroup: 'pass', exit: 0 },
  sftp: { probes: ENFORCING, conditionalGroup: 'pass', exit: 0 },
  gcs: { probes: ENFORCING, conditionalGroup: 'pass', exit: 0 },
};
const S3_SETTINGS: Advice[] = [
  { key: 'sign-payload', value: 'true' },
  { key: 'force-path-style', value: 'true' },
  { key: 'part-size', value: '5MiB' },
  { key: 'concurrency', value: '5' },
];

function run(bin: string, args: readonly string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, LITESTREAM_CONFIG: '', ...env, LITESTREAM_PLUGINS: ALL_PLUGINS } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function probeStatuses(rows: readonly Row[]): Record<string, Status> {
  return Object.fromEntries(rows.filter((r) => r.kind === 'probe' || r.id !== undefined).map((r) => [r.id!, r.status]));
}

/**
 * What is left below the URL after a run, listed through the backend itself with the run's
 * credentials: raw objects below the URL's path (every object of the bucket for NATS), LTX
 * files at the URL, and for a local directory its entries.
 */
async function leftovers(target: CertifyTarget): Promise<string[]> {
  const saved = { ...process.env };
  Object.assign(process.env, target.env);
  try {
    const client = await (await createBackendRegistry({ plugins: ALL_PLUGINS.split(',') })).fromURL(target.url);
    try {
      const found: string[] = [];
      if (client.capabilities.rawObjectReads) for await (const o of client.listRawObjects('')) found.push(o.path);
      if (client.type === 'nats') {
        // NATS lists no raw objects: every object of the bucket, through the client's own session (a private helper, tests only).
        type Listing = Array<{ name: string; deleted?: boolean }>;
        const natsClient = client as unknown as { call(op: string, what: string, run: (s: { os: { list(): Promise<Listing> } }) => Promise<Listing>): Promise<Listing> };
        const objects = await natsClient.call('list', '(bucket)', (session) => session.os.list());
        found.push(...objects.filter((o) => !o.deleted).map((o) => o.name));
      }
      for (let level = 0; level <= 9; level++) for await (const f of client.listLtxFiles(level)) found.push(`level ${level}: ${f.minTXID}-${f.maxTXID}`);
      if (target.url.startsWith('file:')) found.push(...(await readdir(fileURLToPath(target.url)).catch(() => [])));
      return found;
    } finally {
      await client.close();
    }
  } finally {
    for (const key of Object.keys(target.env)) if (saved[key] === undefined) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

const only = process.env.LTS_CERTIFY_ONLY?.split(',');
for (const [service, start] of Object.entries(CERTIFY_TARGETS).filter(([name]) => only === undefined || only.includes(name))) {
  describe(`certification and doctor on ${service} (real service, real bins)`, () => {
    const expected = EXPECTED[service]!;
    let target: CertifyTarget;
    beforeAll(async () => {
      target = await start();
    }, 120_000);
    afterAll(() => target?.stop());

    it('npx @litestream-ts/conformance <url> runs the whole suite and the probes, reports each, and removes its prefix', async () => {
      const started = Date.now();
      const r = await run(CONFORMANCE_BIN, [target.url, '--json', '--large-file-size', '6MiB', '--timeout', '60', '--lag-bound', '2'], target.env);
      const elapsedMs = Date.now() - started;
      expect(r.stdout, r.stderr).toMatch(/^\{/);
      const report = JSON.parse(r.stdout) as { backend: string; prefix: string; rows: Row[]; settings: Advice[]; summary: Record<Status, number>; cleanup: string };
      if (process.env.LTS_CERTIFY_MATRIX_DIR) await writeFile(`${process.env.LTS_CERTIFY_MATRIX_DIR}/${service}.json`, JSON.stringify({ ...report, elapsedMs }, null, 2));
      const suite = report.rows.filter((row) => row.kind === 'suite');
      const failures = report.rows.filter((row) => row.status === 'fail').map((row) => `${row.name}: ${row.detail}`);
      expect(suite.length).toBeGreaterThan(70);
      expect(suite.filter((row) => row.status === 'fail'), failures.join('\n')).toEqual([]);
      expect(probeStatuses(report.rows), failures.join('\n')).toEqual(expected.probes);
      // The suite's own probe agrees with the provider probe: its conditional group runs only where preconditions hold.
      const conditional = suite.filter((row) => row.name.startsWith('conditional writes ›'));
      expect(conditional.length).toBeGreaterThan(10);
      for (const row of conditional) expect(row.status, row.name).toBe(expected.conditionalGroup);
      if (expected.conditionalGroup === 'skip') expect(conditional[0]!.detail).toMatch(/ignores conditional headers/);
      // Every skip says why.
      for (const row of report.rows.filter((x) => x.status === 'skip')) expect(row.detail, row.name).not.toBe('');
      expect(r.status, r.stderr).toBe(expected.exit);
      expect(report.cleanup).toBe('removed');
      expect(await leftovers(target)).toEqual([]);
      if (target.secret) expect(r.stdout + r.stderr).not.toContain(target.secret);
      console.log(`[certify] ${service}: ${JSON.stringify(report.summary)} in ${elapsedMs} ms`);
    }, 240_000);

    it('litestream doctor <url> -json reports the same probes and the settings to use, and removes its prefix', async () => {
      const r = await run(LITESTREAM_BIN, ['doctor', '-json', '-lag-bound', '2', target.url], target.env);
      const report = JSON.parse(r.stdout) as { backend: string; prefix: string; probes: Row[]; settings: Advice[]; cleanup: string };
      expect(report.prefix).toMatch(/^lts-doctor-/);
      expect(probeStatuses(report.probes)).toEqual(expected.probes);
      const advice = report.settings.map(({ key, value }) => ({ key, value }));
      expect(advice).toEqual(report.backend === 's3' ? S3_SETTINGS : []);
      expect(report.cleanup).toBe('removed');
      expect(r.status, r.stderr).toBe(expected.exit);
      expect(await leftovers(target)).toEqual([]);
      if (target.secret) expect(r.stdout + r.stderr).not.toContain(target.secret);
    }, 120_000);

    it('litestream doctor <url> prints the probes as a table and the settings as config lines', async () => {
      const r = await run(LITESTREAM_BIN, ['doctor', target.url], target.env);
      expect(r.stdout).toMatch(/^RESULT\s+PROBE\s+DETAIL$/m);
      for (const [id, status] of Object.entries(expected.probes)) expect(r.stdout, id).toMatch(new RegExp(`^${status}\\s`, 'm'));
      if (service === 'fauxqs' || service === 's3rver') {
        expect(r.stdout).toMatch(/^fail\s+conditional writes enforced.*the store ignores preconditions: If-None-Match: \* on an existing object was accepted/m);
        expect(r.stdout).toMatch(/^ {2}force-path-style: true {4}# /m);
        expect(r.stderr).toMatch(/1 probe\(s\) failed/);
      } else {
        expect(r.stdout).toMatch(/No settings to change for this backend/);
      }
      if (target.secret) expect(r.stdout + r.stderr).not.toContain(target.secret);
    }, 120_000);
  });
}

describe('an interrupted certification (real bin, local directory)', () => {
  it('removes its scratch prefix on SIGINT and exits 130', async () => {
    const target = await CERTIFY_TARGETS.file!();
    try {
      const dir = fileURLToPath(target.url);
      const child = spawn(process.execPath, [CONFORMANCE_BIN, target.url, '--only', 'suite'], { env: { ...process.env, LITESTREAM_PLUGINS: ALL_PLUGINS } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      // Wait until the suite has written below its prefix, then interrupt it mid-run.
      const deadline = Date.now() + 30_000;
      let prefix: string | undefined;
      while (prefix === undefined && Date.now() < deadline) {
        const entries = await readdir(dir).catch(() => [] as string[]);
        const found = entries.find((e) => e.startsWith('lts-certify-'));
        if (found && (await readdir(`${dir}/${found}/suite`).catch(() => [] as string[])).length > 0) prefix = found;
        else await new Promise((r) => setTimeout(r, 50));
      }
      expect(prefix, 'the run never wrote below its prefix').toBeDefined();
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
      expect(stderr).toMatch(/interrupted; removing the scratch prefix lts-certify-/);
      expect(stderr).toMatch(/scratch prefix removed/);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await target.stop();
    }
  }, 60_000);
});

describe('litestream doctor on a store it cannot list (real bin, fauxqs)', () => {
  it('reports one "reachable" failure, skips the probes, writes nothing, exits 1 and prints no credential', async () => {
    const s3 = await startS3({ kind: 'fauxqs' });
    try {
      const secret = 'doctor-secret-key-do-not-print';
      const r = await run(LITESTREAM_BIN, ['doctor', '-json', `s3://no-such-bucket/app?endpoint=${s3.endpoint}&region=${s3.region}`], {
        LITESTREAM_ACCESS_KEY_ID: 'doctor-access-key',
        LITESTREAM_SECRET_ACCESS_KEY: secret,
      });
      const report = JSON.parse(r.stdout) as { probes: Row[]; cleanup: string };
      expect(report.probes[0]).toMatchObject({ id: 'reachable', status: 'fail', detail: expect.stringMatching(/NoSuchBucket/) });
      expect(report.probes.slice(1).map((p) => p.status)).toEqual(report.probes.slice(1).map(() => 'skip'));
      expect(report.cleanup).toBe('nothing written');
      expect(s3.requests().filter((q) => q.method !== 'GET')).toEqual([]);
      expect(r.status).toBe(1);
      expect(r.stdout + r.stderr).not.toContain(secret);
    } finally {
      await s3.stop();
    }
  }, 120_000);
});
