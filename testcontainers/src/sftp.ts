import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';
import { startProcessService, type ProcessService } from './process-service.ts';

const run = promisify(execFile);

/** Options for {@link startSftp}. */
export interface SftpOptions {
  /** The sshd binary (default `/usr/sbin/sshd`, or `LTS_SSHD`). */
  readonly sshd?: string;
  readonly readyTimeoutMs?: number;
}

/** A private OpenSSH sshd serving SFTP on loopback, with a throwaway user. */
export interface SftpService {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** The user's password (password authentication is enabled). */
  readonly password: string;
  /** An unencrypted ed25519 private key authorised for the user. */
  readonly privateKeyPath: string;
  /** A second key pair that is NOT authorised (for wrong-key tests). */
  readonly unauthorizedKeyPath: string;
  /** The server's host key, authorized_keys form (`ssh-ed25519 AAAA…`). */
  readonly hostPublicKey: string;
  /** The host key's fingerprint as OpenSSH prints it (`SHA256:…`, no padding). */
  readonly hostKeyFingerprint: string;
  /** A directory the user owns and may write (absolute; also the user's home). */
  readonly rootDir: string;
  /** A directory owned by root with mode 0755: readable, not writable by the user. */
  readonly readOnlyDir: string;
  /**
   * Kills the per-connection sshd processes (children of the listener, by PID), so every open
   * SSH session drops while the server keeps accepting new ones.
   */
  dropConnections(): Promise<number>;
  /** The listening sshd's process id; each connection is served by processes below it. */
  readonly pid: number;
  /** What sshd logged so far. */
  log(): string;
  /** Stops sshd, removes the user and the temp directory. */
  stop(): Promise<void>;
}

/**
 * Starts a private sshd (`sshd -D -e -f CFG`) on a free loopback port with its own host key,
 * config and authorized_keys in a temp dir, and a throwaway user (`useradd`, random password,
 * key pair) whose home is the SFTP root. Needs root (to add the user and run sshd) and
 * `/run/sshd` (created here). Ready when sshd logs `Server listening`.
 */
export async function startSftp(options: SftpOptions = {}): Promise<SftpService> {
  if (process.getuid?.() !== 0) throw new Error('the sftp fixture needs root (to run sshd and add a throwaway user)');
  const sshd = options.sshd ?? process.env.LTS_SSHD ?? '/usr/sbin/sshd';
  const dir = await mkdtemp(join(tmpdir(), 'litestream-sftp-'));
  // sshd switches to the user, who must be able to traverse into its home below this dir.
  await chmod(dir, 0o755);
  const username = `lts${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  const rootDir = join(dir, 'home');
  const readOnlyDir = join(dir, 'readonly');
  let userAdded = false;
  let service: ProcessService | undefined;
  const cleanup = async (): Promise<void> => {
    await service?.stop();
    if (userAdded) await run('userdel', [username]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await mkdir('/run/sshd', { recursive: true });
    await mkdir(rootDir);
    await mkdir(readOnlyDir, { mode: 0o755 });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'litestream-test', '-f', join(dir, 'user_key')]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not-authorised', '-f', join(dir, 'other_key')]);
    await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'user_key.pub')));
    await run('useradd', ['-M', '-d', rootDir, '-s', '/bin/sh', username]);
    userAdded = true;
    // A password also unlocks the account: with UsePAM no, sshd refuses even keys for a locked one.
    await runWithInput('chpasswd', `${username}:${password}\n`);
    const { stdout: ids } = await run('id', ['-u', username]);
    const { stdout: gids } = await run('id', ['-g', username]);
    await chown(rootDir, Number(ids.trim()), Number(gids.trim()));

    const port = await freePort();
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `AllowUsers ${username}`,
        'UsePAM no',
        'StrictModes no',
        'PasswordAuthentication yes',
        'PubkeyAuthentication yes',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin no',
        'MaxStartups 100:30:200',
        'LogLevel VERBOSE',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    await run(sshd, ['-t', '-f', config]);
    // -E sends the log to a file the readiness probe can read; startProcessService's own capture
    // of stderr is not visible until it returns.
    const logFile = join(dir, 'sshd.log');
    const readLog = (): string => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    };
    service = await startProcessService({
      name: 'sshd',
      command: sshd,
      args: ['-D', '-e', '-E', logFile, '-f', config],
      ready: async () => readLog().includes('Server listening'),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    });
    const hostPublicKey = (await readFile(join(dir, 'host_key.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    const blob = Buffer.from(hostPublicKey.split(' ')[1]!, 'base64');
    const running = service;
    return {
      host: '127.0.0.1',
      port,
      username,
      password,
      privateKeyPath: join(dir, 'user_key'),
      unauthorizedKeyPath: join(dir, 'other_key'),
      hostPublicKey,
      hostKeyFingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
      rootDir,
      readOnlyDir,
      pid: running.pid,
      log: () => readLog() + running.log(),
      dropConnections: async () => {
        const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(running.pid)]).catch(() => ({ stdout: '' }));
        const pids = stdout.split(/\s+/).filter(Boolean).map(Number);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        return pids.length;
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    const message = (err as Error).message;
    if (/ENOENT/.test(message) && /sshd|ssh-keygen|useradd/.test(message)) {
      throw new Error(`OpenSSH server tools are missing: run scripts/install-test-services.sh (apt-get install openssh-server).\n${message}`);
    }
    throw err;
  }
}

function runWithInput(command: string, input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, [], (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(input);
  });
}
