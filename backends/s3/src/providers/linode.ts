import type { ProviderPreset } from './provider-preset.ts';

/** Linode (Akamai) Object Storage (`<region>.linodeobjects.com`). */
export const linode: ProviderPreset = {
  id: 'linode',
  name: 'Linode',
  endpointHost: /(^|\.)(?<region>[a-z0-9-]+)\.linodeobjects\.com(:\d+)?$/,
  bucketHost: /^(?<bucket>.+)\.(?<endpoint>(?<region>[a-z0-9-]+)\.linodeobjects\.com)$/,
  signPayload: true,
  note: 'signed payload, region from <region>.linodeobjects.com',
};
