import { UsageError, redactURL } from '@litestream-ts/core';
import type { Environment } from './credentials.ts';
import { alibabaOss } from './providers/alibaba-oss.ts';
import { s3OptionsFromConfig } from './s3-config.ts';
import type { S3ReplicaClientOptions } from './s3-settings.ts';
import { parseS3Url, type ParsedS3Url } from './s3-url.ts';

/** The region Litestream's oss replica signs with when none is given. */
export const DEFAULT_OSS_REGION = 'cn-hangzhou';

/**
 * Parses Litestream v0.5's `oss://BUCKET[.oss-REGION[-internal].aliyuncs.com]/PATH` (plus the
 * query settings `s3://` takes). A host naming a region gives the region and, for the S3 API,
 * the endpoint `s3.oss-REGION[-internal].aliyuncs.com`; otherwise both are left to
 * `applyOssDefaults`.
 */
export function parseOssUrl(input: string): ParsedS3Url {
  const text = input.trim();
  if (!/^oss:\/\//i.test(text)) throw new UsageError(`not an oss:// URL: ${JSON.stringify(redactURL(text))}`);
  const rest = text.slice('oss://'.length);
  if (/^arn:/i.test(rest)) throw new UsageError(`oss replica URL ${JSON.stringify(text)} names an AWS access point; use oss://BUCKET/PATH`);
  const parsed = parseS3Url(`s3://${rest}`);
  const endpoint = parsed.options.endpoint;
  if (endpoint === undefined || !alibabaOss.endpointHost.test(new URL(endpoint).host)) return parsed;
  // The host named OSS's native endpoint; its S3-compatible twin has the `s3.` prefix.
  const host = new URL(endpoint).host.replace(/^(s3\.)?/, 's3.');
  return { ...parsed, options: { ...parsed.options, endpoint: `https://${host}` } };
}

/** Options from an `oss` config entry (`type: oss`, or `url: oss://…`), defaults applied. */
export function ossOptionsFromConfig(config: Readonly<Record<string, unknown>>, globals: Readonly<Record<string, unknown>> = {}, env: Environment = process.env): { options: S3ReplicaClientOptions; ignored: readonly string[] } {
  const { options, ignored } = s3OptionsFromConfig(config, globals, parseOssUrl);
  return { options: applyOssDefaults(options, env), ignored };
}

/**
 * What OSS needs that S3 defaults would get wrong: the region (default `cn-hangzhou`, as
 * Litestream), the endpoint derived from it (`https://s3.oss-REGION.aliyuncs.com`),
 * virtual-hosted-style requests, and the OSS SDK's credential variables (`OSS_ACCESS_KEY_ID`,
 * `OSS_ACCESS_KEY_SECRET`, `OSS_SESSION_TOKEN`) after the config's and LITESTREAM_*'s.
 * Anything given explicitly wins.
 */
export function applyOssDefaults(options: S3ReplicaClientOptions, env: Environment = process.env): S3ReplicaClientOptions {
  const region = blank(options.region) ? DEFAULT_OSS_REGION : options.region!;
  const endpoint = blank(options.endpoint) ? `https://s3.oss-${region}.aliyuncs.com` : options.endpoint!;
  const keysGiven = !blank(options.accessKeyId) || !blank(options.secretAccessKey) || !blank(env.LITESTREAM_ACCESS_KEY_ID) || !blank(env.LITESTREAM_SECRET_ACCESS_KEY);
  const ossKeys = !keysGiven && !blank(env.OSS_ACCESS_KEY_ID) && !blank(env.OSS_ACCESS_KEY_SECRET);
  return {
    ...options,
    type: 'oss',
    region,
    endpoint,
    forcePathStyle: options.forcePathStyle ?? alibabaOss.forcePathStyle,
    ...(ossKeys ? { accessKeyId: env.OSS_ACCESS_KEY_ID, secretAccessKey: env.OSS_ACCESS_KEY_SECRET, ...(blank(env.OSS_SESSION_TOKEN) ? {} : { sessionToken: env.OSS_SESSION_TOKEN }) } : {}),
  };
}

function blank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}
