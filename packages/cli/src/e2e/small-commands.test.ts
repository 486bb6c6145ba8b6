import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestream } from './cli-process.ts';

const dir = await mkdtemp(join(tmpdir(), 'lts-small-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('smaller commands and flags (real bin)', () => {
  it('version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    const r = litestream(['version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^litestream-ts v${pkg.version.replace(/\./g, '\\.')} \\(node `));
  });

  it('replicate -restore-if-db-not-exists brings a missing database back before replicating', async () => {
    const db = join(dir, 'gone.db');
    const replica = `file://${join(dir, 'gone-replica')}`;
    const app = new AppProcess(db);
    await app.insert(25);
    expect(litestream(['replicate', '-once', db, replica]).status).toBe(0);
    const expected = await app.hash(); // after replicate added its bookkeeping tables
    await app.close();
    await rm(db);
    await rm(join(dir, '.gone.db-litestream'), { recursive: true });
    const config = join(dir, 'gone.yml');
    await writeFile(config, `dbs:\n  - path: ${db}\n    replica:\n      url: ${replica}\n`);
    const r = litestream(['replicate', '-once', '-restore-if-db-not-exists', '-config', config]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('restored database before replicating');
    expect(await sha256(db)).toBe(expected);
  });

  it('restore -if-db-not-exists and -if-replica-exists exit 0 without touching anything', async () => {
    const existing = join(dir, 'exists.db');
    await writeFile(existing, 'keep');
    const a = litestream(['restore', '-if-db-not-exists', '-o', existing, `file://${join(dir, 'nothing-here')}`]);
    expect(a.status, a.stderr).toBe(0);
    expect(await readFile(existing, 'utf8')).toBe('keep');
    const out = join(dir, 'never.db');
    const b = litestream(['restore', '-if-replica-exists', '-o', out, `file://${join(dir, 'empty-replica')}`]);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stderr).toContain('no backups found, skipping restore');
    expect(existsSync(out)).toBe(false);
    const c = litestream(['restore', '-o', out, `file://${join(dir, 'empty-replica')}`]);
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/holds no LTX files .*replicate to it first/);
  });

  it('reset -dry-run reports and reset removes the local state; the next replicate starts with a snapshot that follows the replica', async () => {
    const db = join(dir, 'reset.db');
    const replica = `file://${join(dir, 'reset-replica')}`;
    const app = new AppProcess(db);
    await app.insert(5);
    expect(litestream(['replicate', '-once', db, replica]).status).toBe(0);
    const dry = litestream(['reset', '-dry-run', db]);
    // The snapshot went straight to the replica: nothing is staged, the position is recorded.
    expect(dry.stdout).toMatch(/would remove .*\.reset\.db-litestream \(local position TXID 0000000000000001, 0 staged LTX file\(s\)\)/);
    expect(existsSync(join(dir, '.reset.db-litestream'))).toBe(true);
    const real = litestream(['reset', db]);
    expect(real.status, real.stderr).toBe(0);
    expect(existsSync(join(dir, '.reset.db-litestream'))).toBe(false);
    await app.insert(5);
    const again = litestream(['replicate', '-once', db, replica]);
    expect(again.stdout).toMatch(/snapshot written" .*txid=0000000000000002/);
    const out = join(dir, 'reset-restored.db');
    expect(litestream(['restore', '-o', out, replica]).status).toBe(0);
    expect(await sha256(out)).toBe(await app.hash());
    await app.close();
  });
});
