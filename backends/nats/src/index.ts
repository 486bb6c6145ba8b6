/** `@litestream-ts/backend-nats`: replicate to a NATS JetStream object store. */
export { NatsReplicaClient, METADATA_KEYS } from './nats-replica-client.ts';
export { natsBackend, registerNatsBackend } from './nats-backend.ts';
export { natsBackendInfo, lazyNatsBackend } from './plugin.ts';
export { resolveNatsSettings, DEFAULT_SERVER, DEFAULT_RECONNECT_WAIT_MS, DEFAULT_TIMEOUT_MS, type NatsReplicaClientOptions, type NatsSettings, type NatsAuth } from './nats-settings.ts';
export { parseNatsUrl, type ParsedNatsUrl } from './nats-url.ts';
export { natsOptionsFromConfig, NATS_CONFIG_KEYS } from './nats-config.ts';
export { parseDuration } from './duration.ts';
export { NatsObjectLayout } from './object-layout.ts';
export { NatsRequestError } from './nats-errors.ts';
export { StalledReadError } from './object-streams.ts';
export { TIMESTAMP_HEADER, formatLtxTimestamp, parseLtxTimestamp } from './ltx-timestamp.ts';
export type { NatsSession } from './nats-connection.ts';
