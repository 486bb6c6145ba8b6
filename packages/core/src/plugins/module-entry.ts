import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exports as resolveExports, legacy } from 'resolve.exports';
import { nodeModulesChain } from './package-search.ts';

/** The file a plugin module name leads to, or why there is none. */
export type EntryResult = { readonly file: string; readonly packageName?: string } | { readonly problem: string };

interface PackageJson {
  name?: string;
  exports?: unknown;
  main?: string;
  module?: string;
}

/** Whether a plugin name is a path (`./x`, `../x`, `/x`, `C:\x`, `file:` URL) rather than a package name. */
export function isPathName(name: string): boolean {
  return name.startsWith('.') || isAbsolute(name) || name.startsWith('file:');
}

/**
 * The plugin module of the package in `dir`: its `./plugin` export when it has one, else its
 * main entry (`exports["."]`, `main`, `index.js`), as Node would resolve them for `import`.
 * `subpath` (`./x`) asks for that export instead.
 */
export function packageEntry(dir: string, subpath?: string): EntryResult {
  let pkg: PackageJson;
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch (cause) {
    return { problem: `cannot read ${join(dir, 'package.json')}: ${cause instanceof Error ? cause.message : String(cause)}` };
  }
  const name = pkg.name ?? dir;
  const target = subpath ?? (hasExport(pkg, './plugin') ? './plugin' : '.');
  let relative: string | undefined;
  if (pkg.exports !== undefined) {
    try {
      relative = (resolveExports(pkg, target, { conditions: ['node', 'import'] }) as string[] | undefined)?.[0];
    } catch (cause) {
      return { problem: `${name} does not export "${target}" (${cause instanceof Error ? cause.message : String(cause)})` };
    }
  } else if (target === '.') {
    relative = legacy(pkg, { browser: false, fields: ['main'] }) || 'index.js';
  } else {
    relative = target;
  }
  if (!relative) return { problem: `${name} does not export "${target}"` };
  const file = resolve(dir, relative);
  if (!existsSync(file)) return { problem: `${name}'s "${target}" entry ${file} does not exist (is the package built?)` };
  return { file, ...(pkg.name ? { packageName: pkg.name } : {}) };
}

/**
 * Where a plugin named in a config or `LITESTREAM_PLUGINS` lives: a path (a module file, or a
 * package directory) resolved from `base`, or a package name (optionally with a subpath:
 * `pkg/plugin`) looked up in the `node_modules` directories from `base`, then from `roots`.
 */
export function namedEntry(name: string, base: string, roots: readonly string[]): EntryResult {
  if (isPathName(name)) {
    const path = name.startsWith('file:') ? fileURLToPath(name) : resolve(base, name);
    if (!existsSync(path)) return { problem: `${path} does not exist` };
    if (statSync(path).isDirectory()) {
      if (!existsSync(join(path, 'package.json'))) return { problem: `${path} is a directory without a package.json` };
      return packageEntry(path);
    }
    return { file: path };
  }
  const match = /^((?:@[^/]+\/)?[^/@][^/]*)(\/.+)?$/.exec(name);
  if (!match) return { problem: 'not a package name or a path (paths start with ./, ../ or /)' };
  const [, packageName, subpath] = match;
  for (const root of [base, ...roots]) {
    for (const modules of nodeModulesChain(root)) {
      const dir = join(modules, packageName!);
      if (existsSync(join(dir, 'package.json'))) return packageEntry(dir, subpath ? `.${subpath}` : undefined);
    }
  }
  return { problem: `package ${packageName} is not installed (looked in node_modules from ${[base, ...roots].join(', ')}): npm install ${packageName}` };
}

function hasExport(pkg: PackageJson, subpath: string): boolean {
  if (pkg.exports === undefined) return false;
  try {
    return (resolveExports(pkg, subpath, { conditions: ['node', 'import'] }) as string[] | undefined) !== undefined;
  } catch {
    return false;
  }
}
