import type { ProviderPreset } from './provider-preset.ts';

/** Backblaze B2 (`s3.<region>.backblazeb2.com`): path-style only; the region must be the bucket's. */
export const backblazeB2: ProviderPreset = {
  id: 'backblaze-b2',
  name: 'Backblaze B2',
  endpointHost: /(^|\.)s3\.(?<region>[a-z0-9-]+)\.backblazeb2\.com(:\d+)?$|\.backblazeb2\.com(:\d+)?$/,
  bucketHost: /^(?<bucket>.+)\.(?<endpoint>s3\.(?<region>[a-z0-9-]+)\.backblazeb2\.com)$/,
  signPayload: true,
  forcePathStyle: true,
  note: 'path-style, signed payload, region from s3.<region>.backblazeb2.com',
};
