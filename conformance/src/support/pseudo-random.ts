import { createHash } from 'node:crypto';

/**
 * Deterministic pseudo-random bytes (xorshift32), fast enough to produce tens of MiB per test
 * and reproducible from a seed when a case fails.
 */
export class PseudoRandomBytes {
  private state: number;

  constructor(seed: number) {
    // xorshift never leaves the all-zero state, so a zero seed gets a fixed odd substitute.
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** The next `length` bytes, in a new buffer the caller may keep. */
  next(length: number): Uint8Array {
    const words = new Uint32Array(Math.ceil(length / 4));
    let x = this.state;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x;
    }
    this.state = x >>> 0 || 0x9e3779b9;
    return new Uint8Array(words.buffer, 0, length);
  }
}

/** `length` pseudo-random bytes from `seed`. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  return new PseudoRandomBytes(seed).next(length);
}

// Odd sizes, from single bytes to about a MiB, so no backend can rely on aligned or uniform chunks.
const ODD_CHUNK_SIZES = [1, 4093, 65_537, 3, 262_147, 1_048_573, 17, 999_983, 131_071, 7, 524_309, 12_289];

/** A lazily produced byte stream whose sha256 is known once it has been consumed. */
export interface HashedStream {
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Hex sha256 of every byte yielded so far. */
  sha256(): string;
}

/**
 * `total` pseudo-random bytes in chunks of odd sizes, hashed as they are produced: the
 * producer never holds more than one chunk.
 */
export function pseudoRandomStream(total: number, seed: number): HashedStream {
  const source = new PseudoRandomBytes(seed);
  const hash = createHash('sha256');
  let digest: string | undefined;
  async function* produce(): AsyncGenerator<Uint8Array> {
    let left = total;
    for (let i = 0; left > 0; i++) {
      const chunk = source.next(Math.min(left, ODD_CHUNK_SIZES[i % ODD_CHUNK_SIZES.length]!));
      hash.update(chunk);
      left -= chunk.byteLength;
      yield chunk;
    }
  }
  return {
    chunks: produce(),
    sha256: () => (digest ??= hash.digest('hex')),
  };
}
