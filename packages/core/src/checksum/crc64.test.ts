import { describe, expect, it } from 'vitest';
import { crc64Implementation } from './crc64.ts';
import { crc64RawReference, crc64Reference, crc64ShiftReference, referenceEngine } from './crc64-reference.ts';
import { ISO_POLY, MASK64 } from './crc64-table.ts';
import { createWasmEngine } from './crc64-wasm.ts';
import { CHECKSUM_FLAG, Crc64, crc64, crc64Raw, crc64Shift, pageChecksum, pageChecksumFromRaw } from './index.ts';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomBytes(random: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

function randomU64(random: () => number): bigint {
  return (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
}

/** `length` random bytes at byte offset `offset` inside a larger buffer. */
function randomAt(random: () => number, length: number, offset: number): Uint8Array {
  const backing = randomBytes(random, length + offset + 5);
  return backing.subarray(offset, offset + length);
}

/** Bit-at-a-time raw update straight from the definition: an oracle independent of any table. */
function crc64RawBitwise(register: bigint, data: Uint8Array): bigint {
  for (const byte of data) {
    register ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) register = (register & 1n) === 0n ? register >> 1n : (register >> 1n) ^ ISO_POLY;
  }
  return register;
}

function pgnoThen(pgno: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.length);
  new DataView(out.buffer).setUint32(0, pgno, false);
  out.set(data, 4);
  return out;
}

// Lengths around every boundary the kernel has: 8/16-byte blocks, the 64 KiB scratch
// window, and page sizes.
const LENGTHS = [
  0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 511, 512, 513, 1000, 4095, 4096, 4097, 8191, 65535, 65536, 65537,
  131_072 + 5, 1024 * 1024 + 3,
];
const OFFSETS = [0, 1, 3, 5, 7, 13];

describe('CRC-64/ISO values', () => {
  it('gives the catalogued check value for "123456789"', () => {
    expect(crc64(ascii('123456789'))).toBe(0xb90956c775a41001n);
    expect(crc64Reference(ascii('123456789'))).toBe(0xb90956c775a41001n);
  });

  it("matches Go's hash/crc64 ISO golden values", () => {
    const golden: [bigint, string][] = [
      [0x0n, ''],
      [0x3420000000000000n, 'a'],
      [0x36c4200000000000n, 'ab'],
      [0x3776c42000000000n, 'abc'],
      [0x336776c420000000n, 'abcd'],
      [0x32d36776c4200000n, 'abcde'],
      [0x3002d36776c42000n, 'abcdef'],
      [0x31b002d36776c420n, 'abcdefg'],
      [0x0e21b002d36776c4n, 'abcdefgh'],
      [0x8b6e21b002d36776n, 'abcdefghi'],
      [0x7f5b6e21b002d367n, 'abcdefghij'],
      [0x8ec0e7c835bf9cdfn, 'Discard medicine more than two years old.'],
      [0xc7db1759e2be5ab4n, 'He who has a shady past knows that nice guys finish last.'],
      [0xfbf9d9603a6fa020n, "I wouldn't marry him with a ten foot pole."],
      [0xeafc4211a6daa0efn, 'Free! Free!/A trip/to Mars/for 900/empty jars/Burma Shave'],
    ];
    for (const [expected, text] of golden) {
      expect(crc64(ascii(text)), text).toBe(expected);
      expect(crc64Reference(ascii(text)), text).toBe(expected);
    }
  });

  it('runs on the WebAssembly engine under Node', () => {
    expect(crc64Implementation()).toEqual({ kind: 'wasm', wasmFailure: undefined });
  });

  it('reference table walk equals the bit-at-a-time definition', () => {
    const random = prng(1);
    for (let length = 0; length < 200; length++) {
      const data = randomBytes(random, length);
      const register = randomU64(random);
      expect(crc64RawReference(register, data)).toBe(crc64RawBitwise(register, data));
    }
  });
});

describe.each([8, 16])('WebAssembly kernel, slicing-by-%i', (slices) => {
  const wasm = createWasmEngine(slices);

  it('equals the reference for every length and byte offset', () => {
    const random = prng(slices);
    for (const length of LENGTHS) {
      for (const offset of OFFSETS) {
        const data = randomAt(random, length, offset);
        const register = randomU64(random);
        expect(wasm.raw(register, data), `length ${length} offset ${offset}`).toBe(crc64RawReference(register, data));
        expect(wasm.raw(0n, data), `length ${length} offset ${offset}`).toBe(crc64RawReference(0n, data));
      }
    }
  });

  it('handles all-zero and all-one registers and data', () => {
    for (const fill of [0x00, 0xff]) {
      const data = new Uint8Array(70_000).fill(fill);
      for (const register of [0n, MASK64]) expect(wasm.raw(register, data)).toBe(crc64RawReference(register, data));
    }
  });

  it('shift equals feeding zero bytes', () => {
    const random = prng(100 + slices);
    for (const length of [0, 1, 2, 7, 8, 100, 512, 4096, 65536, 65537, 300_000]) {
      const register = randomU64(random);
      const expected = crc64RawReference(register, new Uint8Array(length));
      expect(wasm.shift(register, length), `length ${length}`).toBe(expected);
    }
  });

  it('stays correct after the shift-table cache evicts and reuses slots', () => {
    const random = prng(200 + slices);
    // 40 distinct lengths > 32 slots, then the first ones again.
    const lengths = Array.from({ length: 40 }, (_, i) => 1 + i * 37);
    for (const length of [...lengths, ...lengths.slice(0, 10)]) {
      const register = randomU64(random);
      expect(wasm.shift(register, length), `length ${length}`).toBe(crc64RawReference(register, new Uint8Array(length)));
    }
  });

  it('pageFromRaw equals the reference', () => {
    const random = prng(300 + slices);
    for (const length of [0, 1, 512, 4096, 65536]) {
      const data = randomBytes(random, length);
      const raw = crc64RawReference(0n, data);
      for (const pgno of [0, 1, 2, 255, 256, 0x1234_5678, 0xffff_ffff]) {
        expect(wasm.pageFromRaw(pgno, raw, length)).toBe(referenceEngine.pageFromRaw(pgno, raw, length));
      }
    }
  });
});

describe('streaming', () => {
  it('random chunk splits equal the one-shot checksum', () => {
    const random = prng(7);
    for (const length of [0, 1, 9, 4096, 100_000, 1024 * 1024 + 3]) {
      const data = randomBytes(random, length);
      const expected = crc64Reference(data);
      expect(crc64(data)).toBe(expected);
      for (let trial = 0; trial < 4; trial++) {
        const hash = new Crc64();
        let at = 0;
        while (at < length) {
          // Mix tiny and large pieces so both sides of the 8-byte and 64 KiB boundaries occur.
          const piece = Math.min(length - at, random() < 0.5 ? Math.floor(random() * 20) : Math.floor(random() * 200_000));
          hash.update(data.subarray(at, at + piece));
          at += piece;
        }
        expect(hash.digest(), `length ${length} trial ${trial}`).toBe(expected);
      }
    }
  });

  it('digest does not end the stream, and reset starts over', () => {
    const hash = new Crc64().update(ascii('1234'));
    hash.digest();
    expect(hash.update(ascii('56789')).digest()).toBe(0xb90956c775a41001n);
    expect(hash.reset().digest()).toBe(0n);
    expect(hash.update(ascii('abc')).digest()).toBe(0x3776c42000000000n);
  });

  it('updateRaw equals update', () => {
    const random = prng(8);
    for (const length of [0, 1, 7, 8, 9, 512, 4095, 4096, 65536, 65537, 200_003]) {
      const prefix = randomBytes(random, Math.floor(random() * 5000));
      const data = randomBytes(random, length);
      const viaUpdate = new Crc64().update(prefix).update(data).digest();
      const viaRaw = new Crc64().update(prefix).updateRaw(crc64Raw(0n, data), length).digest();
      expect(viaRaw, `length ${length}`).toBe(viaUpdate);
      expect(viaUpdate).toBe(crc64Reference(new Uint8Array([...prefix, ...data])));
    }
  });

  it('a file of pages via updateRaw equals one update over the whole file', () => {
    const random = prng(9);
    const header = randomBytes(random, 100);
    const pages = Array.from({ length: 20 }, () => randomBytes(random, 4096));
    const viaRaw = new Crc64().update(header);
    const viaUpdate = new Crc64().update(header);
    for (const page of pages) {
      viaRaw.updateRaw(crc64Raw(0n, page), page.length);
      viaUpdate.update(page);
    }
    expect(viaRaw.digest()).toBe(viaUpdate.digest());
  });
});

describe('LTX page checksums', () => {
  it('CHECKSUM_FLAG is bit 63', () => {
    expect(CHECKSUM_FLAG).toBe(1n << 63n);
  });

  it('pageChecksum equals crc64(pgno big-endian || data) with bit 63 set', () => {
    const random = prng(10);
    for (const length of [0, 1, 512, 1024, 4096, 65536, 1000]) {
      for (const offset of [0, 3]) {
        const data = randomAt(random, length, offset);
        for (const pgno of [1, 2, 1000, 0x0102_0304, 0xffff_ffff]) {
          const expected = crc64Reference(pgnoThen(pgno, data)) | CHECKSUM_FLAG;
          expect(pageChecksum(pgno, data), `pgno ${pgno} length ${length}`).toBe(expected);
          expect(pageChecksumFromRaw(pgno, crc64Raw(0n, data), length)).toBe(expected);
          expect(referenceEngine.pageFromRaw(pgno, crc64RawReference(0n, data), length)).toBe(expected);
        }
      }
    }
  });

  it('a page of zeros has a fixed, flagged checksum', () => {
    const zeros = new Uint8Array(4096);
    const value = pageChecksum(1, zeros);
    expect(value & CHECKSUM_FLAG).toBe(CHECKSUM_FLAG);
    expect(value).toBe(crc64Reference(pgnoThen(1, zeros)) | CHECKSUM_FLAG);
  });
});

describe('crc64Shift', () => {
  it('equals crc64Raw over zero bytes', () => {
    const random = prng(11);
    for (const length of [0, 1, 3, 8, 9, 511, 512, 4096, 65536, 70_001]) {
      const register = randomU64(random);
      const expected = crc64RawReference(register, new Uint8Array(length));
      expect(crc64Shift(register, length), `length ${length}`).toBe(expected);
      expect(crc64Raw(register, new Uint8Array(length))).toBe(expected);
      expect(crc64ShiftReference(register, length)).toBe(expected);
    }
  });

  it('composes: shifting by a then b equals shifting by a + b, even for huge lengths', () => {
    const random = prng(12);
    for (const [a, b] of [
      [3, 5],
      [4096, 4096],
      [2 ** 31 - 1, 2 ** 31 + 7],
      [2 ** 40 + 12_345, 2 ** 45 - 1],
    ] as const) {
      const register = randomU64(random);
      expect(crc64Shift(crc64Shift(register, a), b), `${a} + ${b}`).toBe(crc64Shift(register, a + b));
    }
  });

  it('is linear: shift(r1 ^ r2) = shift(r1) ^ shift(r2)', () => {
    const random = prng(13);
    const r1 = randomU64(random);
    const r2 = randomU64(random);
    expect(crc64Shift(r1 ^ r2, 4096)).toBe(crc64Shift(r1, 4096) ^ crc64Shift(r2, 4096));
  });
});

describe('argument checks', () => {
  it('refuses registers outside [0, 2^64)', () => {
    expect(() => crc64Raw(-1n, new Uint8Array(1))).toThrow(RangeError);
    expect(() => crc64Raw(1n << 64n, new Uint8Array(1))).toThrow(RangeError);
    expect(() => crc64Shift(1n << 64n, 1)).toThrow(RangeError);
    expect(() => new Crc64().updateRaw(-1n, 1)).toThrow(RangeError);
  });

  it('refuses bad lengths and page numbers', () => {
    expect(() => crc64Shift(0n, -1)).toThrow(RangeError);
    expect(() => crc64Shift(0n, 1.5)).toThrow(RangeError);
    expect(() => pageChecksum(2 ** 32, new Uint8Array(1))).toThrow(RangeError);
    expect(() => pageChecksum(-1, new Uint8Array(1))).toThrow(RangeError);
    expect(() => pageChecksumFromRaw(1, 0n, -4)).toThrow(RangeError);
  });
});
