import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The monorepo's root (where pnpm-workspace.yaml is). */
export const REPO_ROOT = resolve(import.meta.dirname, '../../../../..');

interface Manifest {
  readonly name: string;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

/** Every workspace package (name → directory) under the workspace's package folders. */
function workspacePackages(): Map<string, string> {
  const dirs = ['packages', 'backends', 'examples']
    .flatMap((group) => (existsSync(join(REPO_ROOT, group)) ? readdirSync(join(REPO_ROOT, group)).map((d) => join(REPO_ROOT, group, d)) : []))
    .concat(['conformance', 'testcontainers'].map((d) => join(REPO_ROOT, d)));
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) byName.set((JSON.parse(readFileSync(file, 'utf8')) as Manifest).name, dir);
  }
  return byName;
}

/**
 * The directories of the given workspace packages and of every workspace package they need at
 * run time (`dependencies` and `peerDependencies` given as `workspace:`), so a fresh project
 * gets them all from tarballs and none from the registry.
 */
export function workspaceClosure(roots: readonly string[]): string[] {
  const byName = workspacePackages();
  const out = new Set<string>();
  const visit = (dir: string): void => {
    if (out.has(dir)) return;
    out.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    for (const [name, spec] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (!spec.startsWith('workspace:')) continue;
      const inner = byName.get(name);
      if (inner === undefined) throw new Error(`${manifest.name} needs ${name} (${spec}), which is not in the workspace`);
      visit(inner);
    }
  };
  for (const root of roots) visit(resolve(root));
  return [...out];
}

/** Packs a built workspace package with `pnpm pack` (workspace: ranges become versions); returns the tarball. */
export async function pack(dir: string, destination: string): Promise<string> {
  const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination], { cwd: dir, maxBuffer: 16 << 20 });
  const tarball = stdout
    .trim()
    .split('\n')
    .map((line) => line.trim())
    .reverse()
    .find((line) => line.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`pnpm pack in ${dir} printed no tarball:\n${stdout}`);
  return resolve(destination, tarball);
}

/**
 * Makes a fresh npm project in `dir` and installs the tarballs into it with `npm install`, as a
 * user would; their other dependencies come from the npm registry (or npm's cache).
 */
export async function installTarballs(dir: string, tarballs: readonly string[]): Promise<void> {
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'tarball-project', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  try {
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs], {
      cwd: dir,
      // npm runs install scripts (better-sqlite3's) with the node first on PATH: this one.
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      maxBuffer: 64 << 20,
      timeout: 300_000,
    });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`npm install of ${tarballs.length} tarballs failed in ${dir} (it needs the npm registry for third-party dependencies):\n${stderr ?? ''}${stdout ?? ''}`, { cause: error });
  }
}

/** Every installed copy of a package under a project's node_modules (nested ones too). */
export function installedCopies(projectDir: string, name: string): string[] {
  const copies: string[] = [];
  const walk = (modules: string): void => {
    if (!existsSync(modules)) return;
    if (existsSync(join(modules, name, 'package.json'))) copies.push(join(modules, name));
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const packages = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((inner) => join(modules, entry, inner)) : [join(modules, entry)];
      for (const pkg of packages) walk(join(pkg, 'node_modules'));
    }
  };
  walk(join(projectDir, 'node_modules'));
  return copies;
}
