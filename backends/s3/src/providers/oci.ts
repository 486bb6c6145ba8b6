import type { ProviderPreset } from './provider-preset.ts';

/**
 * Oracle Cloud Object Storage through its S3 compatibility API
 * (`<namespace>.compat.objectstorage.<region>.oraclecloud.com`), which serves path-style only.
 */
export const oci: ProviderPreset = {
  id: 'oci',
  name: 'OCI Object Storage',
  endpointHost: /(^|\.)compat\.objectstorage\.(?<region>[a-z0-9-]+)\.oraclecloud\.com(:\d+)?$/,
  signPayload: true,
  forcePathStyle: true,
  note: 'path-style, signed payload, region from compat.objectstorage.<region>.oraclecloud.com',
};
