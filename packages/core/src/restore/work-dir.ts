import { randomBytes } from 'node:crypto';
import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { asLocalWriteError } from '../io/local-write-error.ts';
import { currentProcess, type ProcessIdentity } from './process-identity.ts';

/** The file in a work directory that says which process made it, for what output. */
export const OWNER_FILE = 'owner.json';
/** A live restore touches its owner file this often, so restores on other hosts can tell it runs. */
export const HEARTBEAT_MS = 10_000;

/** What the owner file of a work directory records. */
export interface WorkDirOwner extends ProcessIdentity {
  /** Absolute path of the database the restore writes. */
  readonly output: string;
  /** When the restore started (ISO 8601). */
  readonly startedAt: string;
}

/** Work directories of this process's restores that are still running (see `isActiveWorkDir`). */
const active = new Set<string>();

/**
 * Matches the names of the work directories of restores of `output`, in its directory:
 * `.<name>.restore-<pid>-<12 hex digits>`; the first group is the pid.
 */
export function workDirPattern(output: string): RegExp {
  const name = basename(output).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${name}\\.restore-(\\d+)-[0-9a-f]{12}$`);
}

/** True while a restore of this process uses `path` as its work directory. */
export function isActiveWorkDir(path: string): boolean {
  return active.has(path);
}

/**
 * The hidden directory beside the output where one restore keeps everything it writes before
 * the result is published: the partial database and the files downloaded ahead. It is named
 * after the output and this process (`.<name>.restore-<pid>-<random>`) and holds an owner file
 * (pid, host, boot id, start time, output), so a later restore of the same output can tell a
 * leftover of a killed restore from the work of one still running, and never touches anything
 * else. Being beside the output keeps it on the output's file system, so publishing is a rename.
 */
export class RestoreWorkDir {
  /** The directory. */
  readonly path: string;
  /** The database being built, published to the output at the end. */
  readonly databasePath: string;
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(path: string) {
    this.path = path;
    this.databasePath = join(path, 'partial.db');
  }

  /** Creates the directory and its owner file (throws `LocalWriteError` naming the path on failure). */
  static async create(output: string): Promise<RestoreWorkDir> {
    const path = join(dirname(output), `.${basename(output)}.restore-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(path);
    } catch (error) {
      throw asLocalWriteError(error, path, `create the restore's work directory for ${output}`);
    }
    const dir = new RestoreWorkDir(path);
    active.add(path);
    const owner: WorkDirOwner = { ...currentProcess(), output, startedAt: new Date().toISOString() };
    const ownerFile = join(path, OWNER_FILE);
    try {
      await writeFile(ownerFile, `${JSON.stringify(owner)}\n`);
    } catch (error) {
      await dir.remove();
      throw asLocalWriteError(error, ownerFile, `write the owner file of the restore of ${output}`);
    }
    dir.heartbeat = setInterval(() => {
      const now = new Date();
      utimes(ownerFile, now, now).catch(() => {});
    }, HEARTBEAT_MS);
    dir.heartbeat.unref();
    return dir;
  }

  /** Removes the directory and everything in it. */
  async remove(): Promise<void> {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await rm(this.path, { recursive: true, force: true });
    active.delete(this.path);
  }
}
