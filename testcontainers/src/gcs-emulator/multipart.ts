import { invalid } from './errors.ts';

/** One part of a `multipart/related` body. */
export interface Part {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** The boundary of a `multipart/related; boundary=…` content type. */
export function boundaryOf(contentType: string | undefined): string {
  const match = /^multipart\/related\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw invalid('Multipart upload needs Content-Type multipart/related with a boundary');
  return boundary;
}

/** Splits a buffered `multipart/related` body into its parts (RFC 2046 framing). */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at === -1) throw invalid('Multipart body has no boundary');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') break;
    at = skipLineEnd(body, at);
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), at);
    if (next === -1) throw invalid('Multipart body is not terminated');
    const part = body.subarray(at, next);
    const split = part.indexOf('\r\n\r\n');
    const rawHeaders = split === -1 ? '' : part.subarray(0, split).toString('latin1');
    const headers: Record<string, string> = {};
    for (const line of rawHeaders.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, body: split === -1 ? part : part.subarray(split + 4) });
    at = next + 2;
  }
  return parts;
}

function skipLineEnd(body: Buffer, at: number): number {
  if (body[at] === 0x0d && body[at + 1] === 0x0a) return at + 2;
  if (body[at] === 0x0a) return at + 1;
  return at;
}
