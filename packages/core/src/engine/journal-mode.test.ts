import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { makeRollbackJournalDatabase } from '../test-support/rollback-journal-db.ts';
import { DB } from './db.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-journal-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));


describe('journal mode', () => {
  it('says so, naming the database, when it switches a rollback-journal database to WAL', async () => {
    const path = join(dir, 'journal.db');
    makeRollbackJournalDatabase(path);
    const logger = new RecordingLogger();
    const db = new DB(path, { logger });
    await db.open();
    await db.close();
    const warnings = logger.at('warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/switched to WAL mode/);
    expect(warnings[0]!.fields).toMatchObject({ db: path, from: 'delete' });
  });

  it('says nothing for a database already in WAL mode', async () => {
    const path = join(dir, 'wal.db');
    const conn = new Database(path);
    conn.pragma('journal_mode = wal');
    conn.exec('CREATE TABLE t (x INTEGER)');
    conn.close();
    const logger = new RecordingLogger();
    const db = new DB(path, { logger });
    await db.open();
    await db.close();
    expect(logger.at('warn')).toEqual([]);
  });
});
