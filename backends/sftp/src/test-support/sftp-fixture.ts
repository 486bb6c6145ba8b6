import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { startSftp, type SftpService } from '../../../../testcontainers/src/sftp.ts';
import { SftpReplicaClient, type SftpReplicaClientOptions } from '../sftp-replica-client.ts';

/**
 * Starts one sshd for the calling test file. In CI a server that cannot start fails the file;
 * elsewhere the file's suites are skipped and the reason printed.
 */
export async function sftpForFile(): Promise<{ service: SftpService | undefined; skip: string | undefined }> {
  try {
    const service = await startSftp({ readyTimeoutMs: 15_000 });
    afterAll(() => service.stop());
    return { service, skip: undefined };
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    const skip = `sshd could not start: ${(error as Error).message.split('\n')[0]}`;
    console.warn(`[backend-sftp] skipping: ${skip}`);
    return { service: undefined, skip };
  }
}

/** A client for a fresh directory under the user's home, authenticated by key, host key pinned. */
export function clientFor(service: SftpService, overrides: Partial<SftpReplicaClientOptions> = {}): SftpReplicaClient {
  return new SftpReplicaClient({
    host: service.host,
    port: service.port,
    user: service.username,
    keyPath: service.privateKeyPath,
    hostKey: service.hostPublicKey,
    path: `${service.rootDir}/replica-${randomBytes(4).toString('hex')}`,
    dialTimeoutMs: 5_000,
    ...overrides,
  });
}
