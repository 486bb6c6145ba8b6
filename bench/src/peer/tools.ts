/**
 * The two replicators compared: ours (the built `litestream` bin of this checkout, run with the
 * bench's own Node and the Node flags of the bin's shebang) and the peer, Litestream v0.3.13
 * (the Go binary of npm `@flydotio/litestream-linux-x64`). Each knows how to write its config
 * file, start `replicate`, restore, and what the files of its replica mean.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { repoRoot } from '../common.ts';
import { Service } from './proc.ts';

export type ToolId = 'ours' | 'peer';

/** One database of a replicate config. Values are written as given (durations as strings). */
export interface DbEntry {
  path: string;
  replicaDir: string;
  /** Extra keys of the database entry (`monitor-interval`, `checkpoint-interval`, …). */
  db?: Record<string, string | number>;
  /** Extra keys of the replica entry (`sync-interval`, …). */
  replica?: Record<string, string | number>;
}

type Yaml = string | number | boolean | Yaml[] | { [k: string]: Yaml };

/** A small YAML writer: block mappings and sequences, every string double-quoted (JSON is valid YAML there). */
export function toYaml(v: Yaml, indent = ''): string {
  if (Array.isArray(v)) {
    return v
      .map((item) => {
        const body = toYaml(item, indent + '  ');
        return typeof item === 'object' ? `${indent}- ${body.trimStart()}` : `${indent}- ${body}\n`;
      })
      .join('');
  }
  if (typeof v === 'object') {
    return Object.entries(v)
      .map(([k, val]) => (typeof val === 'object' ? `${indent}${k}:\n${toYaml(val, indent + '  ')}` : `${indent}${k}: ${toYaml(val)}\n`))
      .join('');
  }
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

export interface ReplicaFileKind {
  /** A full image of the database: ours a level-0 file from TXID 1 (or a level-9 snapshot), the peer a generation snapshot. */
  fullImage: boolean;
  /** An incremental file: ours a level-0 file starting after TXID 1, the peer a WAL segment. */
  incremental: boolean;
  /** A compaction output (ours, levels 1–8). */
  compacted: boolean;
}

export interface Tool {
  id: ToolId;
  label: string;
  /** `litestream version` output. */
  version(): string;
  /** The config for `replicate` (and, for the peer, `restore`). */
  writeConfig(file: string, dbs: readonly DbEntry[], top?: Record<string, Yaml>): void;
  replicate(configFile: string, name: string): Service;
  /** Command and arguments of a restore of `db` (its entry in `configFile`) from its replica into `out`. */
  restoreCommand(configFile: string, db: DbEntry, out: string): [string, string[]];
  /** What a file of the replica is, from its path relative to the replica root. */
  classify(rel: string): ReplicaFileKind;
  /** The first snapshot written when replication starts. */
  isInitialSnapshot(rel: string): boolean;
  /** Whether the file can hold a commit shipped by a sync (lag scenario): incrementals and full images. */
  carriesCommits(rel: string): boolean;
}

const LTX_NAME = /(^|\/)ltx\/(\d+)\/([0-9a-f]{16})-([0-9a-f]{16})\.ltx$/;

/** Node flags from the bin's shebang (`#!/usr/bin/env -S node --max-semi-space-size=8`), so ours runs as installed. */
function shebangNodeFlags(bin: string): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0]!;
  if (!first.startsWith('#!')) return [];
  const words = first.slice(2).trim().split(/\s+/);
  const i = words.findIndex((w) => w === 'node' || w.endsWith('/node'));
  return i < 0 ? [] : words.slice(i + 1);
}

/** The built bin of this checkout; BENCH_OURS_BIN points at another build (e.g. a worktree of an older commit). */
export const OURS_BIN = process.env.BENCH_OURS_BIN || join(repoRoot, 'packages/cli/bin/litestream.js');

export function oursCommand(args: readonly string[]): [string, string[]] {
  return [process.execPath, [...shebangNodeFlags(OURS_BIN), OURS_BIN, ...args]];
}

/** The peer binary, located through the package (`file litestream` in its root). */
export function peerBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@flydotio/litestream-linux-x64/package.json')), 'litestream');
}

function versionOf(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LITESTREAM_CONFIG: '' } }).trim();
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0]})`;
  }
}

/** Environment for both tools: no config file from the caller's environment, no LOG_LEVEL override. */
function toolEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.LITESTREAM_CONFIG;
  delete env.LOG_LEVEL;
  return env;
}

export const ours: Tool = {
  id: 'ours',
  label: 'litestream-ts',
  version() {
    const [cmd, args] = oursCommand(['version']);
    return versionOf(cmd, args);
  },
  writeConfig(file, dbs, top = {}) {
    const doc: Yaml = {
      ...top,
      dbs: dbs.map((d) => ({ path: d.path, ...d.db, replica: { type: 'file', path: d.replicaDir, ...d.replica } })),
    };
    writeFileSync(file, toYaml(doc));
  },
  replicate(configFile, name) {
    const [cmd, args] = oursCommand(['replicate', '-config', configFile]);
    return new Service(`${name} (litestream-ts)`, cmd, args, { env: toolEnv() });
  },
  restoreCommand(_configFile, db, out) {
    return oursCommand(['restore', '-o', out, `file://${db.replicaDir}`]);
  },
  classify(rel) {
    const m = LTX_NAME.exec(rel);
    if (!m) return { fullImage: false, incremental: false, compacted: false };
    const level = Number(m[2]);
    const min = parseInt(m[3]!, 16);
    return { fullImage: level === 9 || (level === 0 && min === 1), incremental: level === 0 && min > 1, compacted: level >= 1 && level <= 8 };
  },
  isInitialSnapshot(rel) {
    const m = LTX_NAME.exec(rel);
    return !!m && m[2] === '0' && parseInt(m[3]!, 16) === 1;
  },
  carriesCommits(rel) {
    const m = LTX_NAME.exec(rel);
    return !!m && m[2] === '0';
  },
};

const PEER_SNAPSHOT = /(^|\/)generations\/[0-9a-f]+\/snapshots\/[0-9a-f]+\.snapshot\.lz4$/;
const PEER_WAL = /(^|\/)generations\/[0-9a-f]+\/wal\/[0-9a-f]+_[0-9a-f]+\.wal\.lz4$/;

export const peer: Tool = {
  id: 'peer',
  label: 'Litestream v0.3.13',
  version() {
    return versionOf(peerBinary(), ['version']);
  },
  writeConfig(file, dbs, top = {}) {
    const doc: Yaml = {
      ...top,
      dbs: dbs.map((d) => ({ path: d.path, ...d.db, replicas: [{ type: 'file', path: d.replicaDir, ...d.replica }] })),
    };
    writeFileSync(file, toYaml(doc));
  },
  replicate(configFile, name) {
    return new Service(`${name} (Litestream v0.3.13)`, peerBinary(), ['replicate', '-config', configFile], { env: toolEnv() });
  },
  restoreCommand(configFile, db, out) {
    return [peerBinary(), ['restore', '-config', configFile, '-o', out, db.path]];
  },
  classify(rel) {
    return { fullImage: PEER_SNAPSHOT.test(rel), incremental: PEER_WAL.test(rel), compacted: false };
  },
  isInitialSnapshot(rel) {
    return PEER_SNAPSHOT.test(rel);
  },
  carriesCommits(rel) {
    return PEER_WAL.test(rel) || PEER_SNAPSHOT.test(rel);
  },
};

export const TOOLS: Record<ToolId, Tool> = { ours, peer };

/** Default sync and monitor intervals, written out for both tools so the configs read alike. */
export const DEFAULT_DB_KEYS = { 'monitor-interval': '1s' } as const;
export const DEFAULT_REPLICA_KEYS = { 'sync-interval': '1s' } as const;
