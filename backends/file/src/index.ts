/** `@litestream-ts/backend-file`: replicate to a local or mounted directory. */
export { FileReplicaClient, type FileReplicaClientOptions } from './file-replica-client.ts';
export { fileBackend, registerFileBackend } from './file-backend.ts';
export { fileBackendInfo, lazyFileBackend } from './plugin.ts';
export { ObjectLockTimeoutError, type ObjectLockOptions } from './object-lock.ts';
