import { UsageError, parseByteSize } from '@litestream-ts/core';

const MiB = 1024 * 1024;

/** S3's smallest part (the last part of an upload may be smaller). */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
/** Litestream's and the SDK's default part size. */
export const DEFAULT_PART_SIZE = MIN_PART_SIZE;
/** Litestream's default number of parts in flight. */
export const DEFAULT_CONCURRENCY = 5;

// `5MB` is how S3's and Litestream's documentation write the minimum, but counted in 1000s it
// falls 242,880 bytes short of the real 5 MiB; sizes in that gap mean the minimum.
const DOCUMENTED_MINIMUM = 5_000_000;


/**
 * Parses `part-size`: a number of bytes, or a size such as `10MB`, `5MiB`, `1.5GB`, and
 * checks S3's bounds (5 MiB to 5 GiB). `5MB` (5,000,000 bytes), the minimum as the docs
 * write it, is taken as 5 MiB. Throws `UsageError` with the accepted range otherwise.
 */
export function parsePartSize(input: unknown): number {
  const bytes = parseSize(input);
  if (bytes >= DOCUMENTED_MINIMUM && bytes < MIN_PART_SIZE) return MIN_PART_SIZE;
  if (bytes < MIN_PART_SIZE || bytes > MAX_PART_SIZE) {
    throw new UsageError(
      `s3 part-size ${describe(input)} is out of range: S3 parts must be between 5MiB (${MIN_PART_SIZE} bytes) and 5GiB (${MAX_PART_SIZE} bytes)`,
    );
  }
  return bytes;
}

/** Parses `concurrency`: a whole number of parts in flight, at least 1. */
export function parseConcurrency(input: unknown): number {
  const value = typeof input === 'string' && /^\s*\d+\s*$/.test(input) ? Number(input) : input;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`s3 concurrency must be a whole number of at least 1, got ${describe(input)}`);
  }
  return value;
}

function parseSize(input: unknown): number {
  if ((typeof input !== 'number' && typeof input !== 'string') || (typeof input === 'number' && !(Number.isSafeInteger(input) && input >= 0))) throw invalid(input);
  try {
    // Litestream's units (go-humanize): K/KB/M/MB… in 1000s, Ki/KiB/Mi/MiB… in 1024s.
    return parseByteSize(input);
  } catch {
    throw invalid(input);
  }
}

function invalid(input: unknown): UsageError {
  return new UsageError(`invalid s3 part-size ${describe(input)}: use bytes (5242880) or a size such as 5MiB, 10MB or 1GiB`);
}

function describe(input: unknown): string {
  if (typeof input === 'string') return JSON.stringify(input);
  if (input === null || typeof input !== 'object') return String(input);
  // String() of an object without a prototype throws: name its kind instead.
  return Array.isArray(input) ? 'a list' : 'a mapping';
}
