import type { ProviderPreset } from './provider-preset.ts';

/**
 * Amazon S3 itself: no quirks, but its virtual-hosted URL form names bucket and region
 * (`s3://bucket.s3.us-west-2.amazonaws.com/path`), and an explicit endpoint on
 * `amazonaws.com` keeps the SDK's own checksums.
 */
export const amazonS3: ProviderPreset = {
  id: 'aws',
  name: 'Amazon S3',
  endpointHost: /(^|\.)amazonaws\.com(\.cn)?(:\d+)?$/,
  bucketHost: /^(?<bucket>.+)\.(?<endpoint>s3(?:[.-](?<region>[a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?)$/,
  note: 'no preset; the region comes from the host or the ARN when not set',
};
