import type { ProviderPreset } from './provider-preset.ts';

/**
 * Tigris (`fly.storage.tigris.dev`, `t3.storage.dev`): globally cached, so every request asks
 * for a consistent view with `X-Tigris-Consistent: true`; it rejects the DeleteObjects
 * Content-MD5 that other providers want.
 */
export const tigris: ProviderPreset = {
  id: 'tigris',
  name: 'Tigris',
  endpointHost: /(^|\.)tigris\.dev(:\d+)?$|^t3\.storage\.dev(:\d+)?$/,
  bucketHost: /^(?<bucket>.+)\.(?<endpoint>fly\.storage\.tigris\.dev|t3\.storage\.dev)$/,
  defaultRegion: 'auto',
  signPayload: true,
  requireContentMd5: false,
  headers: { 'x-tigris-consistent': 'true' },
  note: 'signed payload, region auto, X-Tigris-Consistent: true, no Content-MD5 on deletes',
};
