// Readers of `socket` (the control socket) and `heartbeat-url`/`heartbeat-interval`.
import { isAbsolute, resolve } from 'node:path';
import { formatDuration } from '@litestream-ts/core';
import { DEFAULT_SOCKET_PATH, DEFAULT_SOCKET_PERMISSIONS, MAX_SOCKET_PATH_BYTES } from '../control/socket-defaults.ts';
import { DEFAULT_HEARTBEAT_INTERVAL, LITESTREAM_MIN_HEARTBEAT_INTERVAL } from '../heartbeat/heartbeat-defaults.ts';
import type { ConfigSource } from './config-source.ts';
import { SOCKET_KEYS } from './known-keys.ts';
import { quoteValue } from './redaction.ts';
import type { HeartbeatConfig, SocketConfig } from './types.ts';
import { MAX_LOCATION_LENGTH, readBoolean, readDuration, readLocation, readText, scalarText } from './values.ts';
import { checkKeys, describeNode, isEmptyValue, readMapping, type Entry } from './yaml-nodes.ts';

/**
 * `socket: {enabled, path, permissions}`. `permissions` is an octal file mode as Litestream
 * writes it (`0600`, also `0o600` or `"0660"`); a relative path is taken from `cwd`.
 */
export function readSocket(source: ConfigSource, entry: Entry | undefined, cwd: string): SocketConfig | undefined {
  if (!entry || isEmptyValue(entry.value)) return undefined;
  const mapping = readMapping(source, entry.value, entry.path);
  checkKeys(source, mapping, { known: SOCKET_KEYS, listKnown: true });
  const enabledEntry = mapping.entries.get('enabled');
  const pathEntry = mapping.entries.get('path');
  const permissionsEntry = mapping.entries.get('permissions');
  const text = pathEntry && readLocation(source, pathEntry);
  const path = text ? (isAbsolute(text) ? text : resolve(cwd, text)) : DEFAULT_SOCKET_PATH;
  // The kernel keeps a Unix socket's path in a fixed 108-byte field; a longer one cannot be bound.
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw source.error(pathEntry!.value, pathEntry!.path, `${quoteValue('path', path)} is ${Buffer.byteLength(path)} bytes long; a Unix socket path may have at most ${MAX_SOCKET_PATH_BYTES}`);
  }
  return {
    enabled: (enabledEntry && readBoolean(source, enabledEntry)) ?? false,
    path,
    permissions: permissionsEntry ? readFileMode(source, permissionsEntry) : DEFAULT_SOCKET_PERMISSIONS,
  };
}

/** An octal file mode (`0600`, `0o600`, `"0660"`) that lets the owner read and write the socket. */
function readFileMode(source: ConfigSource, entry: Entry): number {
  if (isEmptyValue(entry.value)) return DEFAULT_SOCKET_PERMISSIONS;
  const text = scalarText(entry.value);
  if (text === undefined) throw source.error(entry.value, entry.path, `expected an octal file mode such as 0600, got ${describeNode(entry.value)}`);
  const trimmed = text.trim();
  // Go's YAML decoder reads a leading 0 as octal (0600 = rw-------); YAML 1.2 does not, so the
  // text is read here. A decimal number is what Go would take too (384 = 0600).
  const octal = /^0o?([0-7]{1,4})$/i.exec(trimmed);
  const mode = octal ? parseInt(octal[1]!, 8) : /^[1-9][0-9]*$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isInteger(mode) || mode > 0o777) {
    throw source.error(entry.value, entry.path, `expected an octal file mode such as 0600 or 0660, got ${JSON.stringify(trimmed)}`);
  }
  if ((mode & 0o600) !== 0o600) {
    throw source.error(entry.value, entry.path, `${JSON.stringify(trimmed)} does not let the socket's owner read and write it, so no command could connect; use 0600 or 0660`);
  }
  return mode;
}

/**
 * `heartbeat-url` and `heartbeat-interval` (default 5m). The URL must be http or https.
 * Litestream refuses intervals under 1 minute; they are accepted here with a warning.
 */
export function readHeartbeat(source: ConfigSource, urlEntry: Entry | undefined, intervalEntry: Entry | undefined): HeartbeatConfig | undefined {
  // Read as plain text: the URL may hold a token, and every message below shows only its host.
  const url = urlEntry && readText(source, urlEntry);
  const interval = intervalEntry && readDuration(source, intervalEntry, 'positive');
  if (!url) {
    if (interval !== undefined) source.warn(intervalEntry!.value, intervalEntry!.path, 'has no effect without heartbeat-url');
    return undefined;
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.host || url.length > MAX_LOCATION_LENGTH || url.includes('\0')) {
    // The URL may hold a token: only its scheme and host are shown.
    throw source.error(urlEntry!.value, urlEntry!.path, `expected an http:// or https:// URL, got ${JSON.stringify(urlPreview(url))}`);
  }
  if (interval !== undefined && interval < LITESTREAM_MIN_HEARTBEAT_INTERVAL) {
    source.warn(intervalEntry!.value, intervalEntry!.path, `${formatDuration(interval)} is below 1m, which Litestream refuses; pings go out at most this often`);
  }
  return { url, interval: interval ?? DEFAULT_HEARTBEAT_INTERVAL };
}

/** The start of a URL that may hold a secret: its scheme and host at most. */
function urlPreview(text: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?([^/?#@]*@)?([^/?#]*)/.exec(text);
  const shown = match ? `${match[1] ?? ''}${match[2] ? '****@' : ''}${match[3] ?? ''}` : '';
  return shown.length < text.length ? `${shown.slice(0, 64)}…` : shown.slice(0, 64);
}
