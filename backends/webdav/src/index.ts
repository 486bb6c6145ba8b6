/** `@litestream-ts/backend-webdav`: replicate to a collection on a WebDAV server. */
export { WebdavReplicaClient, type WebdavReplicaClientOptions } from './webdav-replica-client.ts';
export { webdavBackend, registerWebdavBackend } from './webdav-backend.ts';
export { webdavBackendInfo, lazyWebdavBackend } from './plugin.ts';
export { WEBDAV_CONFIG_KEYS, parseWebdavURL, webdavSettingsFromConfig, type WebdavSettings } from './webdav-config.ts';
export { WebdavError } from './webdav-http.ts';
