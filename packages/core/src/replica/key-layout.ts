import { formatLtxFilename, formatTXID, parseLtxFilename, type TXID } from '../ltx/txid.ts';
import { isObjectName, type LtxFileRef } from './replica-client.ts';

/**
 * Where a replica's files live in a flat key space (object stores): LTX files at
 * `<path>/<level directory>/<min>-<max>.ltx` and small objects (leases) at `<path>/<name>`.
 * Stores differ only in how a level's directory is written: `ltx/<level>` for most, the level
 * as 4 hex digits for S3 (Litestream v0.5's layouts).
 */
export class KeyLayout {
  /** The replica path without leading or trailing slashes; '' for the store's root. */
  readonly path: string;
  /** `<path>/`, or '' at the root. */
  readonly root: string;
  private readonly levelDirectory: (level: number) => string;

  constructor(path: string, levelDirectory: (level: number) => string = ltxLevelDirectory) {
    this.path = normalizeReplicaPath(path);
    this.root = this.path === '' ? '' : `${this.path}/`;
    this.levelDirectory = levelDirectory;
  }

  /** The prefix one level's files share, ending in `/`. */
  levelPrefix(level: number): string {
    return `${this.root}${this.levelDirectory(level)}/`;
  }

  /** The key of an LTX file. */
  ltxKey(ref: LtxFileRef): string {
    return `${this.levelPrefix(ref.level)}${formatLtxFilename(ref.minTXID, ref.maxTXID)}`;
  }

  /** The key of a small object such as `lock.json`. */
  objectKey(name: string): string {
    return `${this.root}${name}`;
  }

  /**
   * Keys sort as their fixed-width lower-case hex, so every file of `level` with minTXID ≥ seek
   * sorts at or after this key and every earlier one before it.
   */
  seekKey(level: number, seek: TXID): string {
    return `${this.levelPrefix(level)}${formatTXID(seek)}`;
  }

  /** The TXID range of a key directly under a level prefix; undefined for any other key. */
  parseLtxKey(level: number, key: string): { minTXID: TXID; maxTXID: TXID } | undefined {
    const prefix = this.levelPrefix(level);
    if (!key.startsWith(prefix)) return undefined;
    const name = key.slice(prefix.length);
    return name.includes('/') ? undefined : parseLtxFilename(name);
  }

  /** Whether a key is one of the replica's small objects (directly under the path, a valid name). */
  isObjectKey(key: string): boolean {
    return key.startsWith(this.root) && isObjectName(key.slice(this.root.length));
  }
}

/** `ltx/<level>`, the level directory of the file, GCS, Azure, NATS and SFTP replicas. */
export function ltxLevelDirectory(level: number): string {
  return `ltx/${level}`;
}

/** Litestream's cleaning of a replica path: no leading, trailing or doubled slashes, no `.` segments. */
export function normalizeReplicaPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return segments.join('/');
}
