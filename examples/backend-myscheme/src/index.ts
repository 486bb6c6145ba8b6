/** `litestream-backend-myscheme`: an example third-party litestream-ts backend that keeps replicas in one SQLite file. */
export { SqliteFileReplicaClient } from './sqlite-file-replica-client.ts';
export { mySchemeBackend } from './backend.ts';
export { lazyMySchemeBackend, mySchemeBackendInfo } from './plugin.ts';
export { addressFromConfig, addressFromURL, type StoreAddress } from './location.ts';
