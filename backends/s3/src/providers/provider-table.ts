import { alibabaOss } from './alibaba-oss.ts';
import { amazonS3 } from './aws.ts';
import { backblazeB2 } from './backblaze-b2.ts';
import { cloudflareR2 } from './cloudflare-r2.ts';
import { digitalOceanSpaces } from './digitalocean-spaces.ts';
import { filebase } from './filebase.ts';
import { linode } from './linode.ts';
import { minio } from './minio.ts';
import { oci } from './oci.ts';
import type { ProviderPreset } from './provider-preset.ts';
import { scaleway } from './scaleway.ts';
import { tigris } from './tigris.ts';
import { vultr } from './vultr.ts';
import { wasabi } from './wasabi.ts';

/**
 * Every known provider, in the order hosts are matched. MinIO comes last because it also
 * claims any endpoint with a port that no named provider owns.
 */
export const PROVIDER_PRESETS: readonly ProviderPreset[] = [
  amazonS3,
  backblazeB2,
  filebase,
  digitalOceanSpaces,
  scaleway,
  cloudflareR2,
  tigris,
  wasabi,
  linode,
  oci,
  vultr,
  alibabaOss,
  minio,
];

/** A provider recognised from an endpoint host, with the region the host names (if any). */
export interface DetectedProvider {
  readonly preset: ProviderPreset;
  readonly region: string | undefined;
}

/** The provider an endpoint (`host`, `host:port` or a full URL) belongs to, if any. */
export function detectProvider(endpoint: string): DetectedProvider | undefined {
  const host = endpointHost(endpoint);
  if (host === '') return undefined;
  for (const preset of PROVIDER_PRESETS) {
    const match = preset.endpointHost.exec(host);
    if (match) return { preset, region: match.groups?.region };
  }
  return undefined;
}

/** A replica URL host that names a provider endpoint, split into bucket and endpoint. */
export interface BucketHost {
  readonly preset: ProviderPreset;
  readonly bucket: string;
  /** Endpoint host (no scheme); undefined for Amazon S3's own hosts, which need no endpoint. */
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
}

/** Splits `<bucket>.<provider host>` (for example `b.s3.us-west-000.backblazeb2.com`); undefined for a plain bucket name. */
export function splitBucketHost(urlHost: string): BucketHost | undefined {
  const host = urlHost.toLowerCase();
  for (const preset of PROVIDER_PRESETS) {
    const match = preset.bucketHost?.exec(host);
    const groups = match?.groups;
    if (!groups?.bucket || !groups.endpoint) continue;
    return {
      preset,
      bucket: groups.bucket,
      endpoint: preset === amazonS3 ? undefined : groups.endpoint,
      region: groups.region,
    };
  }
  return undefined;
}

/** Whether requests go to Amazon S3 itself (no endpoint, or one on amazonaws.com). */
export function isAmazonEndpoint(endpoint: string | undefined): boolean {
  return endpoint === undefined || amazonS3.endpointHost.test(endpointHost(endpoint));
}

/** Lower-case `host[:port]` of an endpoint given with or without a scheme. */
export function endpointHost(endpoint: string): string {
  const text = endpoint.trim().toLowerCase();
  if (text === '') return '';
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//.test(text) ? text : `https://${text}`).host;
  } catch {
    return text;
  }
}
