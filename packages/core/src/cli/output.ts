import { formatChecksum } from '../ltx/position.ts';
import { formatTXID } from '../ltx/txid.ts';
import type { LtxHeader } from '../ltx/header.ts';

/** JSON.stringify that writes bigints (checksums, node IDs) as hex strings. */
export function toJSON(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? formatChecksum(v) : v), 2);
}

/** A header as plain fields, TXIDs and checksums in their usual hex form. */
export function describeHeader(h: LtxHeader): Record<string, string | number> {
  return {
    version: h.version,
    flags: `0x${h.flags.toString(16).padStart(8, '0')}`,
    pageSize: h.pageSize,
    commit: h.commit,
    minTXID: formatTXID(h.minTXID),
    maxTXID: formatTXID(h.maxTXID),
    timestamp: new Date(h.timestamp).toISOString(),
    preApplyChecksum: formatChecksum(h.preApplyChecksum),
    walOffset: h.walOffset,
    walSize: h.walSize,
    walSalt1: `0x${h.walSalt1.toString(16).padStart(8, '0')}`,
    walSalt2: `0x${h.walSalt2.toString(16).padStart(8, '0')}`,
    nodeID: formatChecksum(h.nodeID),
  };
}

/** Aligned `key: value` lines. */
export function formatFields(fields: Record<string, string | number>, indent = ''): string {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  return Object.entries(fields)
    .map(([k, v]) => `${indent}${`${k}:`.padEnd(width + 2)}${v}`)
    .join('\n');
}

/** One line for an error: file-system errors as `path: reason`, others by their message. */
export function describeError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && 'path' in err && typeof (err as NodeJS.ErrnoException).path === 'string') {
    const e = err as NodeJS.ErrnoException;
    const reason = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'not a directory' }[e.code ?? ''];
    return `${e.path}: ${reason ?? e.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
