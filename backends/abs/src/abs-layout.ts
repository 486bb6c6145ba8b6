import { posix } from 'node:path';
import { KeyLayout, UsageError, ltxLevelDirectory } from '@litestream-ts/core';

/**
 * Blob names of a replica, as Litestream v0.5 lays them out in a container:
 * `<path>/ltx/<level>/<min>-<max>.ltx` (level in decimal) and small objects at `<path>/<name>`.
 * Paths with `..` are refused rather than cleaned (see `cleanBlobPath`).
 */
export class AbsLayout extends KeyLayout {
  constructor(path: string) {
    super(cleanBlobPath(path), ltxLevelDirectory);
  }
}

/** Cleans a path like Go's `path.Clean` and strips slashes at both ends; `..` above the root is refused. */
export function cleanBlobPath(path: string): string {
  if (path === '' || /^\/*$/.test(path)) return '';
  const cleaned = posix.normalize(`/${path}`).replace(/^\/+|\/+$/g, '');
  if (path.split('/').includes('..')) throw new UsageError(`abs path ${JSON.stringify(path)} must not contain ".."`);
  return cleaned === '.' ? '' : cleaned;
}
