// Litestream's timestamp text and the peek at an upload's LTX header live in core, shared by every backend.
export { formatLtxTimestamp, parseLtxTimestamp, peekLtxTimestamp } from '@litestream-ts/core';

/** The object header Litestream's NATS client stores each LTX file's timestamp under. */
export const TIMESTAMP_HEADER = 'Litestream-Timestamp';
