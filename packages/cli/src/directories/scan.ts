import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A file whose name matched. */
export interface FoundFile {
  readonly path: string;
  /** What `stat` said of it, when `ScanOptions.stat` asked for it (or it is a symbolic link). */
  readonly stats?: Stats;
}

/** What to look at while walking a directory. */
export interface ScanOptions {
  /** Search subdirectories too. */
  readonly recursive: boolean;
  /** Whether a file name matches the entry's pattern. */
  readonly matches: (name: string) => boolean;
  /** Directories not to enter (besides hidden ones), such as a `meta-dir` below the directory. */
  readonly skipDirectory?: (path: string) => boolean;
  /** Whether to `stat` a matching regular file (default true); a rescan skips the files it already replicates. */
  readonly stat?: (path: string) => boolean;
}

/**
 * Walks `root` (and with `recursive`, its subdirectories) and returns the regular files whose
 * names match, and the directories walked. Each file is `stat`ed unless `options.stat` says not to. Directories whose names begin with a dot are not
 * entered: the metadata directories (`.<db>-litestream`) and the work directories of `restore`
 * live there. Symbolic links to files count as files; links to directories are not followed.
 * Files and directories that vanish meanwhile are left out. A missing or unreadable `root`
 * rejects; an unreadable subdirectory is reported through `onError` and left out.
 */
export async function scanDirectory(root: string, options: ScanOptions, onError?: (path: string, err: Error) => void): Promise<{ files: FoundFile[]; directories: string[] }> {
  const files: FoundFile[] = [];
  const directories: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (dir === root) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onError?.(dir, err as Error);
      return;
    }
    directories.push(dir);
    const below: string[] = [];
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (options.recursive && !entry.name.startsWith('.') && !options.skipDirectory?.(path)) below.push(path);
        continue;
      }
      if (!(entry.isFile() || entry.isSymbolicLink()) || !options.matches(entry.name)) continue;
      if (entry.isFile() && options.stat?.(path) === false) {
        files.push({ path });
        continue;
      }
      const stats = await stat(path).catch(() => undefined);
      if (stats?.isFile()) files.push({ path, stats });
    }
    for (const path of below) await walk(path);
  };
  await walk(root);
  return { files, directories };
}
