import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { parseConfig } from './parse-config.ts';
import { fakeRegistry } from './test-support/fake-registry.ts';

const SECRET = 'S3cr3tV4lue-do-not-print';
const FILE = '/etc/litestream.yml';
const env = { AWS_SECRET: SECRET };

function messageOf(text: string): string {
  try {
    parseConfig(text, { file: FILE, registry: fakeRegistry(), env, requireDatabases: false });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected a ConfigError for:\n${text}`);
}

describe('credentials never appear in config errors', () => {
  const replica = (lines: string): string => `dbs:\n  - path: /data/app.db\n    replica:\n${lines}`;
  it.each([
    ['a syntax error on the line after a secret', `secret-access-key: ${SECRET}\n- oops ${SECRET}\n`],
    ['an unclosed quote around a secret', `secret-access-key: "${SECRET}\n`],
    ['a secret under a misspelt key', `secret-acess-key: ${SECRET}\n`],
    ['a secret followed by a bad key', replica(`      url: s3://b/p\n      secret-access-key: ${SECRET}\n      colour: red\n`)],
    ['a secret expanded from the environment into a broken line', 'secret-access-key: ${AWS_SECRET}: x\n'],
    ['a secret also pasted into a duration', 'secret-access-key: $AWS_SECRET\nsync-interval: ${AWS_SECRET}\n'],
    ['a secret used as an alias name', `secret-access-key: ${SECRET}\nregion: *${SECRET}\n`],
    ['a URL password under path', replica(`      path: sftp://backup:${SECRET}@host/backups\n`)],
    ['a URL password in an invalid URL', replica(`      url: s3://backup:${SECRET}@bad host/backups\n`)],
    ['a URL password with an unknown scheme', replica(`      url: ftp://backup:${SECRET}@host/backups\n`)],
    ['a secret in a replica with a bad duration', replica(`      url: s3://b/p\n      secret-access-key: '${SECRET}'\n      sync-interval: soon\n`)],
  ])('%s', (_name, text) => {
    const message = messageOf(text);
    expect(message.startsWith(`${FILE}:`)).toBe(true);
    expect(message).not.toContain(SECRET);
  });

  it('shows **** where a credential would have been quoted', () => {
    expect(messageOf(replica(`      path: sftp://backup:${SECRET}@host/backups\n`))).toBe(
      `${FILE}:4:13: dbs[0].replica.path: "sftp://backup:****@host/backups" is a URL; put it under "url" instead of "path"`,
    );
    expect(messageOf('secret-access-key: $AWS_SECRET\nsync-interval: ${AWS_SECRET}\n')).toBe(`${FILE}:2:16: sync-interval: invalid duration "****" (use forms like 1s, 500ms, 1h30m)`);
  });

  it('keeps credentials out of warnings too', () => {
    const config = parseConfig(`secret-access-key: ${SECRET}\nverify-compaction: false\n`, { file: FILE, registry: fakeRegistry(), env });
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings.join('\n')).not.toContain(SECRET);
  });
});
