import { describe, expect, it } from 'vitest';
import { S3KeyLayout, normalizePath } from './s3-key-layout.ts';

describe('S3KeyLayout', () => {
  const layout = new S3KeyLayout('db');

  it('lays out LTX files as <path>/<level as 4 hex digits>/<min>-<max>.ltx, as Litestream v0.5 does on S3', () => {
    expect(layout.ltxKey({ level: 9, minTXID: 1, maxTXID: 0xff })).toBe('db/0009/0000000000000001-00000000000000ff.ltx');
    expect(layout.ltxKey({ level: 0, minTXID: 0xabc, maxTXID: 2 ** 40 })).toBe('db/0000/0000000000000abc-0000010000000000.ltx');
    expect(layout.levelPrefix(3)).toBe('db/0003/');
    expect(layout.objectKey('lock.json')).toBe('db/lock.json');
  });

  it('puts everything at the bucket root when the path is empty', () => {
    const root = new S3KeyLayout('');
    expect(root.ltxKey({ level: 1, minTXID: 2, maxTXID: 3 })).toBe('0001/0000000000000002-0000000000000003.ltx');
    expect(root.objectKey('lock.json')).toBe('lock.json');
  });

  it('parses only well-formed names directly under the level prefix', () => {
    expect(layout.parseLtxKey(0, 'db/0000/0000000000000001-0000000000000002.ltx')).toEqual({ minTXID: 1, maxTXID: 2 });
    for (const key of [
      'db/0001/0000000000000001-0000000000000002.ltx',
      'db/0000/x/0000000000000001-0000000000000002.ltx',
      'db/0000/0000000000000002-0000000000000001.ltx',
      'db/0000/000000000000000A-000000000000000A.ltx',
      'db/0000/0000000000000001-0000000000000002.ltx.tmp',
      'other/0000/0000000000000001-0000000000000002.ltx',
    ]) {
      expect(layout.parseLtxKey(0, key), key).toBeUndefined();
    }
  });

  it('starts a seek listing after <seek>-, so every file from that TXID on and none before is listed', () => {
    expect(layout.seekStartAfter(2, 0)).toBeUndefined();
    expect(layout.seekStartAfter(2, 1)).toBeUndefined();
    const after = layout.seekStartAfter(2, 0x10)!;
    expect(after).toBe('db/0002/0000000000000010-');
    expect('db/0002/000000000000000f-00000000000000ff.ltx' < after).toBe(true);
    expect('db/0002/0000000000000010-0000000000000010.ltx' > after).toBe(true);
  });

  it('recognises its own small objects', () => {
    expect(layout.isObjectKey('db/lock.json')).toBe(true);
    expect(layout.isObjectKey('db/0000/x')).toBe(false);
    expect(layout.isObjectKey('other/lock.json')).toBe(false);
    expect(new S3KeyLayout('').isObjectKey('lock.json')).toBe(true);
  });

  it('normalizes paths like Litestream', () => {
    expect(normalizePath('/a//b/./c/')).toBe('a/b/c');
    expect(normalizePath('a/../b')).toBe('b');
    expect(normalizePath('/')).toBe('');
  });
});
