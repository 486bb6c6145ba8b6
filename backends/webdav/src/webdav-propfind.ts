import { XMLParser } from 'fast-xml-parser';

/** The request body of a PROPFIND asking only for what a listing needs. */
export const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getcontentlength/><d:getlastmodified/><d:getetag/></d:prop></d:propfind>';

/** One member of a collection, as a Depth: 1 PROPFIND reports it. */
export interface DavEntry {
  /** The href's path, percent-decoded (no scheme or host), without a trailing slash. */
  readonly path: string;
  /** Its last path segment. */
  readonly name: string;
  readonly collection: boolean;
  readonly size: number;
  /** `getlastmodified`, or undefined when the server did not report it. */
  readonly modified: Date | undefined;
  readonly etag: string | undefined;
}

const parser = new XMLParser({
  // Servers pick their own prefixes (D:, d:, lp1:, none): compare local names only.
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => name === 'response' || name === 'propstat',
});

type Node = Record<string, unknown>;

/**
 * The entries of a 207 Multi-Status answer to a PROPFIND. Properties come from the propstat
 * whose status is 200; an href that does not decode is skipped (no name of ours needs one).
 */
export function parseMultistatus(xml: string): DavEntry[] {
  const document = parser.parse(xml) as Node;
  const multistatus = document.multistatus as Node | undefined;
  const responses = (multistatus?.response as Node[] | undefined) ?? [];
  const entries: DavEntry[] = [];
  for (const response of responses) {
    const href = text(response.href);
    if (href === undefined) continue;
    let path: string;
    try {
      path = decodeURIComponent(href.startsWith('/') ? href : new URL(href).pathname);
    } catch {
      continue;
    }
    const trimmed = path.replace(/\/+$/, '');
    const props: Node = {};
    for (const propstat of (response.propstat as Node[] | undefined) ?? []) {
      const status = text(propstat.status) ?? '';
      if (!/\s200\s|\s200$/.test(status)) continue;
      Object.assign(props, propstat.prop as Node | undefined);
    }
    const resourcetype = props.resourcetype;
    const collection = typeof resourcetype === 'object' && resourcetype !== null && 'collection' in resourcetype;
    const modified = text(props.getlastmodified);
    const date = modified === undefined ? undefined : new Date(modified);
    entries.push({
      path: trimmed,
      name: trimmed.slice(trimmed.lastIndexOf('/') + 1),
      collection: collection || path.endsWith('/'),
      size: Number(text(props.getcontentlength) ?? 0) || 0,
      modified: date !== undefined && Number.isFinite(date.getTime()) ? date : undefined,
      etag: text(props.getetag),
    });
  }
  return entries;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  return undefined;
}
