// Packs every publishable workspace package and checks each tarball as npm users get it:
// publint (package.json against the files), @arethetypeswrong/cli (types resolve for ESM
// Node consumers) and the project's own rules (scripts/packaging/package-policy.ts).
//
//   node scripts/check-packages.ts [--out DIR] [--json]
//
// --out keeps the tarballs in DIR (default: a temporary directory, removed afterwards);
// --json prints one JSON report instead of text. Exits 1 when any package has a problem.
// Run after a build (`pnpm -r run build`): the tarballs hold `dist/`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkPackedPackage, type Manifest } from './packaging/package-policy.ts';
import { packPackage, publishablePackages, ROOT, type WorkspacePackage } from './packaging/workspace.ts';

export const REPOSITORY_URL = 'https://github.com/litestream-ts/litestream-ts';

export interface PackageReport {
  readonly name: string;
  readonly version: string;
  readonly directory: string;
  readonly tarball: string;
  readonly files: number;
  readonly publint: { readonly ok: boolean; readonly output: string };
  readonly attw: { readonly ok: boolean; readonly output: string };
  readonly policy: readonly string[];
  readonly ok: boolean;
}

const BIN = join(ROOT, 'node_modules/.bin');

function checkOne(pkg: WorkspacePackage, outDir: string): PackageReport {
  const tarball = packPackage(pkg, outDir);
  const unpacked = mkdtempSync(join(tmpdir(), 'check-packages-'));
  try {
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
    const root = join(unpacked, 'package');
    const files = listFiles(root);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
    const policy = checkPackedPackage(
      { manifest, files, read: (path) => readFileSync(join(root, path), 'utf8') },
      { license: readFileSync(join(ROOT, 'LICENSE'), 'utf8'), repositoryUrl: REPOSITORY_URL, directory: pkg.directory, dependencyEngines: dependencyEngines(pkg, manifest) },
    );
    const publint = run(join(BIN, 'publint'), ['run', tarball, '--strict', '--level', 'suggestion']);
    // ESM-only packages for Node: CommonJS `require` and node10 resolution are not supported on purpose.
    const attw = run(join(BIN, 'attw'), [tarball, '--profile', 'esm-only', '--format', 'table-flipped', '--no-emoji', '--no-color']);
    return { name: pkg.name, version: pkg.version, directory: pkg.directory, tarball, files: files.length, publint, attw, policy, ok: publint.ok && attw.ok && policy.length === 0 };
  } finally {
    rmSync(unpacked, { recursive: true, force: true });
  }
}

/** `engines.node` of each runtime and peer dependency, read from the workspace's install. */
function dependencyEngines(pkg: WorkspacePackage, manifest: Manifest): Record<string, string> {
  const engines: Record<string, string> = {};
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    const path = join(pkg.dir, 'node_modules', name, 'package.json');
    if (!existsSync(path)) continue;
    const node = (JSON.parse(readFileSync(path, 'utf8')) as { engines?: { node?: string } }).engines?.node;
    if (node) engines[name] = node;
  }
  return engines;
}

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? listFiles(path, base) : [relative(base, path)];
  });
}

function formatReport(report: PackageReport): string {
  const indent = (text: string) => text.split('\n').map((line) => `    ${line}`).join('\n');
  return [
    `${report.ok ? 'ok  ' : 'FAIL'} ${report.name}@${report.version} (${report.directory}): ${report.files} files`,
    `  publint: ${report.publint.ok ? 'ok' : 'problems'}`,
    indent(report.publint.output),
    `  attw --profile esm-only: ${report.attw.ok ? 'ok' : 'problems'}`,
    indent(report.attw.output),
    `  policy: ${report.policy.length === 0 ? 'ok' : `${report.policy.length} problem(s)`}`,
    ...report.policy.map((problem) => `    - ${problem}`),
  ].join('\n');
}

function main(): number {
  const { values } = parseArgs({ options: { out: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const outDir = values.out ?? mkdtempSync(join(tmpdir(), 'packed-'));
  try {
    const reports = publishablePackages().map((pkg) => checkOne(pkg, outDir));
    const failed = reports.filter((r) => !r.ok);
    if (values.json) console.log(JSON.stringify({ ok: failed.length === 0, packages: reports }, null, 2));
    else {
      console.log(reports.map(formatReport).join('\n\n'));
      console.log(`\n${reports.length} packages checked, ${failed.length} with problems${failed.length ? `: ${failed.map((r) => r.name).join(', ')}` : ''}`);
    }
    return failed.length === 0 ? 0 : 1;
  } finally {
    if (values.out === undefined) rmSync(outDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
