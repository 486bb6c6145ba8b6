import type SftpClient from 'ssh2-sftp-client';

/** The ssh2 SFTP channel under an ssh2-sftp-client connection (the type is not exported by name). */
export type SftpChannel = Awaited<ReturnType<SftpClient['connect']>>;

/** SFTP v3 status codes that matter here (ssh2 sets them as `error.code`). */
export const SFTP_NO_SUCH_FILE = 2;
export const SFTP_PERMISSION_DENIED = 3;
export const SFTP_FAILURE = 4;

/** Attributes returned by stat/fstat/readdir: sizes in bytes, times in whole seconds. */
export interface SftpAttrs {
  readonly size: number;
  readonly mtime: number;
  readonly mode: number;
}

/** One directory entry. */
export interface SftpEntry {
  readonly filename: string;
  readonly attrs: SftpAttrs;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

export const isDirectory = (attrs: SftpAttrs): boolean => (attrs.mode & S_IFMT) === S_IFDIR;
export const isRegularFile = (attrs: SftpAttrs): boolean => (attrs.mode & S_IFMT) === S_IFREG;

/** True for an ssh2 status error with this SFTP code. */
export function hasSftpCode(error: unknown, code: number): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** An SFTP error that names the operation and path, keeping the numeric status as `code`. */
export function pathError(error: Error, operation: string, path: string): Error {
  const code = (error as { code?: unknown }).code;
  return Object.assign(new Error(`sftp ${operation} ${path}: ${error.message}`, { cause: error }), { code });
}

/**
 * Promise wrappers over the raw channel. ssh2-sftp-client's own methods rewrite error codes and
 * add listeners per call; the raw channel keeps the numeric SFTP status for decisions.
 */
export class SftpOps {
  readonly channel: SftpChannel;

  constructor(channel: SftpChannel) {
    this.channel = channel;
  }

  open(path: string, flags: 'r' | 'wx', mode?: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | undefined, handle: Buffer): void => (err ? reject(pathError(err, 'open', path)) : resolve(handle));
      if (mode === undefined) this.channel.open(path, flags, done);
      else this.channel.open(path, flags, { mode }, done);
    });
  }

  close(handle: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.channel.close(handle, (err) => (err ? reject(err) : resolve())));
  }

  write(handle: Buffer, data: Uint8Array, position: number): Promise<void> {
    const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return new Promise((resolve, reject) => this.channel.write(handle, buffer, 0, buffer.length, position, (err) => (err ? reject(err) : resolve())));
  }

  read(handle: Buffer, length: number, position: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    return new Promise((resolve, reject) =>
      this.channel.read(handle, buffer, 0, length, position, (err, bytesRead) => (err ? reject(err) : resolve(buffer.subarray(0, bytesRead)))),
    );
  }

  fstat(handle: Buffer): Promise<SftpAttrs> {
    return new Promise((resolve, reject) => this.channel.fstat(handle, (err, attrs) => (err ? reject(err) : resolve(attrs))));
  }

  stat(path: string): Promise<SftpAttrs> {
    return new Promise((resolve, reject) => this.channel.stat(path, (err, attrs) => (err ? reject(pathError(err, 'stat', path)) : resolve(attrs))));
  }

  futimes(handle: Buffer, seconds: number): Promise<void> {
    return new Promise((resolve, reject) => this.channel.futimes(handle, seconds, seconds, (err) => (err ? reject(err) : resolve())));
  }

  utimes(path: string, seconds: number): Promise<void> {
    return new Promise((resolve, reject) => this.channel.utimes(path, seconds, seconds, (err) => (err ? reject(pathError(err, 'utimes', path)) : resolve())));
  }

  fsync(handle: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.channel.ext_openssh_fsync(handle, (err) => (err ? reject(err) : resolve())));
  }

  readdir(path: string): Promise<SftpEntry[]> {
    return new Promise((resolve, reject) => this.channel.readdir(path, (err, list) => (err ? reject(pathError(err, 'readdir', path)) : resolve(list))));
  }

  mkdir(path: string): Promise<void> {
    return new Promise((resolve, reject) => this.channel.mkdir(path, (err) => (err ? reject(pathError(err, 'mkdir', path)) : resolve())));
  }

  rmdir(path: string): Promise<void> {
    return new Promise((resolve, reject) => this.channel.rmdir(path, (err) => (err ? reject(pathError(err, 'rmdir', path)) : resolve())));
  }

  unlink(path: string): Promise<void> {
    return new Promise((resolve, reject) => this.channel.unlink(path, (err) => (err ? reject(pathError(err, 'unlink', path)) : resolve())));
  }

  /** posix-rename@openssh.com: atomically replaces `to`. */
  posixRename(from: string, to: string): Promise<void> {
    return new Promise((resolve, reject) => this.channel.ext_openssh_rename(from, to, (err) => (err ? reject(pathError(err, 'rename', `${from} to ${to}`)) : resolve())));
  }

  /** hardlink@openssh.com: link(2) on the server, which fails when `to` exists. */
  hardlink(from: string, to: string): Promise<void> {
    return new Promise((resolve, reject) => this.channel.ext_openssh_hardlink(from, to, (err) => (err ? reject(pathError(err, 'link', `${from} to ${to}`)) : resolve())));
  }

  /** Deletes a file; false when it did not exist. */
  async unlinkIfPresent(path: string): Promise<boolean> {
    try {
      await this.unlink(path);
      return true;
    } catch (error) {
      if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) return false;
      throw error;
    }
  }

  /** Stats a path; undefined when it does not exist. */
  async statIfPresent(path: string): Promise<SftpAttrs | undefined> {
    try {
      return await this.stat(path);
    } catch (error) {
      if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) return undefined;
      throw error;
    }
  }

  /** mkdir -p: creates each missing directory of an absolute or home-relative path. */
  async mkdirp(path: string): Promise<void> {
    if (path === '' || path === '.' || path === '/') return;
    const attrs = await this.statIfPresent(path);
    if (attrs !== undefined) {
      if (!isDirectory(attrs)) throw Object.assign(new Error(`sftp mkdir ${path}: exists and is not a directory`), { code: SFTP_FAILURE });
      return;
    }
    const slash = path.lastIndexOf('/');
    if (slash > 0) await this.mkdirp(path.slice(0, slash));
    try {
      await this.mkdir(path);
    } catch (error) {
      // Another writer may have created it meanwhile (mkdir answers a plain FAILURE then).
      const now = await this.statIfPresent(path);
      if (now === undefined || !isDirectory(now)) throw error;
    }
  }

  /** rm -r: removes a directory tree; a missing one is not an error. */
  async removeTree(path: string): Promise<void> {
    let entries: SftpEntry[];
    try {
      entries = await this.readdir(path);
    } catch (error) {
      if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) return;
      throw error;
    }
    await Promise.all(
      entries.map(async (entry) => {
        const child = `${path}/${entry.filename}`;
        if (isDirectory(entry.attrs)) await this.removeTree(child);
        else await this.unlinkIfPresent(child);
      }),
    );
    try {
      await this.rmdir(path);
    } catch (error) {
      if (!hasSftpCode(error, SFTP_NO_SUCH_FILE)) throw error;
    }
  }
}
