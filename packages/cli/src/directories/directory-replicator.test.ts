import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger, LogFields } from '@litestream-ts/core';
import { describe, expect, it } from 'vitest';
import { createBackendRegistry } from '../backends.ts';
import type { DatabaseConfig, DirectoryConfig } from '../config/types.ts';
import { DirectoryReplicator, type DirectoryHost } from './directory-replicator.ts';
import { Limiter } from './limiter.ts';

// The replicator's own logic against real files and a stand-in store (the real store and
// real writers are in the e2e tests, src/e2e/directories.test.ts).
const registry = await createBackendRegistry();

/** The first 100 bytes of a SQLite file in WAL mode (versions 2/2) or rollback mode (1/1). */
function sqliteHeader(wal: boolean): Buffer {
  const b = Buffer.alloc(4096);
  b.write('SQLite format 3\0', 0, 'latin1');
  b.writeUInt16BE(4096, 16);
  b[18] = b[19] = wal ? 2 : 1;
  return b;
}

function entry(dir: string, extra: Partial<DirectoryConfig> = {}): DirectoryConfig {
  return {
    dir,
    pattern: '*.db',
    recursive: false,
    watch: false,
    entry: 'dbs[0]',
    monitorInterval: 1000,
    checkpointInterval: 60_000,
    busyTimeout: 1000,
    minCheckpointPageCount: 1000,
    truncatePageN: 0,
    restoreIfDbNotExists: false,
    replica: { type: 'file', syncInterval: 1000, settings: { type: 'file', path: join(dir, '..', 'replica') } },
    ...extra,
  };
}

class FakeHost implements DirectoryHost {
  readonly added: string[] = [];
  readonly released: string[] = [];
  readonly live = new Set<string>();
  active = 0;
  peak = 0;
  private readonly delayMs: number;
  constructor(delayMs = 0) {
    this.delayMs = delayMs;
  }
  async add(db: DatabaseConfig): Promise<void> {
    this.active += 1;
    this.peak = Math.max(this.peak, this.active);
    await sleep(this.delayMs);
    this.added.push(db.path);
    this.live.add(db.path);
  }
  async firstSync(): Promise<void> {
    await sleep(this.delayMs);
    this.active -= 1;
  }
  async release(path: string): Promise<void> {
    this.released.push(path);
    this.live.delete(path);
  }
}

function recordingLogger(): Logger & { lines: Array<{ level: string; message: string; fields: LogFields }> } {
  const lines: Array<{ level: string; message: string; fields: LogFields }> = [];
  const make = (base: LogFields): Logger => {
    const at = (level: string) => (message: string, fields: LogFields = {}) => void lines.push({ level, message, fields: { ...base, ...fields } });
    return { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (f) => make({ ...base, ...f }) };
  };
  return Object.assign(make({}), { lines });
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

describe('DirectoryReplicator', () => {
  it('adds at most `limit` databases at once, each with its first sync, and leaves files owned elsewhere alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lts-dirrep-'));
    const data = join(dir, 'data');
    mkdirSync(data);
    for (let i = 0; i < 12; i++) writeFileSync(join(data, `t${i}.db`), sqliteHeader(true));
    const host = new FakeHost(30);
    const logger = recordingLogger();
    const owners = new Map([[join(data, 't0.db'), 'its own "path" entry']]);
    const replicator = new DirectoryReplicator(entry(data), { registry, host, logger, limiter: new Limiter(3), owners });
    expect(await replicator.start()).toBe(11);
    await replicator.settled();
    expect(host.added).toHaveLength(11);
    expect(host.added).not.toContain(join(data, 't0.db'));
    expect(host.peak).toBe(3);
    expect(logger.lines.filter((l) => l.message === 'skipped file').map((l) => l.fields.reason)).toEqual(['also matched by dbs[0], but its own "path" entry replicates it']);
    await replicator.close();
  });

  it('with watch: a file that becomes a WAL database is added; one replaced by another file is released and the new one added', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lts-dirrep-'));
    const data = join(dir, 'data');
    mkdirSync(data);
    const host = new FakeHost();
    const logger = recordingLogger();
    const replicator = new DirectoryReplicator(entry(data, { watch: true }), { registry, host, logger, limiter: new Limiter(8), owners: new Map(), debounce: 20 });
    expect(await replicator.start()).toBe(0);
    const path = join(data, 'new.db');
    writeFileSync(path, ''); // being created: not a database yet, and no warning about it
    await sleep(200);
    expect(host.added).toEqual([]);
    writeFileSync(path, sqliteHeader(false)); // a rollback-mode database: skipped, said once
    await until(() => logger.lines.some((l) => l.message === 'skipped file'));
    writeFileSync(path, sqliteHeader(true)); // switched to WAL: added
    await until(() => host.added.length === 1);
    expect(logger.lines.filter((l) => l.message === 'skipped file')).toHaveLength(1);
    // Replaced by another database file (a new inode at the same path): released, then the new one added.
    writeFileSync(join(dir, 'other.db'), sqliteHeader(true));
    renameSync(join(dir, 'other.db'), path);
    await until(() => host.added.length === 2);
    expect(host.released).toEqual([path]);
    expect([...host.live]).toEqual([path]);
    await replicator.close();
  });
});
