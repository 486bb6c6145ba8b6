import { execFile } from 'node:child_process';
import { open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A small file system the soak can fill up, or why there is none. */
export type SmallFs = { readonly available: true; readonly dir: string; fill(): Promise<number>; drain(): Promise<void>; unmount(): Promise<void> } | { readonly available: false; readonly reason: string };

/**
 * Mounts a `sizeMb` tmpfs on `dir`. Only inside the private mount namespace soak.sh sets up
 * (`unshare --mount`, as root): the mount is invisible to the rest of the machine and goes
 * away with the soak, even if it is killed.
 */
export async function mountSmallFs(dir: string, sizeMb: number): Promise<SmallFs> {
  if (process.env.LTS_SOAK_MOUNT_NS !== '1') {
    return { available: false, reason: 'needs root and a private mount namespace (soak.sh sets one up with `unshare --mount` when it runs as root)' };
  }
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'soak-meta', dir]);
  } catch (err) {
    return { available: false, reason: `mount -t tmpfs failed: ${(err as Error).message.split('\n')[0]}` };
  }
  const ballast = join(dir, 'soak-ballast');
  return {
    available: true,
    dir,
    /** Writes a ballast file until the file system is full; resolves with its size. */
    fill: async () => {
      const handle = await open(ballast, 'w');
      const chunk = Buffer.alloc(1 << 20, 0x5a);
      let size = 0;
      try {
        for (;;) {
          const free = await statfs(dir);
          const left = free.bavail * free.bsize;
          if (left <= 0) break;
          const { bytesWritten } = await handle.write(chunk, 0, Math.min(chunk.byteLength, left));
          size += bytesWritten;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        await handle.close();
      }
      return size;
    },
    drain: () => rm(ballast, { force: true }),
    unmount: async () => {
      await run('umount', [dir]).catch(() => {});
    },
  };
}
