import type { ProviderPreset } from './provider-preset.ts';

/**
 * Cloudflare R2 (`<account>.r2.cloudflarestorage.com`, `<account>.eu.r2.…` for EU
 * jurisdiction). R2 limits concurrent multipart uploads, so parts go two at a time, and it has
 * been seen to report deletes it did not perform, which the client's delete check catches.
 */
export const cloudflareR2: ProviderPreset = {
  id: 'cloudflare-r2',
  name: 'Cloudflare R2',
  endpointHost: /\.r2\.cloudflarestorage\.com(:\d+)?$/,
  bucketHost: /^(?<bucket>.+)\.(?<endpoint>[0-9a-f]{32}(?:\.[a-z]+)?\.r2\.cloudflarestorage\.com)$/,
  defaultRegion: 'auto',
  signPayload: true,
  concurrency: 2,
  note: 'signed payload, region auto, 2 concurrent parts',
};
