import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PackageReport } from './check-packages.ts';
import { checkPackedPackage, isBounded, type PackedPackage, type PolicyContext } from './packaging/package-policy.ts';
import { publishablePackages, ROOT } from './packaging/workspace.ts';

const LICENSE = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
const context: PolicyContext = { license: LICENSE, repositoryUrl: 'https://github.com/litestream-ts/litestream-ts', directory: 'backends/x', dependencyEngines: { commander: '>=22.12.0' } };

function packed(overrides: Partial<PackedPackage['manifest']> = {}, files: Record<string, string> = {}): PackedPackage {
  const all: Record<string, string> = { LICENSE, 'package.json': '{}', 'dist/index.js': '', 'dist/index.d.ts': '', ...files };
  return {
    manifest: {
      name: '@litestream-ts/backend-x',
      version: '1.0.0',
      license: 'Apache-2.0',
      repository: { type: 'git', url: 'git+https://github.com/litestream-ts/litestream-ts.git', directory: 'backends/x' },
      homepage: 'https://github.com/litestream-ts/litestream-ts/tree/main/backends/x#readme',
      bugs: { url: 'https://github.com/litestream-ts/litestream-ts/issues' },
      keywords: ['sqlite'],
      engines: { node: '>=22.12.0' },
      peerDependencies: { '@litestream-ts/core': '^0.1.0' },
      ...overrides,
    },
    files: Object.keys(all),
    read: (path) => all[path]!,
  };
}

describe('package policy', () => {
  it('accepts a package that follows every rule', () => {
    expect(checkPackedPackage(packed(), context)).toEqual([]);
  });

  it('names each broken rule', () => {
    const problems = checkPackedPackage(
      packed(
        { repository: undefined, homepage: undefined, bugs: undefined, keywords: [], engines: { node: '>=22' }, peerDependencies: { vitest: '>=4' } },
        { 'dist/e2e/cli-process.js': '', 'dist/test-support/fake.js': '', 'dist/a.test.js': '', 'dist/index.js.map': JSON.stringify({ sources: ['../src/index.ts'] }) },
      ),
      context,
    );
    expect(problems).toEqual([
      'repository.url must name https://github.com/litestream-ts/litestream-ts',
      'repository.directory is undefined, expected "backends/x"',
      'homepage is missing',
      'bugs is missing',
      'keywords are missing',
      'test file published: dist/e2e/cli-process.js',
      'test file published: dist/test-support/fake.js',
      'test file published: dist/a.test.js',
      'dist/index.js.map refers to ../src/index.ts, which is not published',
      'engines.node ">=22" allows Node versions that commander refuses (">=22.12.0")',
      'peer dependency vitest has no upper bound: ">=4"',
    ]);
  });

  it('wants the repository LICENSE in the tarball', () => {
    const pkg = packed();
    expect(checkPackedPackage({ ...pkg, files: pkg.files.filter((f) => f !== 'LICENSE') }, context)).toEqual(['LICENSE is missing from the tarball']);
    expect(checkPackedPackage({ ...pkg, read: (path) => (path === 'LICENSE' ? 'MIT License' : '') }, context)).toEqual(['LICENSE differs from the repository LICENSE']);
  });

  it('accepts source maps whose sources are published', () => {
    const pkg = packed({}, { 'dist/index.js.map': JSON.stringify({ sources: ['../src/index.ts'] }), 'src/index.ts': '' });
    expect(checkPackedPackage(pkg, context)).toEqual([]);
  });

  it('tells bounded ranges from open ones', () => {
    for (const range of ['^0.1.0', '~4.1.0', '>=4 <6', '1.2.3', '^20.0.0 || ^22.0.0']) expect(isBounded(range), range).toBe(true);
    for (const range of ['>=4', '*', '^1 || >=3', 'latest']) expect(isBounded(range), range).toBe(false);
  });
});

describe('scripts/check-packages.ts', () => {
  it('packs every publishable workspace package and finds no publint, attw or policy problem', () => {
    const out = mkdtempSync(join(tmpdir(), 'check-packages-'));
    try {
      let stdout: string;
      try {
        stdout = execFileSync(process.execPath, [join(ROOT, 'scripts/check-packages.ts'), '--json', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
      } catch (error) {
        stdout = (error as { stdout: string }).stdout;
      }
      const report = JSON.parse(stdout) as { ok: boolean; packages: PackageReport[] };
      expect(report.packages.map((p) => p.name).sort()).toEqual(publishablePackages().map((p) => p.name).sort());
      for (const p of report.packages) {
        expect(p.policy, p.name).toEqual([]);
        expect(p.publint.ok, `${p.name}: ${p.publint.output}`).toBe(true);
        expect(p.attw.ok, `${p.name}: ${p.attw.output}`).toBe(true);
      }
      expect(report.ok).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
