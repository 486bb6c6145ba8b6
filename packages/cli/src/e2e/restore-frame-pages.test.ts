import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { frameDir, goldenDir } from '../../../core/src/test-support/paths.ts';
import { litestream } from './cli-process.ts';

// `litestream restore` of replicas written by Litestream v0.5.0 – v0.5.15 (LTX pages stored as
// LZ4 frames), and of one upgraded in the middle of its life (older files frame pages, newer
// ones block pages), from the reference vectors laid out as file replicas.
const dir = await mkdtemp(join(tmpdir(), 'lts-restore-frame-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const name = (n: number) => `${n.toString(16).padStart(16, '0')}-${n.toString(16).padStart(16, '0')}.ltx`;
const state = (n: number) => readFile(join(frameDir(), 'set-4096', `state${n}.db`));

async function replica(label: string, sources: Array<'frame' | 'block'>): Promise<string> {
  const root = join(dir, label);
  await mkdir(join(root, 'ltx', '0'), { recursive: true });
  for (const [i, kind] of sources.entries()) {
    const from = join(kind === 'frame' ? frameDir() : goldenDir(), 'set-4096', 'ltx', name(i + 1));
    await copyFile(from, join(root, 'ltx', '0', name(i + 1)));
  }
  return `file://${root}`;
}

describe('litestream restore of LZ4 frame-page replicas', () => {
  it('restores the latest state and -txid 2, byte for byte', async () => {
    const url = await replica('frames', ['frame', 'frame', 'frame', 'frame']);
    const latest = join(dir, 'latest.db');
    const r = litestream(['restore', '-o', latest, '-integrity-check', 'quick', url]);
    expect(r.status, r.stderr).toBe(0);
    expect((await readFile(latest)).equals(await state(4))).toBe(true);
    const at2 = join(dir, 'txid2.db');
    const r2 = litestream(['restore', '-o', at2, '-txid', '2', url]);
    expect(r2.status, r2.stderr).toBe(0);
    expect((await readFile(at2)).equals(await state(2))).toBe(true);
  });

  it('restores a replica whose older files are frame pages and newer ones block pages', async () => {
    const url = await replica('upgraded', ['frame', 'frame', 'block', 'block']);
    const out = join(dir, 'upgraded.db');
    const r = litestream(['restore', '-o', out, '-integrity-check', 'full', url]);
    expect(r.status, r.stderr).toBe(0);
    expect((await readFile(out)).equals(await state(4))).toBe(true);
  });

  it('a damaged frame page: one line naming the file, page and offset; no output left', async () => {
    const url = await replica('damaged', ['frame', 'frame', 'frame']);
    const root = url.slice('file://'.length);
    const path = join(root, 'ltx', '0', name(2));
    const bytes = Buffer.from(await readFile(path));
    bytes[100 + 6 + 6]! ^= 0x01; // the first page's LZ4 frame header checksum byte
    await writeFile(path, bytes);
    const outDir = join(dir, 'damaged-out');
    await mkdir(outDir);
    const r = litestream(['restore', '-o', join(outDir, 'x.db'), url]);
    expect(r.status).toBe(1);
    // Log records aside, one error line.
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('litestream:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/0\/0000000000000002-0000000000000002\.ltx: LZ4 header checksum mismatch: stored [0-9a-f]{2}, computed [0-9a-f]{2} \(page \d+, offset 112 of the LZ4 frame at offset 106\)/);
    expect(await readdir(outDir)).toEqual([]);
  });
});
