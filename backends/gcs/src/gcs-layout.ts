import { formatTXID, ltxFilename, parseLtxFilename, type LtxFileRef, type TXID, isObjectName } from '@litestream-ts/core';

// Small objects (leases) live directly under the replica path; the contract allows these names.

/**
 * Where things live in the bucket, as Litestream v0.5 lays out GCS replicas:
 * `<path>/ltx/<level>/<minTXID>-<maxTXID>.ltx` (level in decimal) and small objects at
 * `<path>/<name>`. An empty path is the bucket root.
 */
export class GcsLayout {
  /** The replica path without leading or trailing slashes; '' for the bucket root. */
  readonly path: string;
  /** `<path>/`, or '' at the bucket root. */
  readonly root: string;

  constructor(path: string) {
    this.path = normalizePath(path);
    this.root = this.path === '' ? '' : `${this.path}/`;
  }

  /** `<path>/ltx/`: every level's files share it. */
  get ltxRoot(): string {
    return `${this.root}ltx/`;
  }

  /** `<path>/ltx/<level>/`. */
  levelPrefix(level: number): string {
    return `${this.ltxRoot}${level}/`;
  }

  ltxKey(ref: LtxFileRef): string {
    return `${this.levelPrefix(ref.level)}${ltxFilename(ref)}`;
  }

  objectKey(name: string): string {
    return `${this.root}${name}`;
  }

  /**
   * The listing `startOffset` for a seek: names are fixed-width lower-case hex, so every file
   * with minTXID ≥ seek sorts at or after `<level prefix><seek>`.
   */
  seekOffset(level: number, seek: TXID): string {
    return `${this.levelPrefix(level)}${formatTXID(seek)}`;
  }

  /** The TXID range of a name directly under a level prefix; undefined for anything else. */
  parseLtxKey(level: number, key: string): { minTXID: TXID; maxTXID: TXID } | undefined {
    const prefix = this.levelPrefix(level);
    if (!key.startsWith(prefix)) return undefined;
    const name = key.slice(prefix.length);
    return name.includes('/') ? undefined : parseLtxFilename(name);
  }

  /** Whether a name is a small object this replica owns (directly under the path). */
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
