import { randomBytes } from 'node:crypto';
import { afterAll, describe, it } from 'vitest';
import { startWebdav, type WebdavService } from '../../../../testcontainers/src/webdav.ts';
import { WebdavReplicaClient, type WebdavReplicaClientOptions } from '../webdav-replica-client.ts';

/**
 * Starts one WebDAV server (rclone) for the calling test file. In CI a server that cannot start
 * fails the file; elsewhere the file's suites are skipped and the reason printed.
 */
export async function webdavForFile(): Promise<{ service: WebdavService | undefined; skip: string | undefined }> {
  try {
    const service = await startWebdav({ readyTimeoutMs: 15_000 });
    afterAll(() => service.stop());
    return { service, skip: undefined };
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    const skip = `the WebDAV server could not start: ${(error as Error).message.split('\n')[0]}`;
    console.warn(`[backend-webdav] skipping: ${skip}`);
    return { service: undefined, skip };
  }
}

/** A client for a fresh directory on the server, with the server's credentials. */
export function clientFor(service: WebdavService, overrides: Partial<WebdavReplicaClientOptions> = {}): WebdavReplicaClient {
  return new WebdavReplicaClient({
    url: service.url,
    username: service.username,
    password: service.password,
    path: `replica-${randomBytes(4).toString('hex')}/db`,
    ...overrides,
  });
}

/**
 * Registers `suites` against the file's WebDAV server (from `webdavForFile`), or, when it could
 * not start, one skipped suite named after `title` that says why.
 */
export function withWebdav(found: { service: WebdavService | undefined; skip: string | undefined }, title: string, suites: (dav: WebdavService) => void): void {
  if (found.service === undefined) {
    describe.skip(`${title} (skipped: ${found.skip})`, () => {
      it('needs a WebDAV server (rclone)', () => {});
    });
  } else {
    suites(found.service);
  }
}
