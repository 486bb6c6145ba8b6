// Fuzzing the backend registry's routing: any replica string resolves to a backend or is
// refused with a UsageError, whatever a backend's URL check throws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../ltx/errors.ts';
import { expectTyped, fuzzParameters, urlLike, withinHangBound } from '../test-support/fuzz.ts';
import { BackendRegistry, type BackendPlugin } from './registry.ts';

function notUsed(): never {
  throw new Error('not used');
}

/** A backend whose URL check fails the way a careless parser might: with any kind of error. */
function plugin(type: string, check: ((url: string) => void) | undefined): BackendPlugin {
  return { type, schemes: [type], configKeys: [], description: type, fromURL: notUsed, fromConfig: notUsed, ...(check ? { checkURL: check } : {}) };
}

const failures: ReadonlyArray<(url: string) => void> = [
  () => undefined,
  (url) => decodeURIComponent(url),
  (url) => void new URL(url),
  (url) => {
    if (url.length % 2) throw new RangeError('odd');
  },
  (url) => {
    if (url.includes('%')) throw new UsageError(`bad escape in ${url}`);
  },
];

describe('fuzz: backend registry routing', () => {
  it('resolves any string to a backend or refuses it with a UsageError', () => {
    fc.assert(
      fc.property(urlLike(['file', 'strict', 'loose', 'nosuch']), fc.nat({ max: failures.length - 1 }), fc.boolean(), (text, failure, withFile) => {
        const registry = new BackendRegistry().register(plugin('strict', failures[failure])).register(plugin('loose', undefined));
        if (withFile) registry.register(plugin('file', undefined));
        try {
          const { plugin: found, url } = withinHangBound('resolve', () => registry.resolve(text));
          expect(['strict', 'loose', 'file']).toContain(found.type);
          expect(typeof url).toBe('string');
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      { ...fuzzParameters(500), timeout: undefined },
    );
  });
});
