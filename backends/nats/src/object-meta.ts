import { JSONCodec, headers, type ObjectInfo } from 'nats';
import type { NatsSession } from './nats-connection.ts';

/**
 * The subject holding an object's metadata: `$O.<bucket>.M.<base64url(name), padded>`, the
 * layout every NATS client shares (ADR-20). Needed because nats.js has no conditional delete.
 */
export function metaSubject(bucket: string, name: string): string {
  return `$O.${bucket}.M.${Buffer.from(name, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;
}

/**
 * Deletes an object only if its metadata is still at `info.revision`: publishes the same delete
 * marker nats.js's `delete()` does, but with `Nats-Expected-Last-Subject-Sequence`, so the
 * server refuses it ("wrong last sequence") if the object changed meanwhile. Then the
 * object's chunks are purged, as `delete()` does.
 */
export async function conditionalDelete(session: NatsSession, info: ObjectInfo, timeoutMs: number): Promise<void> {
  const marker = {
    name: info.name,
    bucket: info.bucket,
    nuid: info.nuid,
    size: 0,
    chunks: 0,
    digest: '',
    deleted: true,
    mtime: new Date().toISOString(),
    ...(info.options === undefined ? {} : { options: info.options }),
  };
  const h = headers();
  h.set('Nats-Rollup', 'sub'); // keep only the marker on this subject, as delete() does
  await session.js.publish(metaSubject(info.bucket, info.name), JSONCodec().encode(marker), {
    headers: h,
    expect: { lastSubjectSequence: info.revision },
    timeout: timeoutMs,
  });
  await session.jsm.streams.purge(session.stream, { filter: `$O.${info.bucket}.C.${info.nuid}` });
}
