import { request } from 'node:http';

/**
 * True when a Docker engine answers `/_ping` (on DOCKER_HOST's unix socket or the default
 * one). The fixtures use containers only then; otherwise they start local processes.
 */
export function dockerAvailable(timeoutMs = 1500): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  if (host && !host.startsWith('unix://')) return Promise.resolve(false); // TCP engines: not probed here
  const socketPath = host ? host.slice('unix://'.length) : '/var/run/docker.sock';
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}
