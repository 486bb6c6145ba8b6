import { invalid } from './errors.ts';
import type { Bucket, StoredObject } from './store.ts';

/** The query parameters of `objects.list` this emulator honours. */
export interface ListQuery {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly startOffset: string | undefined;
  readonly endOffset: string | undefined;
  readonly maxResults: number;
  readonly pageToken: string | undefined;
  readonly includeTrailingDelimiter: boolean;
}

export interface ListPage {
  readonly items: StoredObject[];
  readonly prefixes: string[];
  readonly nextPageToken: string | undefined;
}

/** Google's default and largest page: 1,000 items plus prefixes. */
export const MAX_RESULTS = 1000;

/** Reads `objects.list` parameters from a query string. */
export function parseListQuery(query: URLSearchParams): ListQuery {
  const max = query.get('maxResults');
  const maxResults = max === null || max === '' ? MAX_RESULTS : Number(max);
  if (!Number.isInteger(maxResults) || maxResults < 0) throw invalid(`Invalid value for maxResults: ${max}`);
  // Google's Go client sends an empty matchGlob with every listing (Litestream v0.3's does); empty means no filter.
  if (query.get('matchGlob')) throw invalid('matchGlob is not implemented by this emulator', 'notImplemented');
  if (query.get('versions') === 'true') throw invalid('versions=true is not implemented by this emulator (no object versioning)', 'notImplemented');
  const delimiter = query.get('delimiter') || undefined;
  return {
    prefix: query.get('prefix') ?? '',
    delimiter,
    startOffset: query.get('startOffset') || undefined,
    endOffset: query.get('endOffset') || undefined,
    // 0 is taken as the default, as Google treats an unset value.
    maxResults: maxResults === 0 ? MAX_RESULTS : Math.min(maxResults, MAX_RESULTS),
    pageToken: query.get('pageToken') || undefined,
    includeTrailingDelimiter: query.get('includeTrailingDelimiter') === 'true' && delimiter !== undefined,
  };
}

/**
 * One page of a listing in lexicographic order of the names' UTF-8 bytes. With a delimiter,
 * names that continue past it collapse into a prefix that counts as one result. The page token
 * is opaque to clients: the last result of the page, and whether it was a prefix.
 */
export function listPage(bucket: Bucket, q: ListQuery): ListPage {
  const names = [...bucket.objects.keys()].sort(compareNames);
  const after = q.pageToken === undefined ? undefined : decodeToken(q.pageToken);
  const items: StoredObject[] = [];
  const prefixes: string[] = [];
  let last: { name: string; prefix: boolean } | undefined;
  for (const name of names) {
    if (!name.startsWith(q.prefix)) continue;
    if (q.startOffset !== undefined && compareNames(name, q.startOffset) < 0) continue;
    if (q.endOffset !== undefined && compareNames(name, q.endOffset) >= 0) continue;
    if (after !== undefined && (compareNames(name, after.name) <= 0 || (after.prefix && name.startsWith(after.name)))) continue;
    const cut = q.delimiter === undefined ? -1 : name.indexOf(q.delimiter, q.prefix.length);
    const result = cut === -1 ? { name, prefix: false } : { name: name.slice(0, cut + q.delimiter!.length), prefix: true };
    if (result.prefix && last?.prefix && last.name === result.name) {
      if (q.includeTrailingDelimiter && name === result.name) items.push(bucket.objects.get(name)!);
      continue;
    }
    if (items.length + prefixes.length >= q.maxResults) return { items, prefixes, nextPageToken: encodeToken(last!) };
    last = result;
    if (result.prefix) {
      prefixes.push(result.name);
      if (q.includeTrailingDelimiter && name === result.name) items.push(bucket.objects.get(name)!);
    } else {
      items.push(bucket.objects.get(name)!);
    }
  }
  return { items, prefixes, nextPageToken: undefined };
}

/** Byte order of UTF-8, which is how Google sorts names (JS string order differs beyond the BMP). */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function encodeToken(last: { name: string; prefix: boolean }): string {
  return Buffer.from(JSON.stringify(last)).toString('base64url');
}

function decodeToken(token: string): { name: string; prefix: boolean } {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString()) as { name?: unknown; prefix?: unknown };
    if (typeof value.name === 'string' && typeof value.prefix === 'boolean') return { name: value.name, prefix: value.prefix };
  } catch {
    // fall through to the 400
  }
  throw invalid('Invalid pageToken');
}
