import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Crc32c } from './crc32c.ts';
import { GcsApiError, conditionNotMet, invalid, noSuchBucket, noSuchObject } from './errors.ts';

/** Metadata of one live object; its bytes are the file at `path`. */
export interface StoredObject {
  readonly bucket: string;
  readonly name: string;
  /** Google's int64 generation (microseconds here), kept as a string as the API shows it. */
  readonly generation: string;
  readonly metageneration: string;
  readonly size: number;
  readonly md5Hash: string;
  readonly crc32c: string;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  readonly timeCreated: Date;
  readonly path: string;
}

export interface Bucket {
  readonly name: string;
  readonly timeCreated: Date;
  readonly objects: Map<string, StoredObject>;
}

/** The `ifGeneration*` / `ifMetageneration*` query parameters of one request. */
export interface Preconditions {
  readonly ifGenerationMatch?: string;
  readonly ifGenerationNotMatch?: string;
  readonly ifMetagenerationMatch?: string;
  readonly ifMetagenerationNotMatch?: string;
}

/** A body written to disk but not yet visible as an object. */
export interface StagedBody {
  readonly path: string;
  readonly size: number;
  readonly md5Hash: string;
  readonly crc32c: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * Buckets and objects: metadata in memory, bodies in files under `dir`. Every mutation checks
 * its preconditions and commits synchronously, so concurrent requests see one order of
 * generations, as on Google's side.
 */
export class ObjectStore {
  readonly dir: string;
  private readonly buckets = new Map<string, Bucket>();
  private lastGeneration = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  createBucket(name: string): Bucket {
    if (!BUCKET_NAME.test(name)) throw invalid(`Invalid bucket name: '${name}'`);
    if (this.buckets.has(name)) {
      throw new GcsApiError(409, 'conflict', 'Your previous request to create the named bucket succeeded and you already own it.');
    }
    const bucket: Bucket = { name, timeCreated: new Date(), objects: new Map() };
    this.buckets.set(name, bucket);
    return bucket;
  }

  bucket(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw noSuchBucket();
    return bucket;
  }

  listBuckets(): Bucket[] {
    return [...this.buckets.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async deleteBucket(name: string): Promise<void> {
    const bucket = this.bucket(name);
    if (bucket.objects.size > 0) throw new GcsApiError(409, 'conflict', 'The bucket you tried to delete is not empty.');
    this.buckets.delete(name);
  }

  /** The live object, checking read preconditions (a mismatch on a `NotMatch` answers 304). */
  get(bucketName: string, name: string, generation: string | undefined, pre: Preconditions): StoredObject {
    const object = this.bucket(bucketName).objects.get(name);
    if (!object || (generation !== undefined && generation !== object.generation)) throw noSuchObject(bucketName, name);
    checkRead(object, pre);
    return object;
  }

  /** Streams a body into a staging file, computing its hashes. */
  async stage(source: Readable | AsyncIterable<Uint8Array>): Promise<StagedBody> {
    const path = join(this.dir, `${randomUUID()}.body`);
    const md5 = createHash('md5');
    const crc = new Crc32c();
    let size = 0;
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            md5.update(chunk);
            crc.update(chunk);
            size += chunk.byteLength;
            yield chunk;
          }
        },
        createWriteStream(path),
      );
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    return { path, size, md5Hash: md5.digest('base64'), crc32c: crc.base64() };
  }

  /** Checks write preconditions against the live object; throws 412 or the bucket's 404. */
  checkWrite(bucketName: string, name: string, pre: Preconditions): void {
    checkWrite(this.bucket(bucketName).objects.get(name), pre);
  }

  /**
   * Makes a staged body the live object named `name` if the preconditions still hold (checked
   * and applied without an await in between). The replaced body's file is removed.
   */
  commit(bucketName: string, name: string, body: StagedBody, fields: { contentType: string; metadata: Record<string, string> | undefined }, pre: Preconditions): StoredObject {
    const bucket = this.bucket(bucketName);
    const previous = bucket.objects.get(name);
    checkWrite(previous, pre);
    const object: StoredObject = {
      bucket: bucketName,
      name,
      generation: String(this.nextGeneration()),
      metageneration: '1',
      size: body.size,
      md5Hash: body.md5Hash,
      crc32c: body.crc32c,
      contentType: fields.contentType,
      metadata: fields.metadata,
      timeCreated: new Date(),
      path: body.path,
    };
    bucket.objects.set(name, object);
    // A reader that already opened the old file keeps its descriptor; unlinking is safe.
    if (previous) void rm(previous.path, { force: true });
    return object;
  }

  delete(bucketName: string, name: string, generation: string | undefined, pre: Preconditions): void {
    const bucket = this.bucket(bucketName);
    const object = bucket.objects.get(name);
    if (!object || (generation !== undefined && generation !== object.generation)) throw noSuchObject(bucketName, name);
    checkWrite(object, pre);
    bucket.objects.delete(name);
    void rm(object.path, { force: true });
  }

  /** Generations grow strictly, like Google's microsecond timestamps. */
  private nextGeneration(): number {
    this.lastGeneration = Math.max(this.lastGeneration + 1, Date.now() * 1000);
    return this.lastGeneration;
  }
}

function checkWrite(object: StoredObject | undefined, pre: Preconditions): void {
  if (pre.ifGenerationMatch !== undefined && (object?.generation ?? '0') !== pre.ifGenerationMatch) throw conditionNotMet('ifGenerationMatch');
  // Google: "If no live object exists, the precondition fails"; 0 means "a live object exists".
  if (pre.ifGenerationNotMatch !== undefined && (object === undefined || object.generation === pre.ifGenerationNotMatch)) throw conditionNotMet('ifGenerationNotMatch');
  if (pre.ifMetagenerationMatch !== undefined && object?.metageneration !== pre.ifMetagenerationMatch) throw conditionNotMet('ifMetagenerationMatch');
  if (pre.ifMetagenerationNotMatch !== undefined && (object === undefined || object.metageneration === pre.ifMetagenerationNotMatch)) {
    throw conditionNotMet('ifMetagenerationNotMatch');
  }
}

function checkRead(object: StoredObject, pre: Preconditions): void {
  if (pre.ifGenerationMatch !== undefined && object.generation !== pre.ifGenerationMatch) throw conditionNotMet('ifGenerationMatch');
  if (pre.ifMetagenerationMatch !== undefined && object.metageneration !== pre.ifMetagenerationMatch) throw conditionNotMet('ifMetagenerationMatch');
  // On reads Google answers a matching *NotMatch with 304 Not Modified.
  if (pre.ifGenerationNotMatch !== undefined && object.generation === pre.ifGenerationNotMatch) throw new NotModified();
  if (pre.ifMetagenerationNotMatch !== undefined && object.metageneration === pre.ifMetagenerationNotMatch) throw new NotModified();
}

/** A read precondition answered with 304. */
export class NotModified extends Error {}
