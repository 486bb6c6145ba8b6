// The workspace's publishable packages, found the way pnpm sees them (no hard-coded list), and
// their tarballs as `pnpm pack` makes them (`workspace:` ranges replaced by real ones).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

export interface WorkspacePackage {
  readonly name: string;
  readonly version: string;
  /** Absolute path of the package directory. */
  readonly dir: string;
  /** Path from the repository root (`backends/s3`). */
  readonly directory: string;
}

/** Every workspace package that is not `private`, in `pnpm ls -r` order. */
export function publishablePackages(): WorkspacePackage[] {
  const listed = JSON.parse(execFileSync('pnpm', ['ls', '-r', '--json', '--depth', '-1'], { cwd: ROOT, encoding: 'utf8' })) as { name?: string; path: string }[];
  return listed
    .filter((entry) => resolve(entry.path) !== ROOT)
    .map((entry) => ({ dir: entry.path, manifest: JSON.parse(readFileSync(join(entry.path, 'package.json'), 'utf8')) as { name: string; version: string; private?: boolean } }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name, version: manifest.version, dir, directory: relative(ROOT, dir) }));
}

/** Packs one package into `outDir`; returns the tarball's path. */
export function packPackage(pkg: WorkspacePackage, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  execFileSync('pnpm', ['pack', '--pack-destination', outDir], { cwd: pkg.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  return join(outDir, tarballName(pkg));
}

/** The file name `pnpm pack` gives a package's tarball. */
export function tarballName(pkg: { name: string; version: string }): string {
  return `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`;
}
