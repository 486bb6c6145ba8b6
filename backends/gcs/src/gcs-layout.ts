import { KeyLayout, ltxLevelDirectory, normalizeReplicaPath, type TXID } from '@litestream-ts/core';

/** Litestream's cleaning of a URL or config path (shared with every backend, from core). */
export const normalizePath = normalizeReplicaPath;

/**
 * Where things live in the bucket, as Litestream v0.5 lays out GCS replicas:
 * `<path>/ltx/<level>/<minTXID>-<maxTXID>.ltx` (level in decimal) and small objects at
 * `<path>/<name>`. An empty path is the bucket root.
 */
export class GcsLayout extends KeyLayout {
  constructor(path: string) {
    super(path, ltxLevelDirectory);
  }

  /** `<path>/ltx/`: every level's files share it. */
  get ltxRoot(): string {
    return `${this.root}ltx/`;
  }

  /** The listing `startOffset` for a seek (every file with minTXID ≥ seek sorts at or after it). */
  seekOffset(level: number, seek: TXID): string {
    return this.seekKey(level, seek);
  }
}
