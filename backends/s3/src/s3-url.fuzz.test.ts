// Fuzzing the s3 backend's URL and config readers: any text or settings give options or a
// UsageError naming what is wrong (never a TypeError or URIError), in bounded time; a URL
// built from a bucket and a path reads back as them.
import { UsageError } from '@litestream-ts/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectTyped, fuzzParameters, settingsFor, urlLike, withinHangBound } from '../../../packages/core/src/test-support/fuzz.ts';
import { S3_CONFIG_KEYS, s3OptionsFromConfig } from './s3-config.ts';
import { normalizePath } from './s3-key-layout.ts';
import { resolveS3Settings } from './s3-settings.ts';
import { parseS3Url } from './s3-url.ts';

const params = { ...fuzzParameters(400), timeout: undefined };
const segment = fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom(...'abz09-_. %~é/?#&=+:@'.split('')) }).filter((s) => s !== '.' && s !== '..');
// Settings a config may give, without the one that reads a file.
const keys = [...Object.keys(S3_CONFIG_KEYS).filter((k) => k !== 'sse-customer-key-path'), 'url'];

describe('fuzz: s3 URLs and settings', () => {
  it('parses any text into options or refuses it with a UsageError', () => {
    fc.assert(
      fc.property(urlLike(['s3']), (text) => {
        try {
          const { options } = withinHangBound('parseS3Url', () => parseS3Url(text));
          expect(typeof options.bucket).toBe('string');
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });

  it('reads back the bucket and path a URL was built from', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}[a-z0-9]$/), fc.array(segment, { maxLength: 4 }), (bucket, segments) => {
        const url = `s3://${bucket}/${segments.map(encodeURIComponent).join('/')}`;
        expect(parseS3Url(url).options).toMatchObject({ bucket, path: normalizePath(segments.join('/')) });
      }),
      params,
    );
  });

  it('turns any config entry into settings or a UsageError', () => {
    fc.assert(
      fc.property(settingsFor(keys), settingsFor(keys), (config, globals) => {
        try {
          const { options } = withinHangBound('s3OptionsFromConfig', () => s3OptionsFromConfig(config, globals));
          withinHangBound('resolveS3Settings', () => resolveS3Settings({ ...options, env: {} }));
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });
});

describe('s3 settings regressions found by fuzzing', () => {
  it('refuses a non-text boolean setting with a UsageError (counterexample: an object without prototype)', () => {
    expect(() => s3OptionsFromConfig({ region: 0 }, { 'sign-payload': Object.create(null) })).toThrow(UsageError);
    expect(() => s3OptionsFromConfig({ 'sign-payload': Object.create(null) })).toThrow(/s3 sign-payload must be true or false/);
  });

  it('refuses a part-size or concurrency that is a mapping with a UsageError (counterexample: {bucket: false, part-size: {}})', () => {
    const { options } = s3OptionsFromConfig({ bucket: false, 'part-size': Object.create(null), concurrency: Object.create(null) });
    expect(() => resolveS3Settings({ ...options, env: {} })).toThrow(UsageError);
    expect(() => resolveS3Settings({ ...options, env: {} })).toThrow(/invalid s3 part-size a mapping/);
    expect(() => resolveS3Settings({ ...options, partSize: undefined, env: {} })).toThrow(/s3 concurrency must be a whole number of at least 1, got a mapping/);
  });
});
