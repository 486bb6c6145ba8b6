import { setTimeout as sleep } from 'node:timers/promises';
import { tc } from './libs.ts';

type ProcessService = Awaited<ReturnType<typeof tc.startProcessService>>;

/**
 * s3rver on a fixed loopback port with its data in a fixed directory, so it can be killed and
 * started again on the same data (as a real S3 endpoint comes back with its objects). s3rver
 * is the S3 server from testcontainers whose data outlives its process (fauxqs keeps its
 * objects in memory).
 */
export class SoakS3Server {
  readonly port: number;
  readonly directory: string;
  readonly endpoint: string;
  readonly accessKeyId = 'S3RVER';
  readonly secretAccessKey = 'S3RVER';
  private service: ProcessService | undefined;

  constructor(directory: string, port: number) {
    this.directory = directory;
    this.port = port;
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    this.service = await tc.startProcessService({
      name: 's3rver',
      ...tc.s3rverCommand(this.directory, this.port),
      ready: () => tc.httpAnswers(`${this.endpoint}/`),
    });
  }

  async createBucket(name: string): Promise<void> {
    const res = await tc.signedS3Request({ endpoint: this.endpoint, region: 'us-east-1', accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey }, 'PUT', `/${name}`);
    if (!res.ok) throw new Error(`creating bucket ${name}: HTTP ${res.status} ${await res.text()}`);
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    const pid = this.service?.pid;
    this.service = undefined;
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await sleep(25);
    }
  }

  log(): string {
    return this.service?.log() ?? '';
  }

  async stop(): Promise<void> {
    await this.service?.stop();
    this.service = undefined;
  }
}
