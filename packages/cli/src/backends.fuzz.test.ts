// Fuzzing replica URLs through the registry the `litestream` command ships: whatever the
// text and whichever backend's URL check runs, the answer is a backend or a UsageError that
// never shows a URL's password.
import { UsageError } from '@litestream-ts/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectTyped, fuzzParameters, urlLike, withinHangBound } from '../../core/src/test-support/fuzz.ts';
import { createBackendRegistry } from './backends.ts';

const registry = await createBackendRegistry({ env: {} });
const schemes = registry.list().flatMap((b) => b.schemes);

describe('fuzz: replica URLs of every installed backend', () => {
  it('resolves any text to a backend or refuses it with a UsageError', () => {
    fc.assert(
      fc.property(urlLike([...schemes, 'webdav', 'http']), (text) => {
        try {
          const { plugin } = withinHangBound('resolve', () => registry.resolve(text));
          expect(registry.list()).toContain(plugin);
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      { ...fuzzParameters(600), timeout: undefined },
    );
  });

  it('never shows the password of a URL in its error', () => {
    const password = fc.stringMatching(/^[A-Za-z0-9]{6,12}$/).map((s) => `Pw${s}`);
    fc.assert(
      fc.property(fc.constantFrom(...schemes), password, urlLike(), urlLike(), (scheme, secret, host, rest) => {
        const text = `${scheme}://user:${secret}@${host}/${rest}`;
        try {
          registry.resolve(text);
        } catch (error) {
          const typed = expectTyped<UsageError>(error, [UsageError]);
          expect(typed.message.includes(secret), typed.message).toBe(false);
        }
      }),
      { ...fuzzParameters(400), timeout: undefined },
    );
  });
});
