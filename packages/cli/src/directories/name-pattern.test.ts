import { describe, expect, it } from 'vitest';
import { compileNamePattern } from './name-pattern.ts';

// Go's filepath.Match on a file name, which Litestream uses for `pattern`.
describe('compileNamePattern', () => {
  it.each<[string, string, boolean]>([
    ['*.db', 'tenant-1.db', true],
    ['*.db', 'tenant-1.db-wal', false],
    ['*.db', '.hidden.db', true],
    ['*.db', 'a.sqlite', false],
    ['tenant-?.db', 'tenant-7.db', true],
    ['tenant-?.db', 'tenant-77.db', false],
    ['[ab]*.db', 'b1.db', true],
    ['[^ab]*.db', 'b1.db', false],
    ['[^ab]*.db', 'c1.db', true],
    ['[a-c]?.db', 'c9.db', true],
    ['[a-c]?.db', 'd9.db', false],
    ['\\*.db', '*.db', true],
    ['\\*.db', 'x.db', false],
    ['[\\-]x', '-x', true],
    ['*', 'anything at all', true],
    ['a.db', 'aXdb', false],
    ['(x)+.db', '(x)+.db', true],
    ['é*.db', 'été.db', true],
  ])('%s matches %s: %s', (pattern, name, expected) => {
    expect(compileNamePattern(pattern)(name)).toBe(expected);
  });

  it.each([
    ['[a-', 'a "[" character class is not closed by "]"'],
    ['[]a]', 'a character class "[]" is empty'],
    ['[-a]', 'a "-" inside a character class must be escaped as "\\-"'],
    ['[z-a]', 'the range "z-a" is backwards'],
    ['x\\', 'the pattern ends with an unfinished escape "\\"'],
    ['', 'the pattern is empty'],
    ['a/*.db', 'a pattern is matched against file names only, so it cannot hold "/" (use "recursive: true" to search subdirectories)'],
  ])('refuses %s', (pattern, message) => {
    expect(() => compileNamePattern(pattern)).toThrow(message);
  });
});
