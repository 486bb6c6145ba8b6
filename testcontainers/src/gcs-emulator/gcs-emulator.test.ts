import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGcsEmulator, type GcsEmulator } from './server.ts';

// Raw JSON API requests, no SDK: these pin the wire behaviour the backend's tests rely on.
let emulator: GcsEmulator;
const bucket = 'emulator-test';
beforeAll(async () => {
  emulator = await startGcsEmulator();
  const created = await fetch(`${emulator.endpoint}/storage/v1/b?project=test`, { method: 'POST', body: JSON.stringify({ name: bucket }), headers: { 'content-type': 'application/json' } });
  expect(created.status).toBe(200);
});
afterAll(() => emulator.stop());

const objectUrl = (name: string, query = ''): string => `${emulator.endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}${query}`;
const uploadUrl = (query: string): string => `${emulator.endpoint}/upload/storage/v1/b/${bucket}/o?${query}`;

async function simpleUpload(name: string, body: string, query = ''): Promise<Response> {
  return fetch(uploadUrl(`uploadType=media&name=${encodeURIComponent(name)}${query}`), { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
}

describe('GCS emulator', () => {
  it('takes a resumable upload in two chunks: 308 with Range after the first, the object after the last', async () => {
    const init = await fetch(uploadUrl('uploadType=resumable&name=dir%2Fresumable.bin'), {
      method: 'POST',
      body: JSON.stringify({ metadata: { 'litestream-timestamp': '2024-01-02T03:04:05Z' } }),
      headers: { 'content-type': 'application/json; charset=UTF-8', 'x-upload-content-type': 'application/octet-stream' },
    });
    expect(init.status).toBe(200);
    const session = init.headers.get('location')!;
    expect(session).toContain('upload_id=');

    const data = Buffer.alloc(256 * 1024 + 10, 7);
    const status = await fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBeNull(); // nothing received yet

    const first = await fetch(session, { method: 'PUT', body: data.subarray(0, 256 * 1024), headers: { 'content-range': `bytes 0-${256 * 1024 - 1}/*` } });
    expect(first.status).toBe(308);
    expect(first.headers.get('range')).toBe(`bytes=0-${256 * 1024 - 1}`);
    expect((await fetch(objectUrl('dir/resumable.bin'))).status).toBe(404); // not visible until complete

    const last = await fetch(session, { method: 'PUT', body: data.subarray(256 * 1024), headers: { 'content-range': `bytes ${256 * 1024}-${data.length - 1}/${data.length}` } });
    expect(last.status).toBe(200);
    const resource = (await last.json()) as Record<string, unknown>;
    expect(resource).toMatchObject({ kind: 'storage#object', name: 'dir/resumable.bin', size: String(data.length), metadata: { 'litestream-timestamp': '2024-01-02T03:04:05Z' } });

    const ranged = await fetch(objectUrl('dir/resumable.bin', '?alt=media'), { headers: { range: `bytes=${data.length - 4}-` } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes ${data.length - 4}-${data.length - 1}/${data.length}`);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(Buffer.alloc(4, 7));
    const past = await fetch(objectUrl('dir/resumable.bin', '?alt=media'), { headers: { range: `bytes=${data.length}-` } });
    expect(past.status).toBe(416);
  });

  it("answers a failed generation precondition with 412 in Google's error shape", async () => {
    const created = await simpleUpload('lock.json', 'v1', '&ifGenerationMatch=0');
    expect(created.status).toBe(200);
    const { generation } = (await created.json()) as { generation: string };

    const again = await simpleUpload('lock.json', 'v2', '&ifGenerationMatch=0');
    expect(again.status).toBe(412);
    expect(await again.json()).toEqual({
      error: {
        code: 412,
        message: 'At least one of the pre-conditions you specified did not hold.',
        errors: [{ message: 'At least one of the pre-conditions you specified did not hold.', domain: 'global', reason: 'conditionNotMet', locationType: 'parameter', location: 'ifGenerationMatch' }],
      },
    });

    const replaced = await simpleUpload('lock.json', 'v2', `&ifGenerationMatch=${generation}`);
    expect(replaced.status).toBe(200);
    expect((await fetch(objectUrl('lock.json', `?ifGenerationMatch=${generation}`), { method: 'DELETE' })).status).toBe(412);
    expect((await fetch(objectUrl('lock.json', `?ifGenerationNotMatch=${generation}`))).status).toBe(200);

    const missing = await fetch(objectUrl('no-such-object'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 404, errors: [{ reason: 'notFound', message: `No such object: ${bucket}/no-such-object` }] } });
  });

  it('lists by prefix in pages, with delimiter prefixes and start/end offsets', async () => {
    for (const name of ['list/a', 'list/b', 'list/c', 'list/d/1', 'list/d/2', 'list/e']) expect((await simpleUpload(name, name)).status).toBe(200);
    const pages: Array<{ items?: Array<{ name: string }>; prefixes?: string[]; nextPageToken?: string }> = [];
    let token: string | undefined;
    do {
      const res = await fetch(`${emulator.endpoint}/storage/v1/b/${bucket}/o?prefix=list%2F&delimiter=%2F&maxResults=2${token ? `&pageToken=${token}` : ''}`);
      pages.push((await res.json()) as (typeof pages)[number]);
      token = pages.at(-1)!.nextPageToken;
    } while (token);
    expect(pages.map((p) => [...(p.items ?? []).map((i) => i.name), ...(p.prefixes ?? [])])).toEqual([['list/a', 'list/b'], ['list/c', 'list/d/'], ['list/e']]);

    const ranged = await fetch(`${emulator.endpoint}/storage/v1/b/${bucket}/o?prefix=list%2F&startOffset=list%2Fb&endOffset=list%2Fd%2F2`);
    expect(((await ranged.json()) as { items: Array<{ name: string }> }).items.map((i) => i.name)).toEqual(['list/b', 'list/c', 'list/d/1']);
  });

  it("takes the empty matchGlob Google's Go client sends with every listing, and refuses a real glob", async () => {
    const empty = await fetch(`${emulator.endpoint}/storage/v1/b/${bucket}/o?prefix=list%2Fd%2F&matchGlob=`);
    expect(empty.status).toBe(200);
    expect(((await empty.json()) as { items: Array<{ name: string }> }).items.map((i) => i.name)).toEqual(['list/d/1', 'list/d/2']);
    const glob = await fetch(`${emulator.endpoint}/storage/v1/b/${bucket}/o?matchGlob=${encodeURIComponent('**/1')}`);
    expect(glob.status).toBe(400);
    expect(await glob.text()).toContain('matchGlob is not implemented by this emulator');
  });

  it('records each request with method, path, query and headers', () => {
    const put = emulator.requests().find((r) => r.method === 'PUT' && r.headers['content-range']?.endsWith('/262154'));
    expect(put).toMatchObject({ path: `/upload/storage/v1/b/${bucket}/o`, query: { uploadType: 'resumable' }, status: 200 });
  });
});
