import type { ProviderPreset } from './provider-preset.ts';

/** Filebase (`s3.filebase.com`): one global endpoint, path-style, region us-east-1. */
export const filebase: ProviderPreset = {
  id: 'filebase',
  name: 'Filebase',
  endpointHost: /(^|\.)filebase\.com(:\d+)?$/,
  bucketHost: /^(?<bucket>.+)\.(?<endpoint>s3\.filebase\.com)$/,
  defaultRegion: 'us-east-1',
  signPayload: true,
  forcePathStyle: true,
  note: 'path-style, signed payload, region us-east-1',
};
