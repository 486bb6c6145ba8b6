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

/**
 * The reference vectors with LZ4 *frame* pages (as Litestream v0.5.0 – v0.5.15 wrote them),
 * kept in `testdata/ltx-v3-frame` (override with LTX_FRAME_DIR).
 */
export function frameDir(): string {
  const dir = process.env.LTX_FRAME_DIR ?? join(repoRoot, 'testdata/ltx-v3-frame');
  if (!existsSync(dir)) {
    throw new Error(`LTX frame-page reference vectors not found at ${dir}; set LTX_FRAME_DIR to the ltx-v3-frame folder`);
  }
  return dir;
}
