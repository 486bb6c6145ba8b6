import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from '../io/durable.ts';
import { formatTXID, parseTXID, type TXID } from '../ltx/txid.ts';

/** Who found a damaged replica file. */
export type CorruptionFinder = 'compaction' | 'snapshot' | 'validation';

/** One replica file found corrupt, as recorded and reported by `status`. */
export interface CorruptFileRecord {
  /** Its key or path in the store. */
  readonly file: string;
  readonly level: number;
  readonly minTXID: TXID;
  readonly maxTXID: TXID;
  /** What failed: `file checksum`, `pre-apply checksum`, `page structure`, … */
  readonly check: string;
  readonly detectedBy: CorruptionFinder;
  readonly detectedAt: Date;
  readonly error: string;
  /**
   * Only its chain is broken (it verifies, but does not continue from the file before it):
   * it is superseded by the repair, not deleted.
   */
  readonly chainOnly?: boolean;
}

/**
 * The replica's health as the replicating process last recorded it in `<meta>/replica-health.json`:
 * absent while nothing was found. Unhealthy from the moment a corrupt file is confirmed until
 * the full image that repairs it is uploaded (`repairTXID`); the record is removed once the
 * corrupt files are deleted.
 */
export interface ReplicaHealthRecord {
  readonly healthy: boolean;
  readonly files: readonly CorruptFileRecord[];
  /** TXID of the full image that repaired the replica, once uploaded. */
  readonly repairTXID?: TXID;
  readonly repairedAt?: Date;
}

/** Where the health record of a database lives. */
export function replicaHealthPath(metaPath: string): string {
  return join(metaPath, 'replica-health.json');
}

/** Reads the health record; undefined when there is none (or it is unreadable, which a write replaces). */
export async function readReplicaHealth(metaPath: string): Promise<ReplicaHealthRecord | undefined> {
  let text: string;
  try {
    text = await readFile(replicaHealthPath(metaPath), 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const raw = JSON.parse(text) as { files?: unknown; repairTXID?: unknown; repairedAt?: unknown };
    const files = Array.isArray(raw.files) ? raw.files.map(parseFile) : [];
    if (files.length === 0) return undefined;
    const repairTXID = typeof raw.repairTXID === 'string' ? parseTXID(raw.repairTXID) : undefined;
    return {
      healthy: repairTXID !== undefined,
      files,
      ...(repairTXID !== undefined ? { repairTXID } : {}),
      ...(typeof raw.repairedAt === 'string' ? { repairedAt: new Date(raw.repairedAt) } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Writes (or, with no files, removes) the health record, replacing it whole. */
export async function writeReplicaHealth(metaPath: string, record: Omit<ReplicaHealthRecord, 'healthy'>): Promise<void> {
  const path = replicaHealthPath(metaPath);
  if (record.files.length === 0) {
    await rm(path, { force: true });
    return;
  }
  const text = JSON.stringify(
    {
      healthy: record.repairTXID !== undefined,
      files: record.files.map((f) => ({ ...f, minTXID: formatTXID(f.minTXID), maxTXID: formatTXID(f.maxTXID), detectedAt: f.detectedAt.toISOString() })),
      ...(record.repairTXID !== undefined ? { repairTXID: formatTXID(record.repairTXID) } : {}),
      ...(record.repairedAt ? { repairedAt: record.repairedAt.toISOString() } : {}),
    },
    null,
    2,
  );
  await mkdir(metaPath, { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${text}\n`);
  await rename(temp, path);
}

function parseFile(value: unknown): CorruptFileRecord {
  const r = value as Record<string, unknown>;
  const detectedBy = r.detectedBy;
  if (typeof r.file !== 'string' || typeof r.level !== 'number' || typeof r.check !== 'string' || typeof r.error !== 'string') throw new Error('bad record');
  if (detectedBy !== 'compaction' && detectedBy !== 'snapshot' && detectedBy !== 'validation') throw new Error('bad record');
  return {
    file: r.file,
    level: r.level,
    minTXID: parseTXID(String(r.minTXID)),
    maxTXID: parseTXID(String(r.maxTXID)),
    check: r.check,
    detectedBy,
    detectedAt: new Date(String(r.detectedAt)),
    error: r.error,
    ...(r.chainOnly === true ? { chainOnly: true } : {}),
  };
}
