// Fuzzing `$VAR` expansion (run over the whole config text before parsing): it ends on any
// text, leaves text without `$` alone, substitutes defined names and works piece by piece.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParameters, withinHangBound } from '../../../core/src/test-support/fuzz.ts';
import { expandEnv } from './env-expansion.ts';

const params = { ...fuzzParameters(1000), timeout: undefined };
const PIECES = ['$', '{', '}', '$$', '${', '${}', '$1', '$?', 'A', 'B_1', 'x', ' ', '\n', ':', '${A}', '$A', '${A', '$-', 'é'];
const text = fc.oneof(fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((p) => p.join('')), fc.string({ maxLength: 60 }));
const env = fc.dictionary(fc.constantFrom('A', 'B_1', 'x', '1', '?', '-'), fc.string({ maxLength: 8 }), { maxKeys: 4 });

describe('fuzz: environment expansion', () => {
  it('ends on any text and changes nothing without a dollar sign', () => {
    fc.assert(
      fc.property(text, env, (input, vars) => {
        const out = withinHangBound('expandEnv', () => expandEnv(input, vars, 42));
        expect(typeof out).toBe('string');
        if (!input.includes('$')) expect(out).toBe(input);
      }),
      params,
    );
  });

  it('substitutes a braced name with its value, and an undefined one with nothing', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), fc.option(fc.string({ maxLength: 10 }), { nil: undefined }), text.filter((t) => !t.includes('$')), (name, value, rest) => {
        const vars = value === undefined ? {} : { [name]: value };
        const expected = name === 'PID' ? '42' : (value ?? '');
        expect(expandEnv(`${rest}\${${name}}${rest}`, vars, 42)).toBe(`${rest}${expected}${rest}`);
      }),
      params,
    );
  });

  it('expands a dollar-free prefix and the rest independently', () => {
    fc.assert(
      fc.property(text.filter((t) => !t.includes('$')), text, env, (prefix, rest, vars) => {
        expect(expandEnv(prefix + rest, vars, 42)).toBe(prefix + expandEnv(rest, vars, 42));
      }),
      params,
    );
  });
});
