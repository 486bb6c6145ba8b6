import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './ports.ts';
import { startProcessService, type ProcessService } from './process-service.ts';
import { httpAnswers } from './wait.ts';

/** Azurite's published development account (the same in every Azurite install, not a secret). */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
/** The published key of {@link AZURITE_ACCOUNT_NAME}. */
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Options for {@link startAzurite}. */
export interface AzuriteOptions {
  readonly readyTimeoutMs?: number;
}

/** A running Azurite blob service on loopback. */
export interface AzuriteService {
  readonly kind: 'azurite';
  readonly pid: number;
  /** Blob endpoint, path-style: `http://127.0.0.1:PORT/devstoreaccount1`. */
  readonly blobEndpoint: string;
  readonly port: number;
  readonly accountName: string;
  readonly accountKey: string;
  /** A connection string for `BlobServiceClient.fromConnectionString`. */
  readonly connectionString: string;
  /** Azurite enforces If-Match / If-None-Match (409 BlobAlreadyExists, 412 ConditionNotMet). */
  readonly enforcesConditionalWrites: true;
  /** What Azurite printed so far. */
  log(): string;
  /** Stops the process and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts Azurite's blob service (npm `azurite`, a dependency of this package) on a free loopback
 * port with its data in a fresh temp dir, and waits until it answers HTTP.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteService> {
  const script = azuriteBlobScript();
  const port = await freePort();
  const location = await mkdtemp(join(tmpdir(), 'lts-azurite-'));
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME}`;
  let service: ProcessService;
  try {
    service = await startProcessService({
      name: 'azurite-blob',
      command: process.execPath,
      args: [
        script,
        '--blobHost', '127.0.0.1',
        '--blobPort', String(port),
        '--location', location,
        // The SDK sends a newer x-ms-version than Azurite knows; without this every request is a 400.
        '--skipApiVersionCheck',
        // Telemetry resolves a public host name, which fails (slowly) without a network.
        '--disableTelemetry',
        '--silent',
      ],
      // Any HTTP answer (even 403 for an unsigned request) means the server is listening.
      ready: () => httpAnswers(`${blobEndpoint}?comp=list`),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    });
  } catch (err) {
    await rm(location, { recursive: true, force: true });
    throw err;
  }
  return {
    kind: 'azurite',
    pid: service.pid,
    blobEndpoint,
    port,
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`,
    enforcesConditionalWrites: true,
    log: () => service.log(),
    stop: async () => {
      await service.stop();
      await rm(location, { recursive: true, force: true });
    },
  };
}

function azuriteBlobScript(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve('azurite/package.json');
  } catch (err) {
    throw new Error(`azurite is not installed: run \`pnpm install\` in the workspace (it is a dependency of @litestream-ts/testcontainers). ${(err as Error).message}`);
  }
  // The bin's script, run with this Node rather than through the .bin shim (no shell, no PATH lookup).
  return join(dirname(manifest), 'dist', 'src', 'blob', 'main.js');
}
