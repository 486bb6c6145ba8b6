import { dockerAvailable } from './docker.ts';
import { freePort } from './ports.ts';
import { startRecordingProxy, type RecordedRequest } from './recording-proxy.ts';
import { startGcsEmulator } from './gcs-emulator/server.ts';

/** A running GCS JSON API server for tests. */
export interface GcsService {
  /** `fake-gcs-server` (Docker) or `emulator` (ours, in this process). */
  readonly kind: 'fake-gcs-server' | 'emulator';
  /** `http://127.0.0.1:PORT`: give it to the SDK as `apiEndpoint`; no credentials are checked. */
  readonly endpoint: string;
  readonly projectId: string;
  /** Creates a bucket through the JSON API. */
  createBucket(name: string): Promise<void>;
  /** Requests received so far (method, path, query, headers, status), oldest first. */
  requests(): readonly RecordedRequest[];
  /** Server output (fake-gcs-server) or one line per request (emulator), for failure reports. */
  log(): string;
  stop(): Promise<void>;
}

export interface StartGcsOptions {
  /** Default: `docker` when an engine answers, else `emulator`; `LTS_GCS=emulator|docker` overrides. */
  readonly via?: 'docker' | 'emulator';
  /** Docker image; default `LTS_GCS_IMAGE` or a pinned fake-gcs-server release. */
  readonly image?: string;
  readonly readyTimeoutMs?: number;
}

/** Pinned so a new release cannot change what the suites see overnight. */
export const DEFAULT_FAKE_GCS_IMAGE = 'fsouza/fake-gcs-server:1.52.2';
const PROJECT = 'litestream-test';
const LOG_LIMIT = 256 * 1024;

/**
 * Starts a GCS server: fake-gcs-server in Docker (testcontainers, loaded only then) when an
 * engine is reachable, otherwise our JSON API emulator (`gcs-emulator/`) on a loopback port.
 * Neither checks credentials.
 */
export async function startGcs(options: StartGcsOptions = {}): Promise<GcsService> {
  const wanted = options.via ?? (process.env.LTS_GCS as 'docker' | 'emulator' | undefined);
  const via = wanted ?? ((await dockerAvailable()) ? 'docker' : 'emulator');
  return via === 'docker' ? startFakeGcsServer(options) : startEmulatorService();
}

async function startEmulatorService(): Promise<GcsService> {
  const emulator = await startGcsEmulator();
  return {
    kind: 'emulator',
    endpoint: emulator.endpoint,
    projectId: PROJECT,
    createBucket: (name) => createBucketVia(emulator.endpoint, name),
    requests: () => emulator.requests(),
    log: () => emulator.log(),
    stop: () => emulator.stop(),
  };
}

async function startFakeGcsServer(options: StartGcsOptions): Promise<GcsService> {
  const image = options.image ?? process.env.LTS_GCS_IMAGE ?? DEFAULT_FAKE_GCS_IMAGE;
  let testcontainers: typeof import('testcontainers');
  try {
    testcontainers = await import('testcontainers');
  } catch (err) {
    throw new Error(`testcontainers cannot be loaded: run \`pnpm install\` in the workspace (${(err as Error).message})`);
  }
  // Resumable session URIs come from the server's -external-url, so the proxy's address must be
  // known before the container starts: the container gets a fixed host port, the proxy forwards to it.
  const hostPort = await freePort();
  const proxy = await startRecordingProxy(`http://127.0.0.1:${hostPort}`);
  let container: Awaited<ReturnType<InstanceType<typeof testcontainers.GenericContainer>['start']>>;
  try {
    let spec = new testcontainers.GenericContainer(image)
      .withExposedPorts({ container: 4443, host: hostPort })
      .withCommand(['-scheme', 'http', '-port', '4443', '-backend', 'memory', '-external-url', proxy.url, '-public-host', proxy.url.replace(/^http:\/\//, '')])
      .withWaitStrategy(testcontainers.Wait.forHttp('/storage/v1/b', 4443));
    if (options.readyTimeoutMs !== undefined) spec = spec.withStartupTimeout(options.readyTimeoutMs);
    container = await spec.start();
  } catch (err) {
    await proxy.close();
    throw new Error(`fake-gcs-server (${image}) did not start in Docker: ${(err as Error).message}. Set LTS_GCS=emulator to use our emulator instead.`);
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
  return {
    kind: 'fake-gcs-server',
    endpoint: proxy.url,
    projectId: PROJECT,
    createBucket: (name) => createBucketVia(proxy.url, name),
    requests: () => proxy.requests(),
    log: () => output,
    stop: async () => {
      await proxy.close();
      await container.stop();
    },
  };
}

async function createBucketVia(endpoint: string, name: string): Promise<void> {
  const res = await fetch(`${endpoint}/storage/v1/b?project=${PROJECT}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!res.ok) throw new Error(`creating GCS bucket ${name} failed: HTTP ${res.status} ${await res.text()}`);
}
