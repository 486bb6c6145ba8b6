import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_PLUGINS, CERTIFY_TARGETS, CONFORMANCE_BIN, type CertifyTarget } from './test-support/certify-targets.ts';

// `npx @litestream-ts/conformance <url>` (its built bin) against every local service of
// @litestream-ts/testcontainers and a local directory: the whole contract suite plus the
// provider probes, in a scratch prefix the bin removes. A service that cannot start fails.
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop().catch(() => {})));
});

interface Row {
  kind: 'suite' | 'probe';
  id?: string;
  name: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  detail: string;
}
interface Report {
  target: string;
  backend: string;
  prefix: string;
  rows: Row[];
  settings: Array<{ key: string; value: string; reason: string }>;
  summary: Record<string, number>;
  durationMs: number;
  cleanup: string;
}

function run(args: readonly string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CONFORMANCE_BIN, ...args], { env: { ...process.env, ...env, LITESTREAM_PLUGINS: ALL_PLUGINS } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('certification bin against every local service (real services)', () => {
  for (const [service, start] of Object.entries(CERTIFY_TARGETS).filter(([name]) => !process.env.LTS_CERTIFY_ONLY || process.env.LTS_CERTIFY_ONLY.split(",").includes(name))) {
    it(service, async () => {
      const target: CertifyTarget = await start();
      stops.push(() => target.stop());
      const started = Date.now();
      const r = await run([target.url, '--json', '--large-file-size', '6MiB', '--timeout', '60', '--lag-bound', '2'], target.env);
      const elapsed = Date.now() - started;
      const report = JSON.parse(r.stdout) as Report;
      if (process.env.LTS_CERTIFY_MATRIX_DIR) await writeFile(`${process.env.LTS_CERTIFY_MATRIX_DIR}/${service}.json`, JSON.stringify({ ...report, elapsed }, null, 2));
      console.log(service, elapsed, r.status, report.summary, report.rows.filter((row) => row.kind === 'probe' || row.status === 'fail').map((row) => `${row.status} ${row.id ?? row.name}: ${row.detail}`));
      expect(report.cleanup).toBe('removed');
      if (target.secret) expect(r.stdout + r.stderr).not.toContain(target.secret);
    }, 300_000);
  }
});
