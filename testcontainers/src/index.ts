/**
 * @litestream-ts/testcontainers: start the real services the conformance suite runs against.
 * Shared machinery (ports, readiness, local processes, Docker detection, a recording proxy, a
 * fault-injecting proxy) and the per-service fixtures built on it; S3 first (MinIO, fauxqs, s3rver).
 */
export { dockerAvailable } from './docker.ts';
export { freePort } from './ports.ts';
export { startProcessService, type ProcessService, type ProcessServiceSpec } from './process-service.ts';
export { httpAnswers, httpOk, tcpAccepts, waitFor } from './wait.ts';
export { startRecordingProxy, type RecordedRequest, type RecordingProxy } from './recording-proxy.ts';
export {
  HTTP_FAULT_KINDS,
  startFaultProxy,
  TCP_FAULT_KINDS,
  type FaultArrival,
  type FaultCounts,
  type FaultDialect,
  type FaultEvent,
  type FaultKind,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultWindow,
} from './fault-proxy.ts';
export { s3KindFromEnv, startS3, type S3Kind, type S3RequestRecord, type S3Service, type StartS3Options } from './s3-service.ts';
export { signedS3Request, type S3Target } from './s3-support.ts';
export { DEFAULT_MINIO_IMAGE, findMinioBinary, startMinio, type MinioOptions } from './minio.ts';
export { startFauxqs, type FauxqsOptions } from './fauxqs.ts';
export { s3rverCommand, startS3rver, type S3rverOptions } from './s3rver.ts';
export { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME, startAzurite, type AzuriteOptions, type AzuriteService } from './azurite.ts';
export { findNatsServer, startNatsServer, type NatsServerOptions, type NatsService } from './nats.ts';
export { startGcs, DEFAULT_FAKE_GCS_IMAGE, type GcsService, type StartGcsOptions } from './gcs.ts';
export { startGcsEmulator, type GcsEmulator, type GcsEmulatorOptions, type GcsRecordedRequest } from './gcs-emulator/server.ts';
export { startSftp, type SftpOptions, type SftpService } from './sftp.ts';
export { findRclone, startWebdav, type WebdavOptions, type WebdavService } from './webdav.ts';
