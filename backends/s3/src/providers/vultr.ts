import type { ProviderPreset } from './provider-preset.ts';

/** Vultr Object Storage (`<region>.vultrobjects.com`, HTTPS only). */
export const vultr: ProviderPreset = {
  id: 'vultr',
  name: 'Vultr',
  endpointHost: /(^|\.)(?<region>[a-z0-9-]+)\.vultrobjects\.com(:\d+)?$/,
  bucketHost: /^(?<bucket>.+)\.(?<endpoint>(?<region>[a-z0-9-]+)\.vultrobjects\.com)$/,
  signPayload: true,
  note: 'signed payload, region from <region>.vultrobjects.com',
};
