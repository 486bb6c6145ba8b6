import { posix } from 'node:path';
import { UsageError, ltxFilename, type LtxFileRef } from '@litestream-ts/core';

/**
 * Blob names of a replica, as Litestream v0.5 lays them out in a container:
 * `<path>/ltx/<level>/<min>-<max>.ltx` (level in decimal) and small objects at `<path>/<name>`.
 */
export class AbsLayout {
  /** The cleaned path inside the container, without leading or trailing `/` ('' at the root). */
  readonly root: string;

  constructor(path: string) {
    this.root = cleanBlobPath(path);
  }

  /** `<root>/ltx/<level>/` (a listing prefix). */
  levelPrefix(level: number): string {
    return `${this.join('ltx')}/${level}/`;
  }

  ltxKey(ref: LtxFileRef): string {
    return this.levelPrefix(ref.level) + ltxFilename(ref);
  }

  objectKey(name: string): string {
    return this.join(name);
  }

  /** Whether a blob directly under the root is one of the replica's small objects (a lease). */
  isObjectKey(key: string): boolean {
    const name = this.root === '' ? key : key.startsWith(`${this.root}/`) ? key.slice(this.root.length + 1) : undefined;
    return name !== undefined && /^[A-Za-z0-9._-]+$/.test(name) && !/^\.+$/.test(name) && !name.endsWith('.ltx');
  }

  private join(name: string): string {
    return this.root === '' ? name : `${this.root}/${name}`;
  }
}

/** Cleans a path like Go's `path.Clean` and strips slashes at both ends; `..` above the root is refused. */
export function cleanBlobPath(path: string): string {
  if (path === '' || /^\/*$/.test(path)) return '';
  const cleaned = posix.normalize(`/${path}`).replace(/^\/+|\/+$/g, '');
  if (path.split('/').includes('..')) throw new UsageError(`abs path ${JSON.stringify(path)} must not contain ".."`);
  return cleaned === '.' ? '' : cleaned;
}
