import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './ports.ts';
import { startProcessService, type ProcessService } from './process-service.ts';

/** Options for {@link startNatsServer}. */
export interface NatsServerOptions {
  /** Enable JetStream (default true); false gives a server whose JetStream API does not answer. */
  readonly jetStream?: boolean;
  /** Require one of these user/password pairs (written to a config file). */
  readonly users?: readonly { readonly user: string; readonly password: string }[];
  /** Path of the `nats-server` binary (default: `$NATS_SERVER`, then PATH, then /usr/sbin, /usr/local/bin). */
  readonly binary?: string;
  readonly readyTimeoutMs?: number;
}

/** A running nats-server on loopback. */
export interface NatsService {
  readonly kind: 'nats-server';
  /** `nats://127.0.0.1:PORT` (no credentials in it). */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory; survives {@link NatsService.restart}. */
  readonly storeDir: string;
  /** The running server's process id (undefined while stopped): tests freeze it with SIGSTOP. */
  readonly pid: number | undefined;
  /** The server's log so far, across restarts. */
  log(): string;
  /** Stops the server and leaves the port free; `start()` brings it back on the same port and store. */
  stopServer(): Promise<void>;
  /** Starts the server again after `stopServer()`. */
  start(): Promise<void>;
  /** `stopServer()` then `start()`. */
  restart(): Promise<void>;
  /** Stops the server for good and removes its directory. */
  stop(): Promise<void>;
}

const READY = 'Server is ready';

/**
 * Starts `nats-server` (2.9+, `apt-get install nats-server`) on a free loopback port with a
 * temp store directory, and waits for its "Server is ready" log line. A raw TCP probe would
 * make the server log a parser error, so readiness is read from the log file instead.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsService> {
  const binary = options.binary ?? findNatsServer();
  if (binary === undefined) throw new Error('nats-server is not installed (apt-get install nats-server, or set NATS_SERVER to its path)');
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'lts-nats-'));
  const storeDir = join(dir, 'store');
  const logFile = join(dir, 'nats-server.log');
  const args = ['-a', '127.0.0.1', '-p', String(port), '-l', logFile];
  if (options.jetStream ?? true) args.push('-js', '-sd', storeDir);
  if (options.users && options.users.length > 0) {
    const config = join(dir, 'nats-server.conf');
    const users = options.users.map((u) => `{ user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)} }`).join(', ');
    await writeFile(config, `authorization { users = [ ${users} ] }\n`);
    args.push('-c', config);
  }
  const readLog = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  let current: ProcessService | undefined;
  let earlier = '';
  const start = async (): Promise<void> => {
    if (current !== undefined) return;
    // The log file is appended to across restarts: only a ready line after this point counts.
    const from = existsSync(logFile) ? statSync(logFile).size : 0;
    current = await startProcessService({
      name: 'nats-server',
      command: binary,
      args,
      ready: async () => readLog().slice(from).includes(READY),
      readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n--- nats-server log file ---\n${readLog().slice(from).slice(-4000)}`);
    });
  };
  const stopServer = async (): Promise<void> => {
    const running = current;
    current = undefined;
    if (running === undefined) return;
    earlier += running.log();
    await running.stop();
  };

  try {
    await start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    kind: 'nats-server',
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid() {
      return current?.pid;
    },
    log: () => readLog() + earlier + (current?.log() ?? ''),
    stopServer,
    start,
    restart: async () => {
      await stopServer();
      await start();
    },
    stop: async () => {
      await stopServer();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The nats-server binary: `$NATS_SERVER`, else the first on PATH, /usr/sbin or /usr/local/bin. */
export function findNatsServer(): string | undefined {
  if (process.env.NATS_SERVER) return process.env.NATS_SERVER;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/bin'];
  return dirs.filter((d) => d !== '').map((d) => join(d, 'nats-server')).find((p) => existsSync(p));
}
