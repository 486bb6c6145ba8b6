import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeAll } from '../test-support/streams.ts';
import { frameDir, goldenDir, repoRoot } from '../test-support/paths.ts';
import { runBin } from '../test-support/run-bin.ts';
import { formatLtxFilename } from '../ltx/txid.ts';

// Every `ltx` subcommand on files whose pages are LZ4 frames (Litestream v0.5.0 – v0.5.15),
// through the built bin.
const LTX = 'packages/core/bin/ltx.js';
const work = await mkdtemp(join(tmpdir(), 'ltx-cli-frame-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const dir = join(frameDir(), 'set-4096');
const ltx = (n: number) => join(dir, 'ltx', formatLtxFilename(n, n));
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('ltx on LZ4 frame pages', () => {
  it('verify says ok and how the pages are stored', () => {
    const r = runBin(LTX, ['verify', ltx(1), ltx(2), join(goldenDir(), 'set-4096', 'ltx', formatLtxFilename(3, 3))]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${ltx(1)}: ok \\(TXID 0000000000000001-0000000000000001, 46 pages \\(lz4-frame\\), post-apply [0-9a-f]{16}\\)$`));
    expect(lines[1]).toMatch(/: ok \(TXID 0000000000000002-0000000000000002, 65 pages \(lz4-frame\), /);
    expect(lines[2]).toMatch(/: ok \(TXID 0000000000000003-0000000000000003, 4 pages \(lz4-block\), /);
  });

  it('dump shows each page encoding, in text and JSON', async () => {
    const json = runBin(LTX, ['dump', '--json', ltx(3)]);
    expect(json.status, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { pages: Array<{ pgno: number; frameOffset: number; frameSize: number; encoding: string }>; pageIndex: Array<{ pgno: number; offset: number; size: number }> };
    const decoded = await decodeAll(ltx(3));
    expect(parsed.pages.map((p) => [p.pgno, p.frameOffset, p.frameSize, p.encoding])).toEqual(decoded.pages.map((p) => [p.pgno, p.frameOffset, p.frameSize, 'lz4-frame']));
    expect(parsed.pageIndex.map((e) => [e.pgno, e.offset, e.size])).toEqual(parsed.pages.map((p) => [p.pgno, p.frameOffset, p.frameSize]));
    const text = runBin(LTX, ['dump', ltx(3)]);
    const pageLines = text.stdout.split('\n').filter((l) => /^ {2}pgno .* checksum /.test(l));
    expect(pageLines).toHaveLength(4);
    for (const line of pageLines) expect(line).toMatch(/ {2}lz4-frame {2}checksum [0-9a-f]{16}$/);
    const block = runBin(LTX, ['dump', join(goldenDir(), 'set-4096', 'ltx', formatLtxFilename(3, 3))]);
    expect(block.stdout).toMatch(/ {2}lz4-block {2}checksum [0-9a-f]{16}$/m);
    expect(block.stdout).not.toMatch(/lz4-frame/);
  });

  it('apply rebuilds state4.db from the frame-page chain, and from a chain mixing both kinds', async () => {
    const out = join(work, 'chain.db');
    const r = runBin(LTX, ['apply', out, ltx(1), ltx(2), ltx(3), ltx(4)]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/applied 4 file\(s\), position 0000000000000004\/[0-9a-f]{16}/);
    expect(await sha256(out)).toBe(await sha256(join(dir, 'state4.db')));
    const mixed = join(work, 'mixed.db');
    const block = (n: number) => join(goldenDir(), 'set-4096', 'ltx', formatLtxFilename(n, n));
    const m = runBin(LTX, ['apply', mixed, ltx(1), block(2), ltx(3), block(4)]);
    expect(m.status, m.stderr).toBe(0);
    expect(await sha256(mixed)).toBe(await sha256(join(dir, 'state4.db')));
  });

  it('list reads their headers', () => {
    const r = runBin(LTX, ['list', '--json', join(dir, 'ltx')]);
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ minTXID: string; pageSize: number }>;
    expect(rows).toHaveLength(5);
    expect(rows.every((row) => row.pageSize === 4096)).toBe(true);
  });

  it('a damaged frame: verify and apply name the file, page and offset; nothing is written', async () => {
    const bytes = Buffer.from(await readFile(ltx(3)));
    const decoded = await decodeAll(ltx(3));
    const page = decoded.pages[1]!;
    bytes[page.frameOffset + page.frameSize - 1]! ^= 0x01; // the frame's content checksum
    const bad = join(work, 'bad-frame.ltx');
    await writeFile(bad, bytes);
    const v = runBin(LTX, ['verify', bad]);
    expect(v.status).toBe(1);
    expect(v.stdout).toBe(`${bad}: LZ4 content checksum mismatch: stored ${v.stdout.match(/stored ([0-9a-f]{8})/)![1]}, computed ${v.stdout.match(/computed ([0-9a-f]{8})/)![1]} (page ${page.pgno}, LZ4 frame at offset ${page.frameOffset + 6})\n`);
    const outDir = join(work, 'apply-bad');
    await mkdir(outDir);
    const a = runBin(LTX, ['apply', join(outDir, 'out.db'), ltx(1), ltx(2), bad]);
    expect(a.status).toBe(1);
    expect(a.stderr).toMatch(new RegExp(`^ltx: ${bad}: LZ4 content checksum mismatch: .*\\(page ${page.pgno}, LZ4 frame at offset ${page.frameOffset + 6}\\)\\n$`));
    expect(await readdir(outDir)).toEqual([]);
  });

  it('verify works where WebAssembly cannot run (node --jitless: the JS fallbacks, js-xxhash for the frame checksums)', async () => {
    const bytes = Buffer.from(await readFile(ltx(2)));
    const last = (await decodeAll(ltx(2))).pages.at(-1)!;
    bytes[last.frameOffset + last.frameSize - 2]! ^= 0x04; // the last page's content checksum
    const bad = join(work, 'jitless-bad.ltx');
    await writeFile(bad, bytes);
    const r = spawnSync(process.execPath, ['--jitless', join(repoRoot, LTX), 'verify', ltx(1), ltx(2), bad], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/: ok \(TXID 0000000000000001-0000000000000001, 46 pages \(lz4-frame\), post-apply 82eb6d3a0400a881\)$/);
    expect(lines[1]).toMatch(/: ok \(TXID 0000000000000002-0000000000000002, 65 pages \(lz4-frame\), /);
    expect(lines[2]).toMatch(new RegExp(`^${bad}: LZ4 content checksum mismatch: stored [0-9a-f]{8}, computed [0-9a-f]{8} \\(page ${last.pgno}, LZ4 frame at offset ${last.frameOffset + 6}\\)$`));
  });

  it('encode-db writes block pages (the current format)', async () => {
    const out = join(work, 'snap.ltx');
    const e = runBin(LTX, ['encode-db', join(dir, 'state4.db'), out]);
    expect(e.status, e.stderr).toBe(0);
    const v = runBin(LTX, ['verify', out]);
    expect(v.stdout).toMatch(/pages \(lz4-block\)/);
  });
});
