import { UsageError, compareReplicaLocations, redactURL, type BackendRegistry, type ReplicaLocation } from '@litestream-ts/core';
import type { Node } from 'yaml';
import type { ConfigSource } from './config-source.ts';
import type { DatabaseConfig } from './types.ts';

/** A database entry as read, with where it stands in the file. */
export interface PlacedDatabase {
  /** The database (or, for a `dir` entry, the directory) and its replica. */
  readonly db: Pick<DatabaseConfig, 'path' | 'replica'>;
  /** A `dir` entry: its replica holds the replicas of every database found below it. */
  readonly directory?: boolean;
  /** Key path of its replica, such as `dbs[1].replica`. */
  readonly replicaPath: string;
  /** The node to point at (the replica's location setting, or the entry). */
  readonly node: Node | null | undefined;
}

/**
 * Refuses two databases whose replicas are the same place, or one inside the other, however
 * they are spelled (`file:///a/b/` and `/a/b`, `s3://bkt/x` and `bucket: bkt` + `path: x/`).
 *
 * The same place: both would write the same TXIDs, and a restore would return whichever wrote
 * last, so one backup is lost. One inside the other: the files do not mix (each replica reads
 * only its own level directories), but whatever clears a replica — `deleteAll`, Litestream's
 * recovery steps (`aws s3 rm --recursive` of the replica path), a lifecycle rule on its prefix —
 * would take the inner replica with it. So nesting is refused too.
 */
export function checkReplicaOverlap(source: ConfigSource, registry: BackendRegistry, placed: readonly PlacedDatabase[]): void {
  const located: Array<{ entry: PlacedDatabase; location: ReplicaLocation }> = [];
  for (const entry of placed) {
    let location: ReplicaLocation | undefined;
    try {
      location = registry.locate(entry.db.replica.settings);
    } catch (cause) {
      // Checked when the entry was read; a backend that cannot tell is left out of the comparison.
      if (!(cause instanceof UsageError)) throw cause;
    }
    if (location === undefined) continue;
    for (const earlier of located) {
      const relation = compareReplicaLocations(earlier.location, location);
      if (relation === undefined) continue;
      const here = `${entry.directory ? 'directory ' : ''}${entry.db.path} (${describe(entry.db)})`;
      const there = `${earlier.entry.directory ? 'directory ' : ''}${earlier.entry.db.path} (${earlier.entry.replicaPath}: ${describe(earlier.entry.db)})`;
      const detail =
        entry.directory || earlier.entry.directory
          ? `the replica of ${here} and the replica of ${there} ${relation === 'same' ? 'are the same place' : 'lie one inside the other'}; a directory's replica ` +
            'holds the replicas of every database found below the directory (each at its relative path), so the two could write the same files, and ' +
            'whatever clears one would delete the other. Give each entry a replica path of its own, side by side (for example …/tenants and …/app)'
          : relation === 'same'
            ? `database ${here} would replicate to the same place as ${there}; both would write the same files and a restore of either would return ` +
              'whichever wrote last, so one backup would be lost. Give each database a replica path of its own'
            : `the replica of ${here} and the replica of ${there} lie one inside the other; whatever clears one replica (everything under its path) ` +
              'would delete the other. Give each database a replica path of its own, side by side (for example …/app and …/queue)';
      throw source.error(entry.node, entry.replicaPath, detail);
    }
    located.push({ entry, location });
  }
}

/** The replica as written: its URL, or its type with bucket and path. */
function describe(db: Pick<DatabaseConfig, 'replica'>): string {
  if (db.replica.url !== undefined) return redactURL(db.replica.url);
  const { bucket, path } = db.replica.settings;
  const parts = [typeof bucket === 'string' ? `bucket ${bucket}` : '', typeof path === 'string' ? `path ${path}` : ''].filter((p) => p !== '');
  return `${db.replica.type}${parts.length > 0 ? ` ${parts.join(', ')}` : ''}`;
}
