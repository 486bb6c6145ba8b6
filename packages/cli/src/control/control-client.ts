import { request } from 'node:http';
import { CliError } from '../cli-error.ts';
import type { ErrorResponse } from './protocol.ts';

/** Where and how long to ask. */
export interface ControlCall {
  /** The control socket's path. */
  readonly socket: string;
  /** Milliseconds the whole exchange may take. */
  readonly timeout: number;
  /** The command's name, for messages (`sync failed: …`). */
  readonly command: string;
}

/**
 * Sends one request to a running `replicate` over its control socket and resolves with the
 * JSON answer. Every failure is a one-line `CliError`: no socket (or nobody serving it) asks
 * whether `replicate` runs with `socket.enabled`, a refused permission names the socket's mode,
 * and an error answer is printed as `COMMAND failed: MESSAGE`.
 */
export function callControl<T>(call: ControlCall, endpoint: `${'GET' | 'POST'} /${string}`, body?: object): Promise<T> {
  const [method, path] = endpoint.split(' ') as [string, string];
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolveCall, rejectCall) => {
    let timer: NodeJS.Timeout | undefined;
    const resolve = (value: T) => {
      clearTimeout(timer);
      resolveCall(value);
    };
    const reject = (err: Error) => {
      clearTimeout(timer);
      rejectCall(err);
    };
    const req = request(
      {
        socketPath: call.socket,
        path,
        method,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => reject(new CliError(`${call.command} failed: ${err.message}`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            reject(new CliError(`${call.command} failed: unexpected answer from ${call.socket} (HTTP ${res.statusCode}): ${text.slice(0, 200)}`));
            return;
          }
          if (res.statusCode !== 200) {
            const message = (parsed as Partial<ErrorResponse>).error ?? text.trim();
            reject(new CliError(`${call.command} failed: ${message}`));
            return;
          }
          resolve(parsed as T);
        });
      },
    );
    // The whole exchange, not just a silence, is bounded.
    timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'LTS_TIMEOUT' })), call.timeout);
    req.on('error', (err: NodeJS.ErrnoException) => reject(connectionError(call, err)));
    req.end(payload);
  });
}

function connectionError(call: ControlCall, err: NodeJS.ErrnoException): CliError {
  const hint = 'is litestream replicate running with socket.enabled?';
  switch (err.code) {
    case 'ENOENT':
      return new CliError(`no control socket at ${call.socket}: ${hint} (another path: -socket PATH)`);
    case 'ECONNREFUSED':
      return new CliError(`nothing answers on the control socket ${call.socket} (left by a process that ended): ${hint}`);
    case 'EACCES':
    case 'EPERM':
      return new CliError(`permission denied on the control socket ${call.socket}: run as the user of litestream replicate, or widen socket.permissions (default 0600)`);
    case 'ENOTSOCK':
      return new CliError(`${call.socket} is not a socket: ${hint}`);
    case 'LTS_TIMEOUT':
      return new CliError(`${call.command} failed: no answer from ${call.socket} within ${call.timeout / 1000}s (-timeout)`);
    case 'ECONNRESET':
      return new CliError(`${call.command} failed: litestream replicate closed the connection (is it stopping?)`);
    default:
      return new CliError(`${call.command} failed: cannot reach ${call.socket}: ${err.message}`);
  }
}
