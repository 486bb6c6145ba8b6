import { ltxFilename, parseLtxFilename, type LtxFileRef, type TXID, formatTXID, isObjectName } from '@litestream-ts/core';

/** Small objects (leases) live directly under the replica path; the contract allows these names. */

/**
 * Where things live in the bucket, as Litestream v0.5 lays out S3 replicas:
 * `<path>/<level as 4 hex digits>/<minTXID>-<maxTXID>.ltx` (`db/0009/0000000000000001-00000000000000ff.ltx`)
 * and small objects at `<path>/<name>`. An empty path is the bucket root.
 */
export class S3KeyLayout {
  /** The replica path without leading or trailing slashes; '' for the bucket root. */
  readonly path: string;
  /** `<path>/`, or '' at the bucket root. */
  readonly root: string;

  constructor(path: string) {
    this.path = normalizePath(path);
    this.root = this.path === '' ? '' : `${this.path}/`;
  }

  /** `<path>/<level hex>/`: the prefix one level's files share. */
  levelPrefix(level: number): string {
    return `${this.root}${level.toString(16).padStart(4, '0')}/`;
  }

  /** The key of an LTX file. */
  ltxKey(ref: LtxFileRef): string {
    return `${this.levelPrefix(ref.level)}${ltxFilename(ref)}`;
  }

  /** The key of a small object such as `lock.json`. */
  objectKey(name: string): string {
    return `${this.root}${name}`;
  }

  /**
   * ListObjectsV2 `StartAfter` for a seek: keys sort as their fixed-width lower-case hex, so
   * every file with minTXID ≥ seek sorts after `<seek>-` and every earlier one before it.
   */
  seekStartAfter(level: number, seek: TXID): string | undefined {
    return seek <= 1 ? undefined : `${this.levelPrefix(level)}${formatTXID(seek)}-`;
  }

  /** The TXID range of a key directly under a level prefix; undefined for any other key. */
  parseLtxKey(level: number, key: string): { minTXID: TXID; maxTXID: TXID } | undefined {
    const prefix = this.levelPrefix(level);
    if (!key.startsWith(prefix)) return undefined;
    const name = key.slice(prefix.length);
    return name.includes('/') ? undefined : parseLtxFilename(name);
  }

  /** Whether a key is a small object this replica owns (directly under the path, a valid object name). */
  isObjectKey(key: string): boolean {
    if (!key.startsWith(this.root)) return false;
    const name = key.slice(this.root.length);
    return isObjectName(name);
  }
}

/** Litestream's cleaning of a URL or config path: no leading, trailing or doubled slashes, no `.` segments. */
export function normalizePath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return segments.join('/');
}
