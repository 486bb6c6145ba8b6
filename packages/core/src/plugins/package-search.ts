import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** A backend package found in a `node_modules` directory. */
export interface FoundPackage {
  /** Its name, for example `@litestream-ts/backend-s3` or `litestream-backend-foo`. */
  readonly name: string;
  /** Its directory. */
  readonly dir: string;
}

/** Whether a package name is one discovery picks up by itself. */
export function isBackendPackageName(name: string): boolean {
  return /^@litestream-ts\/backend-[^/]+$/.test(name) || /^(@[^/]+\/)?litestream-backend-[^/]+$/.test(name);
}

/** `dir/node_modules`, then its parent's, up to the root: where Node looks for packages from `dir`. */
export function nodeModulesChain(dir: string): string[] {
  const chain: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (basename(current) !== 'node_modules') chain.push(join(current, 'node_modules'));
    if (dirname(current) === current) return chain;
  }
}

/**
 * The backend packages (`@litestream-ts/backend-*`, `litestream-backend-*`,
 * `@scope/litestream-backend-*`) installed in the `node_modules` directories Node would search
 * from each of `roots`, in that order (nearer first). A name found twice keeps its first place.
 */
export function findBackendPackages(roots: readonly string[]): FoundPackage[] {
  const found = new Map<string, FoundPackage>();
  const seen = new Set<string>();
  for (const root of roots) {
    for (const modules of nodeModulesChain(root)) {
      if (seen.has(modules)) continue;
      seen.add(modules);
      for (const name of backendNamesIn(modules)) {
        if (!found.has(name)) found.set(name, { name, dir: join(modules, name) });
      }
    }
  }
  return [...found.values()];
}

/** The backend package names in one `node_modules` directory (that hold a package.json). */
function backendNamesIn(modules: string): string[] {
  const names: string[] = [];
  for (const entry of list(modules)) {
    if (entry.startsWith('@')) {
      for (const inner of list(join(modules, entry))) names.push(`${entry}/${inner}`);
    } else {
      names.push(entry);
    }
  }
  return names.filter((name) => isBackendPackageName(name) && existsSync(join(modules, name, 'package.json'))).sort();
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
