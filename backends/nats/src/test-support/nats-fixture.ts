import { randomBytes } from 'node:crypto';
import { startNatsServer, type NatsServerOptions, type NatsService } from '../../../../testcontainers/src/nats.ts';
import { NatsReplicaClient } from '../nats-replica-client.ts';
import type { NatsReplicaClientOptions } from '../nats-settings.ts';

/** A started nats-server, or why none could start (a failure in CI, a printed skip elsewhere). */
export type NatsFixture = { service: NatsService; skipReason: undefined } | { service: undefined; skipReason: string };

/**
 * Starts one nats-server for a test file. Outside CI a server that cannot start skips the
 * file with the reason printed; in CI (`CI=true`) it fails, so a broken fixture is never green.
 */
export async function startNatsFixture(options: NatsServerOptions = {}): Promise<NatsFixture> {
  try {
    return { service: await startNatsServer(options), skipReason: undefined };
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    const skipReason = `nats-server could not start: ${(error as Error).message.split('\n')[0]}`;
    console.warn(`[backend-nats] skipping: ${skipReason}`);
    return { service: undefined, skipReason };
  }
}

/** A bucket name no other test uses. */
export function uniqueBucket(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

/** A client on the service with short timeouts, so failures surface within seconds. */
export function clientOn(service: NatsService, bucket: string, options: Partial<NatsReplicaClientOptions> = {}): NatsReplicaClient {
  return new NatsReplicaClient({ server: service.url, bucket, timeoutMs: 5000, reconnectWaitMs: 100, ...options });
}

export { type NatsService };
