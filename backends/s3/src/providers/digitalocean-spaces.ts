import type { ProviderPreset } from './provider-preset.ts';

/** DigitalOcean Spaces (`<region>.digitaloceanspaces.com`); it resets idle connections now and then, which retries absorb. */
export const digitalOceanSpaces: ProviderPreset = {
  id: 'digitalocean-spaces',
  name: 'DigitalOcean Spaces',
  endpointHost: /(^|\.)(?<region>[a-z0-9-]+)\.digitaloceanspaces\.com(:\d+)?$/,
  bucketHost: /^(?<bucket>.+)\.(?<endpoint>(?<region>[a-z0-9-]+)\.digitaloceanspaces\.com)$/,
  signPayload: true,
  note: 'signed payload, region from <region>.digitaloceanspaces.com',
};
