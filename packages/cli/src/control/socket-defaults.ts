/** Where `replicate` serves the control socket and the commands look for it, as in Litestream. */
export const DEFAULT_SOCKET_PATH = '/var/run/litestream.sock';

/** The socket's file mode unless `socket.permissions` says otherwise: only its owner may connect. */
export const DEFAULT_SOCKET_PERMISSIONS = 0o600;

/** Longest Unix socket path Linux can bind (its `sun_path` field holds 108 bytes with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;
