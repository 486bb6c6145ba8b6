/**
 * What a Litestream v0.3 replica holds, read from its object listing. v0.3 wrote, under the
 * replica path, one directory per generation (16 hex digits, a new one whenever its WAL
 * history broke): `generations/<id>/snapshots/<index>.snapshot.lz4`, a whole database image
 * taken at WAL index `<index>` (8 hex digits), and `generations/<id>/wal/<index>_<offset>.wal.lz4`,
 * the bytes of WAL index `<index>` starting at byte `<offset>` (8 to 16 hex digits), both LZ4
 * frames. Times are the objects' modification times, as v0.3 itself used them.
 */
import type { ReplicaClient } from '../../replica/replica-client.ts';

/** One v0.3 snapshot object. */
export interface V03Snapshot {
  readonly generation: string;
  /** WAL index the snapshot was taken at. */
  readonly index: number;
  /** Path below the replica path. */
  readonly path: string;
  readonly size: number;
  readonly createdAt: Date;
}

/** One v0.3 WAL segment object. */
export interface V03WalSegment {
  readonly generation: string;
  readonly index: number;
  /** Byte offset in the (decompressed) WAL index where the segment's bytes start. */
  readonly offset: number;
  readonly path: string;
  readonly size: number;
  readonly createdAt: Date;
}

/** One generation: its snapshots by index, its WAL segments by index then offset. */
export interface V03Generation {
  readonly id: string;
  readonly snapshots: readonly V03Snapshot[];
  readonly segments: readonly V03WalSegment[];
}

/** Every v0.3 generation of a replica, by ID (empty when there are none). */
export interface V03Catalog {
  readonly generations: readonly V03Generation[];
}

/** The directory, below the replica path, that holds v0.3 generations. */
export const V03_GENERATIONS_DIR = 'generations';

const SNAPSHOT = /^generations\/([0-9a-f]{16})\/snapshots\/([0-9a-f]{8})\.snapshot\.lz4$/;
const SEGMENT = /^generations\/([0-9a-f]{16})\/wal\/([0-9a-f]{8})_([0-9a-f]{8,16})\.wal\.lz4$/;
// v0.3 parsed indexes as signed 32-bit numbers.
const MAX_INDEX = 0x7fffffff;

/** `generations/<id>/snapshots/<index>.snapshot.lz4` */
export function v03SnapshotPath(generation: string, index: number): string {
  return `${V03_GENERATIONS_DIR}/${generation}/snapshots/${hex(index, 8)}.snapshot.lz4`;
}

/** `generations/<id>/wal/<index>_<offset>.wal.lz4`, as v0.3.13 named them (8 hex digits each). */
export function v03SegmentPath(generation: string, index: number, offset: number): string {
  return `${V03_GENERATIONS_DIR}/${generation}/wal/${hex(index, 8)}_${hex(offset, 8)}.wal.lz4`;
}

/**
 * Lists a replica's v0.3 generations. Empty for a backend that cannot read objects by path
 * (`capabilities.rawObjectReads`; NATS, which v0.3 never wrote to). Objects under
 * `generations/` whose names v0.3 never wrote (temp files, other tools' files) are ignored.
 */
export async function readV03Catalog(client: ReplicaClient): Promise<V03Catalog> {
  if (client.capabilities.rawObjectReads !== true) return { generations: [] };
  const snapshots = new Map<string, V03Snapshot[]>();
  const segments = new Map<string, V03WalSegment[]>();
  const add = <T>(map: Map<string, T[]>, id: string, item: T): void => {
    const list = map.get(id);
    if (list) list.push(item);
    else map.set(id, [item]);
  };
  for await (const object of client.listRawObjects(`${V03_GENERATIONS_DIR}/`)) {
    const snapshot = SNAPSHOT.exec(object.path);
    if (snapshot) {
      const index = Number.parseInt(snapshot[2]!, 16);
      if (index <= MAX_INDEX) add(snapshots, snapshot[1]!, { generation: snapshot[1]!, index, path: object.path, size: object.size, createdAt: object.modifiedAt });
      continue;
    }
    const segment = SEGMENT.exec(object.path);
    if (segment) {
      const index = Number.parseInt(segment[2]!, 16);
      const offset = Number.parseInt(segment[3]!, 16);
      if (index <= MAX_INDEX && Number.isSafeInteger(offset)) {
        add(segments, segment[1]!, { generation: segment[1]!, index, offset, path: object.path, size: object.size, createdAt: object.modifiedAt });
      }
    }
  }
  const ids = [...new Set([...snapshots.keys(), ...segments.keys()])].sort();
  return {
    generations: ids.map((id) => ({
      id,
      snapshots: (snapshots.get(id) ?? []).sort((a, b) => a.index - b.index),
      segments: (segments.get(id) ?? []).sort((a, b) => a.index - b.index || a.offset - b.offset),
    })),
  };
}

/** A one-line description of a catalog, for `ltx`, `status` and errors. */
export function describeV03Catalog(catalog: V03Catalog): string {
  const gens = catalog.generations;
  if (gens.length === 0) return 'no Litestream v0.3 generations';
  const snapshots = gens.reduce((n, g) => n + g.snapshots.length, 0);
  const segments = gens.reduce((n, g) => n + g.segments.length, 0);
  const newest = newestV03Object(catalog);
  return (
    `Litestream v0.3 backups: ${gens.length} generation${gens.length === 1 ? '' : 's'}, ${snapshots} snapshot${snapshots === 1 ? '' : 's'}, ` +
    `${segments} WAL segment${segments === 1 ? '' : 's'}${newest ? `, last written ${newest.createdAt.toISOString()} (generation ${newest.generation})` : ''}`
  );
}

/** The most recently written snapshot or WAL segment of any generation. */
export function newestV03Object(catalog: V03Catalog): V03Snapshot | V03WalSegment | undefined {
  let newest: V03Snapshot | V03WalSegment | undefined;
  for (const g of catalog.generations) {
    for (const item of [...g.snapshots, ...g.segments]) if (!newest || item.createdAt > newest.createdAt) newest = item;
  }
  return newest;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
