// Litestream's timestamp text and the peek at an upload's LTX header live in core, shared by every backend.
export { formatLtxTimestamp, parseLtxTimestamp, peekLtxTimestamp } from '@litestream-ts/core';

/** The object metadata key under which Litestream stores an LTX file's timestamp. */
export const TIMESTAMP_METADATA_KEY = 'litestream-timestamp';
