/** `@litestream-ts/backend-sftp`: replicate to a directory on an SSH server over SFTP. */
export { SftpReplicaClient, type SftpReplicaClientOptions } from './sftp-replica-client.ts';
export { sftpBackend, registerSftpBackend } from './sftp-backend.ts';
export { sftpBackendInfo, lazySftpBackend } from './plugin.ts';
export { SFTP_CONFIG_KEYS, parseSftpURL, sftpSettingsFromConfig, splitHostPort, type SftpSettings } from './sftp-config.ts';
export { HostKeyMismatchError, fingerprintOf, parseHostKey, type PinnedHostKey } from './host-key.ts';
export { SftpConnectError } from './sftp-connection.ts';
export { SftpLockTimeoutError, type SftpLockOptions } from './sftp-lock.ts';
