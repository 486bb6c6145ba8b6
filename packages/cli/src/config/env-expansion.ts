/** Variables visible to `$VAR` expansion. */
export type Environment = Readonly<Record<string, string | undefined>>;

// The one-character names Go's os.Expand treats specially (as a shell does): $1, $?, $$…
const SPECIAL_NAME = /^[*#$@!?\-0-9]$/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** A variable that expanded to nothing: where in the expanded text, and whether it was set at all. */
export interface BlankExpansion {
  /** The variable's name as written (`UNSET` for `$UNSET` or `${UNSET}`). */
  readonly name: string;
  /** Offset in the expanded text where its (empty) value stands. */
  readonly at: number;
  /** True when the variable was not set; false when it was set to the empty string. */
  readonly unset: boolean;
}

/**
 * Replaces `$VAR` and `${VAR}` with values from `env`, with the rules of Go's `os.Expand`,
 * which Litestream runs over the whole config text before parsing it: an undefined variable
 * becomes the empty string; `$` followed by neither a name nor `{` stays as it is; `${}` and
 * an unclosed `${` vanish; `$1`, `$?` and the like name one-character variables (`$$` too,
 * so a literal dollar sign cannot be written while expansion is on). `$PID` is this
 * process's id, as in Litestream.
 */
export function expandEnv(text: string, env: Environment, pid: number = process.pid): string {
  return expandEnvTracked(text, env, pid).text;
}

/**
 * `expandEnv`, also saying where a variable expanded to nothing, so a setting built from an
 * unset variable (`file://${UNSET}/x` becoming `file:///x`) can be reported as such.
 */
export function expandEnvTracked(text: string, env: Environment, pid: number = process.pid): { text: string; blanks: BlankExpansion[] } {
  const blanks: BlankExpansion[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1 || dollar === text.length - 1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const { name, width } = shellName(text, dollar + 1);
    if (name !== '') {
      const value = name === 'PID' ? String(pid) : env[name];
      if (value === undefined || value === '') blanks.push({ name, at: out.length, unset: value === undefined });
      out += value ?? '';
    } else if (width === 0) out += '$';
    i = dollar + 1 + width;
  }
  return { text: out, blanks };
}

/** The variable name starting at `start` and how many characters it spans. */
function shellName(text: string, start: number): { name: string; width: number } {
  const first = text[start]!;
  if (first === '{') {
    if (text.length > start + 2 && SPECIAL_NAME.test(text[start + 1]!) && text[start + 2] === '}') {
      return { name: text[start + 1]!, width: 3 };
    }
    const close = text.indexOf('}', start + 1);
    if (close === -1) return { name: '', width: 1 }; // unclosed: Go drops the "${"
    if (close === start + 1) return { name: '', width: 2 }; // "${}" is dropped too
    return { name: text.slice(start + 1, close), width: close - start + 1 };
  }
  if (SPECIAL_NAME.test(first)) return { name: first, width: 1 };
  let end = start;
  while (end < text.length && NAME_CHAR.test(text[end]!)) end++;
  return { name: text.slice(start, end), width: end - start };
}
