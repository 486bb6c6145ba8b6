// Fuzzing the gs backend's URL and config readers: any text or settings give options or a
// UsageError (never a TypeError or URIError), in bounded time; URLs read back as built.
import { UsageError } from '@litestream-ts/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectTyped, fuzzParameters, settingsFor, urlLike, withinHangBound } from '../../../packages/core/src/test-support/fuzz.ts';
import { GCS_CONFIG_KEYS, gcsOptionsFromConfig } from './gcs-config.ts';
import { normalizePath } from './gcs-layout.ts';
import { resolveGcsSettings } from './gcs-settings.ts';
import { parseGcsUrl } from './gcs-url.ts';

const params = { ...fuzzParameters(400), timeout: undefined };
const segment = fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom(...'abz09-_. %~é/?#&=+:@'.split('')) }).filter((s) => s !== '.' && s !== '..');

describe('fuzz: gs URLs and settings', () => {
  it('parses any text into options or refuses it with a UsageError', () => {
    fc.assert(
      fc.property(urlLike(['gs']), (text) => {
        try {
          withinHangBound('parseGcsUrl', () => parseGcsUrl(text));
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });

  it('reads back the bucket and path a URL was built from', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{1,20}[a-z0-9]$/), fc.array(segment, { maxLength: 4 }), (bucket, segments) => {
        const url = `gs://${bucket}/${segments.map(encodeURIComponent).join('/')}`;
        expect(parseGcsUrl(url).options).toMatchObject({ bucket, path: normalizePath(segments.join('/')) });
      }),
      params,
    );
  });

  it('turns any config entry into settings or a UsageError', () => {
    fc.assert(
      fc.property(settingsFor([...GCS_CONFIG_KEYS, 'url']), settingsFor(GCS_CONFIG_KEYS), (config, globals) => {
        try {
          const { options } = withinHangBound('gcsOptionsFromConfig', () => gcsOptionsFromConfig(config, globals));
          withinHangBound('resolveGcsSettings', () => resolveGcsSettings({ ...options, env: {} }));
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });
});
