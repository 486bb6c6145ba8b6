import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { dockerAvailable } from './docker.ts';
import { freePort } from './ports.ts';
import { startProcessService, type ProcessService } from './process-service.ts';
import type { S3Service } from './s3-service.ts';
import { withRecordingProxy } from './s3-support.ts';
import { httpOk } from './wait.ts';

/** Options for {@link startMinio}. */
export interface MinioOptions {
  /** `docker` (testcontainers) or `binary` (`minio` on PATH); default: Docker when an engine answers. */
  readonly via?: 'docker' | 'binary';
  /** Docker image; default `LTS_MINIO_IMAGE` or a pinned release. */
  readonly image?: string;
  readonly readyTimeoutMs?: number;
}

/** Pinned so a new MinIO release cannot change what the suites see overnight. */
export const DEFAULT_MINIO_IMAGE = 'minio/minio:RELEASE.2025-09-07T16-13-09Z';
const USER = 'minioadmin';
const PASSWORD = 'minioadmin';
const LOG_LIMIT = 256 * 1024;

/** The path of a `minio` executable on PATH, or undefined. */
export async function findMinioBinary(): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'minio');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * Starts MinIO, the one S3 server here that enforces conditional writes: in Docker via
 * `@testcontainers/minio` (loaded only then), or as a local `minio server` process on loopback
 * ports with its data in a temp directory. Credentials `minioadmin`/`minioadmin`.
 */
export async function startMinio(options: MinioOptions = {}): Promise<S3Service> {
  const via = options.via ?? ((await dockerAvailable()) ? 'docker' : (await findMinioBinary()) ? 'binary' : undefined);
  if (via === 'docker') return startMinioContainer(options);
  if (via === 'binary') return startMinioBinary(options);
  throw new Error(
    'MinIO needs a reachable Docker engine (DOCKER_HOST or /var/run/docker.sock) or a `minio` server binary on PATH; ' +
      'neither is here. Install one of them, or use LTS_S3=fauxqs (which does not enforce conditional writes).',
  );
}

async function startMinioContainer(options: MinioOptions): Promise<S3Service> {
  const image = options.image ?? process.env.LTS_MINIO_IMAGE ?? DEFAULT_MINIO_IMAGE;
  let MinioContainer: typeof import('@testcontainers/minio').MinioContainer;
  try {
    ({ MinioContainer } = await import('@testcontainers/minio'));
  } catch (err) {
    throw new Error(`@testcontainers/minio cannot be loaded: run \`pnpm install\` in the workspace (${(err as Error).message})`);
  }
  let container: Awaited<ReturnType<InstanceType<typeof MinioContainer>['start']>>;
  try {
    const spec = new MinioContainer(image).withUsername(USER).withPassword(PASSWORD).withEnvironment({ MINIO_UPDATE: 'off' });
    container = await (options.readyTimeoutMs === undefined ? spec : spec.withStartupTimeout(options.readyTimeoutMs)).start();
  } catch (err) {
    throw new Error(`MinIO (${image}) did not start in Docker: ${(err as Error).message}. Set LTS_S3=fauxqs to test against fauxqs instead.`);
  }
  let output = '';
  try {
    const logs = await container.logs();
    logs.on('data', (chunk: Buffer | string) => {
      output = (output + chunk.toString()).slice(-LOG_LIMIT);
    });
    logs.on('error', () => {}); // the stream ends with an error when the container is removed
  } catch {
    output = '(container logs unavailable)';
  }
  return withRecordingProxy({
    kind: 'minio',
    endpoint: container.getConnectionUrl(),
    region: 'us-east-1',
    accessKeyId: USER,
    secretAccessKey: PASSWORD,
    enforcesConditionalWrites: true,
    log: () => output,
    stop: async () => {
      await container.stop();
    },
  });
}

async function startMinioBinary(options: MinioOptions): Promise<S3Service> {
  const bin = await findMinioBinary();
  if (!bin) throw new Error('no `minio` binary on PATH: install the MinIO server binary, or use Docker, or LTS_S3=fauxqs.');
  const dir = await mkdtemp(join(tmpdir(), 'lts-minio-'));
  const [port, consolePort] = [await freePort(), await freePort()];
  let service: ProcessService;
  try {
    service = await startProcessService({
      name: 'minio',
      command: bin,
      // The console gets a loopback port too; left alone it would listen on all interfaces.
      args: ['server', dir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`],
      env: { MINIO_ROOT_USER: USER, MINIO_ROOT_PASSWORD: PASSWORD, MINIO_UPDATE: 'off', MINIO_BROWSER: 'off' },
      ready: () => httpOk(`http://127.0.0.1:${port}/minio/health/live`),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return withRecordingProxy({
    kind: 'minio',
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: USER,
    secretAccessKey: PASSWORD,
    enforcesConditionalWrites: true,
    pid: service.pid,
    log: () => service.log(),
    stop: () => service.stop(),
    tempDirs: [dir],
  });
}
