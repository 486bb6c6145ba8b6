import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ReplicaClient } from '@litestream-ts/core';
import type { ProbeFinding, ProviderProbe, SettingAdvice } from '@litestream-ts/core/probes';
import { MIN_PART_SIZE } from './part-size.ts';
import { wrapS3Error } from './s3-errors.ts';
import type { S3ReplicaClient } from './s3-replica-client.ts';
import { createS3Client } from './s3-sdk-client.ts';
import type { S3Settings } from './s3-settings.ts';
import { isLocalHost } from './server-side-encryption.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The S3 client of a replica client built by this backend (probes get one from the s3 plugin only). */
function s3Of(client: ReplicaClient): S3ReplicaClient {
  const candidate = client as unknown as Partial<S3ReplicaClient>;
  if (client.type !== 's3' || candidate.s3 === undefined || candidate.settings === undefined || candidate.layout === undefined) {
    throw new TypeError(`the s3 probes need an s3 replica client, got a ${client.type} one`);
  }
  return client as unknown as S3ReplicaClient;
}

/** Another SDK client on the same store and credentials, with some settings changed; one attempt per request. */
function variant(client: S3ReplicaClient, changes: Partial<S3Settings>): S3Client {
  const credentials = client.s3.config.credentials as Parameters<typeof createS3Client>[1];
  return createS3Client({ ...client.settings, ...changes }, credentials, 1, client.timeouts);
}

/** An SDK error as one line without credentials (the keys in use are scrubbed from it). */
async function describeError(client: S3ReplicaClient, error: unknown, api: string): Promise<string> {
  const secrets: string[] = [];
  try {
    const identity = await (client.s3.config.credentials as () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>)();
    for (const s of [identity.accessKeyId, identity.secretAccessKey, identity.sessionToken]) if (s) secrets.push(s);
  } catch {
    // No credentials to scrub: the error cannot hold any either.
  }
  // The key is the probe's own scratch object: naming it would only lengthen the line.
  const wrapped = wrapS3Error(error, api, undefined, secrets);
  return wrapped.message.split('\n')[0]!;
}

async function readBack(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function putAndCompare(s3: S3Client, reader: S3Client, bucket: string, key: string, body: Buffer): Promise<'intact' | 'different'> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.byteLength }));
  return (await readBack(reader, bucket, key)).equals(body) ? 'intact' : 'different';
}

/**
 * `sign-payload`: whether the store takes bodies sent as `UNSIGNED-PAYLOAD` as well as signed
 * ones. A store that refuses unsigned bodies needs `sign-payload: true`.
 */
export const payloadSigningProbe: ProviderProbe = {
  id: 'payload-signing',
  title: 'unsigned payloads (sign-payload)',
  async run(replica): Promise<ProbeFinding> {
    const client = s3Of(replica);
    const { bucket } = client.settings;
    const body = Buffer.from('payload signing probe\n');
    const results: Record<'signed' | 'unsigned', string> = { signed: '', unsigned: '' };
    for (const mode of ['signed', 'unsigned'] as const) {
      const key = `${client.layout.root}probe-${mode}.txt`;
      const s3 = variant(client, { signPayload: mode === 'signed' });
      try {
        results[mode] = await putAndCompare(s3, client.s3, bucket, key, body);
      } catch (error) {
        results[mode] = `refused: ${await describeError(client, error, 'PutObject')}`;
      } finally {
        s3.destroy();
      }
    }
    const measured = { signed: results.signed, unsigned: results.unsigned };
    if (results.signed !== 'intact') return { status: 'fail', detail: `a signed PutObject was ${results.signed}`, measured };
    if (results.unsigned === 'intact') {
      return {
        status: 'pass',
        detail: 'signed and UNSIGNED-PAYLOAD bodies both accepted',
        measured,
        settings: [{ key: 'sign-payload', value: 'true', reason: 'the default; false also works here and saves hashing each body' }],
      };
    }
    return {
      status: 'warn',
      detail: `UNSIGNED-PAYLOAD ${results.unsigned}`,
      measured,
      settings: [{ key: 'sign-payload', value: 'true', reason: 'the store refuses unsigned payloads' }],
    };
  },
};

/**
 * `force-path-style`: which addressing the store answers. The style in use already works (the
 * other probes ran through it); the other one is tried with a one-key listing.
 */
export const addressingStyleProbe: ProviderProbe = {
  id: 'addressing-style',
  title: 'path-style and virtual-hosted addressing (force-path-style)',
  async run(replica): Promise<ProbeFinding> {
    const client = s3Of(replica);
    const { bucket, endpoint, forcePathStyle } = client.settings;
    const current = forcePathStyle ? 'path-style' : 'virtual-hosted';
    const other = forcePathStyle ? 'virtual-hosted' : 'path-style';
    const host = endpoint === undefined ? undefined : new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
    if (forcePathStyle && host !== undefined && (isLocalHost(host) || /^[\d.]+$/.test(host) || host.includes(':'))) {
      return {
        status: 'pass',
        detail: `path-style works; virtual-hosted not tried: ${host} is an address, and bucket subdomains need a DNS name`,
        measured: { pathStyle: true },
        settings: [{ key: 'force-path-style', value: 'true', reason: `the endpoint ${host} is an address, not a name buckets can be subdomains of` }],
      };
    }
    const s3 = variant(client, { forcePathStyle: !forcePathStyle, followRegionRedirects: false });
    let otherWorks: boolean;
    let why = '';
    try {
      await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: client.layout.root, MaxKeys: 1 }), { abortSignal: AbortSignal.timeout(10_000) });
      otherWorks = true;
    } catch (error) {
      otherWorks = false;
      why = await describeError(client, error, 'ListObjectsV2');
    } finally {
      s3.destroy();
    }
    const measured = { pathStyle: forcePathStyle ? true : otherWorks, virtualHosted: forcePathStyle ? otherWorks : true };
    if (!otherWorks) {
      return {
        status: 'pass',
        detail: `${current} works; ${other} does not (${why})`,
        measured,
        settings: [{ key: 'force-path-style', value: String(forcePathStyle), reason: `only ${current} addressing works here` }],
      };
    }
    // Both work: virtual-hosted is what S3 itself prefers; elsewhere keep what is in use.
    const value = endpoint === undefined ? 'false' : String(forcePathStyle);
    return { status: 'pass', detail: 'path-style and virtual-hosted addressing both work', measured, settings: [{ key: 'force-path-style', value, reason: 'both styles work' }] };
  },
};

/**
 * Whether the store takes a streamed body framed `Content-Encoding: aws-chunked` with a trailing
 * checksum (what the AWS SDK sends by default) and stores the bytes, not the framing.
 * litestream-ts sends such bodies only to Amazon S3 itself, so anything else is a warning there.
 */
export const awsChunkedProbe: ProviderProbe = {
  id: 'aws-chunked',
  title: 'aws-chunked bodies with trailing checksums',
  async run(replica): Promise<ProbeFinding> {
    const client = s3Of(replica);
    const { bucket } = client.settings;
    const key = `${client.layout.root}probe-aws-chunked.bin`;
    const body = Buffer.alloc(96 * KiB, 'aws-chunked probe ');
    const s3 = variant(client, { awsChecksums: true });
    let encoding: string | undefined;
    s3.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
        encoding = headers['content-encoding'] ?? headers['Content-Encoding'];
        return next(args);
      },
      { step: 'finalizeRequest', name: 'litestreamProbeRecordEncoding' },
    );
    const sentToAws = client.settings.awsChecksums;
    const consequence = sentToAws ? 'litestream-ts sends these to this endpoint' : 'litestream-ts never sends them to a non-AWS endpoint';
    let outcome: string;
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Readable.from([body.subarray(0, 50_000), body.subarray(50_000)]), ContentLength: body.byteLength }));
      if (!encoding?.includes('aws-chunked')) return { status: 'skip', detail: `the SDK did not send the body aws-chunked (Content-Encoding: ${encoding ?? 'none'})` };
      const stored = await readBack(client.s3, bucket, key);
      outcome = stored.equals(body) ? 'intact' : `stored ${stored.byteLength} bytes for ${body.byteLength}: the chunk framing is kept in the object`;
    } catch (error) {
      outcome = `refused: ${await describeError(client, error, 'PutObject')}`;
    } finally {
      s3.destroy();
    }
    if (outcome === 'intact') return { status: 'pass', detail: 'accepted and stored intact', measured: { accepted: true, intact: true } };
    const measured = { accepted: !outcome.startsWith('refused'), intact: false };
    return { status: sentToAws ? 'fail' : 'warn', detail: `${outcome} (${consequence})`, measured };
  },
};

/**
 * The smallest multipart part the store takes: a two-part upload whose first part is 1 MiB,
 * then 5 MiB (S3's minimum, litestream-ts's smallest `part-size`). A store that refuses a
 * 5 MiB part cannot take large snapshots.
 */
export const multipartMinPartProbe: ProviderProbe = {
  id: 'multipart-min-part',
  title: 'smallest multipart part accepted (part-size, concurrency)',
  async run(replica): Promise<ProbeFinding> {
    const client = s3Of(replica);
    const { bucket, concurrency, provider } = client.settings;
    const refusals: string[] = [];
    let smallest: number | undefined;
    for (const size of [1 * MiB, MIN_PART_SIZE]) {
      const key = `${client.layout.root}probe-multipart-${size}.bin`;
      const result = await twoPartUpload(client, key, size);
      if (result === undefined) {
        smallest = size;
        break;
      }
      refusals.push(`${size / MiB} MiB: ${result}`);
    }
    const concurrencyAdvice: SettingAdvice = {
      key: 'concurrency',
      value: String(concurrency),
      reason: provider?.concurrency !== undefined ? `the ${provider.name} preset` : 'the default (parts in flight; memory is about part-size × concurrency)',
    };
    if (smallest === undefined) return { status: 'fail', detail: `multipart uploads refused (${refusals.join('; ')})`, measured: { smallestPart: -1 } };
    const detail = smallest < MIN_PART_SIZE ? `a ${smallest / MiB} MiB first part accepted (S3 requires 5 MiB; not enforced here)` : `5 MiB parts accepted; smaller refused (${refusals.join('; ')})`;
    return {
      status: 'pass',
      detail,
      measured: { smallestPart: smallest },
      settings: [{ key: 'part-size', value: '5MiB', reason: 'the smallest part S3 allows, and accepted here' }, concurrencyAdvice],
    };
  },
};

/** Uploads `size` bytes then 1 KiB as a two-part upload; undefined when it completed intact, else why not. */
async function twoPartUpload(client: S3ReplicaClient, key: string, size: number): Promise<string | undefined> {
  const bucket = client.settings.bucket;
  const s3 = client.s3;
  const first = Buffer.alloc(size, 1);
  const second = Buffer.alloc(KiB, 2);
  let uploadId: string | undefined;
  try {
    uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId;
    const parts = [];
    for (const [index, body] of [first, second].entries()) {
      const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: body, ContentLength: body.byteLength }));
      parts.push({ PartNumber: index + 1, ETag: out.ETag });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    uploadId = undefined;
    const stored = await readBack(s3, bucket, key);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {});
    return stored.byteLength === size + KiB ? undefined : `completed, but ${stored.byteLength} bytes stored for ${size + KiB}`;
  } catch (error) {
    return describeError(client, error, 'multipart upload');
  } finally {
    if (uploadId !== undefined) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => {});
  }
}

/** The s3 backend's own probes, in report order (attached to its plugin as `probes`). */
export const S3_PROVIDER_PROBES: readonly ProviderProbe[] = [payloadSigningProbe, addressingStyleProbe, awsChunkedProbe, multipartMinPartProbe];
