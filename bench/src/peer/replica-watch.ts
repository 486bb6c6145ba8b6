/**
 * Watches a replica directory tree and records every file that appears or changes in it:
 * one inotify watch per directory (`fs.watch`, added as directories appear), each event
 * answered with a `stat`, and a full scan at the start (the baseline) and at the end (to catch
 * anything an event did not show). Temporary files (`*.tmp`, names starting with `.`) are not
 * files of the replica: both tools write one, then rename it into place, and only the rename
 * counts.
 *
 * A file is identified by path and inode, so a file replaced by a rename counts as a new file.
 * Its size is the last size seen (files are complete when renamed into place).
 */
import { linkSync, readdirSync, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { nowNs } from './proc.ts';

export interface SeenFile {
  /** Path relative to the watched root, with `/` separators. */
  rel: string;
  ino: number;
  size: number;
  /** When the file was first seen (CLOCK_MONOTONIC ns): the inotify event, or the final scan. */
  firstSeenNs: bigint;
  /** Whether the final scan found it still there. */
  present: boolean;
  /** `new` if the path did not exist at the start, `changed` if it had another inode, size or mtime. */
  kind: 'new' | 'changed';
}

interface Baseline {
  ino: number;
  size: number;
  mtimeMs: number;
}

export const isTempName = (name: string) => name.startsWith('.') || name.endsWith('.tmp');

function scan(root: string, visit: (abs: string, st: Stats) => void, visitDir?: (abs: string) => void): void {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  for (const name of entries) {
    const abs = join(root, name);
    let st: Stats;
    try {
      st = statSync(abs);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (name.startsWith('.')) continue;
      visitDir?.(abs);
      scan(abs, visit, visitDir);
    } else if (st.isFile() && !isTempName(name)) visit(abs, st);
  }
}

/** All files of a tree (temp files excluded), relative path → size. */
export function listFiles(root: string): Map<string, number> {
  const out = new Map<string, number>();
  scan(root, (abs, st) => out.set(relative(root, abs), st.size));
  return out;
}

export class ReplicaWatcher {
  private readonly baseline = new Map<string, Baseline>();
  private readonly seen = new Map<string, SeenFile>();
  private readonly watchers = new Map<string, FSWatcher>();
  private listeners: ((f: SeenFile, abs: string) => void)[] = [];
  private stopped = false;
  /** Set when inotify could not watch a directory (e.g. the watch limit): only the scans count then. */
  watchFailures = 0;

  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** Scans the baseline and starts watching. The root must exist. */
  start(): this {
    scan(
      this.root,
      (abs, st) => this.baseline.set(relative(this.root, abs), { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs }),
      (dir) => this.watchDir(dir),
    );
    this.watchDir(this.root);
    return this;
  }

  /** Calls `fn` for every new or changed file, at the moment it is first seen. */
  onFile(fn: (f: SeenFile, abs: string) => void): this {
    this.listeners.push(fn);
    return this;
  }

  private watchDir(dir: string): void {
    if (this.stopped || this.watchers.has(dir)) return;
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        if (name) this.handle(join(dir, name.toString()));
      });
      w.on('error', () => {
        this.watchFailures++;
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, w);
    } catch {
      this.watchFailures++;
    }
  }

  private handle(abs: string): void {
    if (this.stopped) return;
    const ns = nowNs();
    let st: Stats;
    try {
      st = statSync(abs);
    } catch {
      return; // deleted or renamed away already
    }
    if (st.isDirectory()) {
      if (basename(abs).startsWith('.') || this.watchers.has(abs)) return;
      this.watchDir(abs);
      // Files may have landed in it before the watch was in place.
      scan(abs, (f, fst) => this.record(f, fst, ns), (d) => this.watchDir(d));
      return;
    }
    if (st.isFile() && !isTempName(basename(abs))) this.record(abs, st, ns);
  }

  private record(abs: string, st: Stats, ns: bigint): void {
    const rel = relative(this.root, abs);
    const key = `${rel}\0${st.ino}`;
    const known = this.seen.get(key);
    if (known) {
      known.size = st.size;
      return;
    }
    const base = this.baseline.get(rel);
    if (base && base.ino === st.ino && base.size === st.size && base.mtimeMs === st.mtimeMs) return;
    const f: SeenFile = { rel, ino: st.ino, size: st.size, firstSeenNs: ns, present: true, kind: base ? 'changed' : 'new' };
    this.seen.set(key, f);
    for (const l of this.listeners) l(f, abs);
  }

  /**
   * Scans the tree for files the events did not show (a fallback for long waits); returns how
   * many it found.
   */
  rescan(): number {
    if (this.stopped) return 0;
    const ns = nowNs();
    const before = this.seen.size;
    scan(this.root, (abs, st) => this.record(abs, st, ns), (d) => this.watchDir(d));
    this.missedByEvents += this.seen.size - before;
    return this.seen.size - before;
  }

  /** Files that only a rescan found. */
  missedByEvents = 0;

  /** Files seen so far (without a final scan). */
  files(): SeenFile[] {
    return [...this.seen.values()];
  }

  /** Stops watching, scans once more, and returns every new or changed file. */
  stop(): SeenFile[] {
    if (this.stopped) return this.files();
    const ns = nowNs();
    const present = new Set<string>();
    scan(this.root, (abs, st) => {
      this.record(abs, st, ns);
      present.add(`${relative(this.root, abs)}\0${st.ino}`);
    });
    this.stopped = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    for (const [key, f] of this.seen) f.present = present.has(key);
    return this.files();
  }
}

/** Hard-links a replica file aside (cheap; keeps its content even if the tool deletes it later). */
export function keepCopy(abs: string, dest: string): boolean {
  try {
    linkSync(abs, dest);
    return true;
  } catch {
    return false;
  }
}
