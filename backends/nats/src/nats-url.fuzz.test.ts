// Fuzzing the nats backend's URL and config readers: any text or settings give options or a
// UsageError (never a TypeError or URIError), in bounded time; URLs read back as built.
import { UsageError } from '@litestream-ts/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectTyped, fuzzParameters, settingsFor, urlLike, withinHangBound } from '../../../packages/core/src/test-support/fuzz.ts';
import { NATS_CONFIG_KEYS, natsOptionsFromConfig } from './nats-config.ts';
import { resolveNatsSettings } from './nats-settings.ts';
import { parseNatsUrl } from './nats-url.ts';

const params = { ...fuzzParameters(400), timeout: undefined };
const credential = fc.string({ minLength: 1, maxLength: 10, unit: fc.constantFrom(...'aZ9-_.~!$&()*+,;=:@/?#[]% é'.split('')) });

describe('fuzz: nats URLs and settings', () => {
  it('parses any text into options or refuses it with a UsageError', () => {
    fc.assert(
      fc.property(urlLike(['nats']), (text) => {
        try {
          withinHangBound('parseNatsUrl', () => parseNatsUrl(text));
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });

  it('reads back the user, password, server and bucket a URL was built from', () => {
    fc.assert(
      fc.property(credential, credential, fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.integer({ min: 1, max: 65535 }), fc.stringMatching(/^[-\w]{1,16}$/), (user, password, host, port, bucket) => {
        const url = `nats://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${bucket}`;
        const parsed = parseNatsUrl(url);
        expect(parsed).toMatchObject({ username: user, password, bucket });
        expect(parsed.server).toMatch(new RegExp(`^nats://${host}(:${port})?$`));
      }),
      params,
    );
  });

  it('turns any config entry into settings or a UsageError', () => {
    const keys = [...Object.keys(NATS_CONFIG_KEYS), 'url'];
    fc.assert(
      fc.property(settingsFor(keys), settingsFor(keys), (config, globals) => {
        try {
          const { options } = withinHangBound('natsOptionsFromConfig', () => natsOptionsFromConfig(config, globals));
          withinHangBound('resolveNatsSettings', () => resolveNatsSettings(options));
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });
});

describe('nats URL and settings regressions found by fuzzing', () => {
  it('refuses a malformed percent-escape with a UsageError that hides the password', () => {
    // Counterexample "nats:/%", and the same fault in the user name and the password.
    for (const url of ['nats:/%', 'nats://us%zzer:secretpw@host/bucket', 'nats://user:secret%E0%A4%A@host/bucket']) {
      expect(() => parseNatsUrl(url), url).toThrow(UsageError);
      expect(() => parseNatsUrl(url), url).toThrow(/has a malformed percent-escape in its (bucket|user name|password)/);
      expect(() => parseNatsUrl(url), url).not.toThrow(/secret/);
    }
  });

  it('refuses a non-text "tls" value with a UsageError (counterexample: an object without prototype)', () => {
    expect(() => natsOptionsFromConfig({ tls: Object.create(null) })).toThrow(UsageError);
    expect(() => natsOptionsFromConfig({ tls: Object.create(null) })).toThrow(/nats "tls" must be true or false/);
  });
});
