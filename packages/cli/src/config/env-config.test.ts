import { describe, expect, it } from 'vitest';
import { parseConfig } from './parse-config.ts';
import { fakeRegistry } from './test-support/fake-registry.ts';

const FILE = '/etc/litestream.yml';
const TEXT = `access-key-id: $KEY_ID
secret-access-key: \${SECRET_KEY}
region: \${UNDEFINED_REGION}
dbs:
  - path: /data/\${APP}.db
    replica:
      url: s3://\${BUCKET}/$APP
`;

function parse(options: { env: Record<string, string | undefined>; noExpandEnv?: boolean }) {
  return parseConfig(TEXT, { file: FILE, registry: fakeRegistry(), requireDatabases: false, ...options });
}

describe('environment variables in the config', () => {
  it('expands $VAR and ${VAR} before parsing; undefined variables become empty', () => {
    const config = parse({ env: { KEY_ID: 'AKIAXYZ', SECRET_KEY: 'shh-secret', APP: 'shop', BUCKET: 'backups' } });
    expect(config.dbs[0]!.path).toBe('/data/shop.db');
    expect(config.dbs[0]!.replica.url).toBe('s3://backups/shop');
    // The empty region is unset, so the replica gets no region at all.
    expect(config.dbs[0]!.replica.settings).toEqual({ type: 's3', url: 's3://backups/shop', 'access-key-id': 'AKIAXYZ', 'secret-access-key': 'shh-secret' });
  });

  it('leaves the text alone with noExpandEnv', () => {
    const config = parse({ env: { KEY_ID: 'AKIAXYZ', APP: 'shop', BUCKET: 'backups' }, noExpandEnv: true });
    expect(config.dbs[0]!.path).toBe('/data/${APP}.db');
    expect(config.dbs[0]!.replica.settings).toEqual({
      type: 's3',
      url: 's3://${BUCKET}/$APP',
      'access-key-id': '$KEY_ID',
      'secret-access-key': '${SECRET_KEY}',
      region: '${UNDEFINED_REGION}',
    });
  });

  it('reads process.env when no environment is given', () => {
    const name = 'LTS_CONFIG_TEST_BUCKET';
    process.env[name] = 'from-process-env';
    try {
      const config = parseConfig(`dbs:\n  - path: /data/a.db\n    replica: {url: "s3://$${name}/a"}\n`, { file: FILE, registry: fakeRegistry(), requireDatabases: false });
      expect(config.dbs[0]!.replica.url).toBe('s3://from-process-env/a');
    } finally {
      delete process.env[name];
    }
  });
});
