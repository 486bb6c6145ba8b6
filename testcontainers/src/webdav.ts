import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './ports.ts';
import { startProcessService } from './process-service.ts';
import { httpAnswers } from './wait.ts';

/** Options for {@link startWebdav}. */
export interface WebdavOptions {
  /** The rclone binary (default: `LTS_RCLONE`, else `rclone` on PATH). */
  readonly rclone?: string;
  readonly readyTimeoutMs?: number;
}

/** A WebDAV server on loopback, serving a temporary directory, with Basic authentication. */
export interface WebdavService {
  /** `http://127.0.0.1:PORT` (the served directory is the root). */
  readonly url: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** The directory the server serves: what a client writes appears here. */
  readonly rootDir: string;
  /** The server's process id (SIGSTOP it to simulate a server that stops answering). */
  readonly pid: number;
  /** What the server logged so far. */
  log(): string;
  /** Stops the server and removes the directory. */
  stop(): Promise<void>;
}

/** The rclone binary to use, or undefined when none is installed. */
export function findRclone(): string | undefined {
  const given = process.env.LTS_RCLONE;
  if (given) return given;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'rclone'))) return join(dir, 'rclone');
  }
  return undefined;
}

/**
 * Starts `rclone serve webdav` (Debian's `rclone` package) on a free loopback port over a temp
 * directory, with a random user and password. Its directory cache is off, so files a test
 * places in `rootDir` behind the server's back show up at once. Ready when it answers HTTP.
 */
export async function startWebdav(options: WebdavOptions = {}): Promise<WebdavService> {
  const rclone = options.rclone ?? findRclone();
  if (rclone === undefined) throw new Error('rclone is not installed (Debian package rclone; see scripts/install-test-services.sh) and LTS_RCLONE is not set');
  const rootDir = await mkdtemp(join(tmpdir(), 'litestream-webdav-'));
  const username = `lts${randomBytes(3).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  try {
    const service = await startProcessService({
      name: 'rclone serve webdav',
      command: rclone,
      args: ['serve', 'webdav', rootDir, '--addr', `127.0.0.1:${port}`, '--user', username, '--pass', password, '--dir-cache-time', '0s', '--config', '/dev/null'],
      ready: () => httpAnswers(url),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    });
    return {
      url,
      port,
      username,
      password,
      rootDir,
      pid: service.pid,
      log: () => service.log(),
      stop: async () => {
        await service.stop();
        await rm(rootDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(rootDir, { recursive: true, force: true });
    throw error;
  }
}
