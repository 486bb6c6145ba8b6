// A fresh npm project outside the monorepo with the packed tarballs installed, as a user gets
// them: `npm install` from the registry for third-party dependencies, every workspace package
// from its tarball (overrides pin them, so no published version is ever fetched instead).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packPackage, publishablePackages, type WorkspacePackage } from './workspace.ts';

export interface PackedInstall {
  /** The project directory (its node_modules holds the install). */
  readonly dir: string;
  /** Tarball of each publishable workspace package, by package name. */
  readonly tarballs: ReadonlyMap<string, string>;
  /** The package that provides the `litestream` bin (the smallest one that does). */
  readonly cliPackage: string;
}

interface PackedManifest {
  readonly name: string;
  readonly bin?: Readonly<Record<string, string>> | string;
  readonly dependencies?: Readonly<Record<string, string>>;
}

/**
 * Packs every publishable package and installs `@litestream-ts/core`, `@litestream-ts/backend-file`,
 * the package providing `litestream` and `better-sqlite3` into a new project under the system
 * temporary directory. `extra` adds dependencies (name → npm spec).
 */
export function installPacked(extra: Readonly<Record<string, string>> = {}): PackedInstall {
  const root = mkdtempSync(join(tmpdir(), 'lts-packed-'));
  const packed = publishablePackages().map((pkg): [WorkspacePackage, string] => [pkg, packPackage(pkg, join(root, 'tarballs'))]);
  const tarballs = new Map(packed.map(([pkg, tarball]) => [pkg.name, tarball]));
  const cliPackage = smallestProviderOf('litestream', packed);
  const spec = (name: string) => `file:${tarballs.get(name)}`;
  const overrides = Object.fromEntries([...tarballs.keys()].map((name) => [name, spec(name)]));
  const dir = join(root, 'project');
  mkdirSync(dir);
  const manifest = {
    name: 'packed-smoke',
    private: true,
    type: 'module',
    dependencies: {
      '@litestream-ts/core': spec('@litestream-ts/core'),
      '@litestream-ts/backend-file': spec('@litestream-ts/backend-file'),
      [cliPackage]: spec(cliPackage),
      'better-sqlite3': '^13.2.0',
      ...extra,
    },
    overrides,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  return { dir, tarballs, cliPackage };
}

/** Among the packages with this bin, the one with the fewest dependencies (the CLI without the extras). */
function smallestProviderOf(bin: string, packed: readonly (readonly [WorkspacePackage, string])[]): string {
  const providers = packed
    .map(([pkg]) => JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8')) as PackedManifest)
    .filter((manifest) => typeof manifest.bin === 'object' && manifest.bin[bin] !== undefined)
    .sort((a, b) => Object.keys(a.dependencies ?? {}).length - Object.keys(b.dependencies ?? {}).length);
  if (providers.length === 0) throw new Error(`no publishable workspace package provides the ${bin} bin`);
  return providers[0]!.name;
}
