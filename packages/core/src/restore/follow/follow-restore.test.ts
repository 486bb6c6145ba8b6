import Database from 'better-sqlite3';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../engine/store.ts';
import { defaultMetaPath } from '../../engine/db.ts';
import type { ListLtxOptions, LtxFileInfo } from '../../replica/replica-client.ts';
import { PairReader } from '../../test-support/pair-reader.ts';
import { Readable } from 'node:stream';
import { compactLtx } from '../../ltx/compactor.ts';
import { MemorySink } from '../../test-support/streams.ts';
import { buildReplicaFixture, flipByte, ref } from '../test-support/replica-fixture.ts';
import { buildV03Fixture } from '../v03/test-support/v03-fixture.ts';
import { RecordingLogger } from '../../test-support/recording-logger.ts';
import { followRestore, type FollowRestoreOptions, type FollowResult, type FollowUpdate } from './follow-restore.ts';

const scratch = await mkdtemp(join(tmpdir(), 'follow-restore-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
let dirs = 0;
async function newDir(): Promise<string> {
  const dir = join(scratch, `case-${++dirs}`);
  await mkdir(dir);
  return dir;
}

/** A primary: a WAL database whose transactions each add one row to `a` and the same to `b`. */
function openPrimary(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY, v INTEGER, pad BLOB); CREATE TABLE IF NOT EXISTS b (id INTEGER PRIMARY KEY, v INTEGER, pad BLOB)');
  return db;
}
function commit(db: Database.Database, v: number, padBytes = 200): void {
  db.transaction(() => {
    db.prepare('INSERT INTO a (v, pad) VALUES (?, randomblob(?))').run(v, padBytes);
    db.prepare('INSERT INTO b (v, pad) VALUES (?, randomblob(?))').run(v, padBytes);
  })();
}

/** What a reader sees in the follow output: the tables' counts and sums (equal in every committed state). */
function readState(reader: Database.Database): { a: number; b: number; sumA: number; sumB: number } {
  return reader.transaction(() => {
    const a = reader.prepare('SELECT count(*) AS n, coalesce(sum(v), 0) AS s FROM a').get() as { n: number; s: number };
    const b = reader.prepare('SELECT count(*) AS n, coalesce(sum(v), 0) AS s FROM b').get() as { n: number; s: number };
    return { a: a.n, b: b.n, sumA: a.s, sumB: b.s };
  })();
}

function startStore(path: string, client: FileReplicaClient, extra: StoreExtras = {}): Store {
  return new Store({ databases: [{ path, replica: client }], monitorInterval: 20, syncInterval: 20, ...extra });
}

/**
 * Waits for `check`. Readers in this process open the output with `timeout: 0`: a busy
 * handler here would block the thread the follower writes from (while it holds the lock), so
 * a busy read counts as "not yet". Readers that check consistency run in their own process.
 */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const attempt = async () => {
    try {
      return await check();
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
      throw error;
    }
  };
  while (!(await attempt())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Runs a follower in the background; `stop()` aborts it and returns its result. */
function follow(options: Omit<FollowRestoreOptions, 'signal'>): { updates: FollowUpdate[]; stop: () => Promise<FollowResult>; done: Promise<FollowResult> } {
  const controller = new AbortController();
  const updates: FollowUpdate[] = [];
  const done = followRestore({
    intervalMs: 30,
    ...options,
    signal: controller.signal,
    onApply: (u) => {
      updates.push(u);
      options.onApply?.(u);
    },
  });
  return {
    updates,
    done,
    stop: async () => {
      controller.abort();
      return done;
    },
  };
}

/** Starts a follower (see `follow`) and waits for its first restore. */
async function startFollower(options: Omit<FollowRestoreOptions, 'signal'>): Promise<ReturnType<typeof follow>> {
  const follower = follow(options);
  await until('the first restore', () => follower.updates.length > 0);
  return follower;
}

type StoreExtras = Partial<ConstructorParameters<typeof Store>[0]>;

/** One case's directory and paths, and a client for its file replica at `root`; followers write `out`. */
interface Case {
  dir: string;
  source: string;
  out: string;
  root: string;
  client: FileReplicaClient;
}

/** A case whose primary is replicated by a running store. */
interface Scenario extends Case {
  primary: Database.Database;
  store: Store;
}

/** A new case in its own directory, with no primary yet; `out` is the output's path inside it. */
async function newCase(out = 'replica.db'): Promise<Case> {
  const dir = await newDir();
  const root = join(dir, 'replica');
  return { dir, source: join(dir, 'primary.db'), out: join(dir, out), root, client: new FileReplicaClient(root) };
}

/** Opens the case's primary, commits one transaction per value, and starts and syncs a store for it (in place). */
async function startPrimary(c: Case, values: number[], extra: StoreExtras = {}): Promise<Scenario> {
  const primary = openPrimary(c.source);
  for (const v of values) commit(primary, v);
  const s = Object.assign(c, { primary, store: startStore(c.source, c.client, extra) });
  await s.store.start();
  await s.store.syncAndWait();
  return s;
}

/** A new case whose primary holds one commit per value (default: 1), replicated and synced. */
async function scenario(options: { values?: number[]; out?: string; store?: StoreExtras } = {}): Promise<Scenario> {
  return startPrimary(await newCase(options.out), options.values ?? [1], options.store);
}

/** Stops the case's store and closes its primary; with `wipe`, the database and its local state are removed too. */
async function stopPrimary(s: Scenario, { wipe = false } = {}): Promise<void> {
  await s.store.stop();
  s.primary.close();
  if (!wipe) return;
  for (const path of [s.source, s.source + '-wal', s.source + '-shm', defaultMetaPath(s.source)]) await rm(path, { recursive: true, force: true });
}

describe('followRestore', () => {
  it('keeps the output up to date while a reader holds it open, and the reader only ever sees whole transactions', async () => {
    const s = await scenario({ out: 'out/replica.db' });
    const { client, out, primary, store } = s;
    const follower = await startFollower({ client, outputPath: out });
    // A reader in another process holds the output open across every update.
    const pairReader = new PairReader(out, 1);
    await sleep(100);
    for (let i = 2; i <= 150; i++) {
      commit(primary, i, i % 10 === 0 ? 20_000 : 200);
      if (i % 5 === 0) await sleep(10);
    }
    await store.syncAndWait();
    const reader = new Database(out, { readonly: true, timeout: 0 });
    await until('the output to reach the last commit', () => readState(reader).a === 150);
    await sleep(100);
    const seen = await pairReader.stop();
    const result = await follower.stop();
    await stopPrimary(s);

    expect(seen.errors).toEqual([]);
    expect(seen.violations).toEqual([]);
    expect(seen.reads).toBeGreaterThan(20);
    // It saw the updates arrive one after another (not one jump at the end), never going back.
    expect(seen.distinct).toBeGreaterThan(3);
    expect(seen.backwards).toBe(0);
    expect(seen.last).toEqual({ a: 150, b: 150, sumA: 11325, sumB: 11325 });
    expect(result.applied).toBeGreaterThan(0);
    expect(result.restores).toBe(1);
    expect(reader.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(reader.pragma('journal_mode', { simple: true })).toBe('delete');
    reader.close();
    // Nothing left beside the output: no work directory, no -wal/-shm/-journal.
    expect(await readdir(dirname(out))).toEqual(['replica.db']);
  });

  it('waits for the open read transaction of a reader before writing: the file does not change under it', async () => {
    const s = await scenario();
    const { client, out, primary, store } = s;
    const logger = new RecordingLogger();
    const follower = await startFollower({ client, outputPath: out, logger });
    const pairReader = new PairReader(out, 5);
    const hold = pairReader.hold(2500);
    await hold.holding;
    const bytesAtHold = await readFile(out);
    commit(primary, 2);
    await store.syncAndWait();
    // Twenty polls (30 ms apart) later the follower has the new file and waits for the lock.
    await sleep(600);
    expect((await readFile(out)).equals(bytesAtHold)).toBe(true);
    const { before, after } = await hold.released;
    expect(after).toEqual(before);
    // It said so once it had waited for more than a second.
    expect(logger.records.some((r) => r.message.includes('readers keep the output locked'))).toBe(true);
    await until('the update once the reader let go', async () => follower.updates.some((u) => u.kind === 'applied'));
    const seen = await pairReader.stop();
    expect(seen.last).toEqual({ a: 2, b: 2, sumA: 3, sumB: 3 });
    await follower.stop();
    await stopPrimary(s);
  });

  it('continues from compacted files once level 0 was removed, and through snapshots', async () => {
    const s = await scenario({ store: { levels: [{ level: 1, interval: 150 }], snapshotInterval: 400, l0Retention: 1 } });
    const { client, out, primary, store } = s;
    for (let i = 2; i <= 10; i++) {
      commit(primary, i);
      await sleep(25);
    }
    await store.syncAndWait();
    // Past the first compaction: the chain continues with files that do not start at TXID 1.
    await sleep(300);
    // A slow follower: level 0 is compacted and removed between its polls.
    const logger = new RecordingLogger();
    const follower = await startFollower({ client, outputPath: out, intervalMs: 700, logger });
    for (let i = 11; i <= 60; i++) {
      commit(primary, i);
      await sleep(25);
    }
    await store.syncAndWait();
    const reader = new Database(out, { readonly: true, timeout: 0 });
    await until('the output to reach the last commit', () => readState(reader).a === 60, 20_000);
    const result = await follower.stop();
    await stopPrimary(s);
    expect(readState(reader)).toEqual({ a: 60, b: 60, sumA: 1830, sumB: 1830 });
    expect(reader.pragma('integrity_check', { simple: true })).toBe('ok');
    reader.close();
    expect(result.applied).toBeGreaterThan(0);
    // Level 0 was removed behind the follower: it continued with compacted files, in place.
    const appliedNames = follower.updates.flatMap((u) => u.names ?? []);
    expect(appliedNames.some((n) => /^[1-8]\//.test(n)), appliedNames.join(' ')).toBe(true);
    expect(result.restores, JSON.stringify(follower.updates.filter((u) => u.kind === 'restored'))).toBe(1);
    // Files removed between a listing and their read are no error, only a reason to list again.
    expect(logger.at('error')).toEqual([]);
  });

  it('restores again when the primary restarts from a new snapshot, in place, for a reader holding the output open', async () => {
    const s = await scenario({ values: [1, 2, 3, 4, 5] });
    const { client, out } = s;
    const follower = await startFollower({ client, outputPath: out });
    const reader = new Database(out, { readonly: true, timeout: 0 });
    await until('five rows', () => readState(reader).a === 5);

    // The primary loses its database and its local state, and starts again with other data.
    await stopPrimary(s, { wipe: true });
    await startPrimary(s, [100, 200]);

    await until('the new primary state', () => readState(reader).sumA === 300);
    expect(readState(reader)).toEqual({ a: 2, b: 2, sumA: 300, sumB: 300 });
    // Reported once the output is reopened, just after readers can see the new state.
    await until('the restore to be reported', () => follower.updates.filter((u) => u.kind === 'restored').length >= 2);
    const restored = follower.updates.filter((u) => u.kind === 'restored');
    expect(restored.length).toBe(2);
    expect(restored[1]!.reason).toMatch(/new snapshot|does not follow|pre-apply/);
    commit(s.primary, 300);
    await s.store.syncAndWait();
    await until('the commit after the restart', () => readState(reader).a === 3);
    await follower.stop();
    await stopPrimary(s);
    expect(reader.pragma('integrity_check', { simple: true })).toBe('ok');
    reader.close();
  });

  it('restores again when the replica was wiped and a new chain starts from TXID 1 (TXID regression)', async () => {
    const s = await scenario();
    const { client, out } = s;
    for (let i = 2; i <= 20; i++) {
      commit(s.primary, i);
      await sleep(5);
    }
    await s.store.syncAndWait();
    const logger = new RecordingLogger();
    const follower = await startFollower({ client, outputPath: out, logger });
    const reader = new Database(out, { readonly: true, timeout: 0 });
    await until('twenty rows', () => readState(reader).a === 20);
    const before = follower.updates.at(-1)!.txid;

    await stopPrimary(s, { wipe: true });
    await client.deleteAll();
    // While the replica is empty the output keeps its state (and says so once).
    await until('the empty replica to be noticed', () => logger.records.some((r) => r.message.includes('holds no LTX files')));
    expect(readState(reader).a).toBe(20);
    await startPrimary(s, [7]);
    await until('the new chain', () => readState(reader).a === 1);
    expect(readState(reader)).toEqual({ a: 1, b: 1, sumA: 7, sumB: 7 });
    // Reported once the output is reopened, just after readers can see the new state.
    await until('the restore to be reported', () => follower.updates.filter((u) => u.kind === 'restored').length >= 2);
    const last = follower.updates.at(-1)!;
    expect(last.kind).toBe('restored');
    // The TXIDs went back: the output was at a later TXID of the old chain.
    expect(last.fromTXID).toBeGreaterThan(last.txid);
    expect(last.fromTXID).toBeGreaterThanOrEqual(before);
    await follower.stop();
    await stopPrimary(s);
    reader.close();
  });

  it('retries an unreachable replica with backoff, logging the outage once, and catches up when it is back', async () => {
    const s = await scenario();
    const { out, root, primary, store } = s;
    const flaky = new FlakyReplica(root);
    const logger = new RecordingLogger();
    const follower = await startFollower({ client: flaky, outputPath: out, logger, intervalMs: 20, maxBackoffMs: 80 });
    flaky.down = true;
    for (let i = 2; i <= 10; i++) commit(primary, i);
    await store.syncAndWait();
    const listsAtOutage = flaky.lists;
    // Long enough for many retries at the longest backoff.
    await sleep(800);
    const retries = flaky.lists - listsAtOutage;
    expect(retries).toBeGreaterThan(3);
    // Backoff: far fewer attempts than one per 20 ms interval.
    expect(retries).toBeLessThan(800 / 20 / 2);
    flaky.down = false;
    const reader = new Database(out, { readonly: true, timeout: 0 });
    await until('the commits made during the outage', () => readState(reader).a === 10);
    await follower.stop();
    await stopPrimary(s);
    const errors = logger.records.filter((r) => r.message === 'follow error');
    expect(errors).toHaveLength(1);
    expect(logger.records.filter((r) => r.message === 'follow resumed')).toHaveLength(1);
    reader.close();
  });

  it('takes a listed file that is gone before it is read (compaction, retention) as a reason to list again, not as an error', async () => {
    const s = await scenario();
    const { out, root, primary, store } = s;
    const client = new GhostReplica(root);
    const logger = new RecordingLogger();
    const follower = await startFollower({ client, outputPath: out, logger });
    const pos = follower.updates[0]!.txid;
    client.ghost = { level: 0, minTXID: pos + 1, maxTXID: pos + 1, size: 200, createdAt: new Date() };
    // Ten polls (30 ms apart) while the listing shows it.
    await sleep(300);
    expect(logger.at('error')).toEqual([]);
    expect(logger.records.some((r) => r.message.includes('a listed file is gone'))).toBe(true);
    client.ghost = undefined;
    commit(primary, 2);
    await store.syncAndWait();
    await until('the next commit', () => follower.updates.some((u) => u.kind === 'applied'));
    await follower.stop();
    await stopPrimary(s);
    expect(logger.at('error')).toEqual([]);
  });

  it('stops on abort with the output consistent and nothing left beside it; refuses an existing output unless overwriting', async () => {
    const { dir, client, out, primary, store } = await scenario();
    const follower = await startFollower({ client, outputPath: out });
    let writing = true;
    const writer = (async () => {
      for (let i = 2; writing; i++) {
        commit(primary, i);
        await sleep(5);
      }
    })();
    await sleep(300);
    const result = await follower.stop();
    writing = false;
    await writer;
    await store.stop();
    expect(await readdir(dir)).not.toContain(expect.stringMatching(/restore/));
    expect((await readdir(dir)).filter((n) => n.startsWith('.replica.db'))).toEqual([]);
    const reader = new Database(out, { readonly: true, timeout: 0 });
    const s = readState(reader);
    expect(s.a).toBe(s.b);
    expect(reader.pragma('integrity_check', { simple: true })).toBe('ok');
    reader.close();
    expect(result.txid).toBeGreaterThan(1);

    await expect(followRestore({ client, outputPath: out })).rejects.toThrow(/exists/);
    // With overwrite, a follower's output is taken up in place and brought to the latest state.
    const again = follow({ client, outputPath: out, overwrite: true });
    await until('the restore over the old output', () => again.updates.length > 0);
    await again.stop();
    const rows = (primary.prepare('SELECT count(*) AS n FROM a').get() as { n: number }).n;
    const fresh = new Database(out, { readonly: true, timeout: 0 });
    expect(readState(fresh).a).toBe(rows);
    fresh.close();

    // An output SQLite cannot read (a follower killed while writing its header) is replaced.
    await flipByte(out, 21);
    const third = follow({ client, outputPath: out, overwrite: true });
    await until('the restore over the torn output', () => third.updates.length > 0);
    await third.stop();
    const repaired = new Database(out, { readonly: true, timeout: 0 });
    expect(readState(repaired).a).toBe(rows);
    expect(repaired.pragma('integrity_check', { simple: true })).toBe('ok');
    repaired.close();
    primary.close();
  });

  it('refuses a replica holding only Litestream v0.3 backups instead of waiting for LTX files', async () => {
    const dir = await newDir();
    const fixture = await buildV03Fixture(join(dir, 'v03'));
    const out = join(dir, 'out', 'replica.db');
    await expect(followRestore({ client: new FileReplicaClient(fixture.root), outputPath: out, intervalMs: 30 })).rejects.toThrow(/only Litestream v0\.3 backups .*restore without -f/);
    expect(await readdir(dirname(out))).toEqual([]);
  });

  it('waits for the first snapshot of an empty replica', async () => {
    const c = await newCase();
    const { client, out } = c;
    const logger = new RecordingLogger();
    const follower = follow({ client, outputPath: out, logger });
    await until('the wait to be logged', () => logger.records.some((r) => r.message.includes('no backups yet')));
    await sleep(200);
    expect(logger.records.filter((r) => r.message.includes('no backups yet'))).toHaveLength(1);
    const s = await startPrimary(c, [5]);
    await until('the first restore', () => follower.updates.length > 0);
    await follower.stop();
    await stopPrimary(s);
    const reader = new Database(out, { readonly: true, timeout: 0 });
    expect(readState(reader)).toEqual({ a: 1, b: 1, sumA: 5, sumB: 5 });
    reader.close();
  });
});

/** A file replica whose level-0 listing also shows `ghost`, a file that does not exist. */
class GhostReplica extends FileReplicaClient {
  ghost: LtxFileInfo | undefined;
  protected override async *_listLtxFiles(level: number, options: ListLtxOptions): AsyncIterable<LtxFileInfo> {
    const files: LtxFileInfo[] = [];
    for await (const f of super._listLtxFiles(level, options)) files.push(f);
    if (level === 0 && this.ghost && this.ghost.minTXID >= (options.seek ?? 0)) files.push(this.ghost);
    yield* files.sort((a, b) => a.minTXID - b.minTXID || a.maxTXID - b.maxTXID);
  }
}

/** A file replica whose listings fail while `down` is set, counting every listing. */
class FlakyReplica extends FileReplicaClient {
  down = false;
  lists = 0;
  protected override async *_listLtxFiles(level: number, options: ListLtxOptions): AsyncIterable<LtxFileInfo> {
    this.lists++;
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    yield* super._listLtxFiles(level, options);
  }
}


describe('followRestore with files of another chain', () => {
  it('never writes a compacted file that would not give the state it records: the output keeps its state', async () => {
    const dir = await newDir();
    const [a, b] = await Promise.all([buildReplicaFixture(join(dir, 'a')), buildReplicaFixture(join(dir, 'b'))]);
    const aClient = new FileReplicaClient(a.root);
    const bClient = new FileReplicaClient(b.root);
    // The follower's replica: A's snapshot of state 3 and A's TXID 4, so it starts at 4 knowing no earlier state.
    const root = join(dir, 'replica');
    const client = new FileReplicaClient(root);
    await client.writeLtxFile(ref(9, 1, 3), await readAll(aClient, ref(9, 1, 3)));
    await client.writeLtxFile(ref(0, 4, 4), await readAll(aClient, ref(0, 4, 4)));
    const out = join(dir, 'out.db');
    const logger = new RecordingLogger();
    const follower = await startFollower({ client, outputPath: out, logger, maxBackoffMs: 60 });
    expect(follower.updates[0]!.txid).toBe(4);
    const before = await rowsOf(out);
    expect(before).toEqual(await rowsOf(a.states[4]!));

    // B's compaction of TXIDs 4..5 overlaps the output's position: same TXIDs, another database.
    const foreign = new MemorySink();
    const inputs = [];
    for (const txid of [4, 5]) inputs.push({ source: Readable.from([await readAll(bClient, ref(0, txid, txid))]), name: `0/${txid}` });
    await compactLtx(inputs, foreign);
    await client.writeLtxFile(ref(1, 4, 5), foreign.bytes);
    // Long enough for many polls and retries (30–60 ms apart).
    await sleep(800);
    expect(await rowsOf(out)).toEqual(before);
    expect(follower.updates.filter((u) => u.kind === 'applied')).toEqual([]);
    expect(logger.records.some((r) => /another chain/.test(String(r.fields.reason ?? '')))).toBe(true);

    // Once the replica holds A's own files instead, the follower goes on.
    await client.deleteLtxFiles([ref(1, 4, 5)]);
    for (const txid of [5, 6]) await client.writeLtxFile(ref(0, txid, txid), await readAll(aClient, ref(0, txid, txid)));
    await until('state 6', async () => JSON.stringify(await rowsOf(out)) === JSON.stringify(await rowsOf(a.states[6]!)));
    await follower.stop();
    expect(await integrity(out)).toBe('ok');
  });
});

async function readAll(client: FileReplicaClient, r: { level: number; minTXID: number; maxTXID: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await client.openLtxFile(r)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The fixture table's rows, read from another thread's point of view (timeout 0: see `until`). */
async function rowsOf(path: string): Promise<unknown[]> {
  const db = new Database(path, { readonly: true, timeout: 0 });
  try {
    return db.prepare('SELECT id, name, hex(body) AS body FROM t ORDER BY id').all();
  } finally {
    db.close();
  }
}

async function integrity(path: string): Promise<string> {
  const db = new Database(path, { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}
