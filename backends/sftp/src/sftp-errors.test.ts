import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, type LtxFileRef } from '@litestream-ts/core';
import { freePort } from '../../../testcontainers/src/ports.ts';
import { HostKeyMismatchError, parseHostKey } from './host-key.ts';
import { sftpBackend } from './sftp-backend.ts';
import { SftpConnectError } from './sftp-connection.ts';
import type { SftpReplicaClient } from './sftp-replica-client.ts';
import { clientFor, sftpForFile } from './test-support/sftp-fixture.ts';

const { service, skip } = await sftpForFile();
const ref: LtxFileRef = { level: 0, minTXID: 1, maxTXID: 1 };

/** Runs `attempt` on a fresh client, returns the rejection and prints how long it took to surface. */
async function failure(label: string, client: SftpReplicaClient, attempt: (c: SftpReplicaClient) => Promise<unknown>): Promise<Error> {
  const started = performance.now();
  try {
    await attempt(client);
  } catch (error) {
    const ms = Math.round(performance.now() - started);
    console.log(`[backend-sftp] ${label}: ${ms} ms: ${(error as Error).message}`);
    return error as Error;
  } finally {
    await client.close();
  }
  throw new Error(`${label}: expected a failure`);
}

const list = async (c: SftpReplicaClient): Promise<void> => {
  for await (const _ of c.listLtxFiles(0));
};

describe.skipIf(service === undefined)(`sftp connection errors${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const sshd = service!;

  describe('host-key pinning', () => {
    it('connects when host-key is the server key (authorized_keys form, with or without comment)', async () => {
      const client = clientFor(sshd, { hostKey: `${sshd.hostPublicKey} root@server` });
      try {
        await list(client);
      } finally {
        await client.close();
      }
    });

    it('connects when host-key is the SHA256 fingerprint', async () => {
      const client = clientFor(sshd, { hostKey: sshd.hostKeyFingerprint });
      try {
        await list(client);
      } finally {
        await client.close();
      }
    });

    it('refuses a server whose key differs, naming expected and offered fingerprints', async () => {
      const other = (await readFile(`${sshd.unauthorizedKeyPath}.pub`, 'utf8')).trim();
      const error = await failure('host key mismatch', clientFor(sshd, { hostKey: other }), list);
      expect(error).toBeInstanceOf(HostKeyMismatchError);
      expect(error.message).toContain(parseHostKey(other).fingerprint);
      expect(error.message).toContain(sshd.hostKeyFingerprint);
      expect(error.message).toMatch(/offered host key SHA256:.*but host-key pins SHA256:.*refusing to connect/);
    });

    it('warns through the plugin context when host-key is unset, and still connects', async () => {
      const warnings: string[] = [];
      const client = sftpBackend.fromConfig(
        { type: 'sftp', host: `${sshd.host}:${sshd.port}`, user: sshd.username, 'key-path': sshd.privateKeyPath, path: `${sshd.rootDir}/warned` },
        { warn: (m) => warnings.push(m) },
      ) as SftpReplicaClient;
      try {
        await list(client);
      } finally {
        await client.close();
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/host key of .* is not verified: set "host-key"/);
    });

    it('does not warn when host-key is set', () => {
      const warnings: string[] = [];
      sftpBackend.fromConfig({ type: 'sftp', host: 'h', user: 'u', password: 'p', 'host-key': sshd.hostPublicKey }, { warn: (m) => warnings.push(m) });
      expect(warnings).toEqual([]);
    });
  });

  describe('credentials', () => {
    it('rejects a wrong password without revealing it', async () => {
      const secret = 'wrong-Pa55word-xyz';
      const error = await failure('wrong password', clientFor(sshd, { keyPath: undefined, password: secret }), list);
      expect(error).toBeInstanceOf(SftpConnectError);
      expect(error.message).toMatch(new RegExp(`cannot connect to ${sshd.username}@127\\.0\\.0\\.1:${sshd.port}: authentication failed for user "${sshd.username}" \\(password rejected\\)`));
      expect(error.message).not.toContain(secret);
      expect(String((error as { cause?: Error }).cause?.message)).not.toContain(secret);
    });

    it('connects with the right password', async () => {
      const client = clientFor(sshd, { keyPath: undefined, password: sshd.password });
      try {
        await client.writeLtxFile(ref, new Uint8Array([1]));
      } finally {
        await client.close();
      }
    });

    it('rejects a key that is not authorised', async () => {
      const error = await failure('wrong key', clientFor(sshd, { keyPath: sshd.unauthorizedKeyPath }), list);
      expect(error).toBeInstanceOf(SftpConnectError);
      expect(error.message).toContain('authentication failed');
      expect(error.message).toContain('public key rejected');
    });

    it('names a key-path that cannot be read', async () => {
      const error = await failure('missing key file', clientFor(sshd, { keyPath: '/nonexistent/id_ed25519' }), list);
      expect(error.message).toMatch(/cannot read key-path \/nonexistent\/id_ed25519: ENOENT/);
    });

    it('refuses a replica without any credentials as a usage error', async () => {
      const error = await failure('no credentials', clientFor(sshd, { keyPath: undefined }), list);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toMatch(/has no credentials: set "password".*or "key-path"/);
    });

    it('never puts a key passphrase in an error', async () => {
      const passphrase = 'Secret-Passphrase-42';
      const error = await failure('passphrase on an unencrypted key', clientFor(sshd, { passphrase, keyPath: sshd.unauthorizedKeyPath }), list);
      expect(error.message).not.toContain(passphrase);
    });
  });

  describe('unreachable servers', () => {
    const silent: Server[] = [];
    afterAll(() => Promise.all(silent.map((s) => new Promise((resolve) => s.close(resolve)))));

    it('fails fast when nothing listens on the port', async () => {
      const port = await freePort();
      const started = Date.now();
      const error = await failure('connection refused', clientFor(sshd, { port }), list);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(SftpConnectError);
      expect(error.message).toMatch(new RegExp(`cannot connect to .*:${port}: .*connection refused \\(ECONNREFUSED\\): is an SSH server listening`));
    });

    it('gives up after the dial timeout when the server accepts but never speaks SSH', async () => {
      // Reading what the client sends lets the server see the client hang up.
      const server = createServer((socket) => socket.resume());
      silent.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const started = Date.now();
      const error = await failure('silent server (dial timeout 1 s)', clientFor(sshd, { port, dialTimeoutMs: 1_000 }), list);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(error.message).toMatch(/no SSH handshake within 1000 ms/);
    });

    it('tries again on the next call after a failed connect', async () => {
      const client = clientFor(sshd, { port: await freePort() });
      await expect(list(client)).rejects.toBeInstanceOf(SftpConnectError);
      // Same client, now pointed at nothing again: a second attempt is made rather than a cached failure reused.
      await expect(list(client)).rejects.toBeInstanceOf(SftpConnectError);
      await client.close();
    });
  });

  describe('paths', () => {
    it('creates a missing replica path on the first write', async () => {
      const client = clientFor(sshd, { path: `${sshd.rootDir}/a/b/c` });
      try {
        await list(client); // a missing path lists as empty
        await client.writeLtxFile(ref, new Uint8Array([1]));
        expect(await readFile(join(sshd.rootDir, 'a/b/c/ltx/0/0000000000000001-0000000000000001.ltx'))).toEqual(Buffer.from([1]));
      } finally {
        await client.close();
      }
    });

    it('reports a path the user may not write with the remote path and "Permission denied"', async () => {
      const error = await failure('unwritable path', clientFor(sshd, { path: `${sshd.readOnlyDir}/replica` }), (c) => c.writeLtxFile(ref, new Uint8Array([1])));
      expect(error.message).toMatch(new RegExp(`sftp mkdir ${sshd.readOnlyDir}/replica: Permission denied`));
    });

    it('reports a path that runs through a file', async () => {
      await writeFile(join(sshd.rootDir, 'plain-file'), 'x');
      const error = await failure('path through a file', clientFor(sshd, { path: `${sshd.rootDir}/plain-file/replica` }), (c) => c.writeLtxFile(ref, new Uint8Array([1])));
      expect(error.message).toContain(`${sshd.rootDir}/plain-file: exists and is not a directory`);
    });

    it('refuses use after close', async () => {
      const client = clientFor(sshd);
      await list(client);
      await client.close();
      await expect(list(client)).rejects.toThrow(/is closed/);
    });
  });
});
