/** `@litestream-ts/backend-abs`: replicate to Azure Blob Storage. */
export { AbsReplicaClient } from './abs-replica-client.ts';
export { absBackend, registerAbsBackend } from './abs-backend.ts';
export { absBackendInfo, lazyAbsBackend } from './plugin.ts';
export {
  resolveAbsSettings,
  chooseAbsCredentials,
  assertContainerName,
  type AbsReplicaClientOptions,
  type AbsSettings,
  type AbsCredentialSource,
  type AbsCredentialChoice,
} from './abs-settings.ts';
export { parseAbsUrl, type ParsedAbsUrl } from './abs-url.ts';
export { absOptionsFromConfig, ABS_CONFIG_KEYS } from './abs-config.ts';
export { AbsLayout } from './abs-layout.ts';
export {
  AbsRequestError,
  AbsAuthenticationError,
  AbsPermissionError,
  AbsContainerNotFoundError,
  AbsUnreachableError,
  AbsCredentialsError,
  REQUIRED_ROLE,
} from './abs-errors.ts';
export { TIMESTAMP_METADATA_KEY, formatLtxTimestamp, parseLtxTimestamp } from './ltx-timestamp.ts';
