// Fuzzing the abs backend's URL and config readers: any text or settings give options or a
// UsageError (never a TypeError or URIError), in bounded time; URLs read back as built.
import { UsageError } from '@litestream-ts/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectTyped, fuzzParameters, settingsFor, urlLike, withinHangBound } from '../../../packages/core/src/test-support/fuzz.ts';
import { ABS_CONFIG_KEYS, absOptionsFromConfig } from './abs-config.ts';
import { cleanBlobPath } from './abs-layout.ts';
import { resolveAbsSettings } from './abs-settings.ts';
import { parseAbsUrl } from './abs-url.ts';

const params = { ...fuzzParameters(400), timeout: undefined };
const segment = fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom(...'abz09-_. %~é?#&=+:@'.split('')) }).filter((s) => s !== '.' && s !== '..');
const container = fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('-')).filter((name) => name.length >= 3);

describe('fuzz: abs URLs and settings', () => {
  it('parses any text into options or refuses it with a UsageError', () => {
    fc.assert(
      fc.property(urlLike(['abs']), (text) => {
        try {
          withinHangBound('parseAbsUrl', () => parseAbsUrl(text));
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });

  it('reads back the account, container and path a URL was built from', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]{3,24}$/), container, fc.array(segment, { maxLength: 4 }), (account, name, segments) => {
        const url = `abs://${account}@${name}/${segments.map(encodeURIComponent).join('/')}`;
        expect(parseAbsUrl(url).options).toEqual({ container: name, path: cleanBlobPath(segments.join('/')), accountName: account });
      }),
      params,
    );
  });

  it('turns any config entry into settings or a UsageError', () => {
    const keys = [...Object.keys(ABS_CONFIG_KEYS), 'url'];
    fc.assert(
      fc.property(settingsFor(keys), settingsFor(keys), (config, globals) => {
        try {
          const { options } = withinHangBound('absOptionsFromConfig', () => absOptionsFromConfig(config, globals));
          withinHangBound('resolveAbsSettings', () => resolveAbsSettings(options));
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });
});

describe('abs URL regressions found by fuzzing', () => {
  it('refuses a malformed percent-escape with a UsageError, not a URIError', () => {
    // Counterexample "abs:%", and the same fault in the account name and the path.
    for (const url of ['abs:%', 'abs://acc%E0%A4%A@container/db', 'abs://container/db/%zz%']) {
      expect(() => parseAbsUrl(url), url).toThrow(UsageError);
      expect(() => parseAbsUrl(url), url).toThrow(/has a malformed percent-escape in its (account name|path)/);
    }
  });
});
