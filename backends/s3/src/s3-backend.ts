import { defaultRegistry, type BackendContext, type BackendPlugin, type BackendRegistry } from '@litestream-ts/core';
import type { ProbingPlugin } from '@litestream-ts/core/probes';
import { s3BackendInfo } from './plugin.ts';
import { S3_PROVIDER_PROBES } from './provider-probes.ts';
import { s3OptionsFromConfig } from './s3-config.ts';
import { applyOssDefaults, parseOssUrl } from './oss-options.ts';
import { isOssUrl, optionsFromConfig } from './s3-location.ts';
import { parseS3Url } from './s3-url.ts';
import { S3ReplicaClient } from './s3-replica-client.ts';

/**
 * The `s3` backend plugin: `s3://bucket/path` URLs (provider hosts and access point ARNs
 * included) and config entries with `type: s3` and Litestream's S3 keys; also Alibaba Cloud
 * OSS through its S3 API (`oss://bucket/path`, `type: oss`).
 */
export const s3Backend: BackendPlugin & ProbingPlugin = {
  ...s3BackendInfo,
  // Run by `litestream doctor` and the conformance certification (see provider-probes.ts).
  probes: S3_PROVIDER_PROBES,
  fromURL(url: string, context?: BackendContext): S3ReplicaClient {
    const oss = isOssUrl(url);
    const { options, ignored } = oss ? parseOssUrl(url) : parseS3Url(url);
    warnIgnored(ignored, context, oss ? 'oss' : 's3');
    // Keys a config file would give globally also apply to replicas named by URL alone.
    const { options: globals } = s3OptionsFromConfig({}, context?.globals ?? {});
    const merged = { ...globals, ...definedOnly(options) };
    return new S3ReplicaClient({ ...(oss ? applyOssDefaults(merged) : merged), ...context?.timeouts, warn: context?.warn });
  },
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): S3ReplicaClient {
    const { options, ignored } = optionsFromConfig(config, context?.globals ?? {});
    warnIgnored(ignored, context, options.type ?? 's3');
    return new S3ReplicaClient({ ...options, ...context?.timeouts, warn: context?.warn });
  },
};

/** Adds the s3 backend to a registry (the default one unless given). Importing this package registers nothing. */
export function registerS3Backend(registry: BackendRegistry = defaultRegistry): BackendRegistry {
  return registry.register(s3Backend);
}

function warnIgnored(ignored: readonly string[], context: BackendContext | undefined, type: string): void {
  if (ignored.length > 0) context?.warn?.(`${type} replica URL: ignoring unknown query parameter(s) ${ignored.map((k) => JSON.stringify(k)).join(', ')}`);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
