import type { Agent as HttpAgent, AgentOptions } from 'node:http';
import type { AgentOptions as HttpsAgentOptions } from 'node:https';
import type { Socket } from 'node:net';
import { LitestreamError } from '../ltx/errors.ts';
import { formatTimeout } from './storage-timeouts.ts';

/** A connection to the store was not established (TCP, then TLS) within the connect timeout. */
export class ConnectTimeoutError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_CONNECT_TIMEOUT';
  readonly code = 'ETIMEDOUT';
  constructor(host: string, timeout: number) {
    super(`could not connect to ${host} within ${formatTimeout(timeout)} (connect-timeout)`);
  }
}

/**
 * A keep-alive HTTP(S) agent whose new connections fail with `ConnectTimeoutError` when the
 * TCP connection (and, for HTTPS, the TLS handshake) is not up within `connectTimeout` ms, for
 * SDKs that take an agent but have no connect timeout of their own. 0 sets none.
 */
export function connectTimeoutAgent(protocol: string, connectTimeout: number, options: HttpsAgentOptions = {}): HttpAgent {
  const secure = protocol === 'https:' || protocol === 'https';
  // Loaded here, not at import: code that never builds a network client does not pay for TLS.
  const agent = secure
    ? new (process.getBuiltinModule('node:https').Agent)({ keepAlive: true, ...options })
    : new (process.getBuiltinModule('node:http').Agent)({ keepAlive: true, ...(options as AgentOptions) });
  if (connectTimeout > 0) {
    type Create = (options: Record<string, unknown>, callback?: (error: Error | null, socket: Socket) => void) => Socket;
    const target = agent as unknown as { createConnection: Create };
    const create = target.createConnection.bind(agent);
    target.createConnection = (connectOptions, callback) => {
      const socket = create(connectOptions, callback);
      const host = `${String(connectOptions.host ?? connectOptions.hostname ?? 'the store')}:${String(connectOptions.port ?? '')}`;
      const timer = setTimeout(() => socket.destroy(new ConnectTimeoutError(host, connectTimeout)), connectTimeout);
      const connected = () => clearTimeout(timer);
      socket.once(secure ? 'secureConnect' : 'connect', connected);
      socket.once('close', connected);
      return socket;
    };
  }
  return agent;
}
