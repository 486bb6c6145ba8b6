import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LIBRARY_EXAMPLE, quotedExamples, runLibraryExampleTwice } from '../scripts/packaging/library-example.ts';
import { ROOT } from '../scripts/packaging/workspace.ts';

// The READMEs quote these files; the files run here against the built workspace packages
// (scripts/packaging/packed-install.test.ts runs them again from the packed tarballs).
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('examples', () => {
  it('the README quotes examples/ files exactly', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const quoted = quotedExamples(readme);
    expect(quoted.map((q) => q.path)).toContain('examples/library/replicate.ts');
    for (const { path, code } of quoted) expect(code, `README.md quoting ${path}`).toBe(readFileSync(join(ROOT, path), 'utf8'));
  });

  it('the library example runs in a fresh directory, then restores on a new machine', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'lts-example-'));
    dirs.push(cwd);
    const runs = runLibraryExampleTwice(LIBRARY_EXAMPLE, cwd, join(ROOT, 'examples/library'));
    expect(runs.outputs[0]).toMatch(/inSync: true/);
    expect(runs.ltxFiles).toBeGreaterThan(0);
    expect(runs.rows).toEqual([1, 2]); // the second run restored the first row before adding its own
  });

  it('the examples type-check against the built packages', () => {
    let output = '';
    try {
      output = execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'examples/library/tsconfig.json')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      output = (error as { stdout: string }).stdout;
    }
    expect(output).toBe('');
  });
});
