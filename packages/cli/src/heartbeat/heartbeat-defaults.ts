/** `heartbeat-interval` when unset: 5 minutes, as in Litestream. */
export const DEFAULT_HEARTBEAT_INTERVAL = 5 * 60_000;

/** The shortest interval Litestream accepts (shorter ones are allowed here, with a warning). */
export const LITESTREAM_MIN_HEARTBEAT_INTERVAL = 60_000;

/** How long one ping may take, at most (Litestream's 30 s; shorter when the interval is). */
export const HEARTBEAT_REQUEST_TIMEOUT = 30_000;
