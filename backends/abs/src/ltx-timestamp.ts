// Litestream's timestamp text and the peek at an upload's LTX header live in core, shared by every backend.
export { formatLtxTimestamp, parseLtxTimestamp, peekLtxTimestamp } from '@litestream-ts/core';

/**
 * The blob metadata key under which Litestream stores an LTX file's timestamp. Azure metadata
 * names must be C# identifiers, so it is `litestreamtimestamp`, not S3's `litestream-timestamp`
 * (which Azure refuses with 400 InvalidMetadata).
 */
export const TIMESTAMP_METADATA_KEY = 'litestreamtimestamp';
