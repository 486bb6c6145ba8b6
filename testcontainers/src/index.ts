/**
 * @litestream-ts/testcontainers: start the real services the conformance suite runs against.
 * This release holds the shared machinery (ports, readiness, local processes, Docker detection);
 * the per-service fixtures (S3, Azurite, NATS, SFTP, GCS) build on it.
 */
export { dockerAvailable } from './docker.ts';
export { freePort } from './ports.ts';
export { startProcessService, type ProcessService, type ProcessServiceSpec } from './process-service.ts';
export { tcpAccepts, waitFor } from './wait.ts';
