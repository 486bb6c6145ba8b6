// Fuzzing the config reader: any text (well-formed YAML of any shape, YAML with one edit,
// token soup, with environment variables of any value) gives a config or a ConfigError that
// names the file, in bounded time; a config it accepts holds only usable values; and a
// credential in the file never appears in an error or a warning.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMON_REPLICA_KEYS } from '@litestream-ts/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { expectTyped, fuzzParameters, settingValue, urlLike, withinHangBound } from '../../../core/src/test-support/fuzz.ts';
import { createBackendRegistry } from '../backends.ts';
import { installedBackendKeys } from './backend-settings.ts';
import { ConfigError } from './config-error.ts';
import { DATABASE_KEYS, DURATION_SETTINGS, LEVEL_KEYS, LOGGING_KEYS, SIZE_SETTINGS, SNAPSHOT_KEYS, TOP_LEVEL_KEYS } from './known-keys.ts';
import { parseConfig } from './parse-config.ts';
import type { LitestreamConfig } from './types.ts';

const FILE = '/fuzz/litestream.yml';
const registry = await createBackendRegistry({ env: {} });
const backendKeys = installedBackendKeys(registry);
const schemes = registry.list().flatMap((b) => b.schemes);
const cwd = mkdtempSync(join(tmpdir(), 'lts-config-fuzz-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
const params = { ...fuzzParameters(300), timeout: undefined };

const durationText = fc.oneof(
  fc.constantFrom('1s', '10s', '500ms', '1h30m', '0', '0s', '-1s', '1.5h', '5m', '', '1d', 'abc', '1e3s', '9999999999999999h', '1µs', '.5s', '1.s', '+3m', '1h-1m'),
  fc.string({ maxLength: 8 }),
  fc.integer(),
);
const sizeText = fc.oneof(fc.constantFrom('5MB', '5MiB', '1,000', '1.5GB', '-1', '1e3', '0', '99999999999999999999EB', '5 mib', ''), fc.string({ maxLength: 8 }), fc.integer());
const pathText = fc.oneof(
  fc.constantFrom('/var/lib/app.db', 'app.db', '~/app.db', '~', 'sqlite:///data/app.db', 'sqlite3://x.db', '', '.', '/', 'a\0b', '$HOME/x.db'),
  urlLike(),
);
const anyValue = settingValue([durationText, sizeText, pathText, urlLike(schemes)]);

/** A value for a key: what the key expects most of the time, anything sometimes. */
function valueFor(key: string): fc.Arbitrary<unknown> {
  let likely: fc.Arbitrary<unknown> | undefined;
  if (/interval|timeout|retention|ttl|wait/.test(key) || DURATION_SETTINGS.has(key)) likely = durationText;
  else if (SIZE_SETTINGS.has(key)) likely = sizeText;
  else if (key === 'url') likely = urlLike(schemes);
  else if (key === 'path' || key === 'meta-path') likely = pathText;
  else if (key === 'type') likely = fc.constantFrom(...registry.list().map((b) => b.type), 'webdav', '');
  return likely ? fc.oneof({ arbitrary: likely, weight: 5 }, { arbitrary: anyValue, weight: 1 }) : anyValue;
}

/** A mapping over known keys (any subset) plus the odd unknown one. */
function section(keys: readonly string[], overrides: Record<string, fc.Arbitrary<unknown>> = {}): fc.Arbitrary<Record<string, unknown>> {
  const known = fc.record(Object.fromEntries(keys.map((k) => [k, overrides[k] ?? valueFor(k)])), { requiredKeys: [] });
  const extra = fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('x-anchor', 'dir', 'age', 'socket', 'replicas')), anyValue, { maxKeys: 1 });
  return fc.tuple(known, fc.oneof({ arbitrary: fc.constant({}), weight: 4 }, { arbitrary: extra, weight: 1 })).map(([a, b]) => ({ ...b, ...a }));
}

const replica = section([...COMMON_REPLICA_KEYS, ...backendKeys]);
const database = section(DATABASE_KEYS, {
  replica: fc.oneof({ arbitrary: replica, weight: 6 }, { arbitrary: anyValue, weight: 1 }),
  replicas: fc.oneof(fc.array(replica, { maxLength: 2 }), anyValue),
  snapshot: section(SNAPSHOT_KEYS),
  lease: fc.oneof(fc.constant(null), section(['ttl']), anyValue),
});
const configObject = section([...TOP_LEVEL_KEYS, ...backendKeys], {
  dbs: fc.oneof({ arbitrary: fc.array(database, { maxLength: 3 }), weight: 6 }, { arbitrary: anyValue, weight: 1 }),
  levels: fc.oneof(fc.array(section(LEVEL_KEYS), { maxLength: 10 }), anyValue),
  snapshot: fc.oneof(section(SNAPSHOT_KEYS), anyValue),
  logging: fc.oneof(section(LOGGING_KEYS, { level: fc.constantFrom('debug', 'INFO', 'warning', 'loud', ''), type: fc.constantFrom('json', 'text', 'pretty', 'xml') }), anyValue),
  retention: fc.oneof(section(['enabled']), anyValue),
  addr: fc.oneof(fc.constantFrom(':9090', '127.0.0.1:9090', '[::1]:9090', ':99999', 'host', ''), anyValue),
});

const YAML_TOKENS = [
  'dbs:', '\n', '  ', '    ', '- ', 'path: ', 'replica:', 'replicas:', 'url: ', 'type: ', 's3://b/p', 'file:///x', ':', ': ', '&a ', '*a', '<<: ', '<<: *a',
  '{', '}', '[', ']', ', ', '"', "'", '#', '$', '${X}', '$X', '${', '\t', '---', '...', '? ', '|', '>', '!!str ', '!!binary ', '!tag ', '~', 'null',
  '10s', '1h30m', '5MB', '-1', '0x10', '1e999', 'yes', 'x-a:', 'levels:', 'interval: ', 'snapshot:', 'logging:', 'level: ', '%YAML 1.2\n', '\uFEFF', '\r\n', 'é',
];
const tokenSoup = fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 40 }).map((t) => t.join(''));

/** A text edit: delete, duplicate or insert at a position. */
const edited = fc.tuple(configObject, fc.nat(), fc.nat({ max: 8 }), fc.constantFrom(...YAML_TOKENS), fc.constantFrom('delete', 'insert', 'duplicate')).map(([object, at, n, token, op]) => {
  const text = stringify(object);
  const pos = text.length === 0 ? 0 : at % text.length;
  if (op === 'delete') return text.slice(0, pos) + text.slice(pos + n);
  if (op === 'insert') return text.slice(0, pos) + token + text.slice(pos);
  return text.slice(0, pos + n) + text.slice(pos);
});

const configText = fc.oneof(configObject.map((o) => stringify(o)), edited, tokenSoup, fc.string({ maxLength: 200 }));
const env = fc.dictionary(fc.constantFrom('X', 'HOME', 'BUCKET', 'LOG_LEVEL', 'PID'), fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('\n  - path: /x', ': ', '"', '${X}', '/tmp', 's3://b')), { maxKeys: 3 });

function parse(text: string, environment: Record<string, string>, noExpandEnv: boolean): LitestreamConfig | ConfigError {
  try {
    return withinHangBound('parseConfig', () => parseConfig(text, { file: FILE, registry, env: environment, noExpandEnv, requireDatabases: false, cwd }));
  } catch (error) {
    const typed = expectTyped<ConfigError>(error, [ConfigError]);
    expect(typed.message.startsWith(FILE), typed.message).toBe(true);
    return typed;
  }
}

/** Every number of an accepted config is finite and not negative (backend settings pass through as written). */
function checkNumbers(value: unknown, path: string): void {
  if (typeof value === 'number') expect(Number.isFinite(value) && value >= 0, `${path} = ${value}`).toBe(true);
  else if (Array.isArray(value)) value.forEach((v, i) => checkNumbers(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== 'settings') checkNumbers(v, `${path}.${k}`);
  }
}

describe('fuzz: config reader', () => {
  it('reads any text into a usable config or a ConfigError naming the file', () => {
    fc.assert(
      fc.property(configText, env, fc.boolean(), (text, environment, noExpandEnv) => {
        const result = parse(text, environment, noExpandEnv);
        if (result instanceof ConfigError) return;
        checkNumbers(result, 'config');
        const types = registry.list().map((b) => b.type);
        for (const db of result.dbs) {
          // Paths no file system call would take must be refused here, not at the first open.
          for (const path of [db.path, db.metaPath ?? '/']) expect(path.startsWith('/') && !path.includes('\0'), JSON.stringify(path)).toBe(true);
          expect(types).toContain(db.replica.type);
          if (db.replica.url !== undefined) expect(registry.resolve(db.replica.url).plugin.type).toBe(db.replica.type);
        }
        expect(result.snapshot.interval).toBeGreaterThan(0);
        expect(result.levels.length).toBeGreaterThan(0);
      }),
      params,
    );
  });

  it('never shows a credential in an error or a warning', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9]{8,16}$/).map((s) => `S3cr${s}`);
    const secretKey = fc.constantFrom('secret-access-key', 'access-key-id', 'account-key', 'sas-token', 'password', 'token', 'seed', 'nkey', 'jwt', 'sse-customer-key');
    const input = fc.record({
      object: configObject,
      secret,
      key: secretKey,
      where: fc.constantFrom('top', 'replica', 'url', 'bad-value'),
      edit: fc.option(fc.tuple(fc.nat(), fc.constantFrom(...YAML_TOKENS)), { nil: undefined }),
    });
    fc.assert(
      fc.property(input, ({ object, secret: value, key, where, edit }) => {
        const config = structuredClone(object) as Record<string, unknown>;
        const dbs = Array.isArray(config.dbs) ? config.dbs : (config.dbs = [{ path: '/x.db', replica: { url: 's3://b/p' } }]);
        if (typeof dbs[0] !== 'object' || dbs[0] === null || Array.isArray(dbs[0])) dbs[0] = { path: '/x.db' };
        const db = dbs[0] as Record<string, unknown>;
        const rep = (typeof db.replica === 'object' && db.replica !== null && !Array.isArray(db.replica) ? db.replica : (db.replica = {})) as Record<string, unknown>;
        if (where === 'top') config[key] = value;
        else if (where === 'replica') rep[key] = value;
        else if (where === 'url') rep.url = `${['nats', 'sftp', 's3'][value.length % 3]}://user:${value}@host/b`;
        else rep[key] = { nested: value };
        let text = stringify(config);
        if (edit) text = text.slice(0, edit[0] % (text.length + 1)) + edit[1] + text.slice(edit[0] % (text.length + 1));
        const result = parse(text, {}, false);
        const shown = result instanceof ConfigError ? [result.message] : result.warnings;
        for (const line of shown) expect(line.includes(value), line).toBe(false);
      }),
      params,
    );
  });

  it('reads a config with very long runs of one character in time that does not explode with their length', () => {
    // Small inputs hide super-linear scans; one long run in an otherwise plain config shows them.
    const input = fc.record({
      run: fc.constantFrom(' ', '\t', '-', ':', '#', '"', "'", 'a', '$', '{', '\\', '%'),
      length: fc.integer({ min: 10_000, max: 200_000 }),
      where: fc.constantFrom('value', 'key', 'line', 'secret'),
      tail: fc.constantFrom('', 'y', ' #c', ':', '"'),
    });
    fc.assert(
      fc.property(input, ({ run, length, where, tail }) => {
        const long = run.repeat(length);
        const line = where === 'value' ? `addr: x${long}${tail}` : where === 'key' ? `${long}${tail}: 1` : where === 'secret' ? `secret-access-key: s${long}${tail}` : `${long}${tail}`;
        parse(`${line}\ndbs:\n  - path: /x.db\n    replica:\n      url: s3://b/p\n`, {}, false);
      }),
      { ...fuzzParameters(20), timeout: undefined },
    );
  });

  it('reads configs built from anchors and aliases in time that does not explode with their nesting', () => {
    // Each level repeats the one below `width` times: `width ** depth` values if followed naively.
    const bomb = fc
      .record({ kind: fc.constantFrom('list', 'merge'), width: fc.integer({ min: 2, max: 8 }), depth: fc.integer({ min: 1, max: 9 }), key: fc.constantFrom('region', 'root-cas', 'x-other') })
      // Bounded so that a reader that does follow every alias still ends (and fails the hang bound).
      .filter(({ width, depth }) => width ** depth <= 2e7);
    fc.assert(
      fc.property(bomb, ({ kind, width, depth, key }) => {
        const lines: string[] = [];
        if (kind === 'list') {
          lines.push('x-a0: &a0 [v]');
          for (let i = 1; i <= depth; i++) lines.push(`x-a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(', ')}]`);
          lines.push('dbs:', '  - path: /x.db', '    replica:', '      url: s3://b/p', `      ${key}: *a${depth}`);
        } else {
          lines.push('x-m0: &m0 {region: r}');
          for (let i = 1; i <= depth; i++) lines.push(`x-m${i}: &m${i} {<<: [${Array(width).fill(`*m${i - 1}`).join(', ')}]}`);
          lines.push('dbs:', '  - path: /x.db', '    replica:', `      <<: *m${depth}`, '      url: s3://b/p');
        }
        parse(lines.join('\n'), {}, true);
      }),
      { ...fuzzParameters(30), timeout: undefined },
    );
  });
});

describe('config reader regressions found by fuzzing', () => {
  /** Anchors that repeat the level below `width` times, `depth` levels deep. */
  function bombText(kind: 'list' | 'merge', width: number, depth: number): string {
    const lines: string[] = [];
    if (kind === 'list') {
      lines.push('x-a0: &a0 [v]');
      for (let i = 1; i <= depth; i++) lines.push(`x-a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(', ')}]`);
      lines.push('dbs:', '  - path: /x.db', '    replica:', '      url: s3://b/p', `      region: *a${depth}`);
    } else {
      lines.push('x-m0: &m0 {region: r}');
      for (let i = 1; i <= depth; i++) lines.push(`x-m${i}: &m${i} {<<: [${Array(width).fill(`*m${i - 1}`).join(', ')}]}`);
      lines.push('dbs:', '  - path: /x.db', '    replica:', `      <<: *m${depth}`, '      url: s3://b/p');
    }
    return lines.join('\n');
  }

  it('refuses a setting whose aliases repeat lists into more values than any setting holds', () => {
    // Counterexample {kind: list, width: 5, depth: 8}: 390,625 values, 16 s of CPU before.
    const result = parse(bombText('list', 5, 8), {}, true);
    expect(result).toBeInstanceOf(ConfigError);
    expect((result as ConfigError).message).toMatch(/litestream\.yml:\d+:\d+: dbs\[0\]\.replica\.region.*: holds more than 10000 values/);
  });

  it('refuses merge keys that repeat merges into more mappings than a config holds', () => {
    // 2 ** 14 merged mappings from 15 lines.
    const result = parse(bombText('merge', 2, 14), {}, true);
    expect(result).toBeInstanceOf(ConfigError);
    expect((result as ConfigError).message).toMatch(/merge keys \(<<\) pull in more than 10000 mappings/);
  });

  it('refuses a database or meta path with a NUL character, which no file system call takes', () => {
    for (const key of ['path', 'meta-path']) {
      const db = key === 'path' ? { path: '/data/a\0b.db' } : { path: '/data/app.db', 'meta-path': '/meta/\0' };
      const result = parse(stringify({ dbs: [{ ...db, replica: { url: 's3://b/p' } }] }), {}, true);
      expect(result, key).toBeInstanceOf(ConfigError);
      expect((result as ConfigError).message, key).toMatch(new RegExp(`dbs\\[0\\]\\.${key}: .*contains a NUL character`));
    }
  });

  it('collects credentials from a line with a long run of spaces in linear time', () => {
    // 200,000 spaces inside a value: the secret scan's `(.*?)\s*$` and `\s+#` took minutes.
    const secret = `Sk${'9'.repeat(10)}`;
    const text = `secret-access-key: ${secret}\naddr: x${' '.repeat(200_000)}y\ndbs: 5\n`;
    const result = parse(text, {}, false);
    expect(result).toBeInstanceOf(ConfigError);
    expect((result as ConfigError).message).not.toContain(secret);
  });
});
