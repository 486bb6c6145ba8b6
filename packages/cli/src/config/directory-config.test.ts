import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBackendRegistry } from '../backends.ts';
import { directoryDatabase, directoryDatabaseAt } from '../directories/index.ts';
import { ConfigError } from './config-error.ts';
import { parseConfig, type ConfigOptions } from './parse-config.ts';

// `dir` entries, checked with the real backends' facts (their URL checks and locations).
const FILE = '/etc/litestream.yml';
const root = mkdtempSync(join(tmpdir(), 'lts-dir-config-'));
const DATA = join(root, 'data');
mkdirSync(join(DATA, 'team-a'), { recursive: true });
writeFileSync(join(root, 'app.db'), '');
writeFileSync(join(root, 'not-a-dir'), '');
const registry = await createBackendRegistry();

function parse(text: string, options: Partial<ConfigOptions> = {}) {
  return parseConfig(text, { file: FILE, registry, env: {}, ...options });
}

function errorOf(text: string, options: Partial<ConfigOptions> = {}): string {
  try {
    parse(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('dbs[].dir: a directory of databases', () => {
  it('reads dir, pattern, recursive, watch and the shared database settings', () => {
    const config = parse(`dbs:\n  - dir: ${DATA}\n    pattern: "*.db"\n    recursive: true\n    watch: true\n    monitor-interval: 250ms\n    replica:\n      url: s3://bkt/tenants\n`);
    expect(config.dbs).toEqual([]);
    expect(config.dirs).toHaveLength(1);
    expect(config.dirs[0]).toMatchObject({ dir: DATA, pattern: '*.db', recursive: true, watch: true, monitorInterval: 250, entry: 'dbs[0]', replica: { type: 's3', url: 's3://bkt/tenants' } });
  });

  it('defaults recursive and watch to false, as Litestream does, and takes a relative dir from the working directory', () => {
    const config = parse('dbs:\n  - dir: data\n    pattern: "*.sqlite"\n    replica: {path: /backups/x}\n', { cwd: root });
    expect(config.dirs[0]).toMatchObject({ dir: DATA, recursive: false, watch: false });
  });

  it.each([
    ['path and dir together', `dbs:\n  - path: ${join(root, 'app.db')}\n    dir: ${DATA}\n    pattern: "*.db"\n    replica: {path: /b}\n`, `${FILE}:2:5: dbs[0].path: set either "path" (one database) or "dir" (a directory of databases), not both`],
    ['neither path nor dir', 'dbs:\n  - replica: {path: /b}\n', `${FILE}:2:5: dbs[0]: missing "path": the database file to replicate (or "dir" and "pattern" for a directory of databases)`],
    ['dir without pattern', `dbs:\n  - dir: ${DATA}\n    replica: {path: /b}\n`, `${FILE}:2:5: dbs[0].pattern: missing "pattern": which files of the directory to replicate (for example pattern: "*.db")`],
    ['pattern without dir', `dbs:\n  - path: ${join(root, 'app.db')}\n    pattern: "*.db"\n    replica: {path: /b}\n`, `${FILE}:3:5: dbs[0].pattern: "pattern" only applies to a directory of databases ("dir"), not to a single database ("path")`],
    ['watch without dir', `dbs:\n  - path: ${join(root, 'app.db')}\n    watch: true\n    replica: {path: /b}\n`, `${FILE}:3:5: dbs[0].watch: "watch" only applies to a directory of databases ("dir"), not to a single database ("path")`],
    ['meta-dir without dir', `dbs:\n  - path: ${join(root, 'app.db')}\n    meta-dir: /m\n    replica: {path: /b}\n`, `${FILE}:3:5: dbs[0].meta-dir: "meta-dir" only applies to a directory of databases ("dir"), not to a single database ("path")`],
    ['meta-dir and meta-path', `dbs:\n  - dir: ${DATA}\n    pattern: "*.db"\n    meta-dir: /m\n    meta-path: /n\n    replica: {path: /b}\n`, `${FILE}:4:5: dbs[0].meta-dir: set either "meta-dir" or "meta-path", not both`],
    ['a malformed pattern', `dbs:\n  - dir: ${DATA}\n    pattern: "[a-"\n    replica: {path: /b}\n`, `${FILE}:3:14: dbs[0].pattern: invalid pattern "[a-": a "[" character class is not closed by "]"`],
    ['a pattern with a slash', `dbs:\n  - dir: ${DATA}\n    pattern: "*/app.db"\n    replica: {path: /b}\n`, `${FILE}:3:14: dbs[0].pattern: invalid pattern "*/app.db": a pattern is matched against file names only, so it cannot hold "/" (use "recursive: true" to search subdirectories)`],
    ['a recursive flag that is no boolean', `dbs:\n  - dir: ${DATA}\n    pattern: "*.db"\n    recursive: deep\n    replica: {path: /b}\n`, `${FILE}:4:16: dbs[0].recursive: expected true or false, got "deep"`],
    ['a missing directory', `dbs:\n  - dir: ${join(root, 'gone')}\n    pattern: "*.db"\n    replica: {path: /b}\n`, `${FILE}:2:10: dbs[0].dir: directory ${JSON.stringify(join(root, 'gone'))} does not exist`],
    ['a file as directory', `dbs:\n  - dir: ${join(root, 'not-a-dir')}\n    pattern: "*.db"\n    replica: {path: /b}\n`, `${FILE}:2:10: dbs[0].dir: ${JSON.stringify(join(root, 'not-a-dir'))} is not a directory; "dir" names the directory that holds the databases`],
    [
      'the same directory and pattern twice',
      `dbs:\n  - dir: ${DATA}\n    pattern: "*.db"\n    replica: {path: /b}\n  - dir: ${DATA}\n    pattern: "*.db"\n    replica: {path: /c}\n`,
      `${FILE}:5:5: dbs[1].dir: directory ${JSON.stringify(DATA)} with pattern "*.db" is already listed as dbs[0]; list it once`,
    ],
  ])('refuses %s, naming the file and key', (_name, text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it('lets restore-if-db-not-exists through with a warning: a directory finds only databases that exist', () => {
    const config = parse(`dbs:\n  - dir: ${DATA}\n    pattern: "*.db"\n    restore-if-db-not-exists: true\n    replica: {path: /b}\n`);
    expect(config.warnings).toEqual([
      `${FILE}:4:5: dbs[0].restore-if-db-not-exists: has no effect with "dir": only databases whose files exist are found; restore one with litestream restore -o PATH REPLICA_URL/RELATIVE_PATH`,
    ]);
  });

  it('a dir replica covers its subtree: a database replicating inside it is refused', () => {
    const message = errorOf(`dbs:\n  - dir: ${DATA}\n    pattern: "*.db"\n    replica: {url: "s3://bkt/tenants"}\n  - path: ${join(root, 'app.db')}\n    replica: {type: s3, bucket: bkt, path: tenants/app.db}\n`);
    expect(message).toMatch(/^\/etc\/litestream\.yml:6:\d+: dbs\[1\]\.replica\.path: the replica of .*app\.db \(s3 bucket bkt, path tenants\/app\.db\) and the replica of directory .*data \(dbs\[0\]\.replica\.url: s3:\/\/bkt\/tenants\) lie one inside the other; a directory's replica holds the replicas of every database found below the directory/);
    // The other way round, and the same place, too.
    expect(errorOf(`dbs:\n  - path: ${join(root, 'app.db')}\n    replica: {url: "file:///srv/b"}\n  - dir: ${DATA}\n    pattern: "*.db"\n    replica: {path: /srv/b/tenants}\n`)).toContain('lie one inside the other');
    expect(errorOf(`dbs:\n  - dir: ${DATA}\n    pattern: "*.db"\n    replica: {url: "gs://bkt/t"}\n  - dir: ${root}\n    pattern: "*.sqlite"\n    replica: {url: "gs://bkt/t/"}\n`)).toContain('are the same place');
    // Side by side is fine.
    expect(parse(`dbs:\n  - dir: ${DATA}\n    pattern: "*.db"\n    replica: {url: "s3://bkt/tenants"}\n  - path: ${join(root, 'app.db')}\n    replica: {url: "s3://bkt/app"}\n`).dirs).toHaveLength(1);
  });
});

describe('each database found under a dir gets the replica with its relative path appended', () => {
  const entry = (replica: string, extra = '') => parse(`dbs:\n  - dir: ${DATA}\n    pattern: "*.db"\n    recursive: true\n${extra}    replica: ${replica}\n`).dirs[0]!;
  const child = (replica: string, rel: string, extra = '') => directoryDatabase(registry, entry(replica, extra), join(DATA, ...rel.split('/')));

  it.each([
    ['an s3 URL', '{url: "s3://bkt/tenants"}', 'team-a/app.db', { url: 's3://bkt/tenants/team-a/app.db' }],
    ['an s3 URL with a query', '{url: "s3://bkt/tenants?endpoint=http://127.0.0.1:9000&region=x"}', 'app.db', { url: 's3://bkt/tenants/app.db?endpoint=http://127.0.0.1:9000&region=x' }],
    ['an s3 bucket without path', '{type: s3, bucket: bkt}', 'team-a/app.db', { bucket: 'bkt', path: 'team-a/app.db' }],
    ['an s3 bucket and path', '{type: s3, bucket: bkt, path: prod}', 'team-a/app.db', { bucket: 'bkt', path: 'prod/team-a/app.db' }],
    ['a file URL', '{url: "file:///srv/backups"}', 'team-a/app.db', { url: 'file:///srv/backups/team-a/app.db' }],
    ['a file path', '{path: /srv/backups}', 'team-a/app.db', { path: '/srv/backups/team-a/app.db' }],
    ['a name that needs escaping in a URL', '{url: "gs://bkt/t"}', 'a b%.db', { url: 'gs://bkt/t/a%20b%25.db' }],
    ['an abs URL', '{url: "abs://acct@container/t"}', 'x.db', { url: 'abs://acct@container/t/x.db' }],
    ['an sftp URL', '{url: "sftp://u@host/~/t"}', 'x.db', { url: 'sftp://u@host/~/t/x.db' }],
    // Litestream appends to the URL whatever the backend; a NATS URL holds only its bucket.
    ['a NATS URL, whose path is its bucket', '{url: "nats://127.0.0.1:4222/tenants"}', 'team-a/x.db', { url: 'nats://127.0.0.1:4222/tenants', path: 'team-a/x.db' }],
  ])('%s', (_name, replica, rel, expected) => {
    expect(child(replica, rel).replica.settings).toMatchObject(expected);
  });

  it('keeps the location checked: every derived replica lies exactly below the directory’s', () => {
    for (const replica of ['{url: "s3://bkt/tenants"}', '{type: s3, bucket: bkt, path: /prod/}', '{url: "file:///srv/b"}', '{url: "nats://h/bkt"}']) {
      const base = registry.locate(entry(replica).replica.settings)!;
      const located = registry.locate(child(replica, 'team-a/app.db').replica.settings)!;
      expect(located.store).toBe(base.store);
      expect(located.path).toBe(base.path === '' ? 'team-a/app.db' : `${base.path}/team-a/app.db`);
    }
  });

  it('derives metadata directories as Litestream does (meta-dir, meta-path, or beside the database)', () => {
    expect(child('{path: /b}', 'team-a/app.db').metaPath).toBeUndefined();
    expect(child('{path: /b}', 'team-a/app.db', '    meta-dir: /var/lib/meta\n').metaPath).toBe('/var/lib/meta/team-a/app.db-litestream');
    expect(child('{path: /b}', 'team-a/app.db', '    meta-path: /var/lib/meta\n').metaPath).toBe('/var/lib/meta/team-a/.app.db-litestream');
  });

  it('finds the entry of a database by path for restore, even when the file does not exist', () => {
    const config = parse(`dbs:\n  - dir: ${DATA}\n    pattern: "*.db"\n    replica: {url: "s3://bkt/t"}\n  - dir: ${root}\n    pattern: "*.sqlite"\n    recursive: true\n    replica: {url: "s3://bkt/u"}\n`);
    expect(directoryDatabaseAt(config, registry, join(DATA, 'gone.db'))?.replica.url).toBe('s3://bkt/t/gone.db');
    expect(directoryDatabaseAt(config, registry, join(DATA, 'team-a', 'deep.sqlite'))?.replica.url).toBe('s3://bkt/u/data/team-a/deep.sqlite');
    // Not recursive: a database in a subdirectory is not the first entry's.
    expect(directoryDatabaseAt(config, registry, join(DATA, 'team-a', 'deep.db'))).toBeUndefined();
    expect(directoryDatabaseAt(config, registry, join(root, 'other.txt'))).toBeUndefined();
  });
});
