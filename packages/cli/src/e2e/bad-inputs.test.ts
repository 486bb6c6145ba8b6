import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestream, type CliResult } from './cli-process.ts';

// Each bad input must fail with one clear line naming what is wrong, a non-zero exit code,
// and no partial output. Set LTS_BAD_INPUTS_REPORT=file.md to get the table of messages.
const dir = await mkdtemp(join(tmpdir(), 'lts-bad-'));
const report: string[] = ['| input | exit | message |', '|---|---|---|'];
const SECRET = 'S3cr3t-Never-Print-Me-42';
let replica = '';
let db = '';

beforeAll(async () => {
  db = join(dir, 'app.db');
  const app = new AppProcess(db);
  await app.insert(20);
  replica = `file://${join(dir, 'replica')}`;
  for (let i = 0; i < 3; i++) {
    await app.insert(5);
    expect(litestream(['replicate', '-once', db, replica]).status).toBe(0);
  }
  await app.close();
});
afterAll(async () => {
  if (process.env.LTS_BAD_INPUTS_REPORT) await writeFile(process.env.LTS_BAD_INPUTS_REPORT, `${report.join('\n')}\n`);
  await rm(dir, { recursive: true, force: true });
});

async function config(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function expectFailure(label: string, r: CliResult, code: number, message: RegExp): void {
  const line = r.stderr.trim();
  report.push(`| ${label} | ${r.status} | \`${line.replace(/\|/g, '\\|')}\` |`);
  expect(r.status, r.stderr).toBe(code);
  expect(line.split('\n').filter((l) => l.startsWith('litestream:') || l.startsWith('error:'))).toHaveLength(1);
  expect(line).toMatch(message);
  expect(r.stdout + r.stderr).not.toContain(SECRET);
}

describe('bad inputs give one clear line and a non-zero exit', () => {
  it('malformed YAML', async () => {
    const c = await config('malformed.yml', `dbs:\n  - path: ${db}\n    replica: [unclosed\n`);
    expectFailure('malformed YAML', litestream(['databases', '-config', c]), 1, new RegExp(`^litestream: ${c}:\\d+:\\d+: `));
  });
  it('tabs for indentation', async () => {
    const c = await config('tabs.yml', `dbs:\n\t- path: ${db}\n`);
    expectFailure('tab indentation', litestream(['databases', '-config', c]), 1, /tab/i);
  });
  it('unknown key, with a suggestion', async () => {
    const c = await config('unknown.yml', `dbs:\n  - path: ${db}\n    replica:\n      url: ${replica}\n      sync-intervall: 1s\n`);
    expectFailure('unknown key', litestream(['databases', '-config', c]), 1, new RegExp(`^litestream: ${c}:5:7: dbs\\[0\\]\\.replica\\.sync-intervall: .*sync-interval`));
  });
  it('bad duration', async () => {
    const c = await config('duration.yml', `dbs:\n  - path: ${db}\n    monitor-interval: 5 seconds\n    replica:\n      url: ${replica}\n`);
    expectFailure('bad duration', litestream(['databases', '-config', c]), 1, /dbs\[0\]\.monitor-interval: .*"5 seconds".*1s, 500ms, 1h30m/);
  });
  it('bad level interval', async () => {
    const c = await config('levels.yml', `levels:\n  - interval: soon\ndbs:\n  - path: ${db}\n    replica:\n      url: ${replica}\n`);
    expectFailure('bad level interval', litestream(['databases', '-config', c]), 1, /levels\[0\]\.interval: .*"soon"/);
  });
  it('missing config file', () => {
    expectFailure('missing config file', litestream(['databases', '-config', join(dir, 'nope.yml')]), 1, /nope\.yml.*(-config|LITESTREAM_CONFIG)/);
  });
  it('missing database', async () => {
    const c = await config('missing-db.yml', `dbs:\n  - path: ${join(dir, 'absent.db')}\n    replica:\n      url: ${replica}\n`);
    expectFailure('missing database', litestream(['replicate', '-config', c]), 1, /absent\.db/);
  });
  it('a directory instead of a database', async () => {
    await mkdir(join(dir, 'dir.db'));
    expectFailure('unreadable database (a directory)', litestream(['replicate', '-once', join(dir, 'dir.db'), replica]), 1, /dir\.db/);
  });
  it('unknown URL scheme lists the installed backends', () => {
    expectFailure('unknown scheme', litestream(['replicate', '-once', db, 'ftp://host/x']), 1, /unknown replica URL scheme "ftp:\/\/"; installed backends: .*file \(file:\/\/\).*s3 \(s3:\/\/, oss:\/\/\).*webdav \(webdav:\/\/, webdavs:\/\/\)/);
  });
  it('shorthand without a URL', () => {
    expectFailure('shorthand without URL', litestream(['replicate', db]), 2, /needs both a database path and a replica URL/);
  });
  it('restore over an existing file without -force', async () => {
    const existing = join(dir, 'existing.db');
    await writeFile(existing, 'keep me');
    expectFailure('restore onto existing file', litestream(['restore', '-o', existing, replica]), 1, /existing\.db: .*already exists.*-force/);
    expect(await readFile(existing, 'utf8')).toBe('keep me');
  });
  it('restore from a URL without -o', () => {
    expectFailure('restore URL without -o', litestream(['restore', replica]), 2, /needs an output path: -o PATH/);
  });
  it('both -txid and -timestamp', () => {
    expectFailure('-txid with -timestamp', litestream(['restore', '-txid', '2', '-timestamp', '2026-01-01T00:00:00Z', '-o', join(dir, 'o.db'), replica]), 2, /-txid or -timestamp, not both/);
  });
  it('bad timestamp', () => {
    expectFailure('bad -timestamp', litestream(['restore', '-timestamp', 'yesterday', '-o', join(dir, 'o.db'), replica]), 2, /RFC 3339/);
  });
  it('bad integrity-check mode', () => {
    expectFailure('bad -integrity-check', litestream(['restore', '-integrity-check', 'paranoid', '-o', join(dir, 'o.db'), replica]), 2, /none, quick or full/);
  });
  it('a replica with a gap', async () => {
    const gapDir = join(dir, 'gap-replica');
    execFileSync('cp', ['-r', join(dir, 'replica'), gapDir]);
    const level0 = (await readdir(join(gapDir, 'ltx', '0'))).sort();
    await rm(join(gapDir, 'ltx', '0', level0[1]!));
    expectFailure('replica with a gap', litestream(['restore', '-o', join(dir, 'gap.db'), `file://${gapDir}`]), 1, /no LTX file covers TXIDs? 0000000000000002/);
  });
  it('a replica with a corrupt file', async () => {
    const badDir = join(dir, 'corrupt-replica');
    execFileSync('cp', ['-r', join(dir, 'replica'), badDir]);
    const level0 = (await readdir(join(badDir, 'ltx', '0'))).sort();
    const victim = join(badDir, 'ltx', '0', level0[level0.length - 1]!);
    const bytes = await readFile(victim);
    bytes[39]! ^= 0xff; // a header timestamp byte: only the file checksum can notice
    await writeFile(victim, bytes);
    const out = join(dir, 'corrupt.db');
    expectFailure('replica with a corrupt file', litestream(['restore', '-o', out, `file://${badDir}`]), 1, /0\/000000000000000\d-000000000000000\d\.ltx: file checksum mismatch: stored [0-9a-f]{16}, computed [0-9a-f]{16}/);
    expect(await readdir(dir)).not.toContain('corrupt.db');
  });
  it('a database not in the config', async () => {
    const c = await config('one.yml', `dbs:\n  - path: ${db}\n    replica:\n      url: ${replica}\n`);
    expectFailure('restore of unconfigured db', litestream(['restore', '-config', c, join(dir, 'other.db')]), 1, /other\.db is not in the config; configured databases: /);
  });
  it('-force-snapshot without -once', () => {
    expectFailure('-force-snapshot without -once', litestream(['replicate', '-force-snapshot', db, replica]), 2, /only apply with -once/);
  });
  it('bad log level', () => {
    expectFailure('bad -log-level', litestream(['replicate', '-once', '-log-level', 'loud', db, replica]), 1, /loud/);
  });
  it('unknown command', () => {
    const r = litestream(['frobnicate']);
    report.push(`| unknown command | ${r.status} | \`${r.stderr.trim().split('\n')[0]}\` |`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
  it('credentials in the config never appear in errors, logs or JSON output', async () => {
    // An S3 replica whose endpoint refuses connections: every command that talks to it fails,
    // and none may print the secret key from the config.
    const port = 1; // nothing listens on port 1
    const c = await config(
      'secret.yml',
      `access-key-id: AKIAEXAMPLE\nsecret-access-key: ${SECRET}\ndbs:\n  - path: ${db}\n    replica:\n      url: s3://bucket/app?endpoint=http://127.0.0.1:${port}&force-path-style=true\n`,
    );
    const list = litestream(['databases', '-json', '-config', c]);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout + list.stderr).not.toContain(SECRET);
    const status = litestream(['status', '-json', '-config', c]);
    expect(status.stdout + status.stderr).not.toContain(SECRET);
    expectFailure('S3 replica unreachable (credential in config)', litestream(['restore', '-config', c, '-o', join(dir, 's3.db'), db], { timeout: 60_000 }), 1, /127\.0\.0\.1:1|ECONNREFUSED|connect/);
    const replicate = litestream(['replicate', '-once', '-log-level', 'trace', '-config', c], { timeout: 60_000 });
    expect(replicate.status).not.toBe(0);
    expect(replicate.stdout + replicate.stderr).not.toContain(SECRET);
  }, 120_000);
});
