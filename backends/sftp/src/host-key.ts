import { createHash } from 'node:crypto';
import { LitestreamError, UsageError } from '@litestream-ts/core';

/** A pinned server key: either the whole public key or only its SHA256 fingerprint. */
export interface PinnedHostKey {
  /** `SHA256:<base64, no padding>`, as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
  /** The raw key blob when the pin was a whole key (compared byte for byte). */
  readonly blob?: Buffer;
}

/**
 * Parses Litestream's `host-key`: a public key in authorized_keys / known_hosts form
 * (`ssh-ed25519 AAAA… [comment]`, optionally preceded by host names), or — as an extension — a
 * bare `SHA256:…` fingerprint.
 */
export function parseHostKey(text: string): PinnedHostKey {
  const trimmed = text.trim();
  if (/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(trimmed)) return { fingerprint: trimmed.replace(/=$/, '') };
  const fields = trimmed.split(/\s+/);
  const at = fields.findIndex((f) => /^(ssh-|ecdsa-|sk-)/.test(f));
  const encoded = at >= 0 ? fields[at + 1] : undefined;
  if (encoded === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new UsageError(`sftp host-key must be a public key such as "ssh-ed25519 AAAA…" or a fingerprint "SHA256:…", got ${JSON.stringify(trimmed.slice(0, 40))}`);
  }
  const blob = Buffer.from(encoded, 'base64');
  // The blob starts with its own algorithm name; a mismatch means a mangled or truncated key.
  const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (nameLength <= 0 || blob.subarray(4, 4 + nameLength).toString('latin1') !== fields[at]) {
    throw new UsageError(`sftp host-key is not a valid ${fields[at]} public key (its base64 data does not decode to one)`);
  }
  return { fingerprint: fingerprintOf(blob), blob };
}

/** OpenSSH's SHA256 fingerprint of a raw public key blob. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** True when the server's key blob is the pinned one. */
export function matchesPin(pin: PinnedHostKey, offered: Buffer): boolean {
  return pin.blob !== undefined ? pin.blob.equals(offered) : fingerprintOf(offered) === pin.fingerprint;
}

/** The server presented a host key other than the configured `host-key`. */
export class HostKeyMismatchError extends LitestreamError {
  readonly expected: string;
  readonly offered: string;
  constructor(address: string, expected: string, offered: string) {
    super(
      `sftp server ${address} offered host key ${offered}, but host-key pins ${expected}; refusing to connect (if the server's key was changed on purpose, update host-key)`,
    );
    this.expected = expected;
    this.offered = offered;
  }
}
