import { execFileSync } from 'node:child_process';

/**
 * End-to-end tests run the real bins from `dist/`, so build before testing unless the
 * caller (scripts/test.sh, after setup.sh) has just done so.
 */
export default function setup(): void {
  if (process.env.LTS_BUILT === '1') return;
  execFileSync('pnpm', ['-r', '--workspace-concurrency=1', 'run', '--if-present', 'build'], { stdio: 'inherit' });
}
