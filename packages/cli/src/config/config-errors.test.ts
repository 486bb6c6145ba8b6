import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LitestreamError } from '@litestream-ts/core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { parseConfig, type ConfigOptions } from './parse-config.ts';
import { fakeRegistry } from './test-support/fake-registry.ts';

const FILE = '/etc/litestream.yml';
const dir = mkdtempSync(join(tmpdir(), 'lts-config-errors-'));
writeFileSync(join(dir, 'app.db'), '');
/** A config whose first database exists, followed by the rest of its entry. */
const db = (rest: string): string => `dbs:\n  - path: ${dir}/app.db\n${rest}`;
const INSTALLED = 'installed backends: file (file://), s3 (s3://)';
const DURATION_HINT = '(use forms like 1s, 500ms, 1h30m)';

function errorOf(text: string, options: Partial<ConfigOptions> = {}): ConfigError {
  try {
    parseConfig(text, { file: FILE, registry: fakeRegistry(), env: {}, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config errors name the file, line, column and key path', () => {
  it.each<[string, string, string, Partial<ConfigOptions>?]>([
    ['tabs used for indentation', 'dbs:\n  - path: /x\n\treplica: {}\n', `${FILE}:3:1: invalid YAML: a tab is used for indentation; indent with spaces (YAML does not allow tabs there)`],
    ['a tab on the line before a syntax error', 'addr: [1,\t2\n', `${FILE}:2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 1 contains a tab; YAML indentation must use spaces)`],
    ['an unclosed quote', 'addr: ":9090\ndbs: []\n', `${FILE}:3:1: invalid YAML: Missing closing "quote`],
    ['a tab after indentation spaces', 'dbs:\n  - path: /x\n  \treplica: {}\n', `${FILE}:3:1: invalid YAML: All mapping items must start at the same column (line 3 contains a tab; YAML indentation must use spaces)`],
    ['two YAML documents', '---\naddr: ":1"\n---\naddr: ":2"\n', `${FILE}:3:1: invalid config: a second YAML document starts here (after "---"); keep all settings in one document`],
    ['a duplicated key', 'addr: ":1"\naddr: ":2"\n', `${FILE}:2:1: invalid YAML: Map keys must be unique`],
    ['an unknown top-level key', 'foo: 1\n', `${FILE}:1:1: foo: unknown key "foo"`],
    ['a misspelt database key', db('    montor-interval: 1s\n    replica: {path: /b}\n'), `${FILE}:3:5: dbs[0].montor-interval: unknown key "montor-interval"; did you mean "monitor-interval"?`],
    ['a misspelt replica key', db('    replica:\n      url: s3://b/p\n      sync-intervall: 1s\n'), `${FILE}:5:7: dbs[0].replica.sync-intervall: unknown key "sync-intervall"; did you mean "sync-interval"?`],
    ['an unknown replica key', db('    replica:\n      url: s3://b/p\n      colour: red\n'), `${FILE}:5:7: dbs[0].replica.colour: unknown key "colour" (accepted here: access-key-id, auto-recover, bucket, connect-timeout, endpoint, max-sync-ltx-files, name, part-size, path, region, request-timeout, secret-access-key, sync-interval, type, url, validation-interval)`],
    ['a key of another backend', db('    replica:\n      path: /b\n      bucket: x\n'), `${FILE}:5:7: dbs[0].replica.bucket: unknown key "bucket": it is a setting of the s3 backend, not of file`],
    ['a key of a backend that is not installed', 'account-name: acct\n', `${FILE}:1:1: account-name: unknown key "account-name": it is a setting of @litestream-ts/backend-abs, which is not installed: npm install @litestream-ts/backend-abs (${INSTALLED})`],
    ['a key of several backends none of which is installed', db('    replica:\n      path: /b\n      password: p\n'), `${FILE}:5:7: dbs[0].replica.password: unknown key "password": it is a Litestream setting of a backend that is not installed (@litestream-ts/backend-nats, @litestream-ts/backend-sftp); ${INSTALLED}`],
    ['a bad duration', db('    replica:\n      url: s3://b/p\n      sync-interval: 5 seconds\n'), `${FILE}:5:22: dbs[0].replica.sync-interval: invalid duration "5 seconds" ${DURATION_HINT}`],
    ['a duration without unit', 'shutdown-sync-timeout: 10\n', `${FILE}:1:24: shutdown-sync-timeout: invalid duration "10": a unit is required ${DURATION_HINT}`],
    ['a negative duration', 'l0-retention: -5m\n', `${FILE}:1:15: l0-retention: must not be negative, got "-5m"`],
    ['a zero snapshot interval', 'snapshot:\n  interval: 0s\n', `${FILE}:2:13: snapshot.interval: must be greater than 0, got "0s"`],
    ['a mapping for a duration', 'sync-interval: {a: 1}\n', `${FILE}:1:16: sync-interval: expected a duration such as 10s or 1h30m, got a mapping`],
    ['a bad size', db('    replica:\n      url: s3://b/p\n      part-size: 5 XB\n'), `${FILE}:5:18: dbs[0].replica.part-size: invalid size "5 XB" (use forms like 5242880, 5MB, 5MiB, 1.5GB; KB/MB/GB count in 1000s, KiB/MiB/GiB in 1024s)`],
    ['an unknown URL scheme', db('    replica:\n      url: ftp://host/db\n'), `${FILE}:4:12: dbs[0].replica.url: unknown replica URL scheme "ftp://"; ${INSTALLED}`],
    ['an unknown replica type', db('    replica:\n      type: ftp\n'), `${FILE}:4:13: dbs[0].replica.type: unknown replica type "ftp"; ${INSTALLED}`],
    ['a URL scheme of a backend package that is not installed', db('    replica:\n      url: gs://bucket/db\n'), `${FILE}:4:12: dbs[0].replica.url: gs:// needs @litestream-ts/backend-gcs: npm install @litestream-ts/backend-gcs (${INSTALLED})`],
    ['a replica type of a backend package that is not installed', db('    replica:\n      type: abs\n'), `${FILE}:4:13: dbs[0].replica.type: replica type "abs" needs @litestream-ts/backend-abs: npm install @litestream-ts/backend-abs (${INSTALLED})`],
    ['a plugins value that is not a list', 'plugins: {a: 1}\n', `${FILE}:1:10: plugins: expected a list (lines starting with "- "), got a mapping`],
    ['an empty plugin module', 'plugins:\n  - ""\n', `${FILE}:2:5: plugins[0]: empty plugin module: give a package name or a path such as ./my-backend.mjs`],
    ['a plugin module that is not a name', 'plugins:\n  - {a: 1}\n', `${FILE}:2:5: plugins[0]: expected a package name or a path, got a mapping`],
    ['a type that contradicts the URL', db('    replica:\n      type: file\n      url: s3://b/p\n'), `${FILE}:4:13: dbs[0].replica.type: type "file" does not match the URL, which the s3 backend serves; remove "type" or fix the URL`],
    ['a replica without url, type or path', db('    replica:\n      sync-interval: 1s\n'), `${FILE}:4:7: dbs[0].replica: the replica needs a "url" (for example s3://bucket/path or file:///var/backups/app), or a "type" with that backend's settings, or a "path" to a local directory`],
    ['a URL under path', db('    replica:\n      path: s3://bucket/db\n'), `${FILE}:4:13: dbs[0].replica.path: "s3://bucket/db" is a URL; put it under "url" instead of "path"`],
    ['a database without path', 'dbs:\n  - replica: {url: s3://b/p}\n', `${FILE}:2:5: dbs[0]: missing "path": the database file to replicate (or "dir" and "pattern" for a directory of databases)`],
    ['a database file that does not exist', 'dbs:\n  - path: missing.db\n    replica: {url: s3://b/p}\n', `${FILE}:2:11: dbs[0].path: database file "/srv/app/missing.db" does not exist (relative paths are taken from the working directory, /srv/app)`, { cwd: '/srv/app' }],
    ['a directory as database', `dbs:\n  - path: ${dir}\n    replica: {url: s3://b/p}\n`, `${FILE}:2:11: dbs[0].path: ${JSON.stringify(dir)} is not a regular file; "path" names the database file itself`],
    ['a database listed twice', db(`    replica: {path: /b}\n  - path: ${dir}/app.db\n    replica: {path: /c}\n`), `${FILE}:4:5: dbs[1].path: ${JSON.stringify(`${dir}/app.db`)} is already listed as dbs[0]; list each database once`],
    ['deprecated replicas with two entries', db('    replicas:\n      - url: s3://b/one\n      - url: s3://b/two\n'), `${FILE}:5:9: dbs[0].replicas: lists 2 replicas, but only one replica per database is supported (as in Litestream v0.5); keep one and write it under "replica:"`],
    ['both replica and replicas', db('    replica: {url: s3://b/p}\n    replicas:\n      - url: s3://b/q\n'), `${FILE}:4:5: dbs[0].replicas: set either "replica" or the deprecated "replicas", not both`],
    ['a database without replica', db('    busy-timeout: 1s\n'), `${FILE}:2:5: dbs[0]: missing "replica": where to replicate this database (for example replica: {url: s3://bucket/path})`],
    ['an unknown log level', 'logging:\n  level: verbose\n', `${FILE}:2:10: logging.level: unknown log level "verbose" (use trace, debug, info, warn or error)`],
    ['an unknown log type', 'logging:\n  type: xml\n', `${FILE}:2:9: logging.type: unknown log type "xml" (use text or json)`],
    ['a boolean that is not one', 'logging:\n  stderr: maybe\n', `${FILE}:2:11: logging.stderr: expected true or false, got "maybe"`],
    ['too many compaction levels', `levels:\n${'  - interval: 1s\n'.repeat(9)}`, `${FILE}:10:5: levels[8]: too many levels: at most 8 (level 9 holds snapshots)`],
    ['a level without interval', 'levels:\n  - {}\n', `${FILE}:2:5: levels[0]: missing "interval": how often this level is compacted (for example interval: 5m)`],
    ['an empty level list', 'levels: []\n', `${FILE}:1:9: levels: needs at least one level (level 1 compacts the L0 files); remove "levels" to use the defaults 30s, 5m, 1h`],
    ['dbs that is not a list', 'dbs: /data/app.db\n', `${FILE}:1:6: dbs: expected a list (lines starting with "- "), got text`],
    ['a top level that is not a mapping', '- a\n- b\n', `${FILE}:1:1: expected a mapping of settings (key: value lines), got a list`],
    ['an alias to no anchor', db('    replica: *nope\n'), `${FILE}:3:14: dbs[0].replica: alias *nope refers to no anchor &nope defined before it`],
    ['a page count that is not a number', db('    min-checkpoint-page-count: many\n    replica: {path: /b}\n'), `${FILE}:3:32: dbs[0].min-checkpoint-page-count: expected a whole number of 0 or more, got "many"`],
    ['a bad metrics address', 'addr: 9090\n', `${FILE}:1:7: addr: expected host:port such as ":9090" or "127.0.0.1:9090", got "9090"`],
    [
      'databases that disagree on the snapshot interval',
      `dbs:\n  - path: /a.db\n    snapshot: {interval: 1h}\n    replica: {path: /b}\n  - path: /c.db\n    snapshot: {interval: 2h}\n    replica: {path: /d}\n`,
      `${FILE}:6:26: dbs[1].snapshot.interval: conflicts with dbs[0].snapshot.interval (2h0m0s here, 1h0m0s there); snapshots are scheduled for all databases at once, so set snapshot.interval at the top level`,
      { requireDatabases: false },
    ],
    ['age encryption', db('    replica:\n      url: s3://b/p\n      age:\n        recipients: [x]\n'), `${FILE}:5:7: dbs[0].replica.age: not supported: age encryption is not available in Litestream v0.5 either; remove the "age" section`],
  ])('%s', (_name, text, message, options) => {
    expect(errorOf(text, options).message).toBe(message);
  });

  it('carries the location as fields and is a LitestreamError', () => {
    const error = errorOf(db('    replica:\n      url: s3://b/p\n      sync-interval: 5 seconds\n'));
    expect(error).toBeInstanceOf(LitestreamError);
    expect(error.name).toBe('ConfigError');
    expect({ file: error.file, configFile: error.configFile, line: error.line, column: error.column, keyPath: error.keyPath }).toEqual({
      file: FILE,
      configFile: FILE,
      line: 5,
      column: 22,
      keyPath: 'dbs[0].replica.sync-interval',
    });
  });
});

describe('warnings', () => {
  it('says where a Litestream setting is read differently', () => {
    const config = parseConfig('socket:\n  enabled: true\nmcp-addr: ":3001"\nlogging:\n  source: true\n  type: pretty\nverify-compaction: false\n', { file: FILE, registry: fakeRegistry(), env: {} });
    expect(config.warnings).toEqual([
      `${FILE}:7:20: verify-compaction: compaction always checks the TXID chain it merges and warns about gaps; false does not turn that off`,
      `${FILE}:6:9: logging.type: the "pretty" log type is written as "text" here`,
    ]);
    expect(config.logging.type).toBe('text');
  });

  it('lets LOG_LEVEL override the file, and warns about a LOG_LEVEL that is no level', () => {
    const registry = fakeRegistry();
    expect(parseConfig('logging: {level: error}\n', { file: FILE, registry, env: { LOG_LEVEL: 'DEBUG' } }).logging.level).toBe('debug');
    const config = parseConfig('logging: {level: warning}\n', { file: FILE, registry, env: { LOG_LEVEL: 'loud' } });
    expect(config.logging.level).toBe('warn');
    expect(config.warnings).toEqual([`${FILE}: LOG_LEVEL "loud" is not a log level (trace, debug, info, warn, error); using warn`]);
  });
});
