import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_COMPACTION_LEVELS } from '@litestream-ts/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type ConfigOptions } from './parse-config.ts';
import { fakeRegistry } from './test-support/fake-registry.ts';

const FILE = '/etc/litestream.yml';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lts-config-'));
  for (const name of ['app.db', 'queue.db']) writeFileSync(join(dir, name), '');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'rel.db'), '');
});

function parse(text: string, options: Partial<ConfigOptions> = {}) {
  return parseConfig(text, { file: FILE, registry: fakeRegistry(), env: {}, ...options });
}

describe('parseConfig', () => {
  it('reads a full Litestream v0.5 config into typed, defaulted settings', () => {
    const text = `
# Global credentials apply to every S3 replica.
access-key-id: AKIAGLOBAL
secret-access-key: globalsecret
region: eu-west-1
addr: ":9090"
exec: node server.js
logging:
  level: debug
  type: json
  stderr: true
snapshot:
  interval: 12h
  retention: 72h
levels:
  - interval: 10s
  - interval: 2m
  - interval: 30m
  - interval: 6h
l0-retention: 10m
shutdown-sync-timeout: 10s
shutdown-sync-interval: 250ms
sync-interval: 5s
dbs:
  - path: ${dir}/app.db
    meta-path: ${dir}/meta
    monitor-interval: 500ms
    checkpoint-interval: 2m
    busy-timeout: 5s
    min-checkpoint-page-count: 2000
    truncate-page-n: 50000
    replica:
      url: s3://app-backups/app
      access-key-id: AKIALOCAL
      part-size: 10MiB
      sync-interval: 1s
      validation-interval: 1h
  - path: ${dir}/queue.db
    restore-if-db-not-exists: true
    replica:
      type: s3
      bucket: queue-backups
      path: queue
      endpoint: http://localhost:9000
`;
    expect(parse(text)).toEqual({
      dbs: [
        {
          path: join(dir, 'app.db'),
          metaPath: join(dir, 'meta'),
          monitorInterval: 500,
          checkpointInterval: 120_000,
          busyTimeout: 5000,
          minCheckpointPageCount: 2000,
          truncatePageN: 50_000,
          restoreIfDbNotExists: false,
          replica: {
            type: 's3',
            url: 's3://app-backups/app',
            syncInterval: 1000,
            validationInterval: 3_600_000,
            settings: {
              type: 's3',
              url: 's3://app-backups/app',
              'access-key-id': 'AKIALOCAL',
              'secret-access-key': 'globalsecret',
              region: 'eu-west-1',
              'part-size': 10 * 1024 * 1024,
            },
          },
        },
        {
          path: join(dir, 'queue.db'),
          monitorInterval: 1000,
          checkpointInterval: 60_000,
          busyTimeout: 1000,
          minCheckpointPageCount: 1000,
          truncatePageN: 121_359,
          restoreIfDbNotExists: true,
          replica: {
            type: 's3',
            syncInterval: 5000,
            settings: {
              type: 's3',
              path: 'queue',
              bucket: 'queue-backups',
              endpoint: 'http://localhost:9000',
              'access-key-id': 'AKIAGLOBAL',
              'secret-access-key': 'globalsecret',
              region: 'eu-west-1',
            },
          },
        },
      ],
      dirs: [],
      snapshot: { interval: 43_200_000, retention: 259_200_000 },
      levels: [
        { level: 1, interval: 10_000 },
        { level: 2, interval: 120_000 },
        { level: 3, interval: 1_800_000 },
        { level: 4, interval: 21_600_000 },
      ],
      l0Retention: 600_000,
      retention: true,
      logging: { level: 'debug', type: 'json', stderr: true },
      addr: ':9090',
      shutdownSyncTimeout: 10_000,
      shutdownSyncInterval: 250,
      exec: 'node server.js',
      warnings: [],
    });
  });

  it('reads retention.enabled: on unless set to false, which keeps every replica file for lifecycle rules to expire', () => {
    expect(parse('').retention).toBe(true);
    expect(parse('retention:\n').retention).toBe(true);
    expect(parse('retention: {enabled: true}\n').retention).toBe(true);
    expect(parse('retention:\n  enabled: false\n')).toMatchObject({ retention: false, warnings: [] });
    expect(parse('retention: {enabled: no}\n').retention).toBe(false);
    expect(() => parse('retention: {enabled: maybe}\n')).toThrow(/retention\.enabled: /);
    expect(() => parse('retention: {enable: false}\n')).toThrow(/retention\.enable: unknown key "enable"; did you mean "enabled"\?/);
  });

  it('reads mcp-addr (the MCP server of replicate) like addr, and refuses one without a port', () => {
    expect(parse('mcp-addr: ":3001"\n').mcpAddr).toBe(':3001');
    expect(parse('mcp-addr: 127.0.0.1:3001\n')).toMatchObject({ mcpAddr: '127.0.0.1:3001', warnings: [] });
    expect(parse('').mcpAddr).toBeUndefined();
    expect(() => parse('mcp-addr: localhost\n')).toThrow(/mcp-addr: expected host:port/);
  });

  it("fills in Litestream v0.5's defaults", () => {
    const config = parse(`dbs:\n  - path: ${dir}/app.db\n    replica:\n      path: /var/backups/app\n`);
    expect(config).toEqual({
      dbs: [
        {
          path: join(dir, 'app.db'),
          monitorInterval: 1000,
          checkpointInterval: 60_000,
          busyTimeout: 1000,
          minCheckpointPageCount: 1000,
          truncatePageN: 121_359,
          restoreIfDbNotExists: false,
          replica: { type: 'file', syncInterval: 1000, settings: { type: 'file', path: '/var/backups/app' } },
        },
      ],
      dirs: [],
      snapshot: { interval: 86_400_000, retention: 86_400_000 },
      levels: DEFAULT_COMPACTION_LEVELS,
      l0Retention: 300_000,
      retention: true,
      logging: { level: 'info', type: 'text', stderr: false },
      shutdownSyncTimeout: 30_000,
      shutdownSyncInterval: 500,
      warnings: [],
    });
    expect(config.levels).toEqual([
      { level: 1, interval: 30_000 },
      { level: 2, interval: 300_000 },
      { level: 3, interval: 3_600_000 },
    ]);
  });

  it('treats an empty file, empty sections and empty values as "use the defaults"', () => {
    const empty = parse('# nothing yet\n');
    expect(empty.dbs).toEqual([]);
    expect(empty.snapshot).toEqual({ interval: 86_400_000, retention: 86_400_000 });
    const blanks = parse('snapshot:\nlevels:\nl0-retention:\nlogging:\ndbs:\n');
    expect(blanks).toEqual({ ...empty });
  });

  it('accepts zero where it disables something', () => {
    const config = parse(`l0-retention: 0\nshutdown-sync-timeout: 0s\ndbs:\n  - path: ${dir}/app.db\n    checkpoint-interval: 0\n    truncate-page-n: 0\n    replica: {path: /b}\n`);
    expect(config.l0Retention).toBe(0);
    expect(config.shutdownSyncTimeout).toBe(0);
    expect(config.dbs[0]!.checkpointInterval).toBe(0);
    expect(config.dbs[0]!.truncatePageN).toBe(0);
  });

  it('resolves relative database paths against the working directory, ~ against the home directory, and drops sqlite:// prefixes', () => {
    const config = parse(
      'dbs:\n  - path: data/rel.db\n    meta-path: state\n    replica: {path: /b1}\n  - path: ~/home.db\n    replica: {path: /b2}\n  - path: sqlite:///srv/app.db\n    replica: {path: /b3}\n',
      { cwd: dir, requireDatabases: false },
    );
    expect(config.dbs.map((db) => db.path)).toEqual([join(dir, 'data', 'rel.db'), join(homedir(), 'home.db'), '/srv/app.db']);
    expect(config.dbs[0]!.metaPath).toBe(join(dir, 'state'));
  });

  it('does not require the database files to exist when requireDatabases is false (restore)', () => {
    const config = parse('dbs:\n  - path: /nonexistent/dir/new.db\n    replica: {url: s3://bucket/new}\n', { requireDatabases: false });
    expect(config.dbs[0]!.path).toBe('/nonexistent/dir/new.db');
  });

  it('gives each replica the top-level backend settings it accepts, its own values winning', () => {
    const config = parse(
      `bucket: shared\nregion: us-east-1\nsync-interval: 3s\nvalidation-interval: 30m\ndbs:\n  - path: ${dir}/app.db\n    replica:\n      type: s3\n      region: ""\n      path: app\n  - path: ${dir}/queue.db\n    replica:\n      path: /var/backups/queue\n`,
    );
    expect(config.dbs[0]!.replica).toEqual({
      type: 's3',
      syncInterval: 3000,
      validationInterval: 1_800_000,
      settings: { type: 's3', path: 'app', bucket: 'shared', region: 'us-east-1' },
    });
    // The file backend takes no bucket or region, so they are not handed to it.
    expect(config.dbs[1]!.replica.settings).toEqual({ type: 'file', path: '/var/backups/queue' });
  });

  it('reads connect-timeout and request-timeout for any backend, the top level giving the defaults, and hands them on in milliseconds', () => {
    const config = parse(
      `request-timeout: 1m\ndbs:\n  - path: ${dir}/app.db\n    replica:\n      url: s3://b/p\n      connect-timeout: 2s\n  - path: ${dir}/queue.db\n    replica:\n      path: /var/backups/queue\n      request-timeout: 0\n`,
    );
    expect(config.dbs[0]!.replica).toMatchObject({ connectTimeout: 2000, requestTimeout: 60_000, settings: { 'connect-timeout': 2000, 'request-timeout': 60_000 } });
    expect(config.dbs[1]!.replica).toMatchObject({ requestTimeout: 0, settings: { type: 'file', path: '/var/backups/queue', 'request-timeout': 0 } });
    expect(config.dbs[1]!.replica.connectTimeout).toBeUndefined();
    expect(() => parse(`dbs:\n  - path: ${dir}/app.db\n    replica:\n      url: s3://b/p\n      request-timeout: 30 seconds\n`)).toThrow(
      /dbs\[0\]\.replica\.request-timeout: invalid duration "30 seconds"/,
    );
  });

  it('routes a scheme-less url to the file backend and keeps the deprecated name', () => {
    const config = parse(`dbs:\n  - path: ${dir}/app.db\n    replica:\n      name: backup\n      url: /var/backups/app\n`);
    expect(config.dbs[0]!.replica).toEqual({ type: 'file', url: '/var/backups/app', name: 'backup', syncInterval: 1000, settings: { type: 'file', url: '/var/backups/app' } });
  });

  it('accepts the deprecated replicas list with one entry, with a warning', () => {
    const config = parse(`dbs:\n  - path: ${dir}/app.db\n    replicas:\n      - url: s3://bucket/app\n`);
    expect(config.dbs[0]!.replica.url).toBe('s3://bucket/app');
    expect(config.warnings).toEqual([`${FILE}:3:5: dbs[0].replicas: "replicas" is deprecated; write the single replica under "replica:" instead`]);
  });

  it('keeps backend values as written when a number would lose their text, and credentials always as text', () => {
    const config = parse(`dbs:\n  - path: ${dir}/app.db\n    replica:\n      url: s3://b/p\n      access-key-id: 0123\n      secret-access-key: 42\n      region: 1.50\n      endpoint: 8080\n`);
    expect(config.dbs[0]!.replica.settings).toEqual({ type: 's3', url: 's3://b/p', 'access-key-id': '0123', 'secret-access-key': '42', region: '1.50', endpoint: 8080 });
  });

  it('applies a snapshot setting given on a database to the whole config, as Litestream does', () => {
    const config = parse(
      `dbs:\n  - path: ${dir}/app.db\n    snapshot:\n      interval: 6h\n    replica: {path: /b1}\n  - path: ${dir}/queue.db\n    snapshot: {interval: 6h, retention: 48h}\n    replica: {path: /b2}\n`,
    );
    expect(config.snapshot).toEqual({ interval: 21_600_000, retention: 172_800_000 });
    const topWins = parse(`snapshot: {interval: 1h}\ndbs:\n  - path: ${dir}/app.db\n    snapshot: {interval: 6h}\n    replica: {path: /b1}\n`);
    expect(topWins.snapshot.interval).toBe(3_600_000);
  });

  it('reads YAML anchors, merge keys and YAML 1.1 booleans like Go yaml.v2', () => {
    const config = parse(
      `x-replica: &replica\n  type: s3\n  bucket: shared\n  sync-interval: 2s\ndbs:\n  - path: ${dir}/app.db\n    restore-if-db-not-exists: yes\n    replica:\n      <<: *replica\n      path: app\n  - path: ${dir}/queue.db\n    replica: *replica\nlogging:\n  stderr: on\n`,
      {},
    );
    expect(config.dbs[0]!.restoreIfDbNotExists).toBe(true);
    expect(config.dbs[0]!.replica).toEqual({ type: 's3', syncInterval: 2000, settings: { type: 's3', path: 'app', bucket: 'shared' } });
    expect(config.dbs[1]!.replica.settings).toEqual({ type: 's3', bucket: 'shared' });
    expect(config.logging.stderr).toBe(true);
  });
});
