import { UsageError } from '../ltx/errors.ts';

/**
 * An object under a replica's path that lies outside the LTX layout, such as the
 * `generations/…` tree a Litestream v0.3 replica wrote. Read through
 * `ReplicaClient.listRawObjects` / `openRawObject` on backends declaring `rawObjectReads`.
 */
export interface RawObjectInfo {
  /** Path below the replica path, `/`-separated, no leading slash (`generations/<id>/wal/…`). */
  readonly path: string;
  /** Size in bytes as stored. */
  readonly size: number;
  /** When the store last wrote the object (its modification time; whole seconds on SFTP). */
  readonly modifiedAt: Date;
}

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** True for a relative object path: `/`-separated segments of letters, digits, `.`, `_`, `-`, none only dots. */
export function isRawObjectPath(path: string): boolean {
  return typeof path === 'string' && path !== '' && path.split('/').every((s) => SEGMENT.test(s) && !/^\.+$/.test(s));
}

/** Throws unless `path` is a valid relative object path. */
export function assertRawObjectPath(path: string): void {
  if (!isRawObjectPath(path)) throw new UsageError(`invalid object path ${JSON.stringify(path)}: expected segments of letters, digits, '.', '_', '-' separated by '/'`);
}

/** Throws unless `prefix` is '' (everything) or a valid object path followed by `/` (a directory). */
export function assertRawObjectPrefix(prefix: string): void {
  if (prefix === '') return;
  if (typeof prefix !== 'string' || !prefix.endsWith('/') || !isRawObjectPath(prefix.slice(0, -1))) {
    throw new UsageError(`invalid object prefix ${JSON.stringify(prefix)}: expected '' or a relative directory path ending in '/'`);
  }
}
