// Fuzzing the sftp backend's URL and config readers: any text or settings give settings or a
// UsageError (never a TypeError or URIError), in bounded time; URLs read back as built.
import { UsageError } from '@litestream-ts/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectTyped, fuzzParameters, settingsFor, urlLike, withinHangBound } from '../../../packages/core/src/test-support/fuzz.ts';
import { SFTP_CONFIG_KEYS, parseSftpURL, sftpSettingsFromConfig, splitHostPort } from './sftp-config.ts';

const params = { ...fuzzParameters(400), timeout: undefined };
const credential = fc.string({ minLength: 1, maxLength: 10, unit: fc.constantFrom(...'aZ9-_.~!$&()*+,;=:@/?#[]% é'.split('')) });

describe('fuzz: sftp URLs and settings', () => {
  it('parses any text into settings or refuses it with a UsageError', () => {
    fc.assert(
      fc.property(urlLike(['sftp']), (text) => {
        try {
          withinHangBound('parseSftpURL', () => parseSftpURL(text));
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });

  it('reads back the user, password, host, port and path a URL was built from', () => {
    fc.assert(
      fc.property(credential, credential, fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.integer({ min: 1, max: 65535 }), fc.array(fc.stringMatching(/^[a-z0-9_.-]{1,6}$/).filter((d) => d !== '.' && d !== '..'), { maxLength: 3 }), (user, password, host, port, dirs) => {
        const path = `/${dirs.join('/')}`;
        const { settings } = parseSftpURL(`sftp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}${path}`);
        expect(settings).toMatchObject({ user, password, host, path });
        if (port !== 22) expect(settings.port).toBe(port);
      }),
      params,
    );
  });

  it('turns any config entry, and any host[:port], into settings or a UsageError', () => {
    fc.assert(
      fc.property(settingsFor([...SFTP_CONFIG_KEYS, 'url', 'path']), urlLike(), (config, host) => {
        for (const run of [(): unknown => sftpSettingsFromConfig(config), (): unknown => splitHostPort(host)]) {
          try {
            withinHangBound('sftp settings', run);
          } catch (error) {
            expectTyped(error, [UsageError]);
          }
        }
      }),
      params,
    );
  });
});
