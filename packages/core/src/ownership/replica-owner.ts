import { hostname } from 'node:os';
import { silentLogger, type Logger } from '../engine/logger.ts';
import { isLitestreamError, LitestreamError } from '../ltx/errors.ts';
import { PreconditionFailedError, type ReplicaClient, type StoredObject } from '../replica/replica-client.ts';
import { loadIdentity, saveIdentity, type DatabaseIdentity } from './database-identity.ts';

/** The owner marker's object name, beside the replica's `ltx/` files and its lease. */
export const OWNER_OBJECT = 'owner.json';

/** What the owner marker says: which database writes this replica. */
export interface ReplicaOwnerRecord {
  /** Absolute path of the database file. */
  readonly database: string;
  readonly hostname: string;
  /** The database's identity (see `DatabaseIdentity`). */
  readonly id: string;
  /** RFC 3339 time the marker was written. */
  readonly claimed_at: string;
}

/** The replica belongs to another database: replicating there would overwrite its backup. */
export class ReplicaOwnedError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_REPLICA_OWNED';
  /** The database that was refused. */
  readonly database: string;
  /** The marker of the database that owns the replica. */
  readonly owner: ReplicaOwnerRecord;
  constructor(database: string, owner: ReplicaOwnerRecord) {
    super(
      `refusing to replicate ${database}: its replica belongs to database ${owner.database} on host ${owner.hostname} ` +
        `(${OWNER_OBJECT} in the replica, written ${owner.claimed_at}), whose backup this would overwrite. ` +
        `Give ${database} a replica path of its own; or, if it is that same database moved or restored here, ` +
        `take the replica over once with "litestream reset --claim ${database}"`,
    );
    this.database = database;
    this.owner = owner;
  }
}

/** What `claimReplica` found and did, for the caller's log. */
export type ClaimOutcome =
  /** The marker already named this database. */
  | 'owned'
  /** No marker (a new replica, or one written by Litestream or an older version): written now. */
  | 'adopted'
  /** The marker named this database's path and host but another identity: its meta directory was reset or restored. */
  | 'readopted'
  /** A claim was requested (`reset --claim`, restore at start-up): the marker was replaced. */
  | 'taken-over';

/**
 * Makes sure a replica belongs to the database about to replicate into it, through the owner
 * marker (`owner.json`) the replica holds:
 *
 * - no marker: this database adopts the replica and writes one (replicas written by Litestream
 *   have none; the marker is an extra object that no reader needs);
 * - a marker with this database's identity: nothing to do (the path and host in it are
 *   brought up to date when the database was moved together with its meta directory);
 * - a marker with another identity: refused with `ReplicaOwnedError`, unless a claim was
 *   requested for this database (`requestReplicaClaim`), or this database has no stored
 *   identity yet and the marker names its own path on this host (its meta directory was
 *   removed, as `litestream reset` and Litestream's recovery steps do).
 *
 * The identity is stored in the meta directory only once the replica accepted it.
 */
export async function claimReplica(
  client: ReplicaClient,
  options: { readonly database: string; readonly metaPath: string; readonly logger?: Logger; readonly signal?: AbortSignal },
): Promise<ClaimOutcome> {
  const signal = options.signal;
  const logger = options.logger ?? silentLogger;
  const identity = await loadIdentity(options.metaPath);
  const mine: ReplicaOwnerRecord = { database: options.database, hostname: hostname(), id: identity.id, claimed_at: new Date().toISOString() };
  // One retry: a concurrent first claim by another database is seen on the second reading.
  for (let attempt = 0; ; attempt++) {
    const current = await client.readObject(OWNER_OBJECT, { signal });
    const owner = current && parseOwner(current.data);
    if (current && !owner) logger.warn('replica owner marker is unreadable; replacing it', { object: OWNER_OBJECT });
    const outcome = decide(identity, mine, owner);
    if (outcome === 'refused') throw new ReplicaOwnedError(options.database, owner!);
    try {
      if (outcome !== 'owned' || owner!.database !== mine.database || owner!.hostname !== mine.hostname) await write(client, mine, current, signal);
    } catch (err) {
      if (isLitestreamError(err, PreconditionFailedError.errorCode) && attempt === 0) continue;
      throw err;
    }
    if (identity.fresh || identity.claim) await saveIdentity(options.metaPath, { id: identity.id });
    if (outcome === 'taken-over') logger.warn('replica taken over', { previousOwner: owner!.database, previousHost: owner!.hostname });
    else if (outcome === 'readopted') logger.info('replica re-adopted after the local state was reset', { database: options.database });
    return outcome;
  }
}

function decide(identity: DatabaseIdentity, mine: ReplicaOwnerRecord, owner: ReplicaOwnerRecord | undefined): ClaimOutcome | 'refused' {
  if (!owner) return 'adopted';
  if (owner.id === mine.id) return 'owned';
  const samePlace = owner.database === mine.database && owner.hostname === mine.hostname;
  if ((identity.fresh || identity.claim) && samePlace) return 'readopted';
  if (identity.claim) return 'taken-over';
  return 'refused';
}

/** Writes the marker: created only if still absent, replaced only if unchanged, where the store can tell. */
async function write(client: ReplicaClient, record: ReplicaOwnerRecord, current: StoredObject | undefined, signal: AbortSignal | undefined): Promise<void> {
  const data = new TextEncoder().encode(`${JSON.stringify(record)}\n`);
  if (!client.capabilities.conditionalWrite) await client.writeObject(OWNER_OBJECT, data, undefined, { signal });
  else await client.writeObject(OWNER_OBJECT, data, current ? { ifMatch: current.etag } : { ifNoneMatch: '*' }, { signal });
}

/** Reads the owner marker of a replica, if it has a readable one. */
export async function readReplicaOwner(client: ReplicaClient): Promise<ReplicaOwnerRecord | undefined> {
  const current = await client.readObject(OWNER_OBJECT);
  return current && parseOwner(current.data);
}

function parseOwner(data: Uint8Array): ReplicaOwnerRecord | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Partial<ReplicaOwnerRecord> | null;
    if (value && typeof value.database === 'string' && typeof value.hostname === 'string' && typeof value.id === 'string' && value.id !== '') {
      return { database: value.database, hostname: value.hostname, id: value.id, claimed_at: typeof value.claimed_at === 'string' ? value.claimed_at : 'at an unknown time' };
    }
  } catch {
    // Not JSON: treated as no marker (and replaced), with a warning.
  }
  return undefined;
}
