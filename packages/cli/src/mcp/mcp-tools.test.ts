import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReplicaClient, SyncStatus } from '@litestream-ts/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { McpSource } from './mcp-source.ts';
import { databaseStatus, findDatabase, listDatabases, parseTarget, restoreToNewPath } from './mcp-tools.ts';

const dir = await mkdtemp(join(tmpdir(), 'lts-mcp-tools-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

// The replica client is never called by these cases (they end before any storage call).
const client = {} as ReplicaClient;
function sourceOf(statuses: Array<SyncStatus & Record<string, unknown>>): McpSource {
  return {
    databases: () => statuses.map((s) => ({ path: s.path, replicaType: 's3', client })),
    syncStatus: () => statuses,
  };
}

describe('MCP tool logic', () => {
  it('reports TXIDs as 16 hex digits, the lag, and whatever else core reports per database', () => {
    const lastSyncAt = new Date('2026-01-02T03:04:05.000Z');
    const source = sourceOf([
      { path: '/data/a.db', localTXID: 0x12, remoteTXID: 0x10, inSync: false, healthy: true, lastError: 'sync error: timeout', lastSyncAt },
      { path: '/data/b.db', localTXID: 3, remoteTXID: 3, inSync: true, healthy: true },
    ]);
    expect(databaseStatus(source, '/data/a.db')).toEqual({
      path: '/data/a.db', replica: 's3', localTXID: '0000000000000012', replicaTXID: '0000000000000010', lagTXIDs: 2, inSync: false, healthy: true,
      lastError: 'sync error: timeout', lastSyncAt: '2026-01-02T03:04:05.000Z',
    });
    expect(listDatabases(source).databases.map((d) => [d.path, d.lagTXIDs, d.inSync])).toEqual([['/data/a.db', 2, false], ['/data/b.db', 0, true]]);
  });

  it('finds a database by its path (relative ones from the working directory), and lists the known ones otherwise', () => {
    const source = sourceOf([{ path: join(process.cwd(), 'x.db'), localTXID: 1, remoteTXID: 1, inSync: true, healthy: true }]);
    expect(findDatabase(source, 'x.db').path).toBe(join(process.cwd(), 'x.db'));
    expect(() => findDatabase(source, '/elsewhere.db')).toThrow(`unknown database "/elsewhere.db"; known databases: ${join(process.cwd(), 'x.db')}`);
    expect(() => findDatabase(sourceOf([]), 'x.db')).toThrow('known databases: (none)');
  });

  it('reads a TXID as hex or decimal and a time as RFC 3339, one at most', () => {
    expect(parseTarget({})).toEqual({});
    expect(parseTarget({ txid: '00000000000000ff' })).toEqual({ txid: 255 });
    expect(parseTarget({ txid: '42', timestamp: ' ' })).toEqual({ txid: 42 });
    expect(parseTarget({ timestamp: '2026-01-02T03:04:05Z' })).toEqual({ timestamp: new Date('2026-01-02T03:04:05Z') });
    expect(() => parseTarget({ txid: '0', timestamp: undefined })).toThrow(/invalid txid "0"/);
    expect(() => parseTarget({ txid: 'abc' })).toThrow(/invalid txid/);
    expect(() => parseTarget({ timestamp: 'yesterday' })).toThrow(/invalid timestamp "yesterday"/);
    expect(() => parseTarget({ txid: '1', timestamp: '2026-01-02T03:04:05Z' })).toThrow('give txid or timestamp, not both');
  });

  it('restores only into a new path: a leftover -wal or -journal of the output refuses it too', async () => {
    const source = sourceOf([{ path: '/data/a.db', localTXID: 1, remoteTXID: 1, inSync: true, healthy: true }]);
    for (const suffix of ['-wal', '-shm', '-journal']) {
      const output = join(dir, `out${suffix.replace('-', '_')}.db`);
      await writeFile(`${output}${suffix}`, 'left over');
      await expect(restoreToNewPath(source, '/data/a.db', { output })).rejects.toThrow(`refusing to restore onto ${output}${suffix}: it already exists`);
    }
  });
});
