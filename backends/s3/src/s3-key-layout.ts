import { KeyLayout, normalizeReplicaPath, type TXID } from '@litestream-ts/core';

/** Litestream's cleaning of a URL or config path (shared with every backend, from core). */
export const normalizePath = normalizeReplicaPath;

/**
 * Where things live in the bucket, as Litestream v0.5 lays out S3 replicas:
 * `<path>/<level as 4 hex digits>/<minTXID>-<maxTXID>.ltx` (`db/0009/0000000000000001-00000000000000ff.ltx`)
 * and small objects at `<path>/<name>`. An empty path is the bucket root.
 */
export class S3KeyLayout extends KeyLayout {
  constructor(path: string) {
    super(path, (level) => level.toString(16).padStart(4, '0'));
  }

  /** ListObjectsV2 `StartAfter` for a seek: just before `<seek>-`, so files from seek on follow. */
  seekStartAfter(level: number, seek: TXID): string | undefined {
    return seek <= 1 ? undefined : `${this.seekKey(level, seek)}-`;
  }
}
