import { describe, expect, it } from 'vitest';
import { LOG_LEVELS, parseLogLevel } from './levels.ts';

describe('parseLogLevel', () => {
  it('accepts every level, in any case, with surrounding spaces', () => {
    for (const level of LOG_LEVELS) {
      expect(parseLogLevel(level)).toBe(level);
      expect(parseLogLevel(` ${level.toUpperCase()} `)).toBe(level);
    }
  });

  it("accepts Litestream's WARNING alias", () => {
    expect(parseLogLevel('WARNING')).toBe('warn');
  });

  it('rejects anything else, listing the valid levels', () => {
    expect(() => parseLogLevel('verbose')).toThrow('invalid log level "verbose": expected one of trace, debug, info, warn, error');
    expect(() => parseLogLevel('')).toThrow(/expected one of/);
  });
});
