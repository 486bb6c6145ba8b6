/**
 * Litestream's flags use Go's syntax: one dash for long names (`-config`, `-txid`). The CLI
 * framework expects two, so multi-letter single-dash flags are rewritten before parsing.
 * Both spellings work; values and the arguments after `--` are left alone.
 */
export function normalizeArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  let passthrough = false;
  for (const arg of argv) {
    if (passthrough) out.push(arg);
    else if (arg === '--') {
      passthrough = true;
      out.push(arg);
    } else if (/^-[A-Za-z][A-Za-z0-9-]+(=.*)?$/s.test(arg)) out.push(`-${arg}`);
    else out.push(arg);
  }
  return out;
}
