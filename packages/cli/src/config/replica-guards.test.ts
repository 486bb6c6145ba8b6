import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBackendRegistry } from '../backends.ts';
import { ConfigError } from './config-error.ts';
import { parseConfig, type ConfigOptions } from './parse-config.ts';

// Checked with the real backends' facts: their URL and config checks are what is under test.
const FILE = '/etc/litestream.yml';
const dir = mkdtempSync(join(tmpdir(), 'lts-replica-guards-'));
for (const name of ['a.db', 'b.db']) writeFileSync(join(dir, name), '');
const A = join(dir, 'a.db');
const B = join(dir, 'b.db');

const registry = await createBackendRegistry({ env: {} });

function parse(text: string, options: Partial<ConfigOptions> = {}) {
  return parseConfig(text, { file: FILE, registry, env: {}, ...options });
}

function errorOf(text: string, options: Partial<ConfigOptions> = {}): ConfigError {
  try {
    parse(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** Two databases with the given replica mappings (flow style). */
const two = (first: string, second: string): string => `dbs:\n  - path: ${A}\n    replica: ${first}\n  - path: ${B}\n    replica: ${second}\n`;

describe('two databases may not share a replica (case 2, at config load)', () => {
  it.each([
    ['file:///x/y/ and /x/y', '{url: "file:///srv/backups/app/"}', '{url: /srv/backups/app}'],
    ['a URL and a path key', '{url: "file:///srv/backups/app"}', '{path: /srv/backups/./app//}'],
    ['s3://bkt/x and s3://bkt/x/', '{url: "s3://bkt/x"}', '{url: "s3://bkt/x/"}'],
    ['an s3 URL and bucket + path keys', '{url: "s3://bkt/x"}', '{type: s3, bucket: bkt, path: /x/}'],
    ['two regional spellings of Amazon S3', '{url: "s3://bkt/x"}', '{type: s3, bucket: bkt, path: x, endpoint: "https://s3.us-west-2.amazonaws.com"}'],
    ['gs with and without a trailing slash', '{url: "gs://bkt/db"}', '{url: "gs://bkt/db/"}'],
    ['abs URL forms', '{url: "abs://acct@box/db"}', '{type: abs, bucket: box, path: db/, account-name: acct}'],
    ['nats default port', '{url: "nats://127.0.0.1/bkt"}', '{url: "nats://127.0.0.1:4222/bkt"}'],
    ['sftp URL and keys', '{url: "sftp://me@host/srv/r"}', '{type: sftp, host: "host:22", user: other, path: /srv/r/}'],
  ])('same place: %s', (_label, first, second) => {
    const error = errorOf(two(first, second));
    expect(error.message).toMatch(new RegExp(`^${FILE}:5:\\d+: dbs\\[1\\]\\.replica(\\.\\w+)?: database ${B} \\(.*\\) would replicate to the same place as ${A} \\(dbs\\[0\\]\\.replica`));
    expect(error.message).toMatch(/one backup would be lost/);
  });

  it.each([
    ['a file replica inside another', '{url: "file:///srv/backups"}', '{path: /srv/backups/b}'],
    ['an s3 prefix inside another', '{url: "s3://bkt/x/y"}', '{url: "s3://bkt/x"}'],
    ['the bucket root and a prefix', '{url: "s3://bkt"}', '{url: "s3://bkt/db"}'],
  ])('one inside the other: %s', (_label, first, second) => {
    const error = errorOf(two(first, second));
    expect(error.message).toContain(`${FILE}:5:`);
    expect(error.message).toContain(`the replica of ${B}`);
    expect(error.message).toContain(`the replica of ${A}`);
    expect(error.message).toMatch(/lie one inside the other/);
  });

  it.each([
    ['sibling directories with a common prefix', '{url: "file:///srv/backups/app"}', '{url: "file:///srv/backups/app2"}'],
    ['two buckets', '{url: "s3://one/x"}', '{url: "s3://two/x"}'],
    ['the same bucket on two S3 services', '{url: "s3://bkt/x"}', '{url: "s3://bkt/x?endpoint=http://127.0.0.1:9000"}'],
    ['two gs prefixes', '{url: "gs://bkt/a"}', '{url: "gs://bkt/b"}'],
    ['relative sftp paths of two users', '{url: "sftp://me@host/~/r"}', '{url: "sftp://you@host/~/r"}'],
  ])('apart: %s', (_label, first, second) => {
    expect(parse(two(first, second)).dbs).toHaveLength(2);
  });
});

describe('replica locations that would land somewhere else (case 4)', () => {
  const one = (replica: string): string => `dbs:\n  - path: ${A}\n    replica:\n      ${replica}\n`;

  it('refuses file://${UNSET}/x, naming the variable, the key and the file', () => {
    const error = errorOf(one('url: file://${BACKUP_DIR}/x'), { env: {} });
    expect(error.message).toBe(`${FILE}:4:12: dbs[0].replica.url: the replica location reads "file:///x" because \${BACKUP_DIR} is not set; set the variable or write the location out`);
  });

  it('refuses a location variable set to the empty string, and a location that ends up empty', () => {
    expect(errorOf(one('path: ${DIR}/backups'), { env: { DIR: '' } }).message).toContain('dbs[0].replica.path: the replica location reads "/backups" because ${DIR} is set to the empty string');
    expect(errorOf(one('url: ${REPLICA_URL}'), { env: {} }).message).toContain('dbs[0].replica.url: the replica location is empty because ${REPLICA_URL} is not set');
    expect(errorOf(one('url: s3://$BUCKET/db'), { env: {} }).message).toContain('because ${BUCKET} is not set');
  });

  it('takes file:///x written out, and a location built from variables that are set', () => {
    expect(parse(one('url: file:///x')).dbs[0]!.replica.url).toBe('file:///x');
    expect(parse(one('url: file://${DIR}/x'), { env: { DIR: '/srv' } }).dbs[0]!.replica.url).toBe('file:///srv/x');
    // Without expansion, $ is part of the text.
    expect(parse(one('path: /srv/$HOME/x'), { noExpandEnv: true }).dbs[0]!.replica.settings.path).toBe('/srv/$HOME/x');
  });

  it.each([
    ['file:// alone', 'url: "file://"', /dbs\[0\]\.replica\.url: file URL "file:\/\/" has no path/],
    ['file:/// (the root)', 'url: "file:///"', /dbs\[0\]\.replica\.url: file replica "file:\/\/\/" is the root directory \//],
    ['a path of /', 'path: /', /dbs\[0\]\.replica\.path: file replica "\/" is the root directory/],
    ['s3:/bucket/x (one slash)', 'url: "s3:/bucket/x"', /dbs\[0\]\.replica\.url: "s3:\/bucket\/x" is not a valid s3 URL: write s3:\/\/ with two slashes, as in s3:\/\/bucket\/x/],
    ['s3:bucket (no slash)', 'url: "s3:bucket"', /is not a valid s3 URL: write s3:\/\/ with two slashes, as in s3:\/\/bucket/],
    ['file:/x', 'url: "file:/srv/x"', /is not a valid file URL: write file:\/\/ with two slashes/],
    ['an unknown scheme-like prefix', 'url: "ftp:/host/x"', /"ftp:\/host\/x" starts like a URL with the scheme "ftp:", which no installed backend serves .*write it as \.\/ftp:\/host\/x/],
    ['a path key that starts like a URL', 'path: "s3:/bucket/x"', /dbs\[0\]\.replica\.path: "s3:\/bucket\/x" starts like a URL \("s3:"\), not a directory/],
  ])('refuses %s', (_label, replica, message) => {
    const error = errorOf(one(replica));
    expect(error.message).toMatch(new RegExp(`^${FILE}:4:\\d+: `));
    expect(error.message).toMatch(message);
  });
});

describe('malformed endpoints fail at config load (case 10)', () => {
  const one = (replica: string, top = ''): string => `${top}dbs:\n  - path: ${A}\n    replica:\n      ${replica}\n`;

  it.each([
    ['s3', 'type: s3\n      bucket: b\n      endpoint: "http://[::1"', 's3'],
    ['abs', 'type: abs\n      bucket: box\n      account-name: acct\n      endpoint: "http://[::1"', 'abs'],
    ['gs', 'type: gs\n      bucket: bkt\n      endpoint: "http://[::1"', 'gs'],
  ])('%s: names the endpoint key and the file', (_label, replica, backend) => {
    const error = errorOf(one(replica));
    expect(error.message).toMatch(new RegExp(`^${FILE}:\\d+:\\d+: dbs\\[0\\]\\.replica\\.endpoint: invalid ${backend} endpoint "http://\\[::1": not a URL`));
  });

  it('points at the top-level endpoint when the replica inherits it', () => {
    const error = errorOf(one('url: s3://b/db', 'endpoint: "http://[::1"\n'));
    expect(error.message).toMatch(new RegExp(`^${FILE}:1:11: endpoint: invalid s3 endpoint`));
  });

  it('points at the URL when the endpoint is in its query', () => {
    const error = errorOf(one('url: "s3://b/db?endpoint=http://[::1"'));
    expect(error.message).toMatch(new RegExp(`^${FILE}:4:12: dbs\\[0\\]\\.replica\\.url: invalid s3 endpoint`));
  });

  it('refuses an sftp host that is no host', () => {
    expect(errorOf(one('type: sftp\n      host: "[::1"\n      user: me')).message).toMatch(/dbs\[0\]\.replica: sftp host "\[::1" is not a host name or address/);
  });

  it('accepts well-formed endpoints', () => {
    expect(parse(one('type: s3\n      bucket: b\n      endpoint: "http://[::1]:9000"')).dbs).toHaveLength(1);
    expect(parse(one('type: s3\n      bucket: b\n      endpoint: "minio.local:9000"')).dbs).toHaveLength(1);
  });
});

describe('absurdly long locations (case 10)', () => {
  it.each([
    ['a database path', (long: string) => `dbs:\n  - path: ${long}\n    replica: {url: "file:///srv/r"}\n`, 'dbs[0].path'],
    ['a meta path', (long: string) => `dbs:\n  - path: ${A}\n    meta-path: ${long}\n    replica: {url: "file:///srv/r"}\n`, 'dbs[0].meta-path'],
    ['a replica path', (long: string) => `dbs:\n  - path: ${A}\n    replica: {path: ${long}}\n`, 'dbs[0].replica.path'],
    ['a replica URL', (long: string) => `dbs:\n  - path: ${A}\n    replica: {url: "file://${long}"}\n`, 'dbs[0].replica.url'],
  ])('refuses %s of 300 KB, naming the key and the length, with a short preview', (_label, text, key) => {
    const long = `/srv/${'a'.repeat(300_000)}`;
    const error = errorOf(text(long));
    expect(error.message).toMatch(new RegExp(`^${FILE}:\\d+:\\d+: ${key.replace(/[[\].]/g, '\\$&')}: ".{32}…" is 3000\\d\\d characters long; a path or URL may have at most 4096$`));
  });

  it('accepts a location of 4096 characters', () => {
    const path = `/srv/${'a'.repeat(4096 - 5)}`;
    expect(parse(`dbs:\n  - path: ${A}\n    replica: {path: ${path}}\n`).dbs[0]!.replica.settings.path).toBe(path);
  });
});

