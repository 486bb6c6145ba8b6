import { fileURLToPath } from 'node:url';
import { freePort } from './ports.ts';
import { startProcessService, type ProcessService } from './process-service.ts';
import type { S3Service } from './s3-service.ts';
import { withRecordingProxy } from './s3-support.ts';
import { httpOk } from './wait.ts';

/** Options for {@link startFauxqs}. */
export interface FauxqsOptions {
  readonly readyTimeoutMs?: number;
  /** Loopback port to listen on (default: a free one), for tests whose client was configured before the server started. */
  readonly port?: number;
}

// fauxqs's own `startFauxqs()` always listens on 0.0.0.0 (its `host` option only names the host
// in SQS queue URLs), so the child builds the Fastify app with the exported `buildApp()` and
// listens on loopback itself. Its S3 store then lives in the child's memory: nothing on disk,
// and everything gone when the process ends.
const CHILD = `
const { buildApp } = await import('fauxqs');
const app = buildApp({ logger: true, defaultRegion: 'us-east-1' });
await app.listen({ host: '127.0.0.1', port: Number(process.env.LTS_FAUXQS_PORT) });
const quit = () => app.close().finally(() => process.exit(0));
process.once('SIGTERM', quit);
process.once('SIGINT', quit);
`;

/**
 * Starts fauxqs (npm, a dependency of this package; needs Node >= 22.5) in a child process on a
 * free loopback port, waits for `/health`, and puts a recording proxy in front. Any credentials
 * are accepted (no signature checks); conditional writes are not enforced.
 */
export async function startFauxqs(options: FauxqsOptions = {}): Promise<S3Service> {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 5)) {
    throw new Error(`fauxqs needs Node >= 22.5 (node:sqlite); this is Node ${process.versions.node}. Run scripts/setup.sh and source scripts/env.sh.`);
  }
  const port = options.port ?? (await freePort());
  let service: ProcessService;
  try {
    service = await startProcessService({
      name: 'fauxqs',
      command: process.execPath,
      args: ['--input-type=module', '--eval', CHILD],
      // The bare import('fauxqs') above resolves from the working directory: this package's root.
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { LTS_FAUXQS_PORT: String(port) },
      ready: () => httpOk(`http://127.0.0.1:${port}/health`),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    });
  } catch (err) {
    const message = (err as Error).message;
    if (/Cannot find (package|module) 'fauxqs'/.test(message)) {
      throw new Error(`fauxqs is not installed: run \`pnpm install\` in the workspace (it is a dependency of @litestream-ts/testcontainers).\n${message}`);
    }
    throw err;
  }
  return withRecordingProxy({
    kind: 'fauxqs',
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: 'fauxqs',
    secretAccessKey: 'fauxqs',
    enforcesConditionalWrites: false,
    pid: service.pid,
    log: () => service.log(),
    stop: () => service.stop(),
  });
}
