import type { ProviderPreset } from './provider-preset.ts';

/**
 * Alibaba Cloud OSS through its S3-compatible API (`s3.oss-<region>.aliyuncs.com`, or the
 * `-internal` host inside Alibaba Cloud). OSS serves virtual-hosted-style requests only, signs
 * with the plain region ID (`cn-hangzhou`), and takes no aws-chunked bodies (which we never
 * send to a non-AWS endpoint). Litestream's own `oss-<region>.aliyuncs.com` hosts are matched too.
 */
export const alibabaOss: ProviderPreset = {
  id: 'alibaba-oss',
  name: 'Alibaba Cloud OSS',
  endpointHost: /(^|\.)oss-(?<region>[a-z0-9-]+?)(-internal)?\.aliyuncs\.com(:\d+)?$/,
  bucketHost: /^(?<bucket>[^.]+)\.(?<endpoint>(s3\.)?oss-(?<region>[a-z0-9-]+?)(-internal)?\.aliyuncs\.com)$/,
  defaultRegion: 'cn-hangzhou',
  signPayload: true,
  forcePathStyle: false,
  note: 'virtual-hosted style, signed payload, region from oss-<region>.aliyuncs.com (default cn-hangzhou)',
};
