import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from '../io/durable.ts';

/** The identity file's name in the meta directory. */
export const IDENTITY_FILE = 'identity.json';

/**
 * Who a database is to its replica: a random id kept in its meta directory, so a database
 * keeps its identity when it is renamed or its host is, and two databases never share one.
 */
export interface DatabaseIdentity {
  readonly id: string;
  /** No identity was stored yet: made up now, stored once the replica accepted it. */
  readonly fresh: boolean;
  /** Take the replica over at the next start, whoever owns it (`litestream reset --claim`). */
  readonly claim: boolean;
}

interface StoredIdentity {
  readonly id: string;
  readonly claim?: boolean;
}

/** The stored identity, or a new one (not stored yet) when there is none or it is unreadable. */
export async function loadIdentity(metaPath: string): Promise<DatabaseIdentity> {
  let text: string;
  try {
    text = await readFile(join(metaPath, IDENTITY_FILE), 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return { id: randomUUID(), fresh: true, claim: false };
    throw err;
  }
  const stored = parseIdentity(text);
  return stored ? { id: stored.id, fresh: false, claim: stored.claim === true } : { id: randomUUID(), fresh: true, claim: false };
}

/** Stores an identity (atomically), with or without a pending claim. */
export async function saveIdentity(metaPath: string, identity: { readonly id: string; readonly claim?: boolean }): Promise<void> {
  await mkdir(metaPath, { recursive: true });
  const path = join(metaPath, IDENTITY_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  const stored: StoredIdentity = identity.claim ? { id: identity.id, claim: true } : { id: identity.id };
  await writeFile(temporary, `${JSON.stringify(stored)}\n`);
  await rename(temporary, path);
}

/**
 * Marks a database so that its next start takes its replica over even when the replica's owner
 * marker names another database: for a database moved or restored to another path or host
 * that should continue the same backup. Keeps the database's identity if it has one.
 */
export async function requestReplicaClaim(metaPath: string): Promise<void> {
  const identity = await loadIdentity(metaPath);
  await saveIdentity(metaPath, { id: identity.id, claim: true });
}

function parseIdentity(text: string): StoredIdentity | undefined {
  try {
    const value = JSON.parse(text) as Partial<StoredIdentity> | null;
    if (value && typeof value.id === 'string' && value.id !== '') return { id: value.id, claim: value.claim === true };
  } catch {
    // Unreadable: a new identity replaces it.
  }
  return undefined;
}
