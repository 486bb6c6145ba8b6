import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './parse-config.ts';
import { fakeRegistry } from './test-support/fake-registry.ts';

// Litestream v0.5 keys that tune the engine: each is read, checked and handed on, or refused
// with the file, line and key when its value asks for something litestream-ts does not do.

const FILE = '/etc/litestream.yml';
const dir = mkdtempSync(join(tmpdir(), 'lts-engine-keys-'));
for (const name of ['app.db', 'queue.db']) writeFileSync(join(dir, name), '');

const parse = (text: string) => parseConfig(text, { file: FILE, registry: fakeRegistry(), env: {} });
/** Two databases, the second with its own replica settings `own` (indented for the replica). */
const twoDbs = (top: string, own = '') =>
  `${top}dbs:\n  - path: ${dir}/app.db\n    replica: {path: /b1}\n  - path: ${dir}/queue.db\n    replica:\n      path: /b2\n${own}`;

describe('validation (Litestream: validation.interval)', () => {
  it('sets how often every replica is validated, unless a replica sets its own validation-interval', () => {
    const config = parse(twoDbs('validation:\n  interval: 6h\n', '      validation-interval: 1h\n'));
    expect(config.dbs.map((d) => d.replica.validationInterval)).toEqual([21_600_000, 3_600_000]);
    expect(config.warnings).toEqual([]);
    expect(parse(twoDbs('validation:\n')).dbs[0]!.replica.validationInterval).toBeUndefined();
  });

  it('refuses it beside a top-level validation-interval, and unknown keys in it', () => {
    expect(() => parse('validation-interval: 1h\nvalidation: {interval: 2h}\n')).toThrow(
      `${FILE}:2:24: validation.interval: validation-interval is set too; keep one of them (both set how often every replica is validated)`,
    );
    expect(() => parse('validation: {intervall: 2h}\n')).toThrow(/validation\.intervall: unknown key "intervall"; did you mean "interval"\?/);
    expect(() => parse('validation: {interval: 10}\n')).toThrow(/validation\.interval: /);
  });
});

describe('max-sync-ltx-files', () => {
  it('is read at the top level as every replica default, and per replica', () => {
    const config = parse(twoDbs('max-sync-ltx-files: 64\n', '      max-sync-ltx-files: 0\n'));
    expect(config.dbs.map((d) => d.replica.maxSyncLtxFiles)).toEqual([64, 0]);
    expect(parse(twoDbs('')).dbs[0]!.replica.maxSyncLtxFiles).toBeUndefined();
  });

  it('must be a whole number of 0 or more', () => {
    expect(() => parse(twoDbs('', '      max-sync-ltx-files: -1\n'))).toThrow(`${FILE}:7:27: dbs[1].replica.max-sync-ltx-files: expected a whole number of 0 or more, got "-1"`);
    expect(() => parse('max-sync-ltx-files: lots\n')).toThrow(/max-sync-ltx-files: expected a whole number/);
  });
});

describe('auto-recover', () => {
  it('accepts true (recovery is always on) without a warning, at the top level and per replica', () => {
    expect(parse(twoDbs('auto-recover: true\n', '      auto-recover: true\n')).warnings).toEqual([]);
  });

  it('refuses false, naming the file and key: a broken chain is always recovered here', () => {
    expect(() => parse(twoDbs('', '      auto-recover: false\n'))).toThrow(
      `${FILE}:7:21: dbs[1].replica.auto-recover: false is not supported: litestream-ts always recovers from a broken or missing LTX file by uploading a full image of the database (nothing committed is lost); remove the key or set it to true`,
    );
    expect(() => parse('auto-recover: no\n')).toThrow(/^\/etc\/litestream\.yml:1:15: auto-recover: false is not supported/);
    expect(() => parse('auto-recover: sometimes\n')).toThrow(/auto-recover: expected true or false/);
  });
});

describe('verify-compaction', () => {
  it('accepts true silently (compaction always verifies), warns that false changes nothing, refuses a non-boolean', () => {
    expect(parse('verify-compaction: true\n').warnings).toEqual([]);
    expect(parse('verify-compaction: false\n').warnings).toEqual([
      `${FILE}:1:20: verify-compaction: compaction always checks the TXID chain it merges and warns about gaps; false does not turn that off`,
    ]);
    expect(() => parse('verify-compaction: 1\n')).toThrow(/verify-compaction: expected true or false/);
  });
});

describe('l0-retention-check-interval', () => {
  it('is read as a positive duration, unset by default', () => {
    expect(parse('l0-retention-check-interval: 15s\n')).toMatchObject({ l0RetentionCheckInterval: 15_000, warnings: [] });
    expect(parse('').l0RetentionCheckInterval).toBeUndefined();
    expect(() => parse('l0-retention-check-interval: 0s\n')).toThrow(`${FILE}:1:30: l0-retention-check-interval: must be greater than 0, got "0s"`);
  });
});

describe('logging.source', () => {
  it('is read as a boolean, off by default', () => {
    expect(parse('logging:\n  source: true\n')).toMatchObject({ logging: { source: true }, warnings: [] });
    expect(parse('logging:\n  source: false\n').logging.source).toBeUndefined();
    expect(parse('').logging.source).toBeUndefined();
    expect(() => parse('logging: {source: file}\n')).toThrow(/logging\.source: expected true or false/);
  });
});

describe('dbs[].max-sync-wal-bytes', () => {
  it('is read as a byte size (a plain number as in Litestream, or with a unit), unset by default', () => {
    const config = parse(`dbs:\n  - path: ${dir}/app.db\n    max-sync-wal-bytes: 67108864\n    replica: {path: /b1}\n  - path: ${dir}/queue.db\n    max-sync-wal-bytes: 16MiB\n    replica: {path: /b2}\n`);
    expect(config.dbs.map((d) => d.maxSyncWalBytes)).toEqual([67_108_864, 16_777_216]);
    expect(config.warnings).toEqual([]);
    expect(parse(twoDbs('')).dbs[0]!.maxSyncWalBytes).toBeUndefined();
    expect(() => parse(`dbs:\n  - path: ${dir}/app.db\n    max-sync-wal-bytes: lots\n    replica: {path: /b1}\n`)).toThrow(/dbs\[0\]\.max-sync-wal-bytes: /);
  });

  it('applies to every database of a dir entry', () => {
    const config = parse(`dbs:\n  - dir: ${dir}\n    pattern: "*.db"\n    max-sync-wal-bytes: 1MB\n    replica: {path: /b1}\n`);
    expect(config.dirs[0]!.maxSyncWalBytes).toBe(1_000_000);
  });
});
