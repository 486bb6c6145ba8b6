import type { ProviderPreset } from './provider-preset.ts';

/** Scaleway Object Storage (`s3.<region>.scw.cloud`). */
export const scaleway: ProviderPreset = {
  id: 'scaleway',
  name: 'Scaleway',
  endpointHost: /(^|\.)s3\.(?<region>[a-z0-9-]+)\.scw\.cloud(:\d+)?$|\.scw\.cloud(:\d+)?$/,
  bucketHost: /^(?<bucket>.+)\.(?<endpoint>s3\.(?<region>[a-z0-9-]+)\.scw\.cloud)$/,
  signPayload: true,
  note: 'signed payload, region from s3.<region>.scw.cloud',
};
