/**
 * File name patterns of directory replication (`pattern: "*.db"`), with the syntax and meaning
 * of Go's `filepath.Match`, which Litestream uses, so a config behaves the same under both:
 * `*` (any run of characters), `?` (one character), `[abc]`, `[a-z]`, `[^a-z]` (a class and its
 * negation) and `\` (escape the next character). A pattern is matched against the file's name
 * only, never against its directory, so it holds no `/`. No braces, no `**`, and unlike shells,
 * `*` matches a leading dot too.
 */

/** A pattern that is not well-formed; the message says why. */
export class NamePatternError extends Error {}

/** Compiles `pattern`; throws `NamePatternError` when it is malformed or holds a `/`. */
export function compileNamePattern(pattern: string): (name: string) => boolean {
  if (pattern === '') throw new NamePatternError('the pattern is empty');
  if (pattern.includes('/')) throw new NamePatternError('a pattern is matched against file names only, so it cannot hold "/" (use "recursive: true" to search subdirectories)');
  const chars = [...pattern];
  let source = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) throw new NamePatternError('the pattern ends with an unfinished escape "\\"');
      source += literal(next);
    } else if (c === '[') {
      const end = readClass(chars, i + 1);
      source += end.source;
      i = end.next - 1;
    } else source += literal(c);
  }
  const regex = new RegExp(`^${source}$`, 'u');
  return (name) => regex.test(name);
}

/** One character class starting after its `[`: its regex source and the index after its `]`. */
function readClass(chars: readonly string[], start: number): { source: string; next: number } {
  let i = start;
  let negated = false;
  if (chars[i] === '^') {
    negated = true;
    i++;
  }
  const items: string[] = [];
  // As in Go, "-" and "]" stand for themselves in a class only when escaped.
  const take = (): string => {
    let c = chars[i++];
    if (c === '-' || c === ']') throw new NamePatternError(`a "${c}" inside a character class must be escaped as "\\${c}"`);
    if (c === '\\') c = chars[i++];
    if (c === undefined) throw new NamePatternError('a "[" character class is not closed by "]"');
    return c;
  };
  for (;;) {
    if (chars[i] === undefined) throw new NamePatternError('a "[" character class is not closed by "]"');
    if (chars[i] === ']' && items.length > 0) return { source: `[${negated ? '^/' : ''}${items.join('')}]`, next: i + 1 };
    if (chars[i] === ']') throw new NamePatternError('a character class "[]" is empty');
    const lo = take();
    if (chars[i] === '-') {
      i++;
      const hi = take();
      if (hi.codePointAt(0)! < lo.codePointAt(0)!) throw new NamePatternError(`the range "${lo}-${hi}" is backwards`);
      items.push(`${code(lo)}-${code(hi)}`);
    } else items.push(code(lo));
  }
}

function code(c: string): string {
  return `\\u{${c.codePointAt(0)!.toString(16)}}`;
}

function literal(c: string): string {
  return /[A-Za-z0-9_]/.test(c) ? c : code(c);
}
