import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (…/main). */
export const repoRoot = resolve(import.meta.dirname, '../../../..');

/**
 * The reference vectors made by the Go implementation, kept in this repository's
 * `testdata/ltx-v3-golden` (override with LTX_GOLDEN_DIR).
 */
export function goldenDir(): string {
  const dir = process.env.LTX_GOLDEN_DIR ?? join(repoRoot, 'testdata/ltx-v3-golden');
  if (!existsSync(dir)) {
    throw new Error(`LTX reference vectors not found at ${dir}; set LTX_GOLDEN_DIR to the ltx-v3-golden folder`);
  }
  return dir;
}
