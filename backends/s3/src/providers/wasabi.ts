import type { ProviderPreset } from './provider-preset.ts';

/** Wasabi (`s3.<region>.wasabisys.com`): plain S3 behaviour; the region comes from the host. */
export const wasabi: ProviderPreset = {
  id: 'wasabi',
  name: 'Wasabi',
  endpointHost: /(^|\.)s3\.(?<region>[a-z0-9-]+)\.wasabisys\.com(:\d+)?$|(^|\.)wasabisys\.com(:\d+)?$/,
  bucketHost: /^(?<bucket>.+)\.(?<endpoint>s3\.(?<region>[a-z0-9-]+)\.wasabisys\.com)$/,
  defaultRegion: 'us-east-1',
  signPayload: true,
  note: 'signed payload, region from s3.<region>.wasabisys.com',
};
