import type { IncomingMessage, ServerResponse } from 'node:http';
import { GcsApiError, invalid } from './errors.ts';
import type { Preconditions } from './store.ts';

/** Where a request came from, for links in resources (`http://host:port`). */
export function originOf(req: IncomingMessage): string {
  return `http://${req.headers.host ?? '127.0.0.1'}`;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const GENERATION = /^\d{1,19}$/;

/** The `ifGeneration*` / `ifMetageneration*` parameters; a non-numeric value is a 400, as on Google. */
export function preconditionsOf(query: URLSearchParams): Preconditions {
  const pre: Record<string, string> = {};
  for (const key of ['ifGenerationMatch', 'ifGenerationNotMatch', 'ifMetagenerationMatch', 'ifMetagenerationNotMatch']) {
    const value = query.get(key);
    if (value === null) continue;
    if (!GENERATION.test(value)) throw invalid(`Invalid value for ${key}: ${value}`);
    pre[key] = String(BigInt(value));
  }
  return pre;
}

/** The `generation` parameter that addresses one generation of an object. */
export function generationOf(query: URLSearchParams): string | undefined {
  const value = query.get('generation');
  if (value === null || value === '') return undefined;
  if (!GENERATION.test(value)) throw invalid(`Invalid value for generation: ${value}`);
  return String(BigInt(value));
}

/** Reads a whole request body; refuses more than `limit` bytes (uploads that big should be resumable). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) throw new GcsApiError(413, 'uploadTooLarge', `Request body larger than ${limit} bytes; use a resumable upload`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON request body (empty means `{}`). */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.byteLength === 0) return {};
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw invalid('Parse Error', 'parseError');
}

/** Custom metadata (`metadata` of the object resource): string values only. */
export function customMetadataOf(resource: Record<string, unknown>): Record<string, string> | undefined {
  const metadata = resource.metadata;
  if (metadata === undefined || metadata === null) return undefined;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw invalid('Invalid value for metadata');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) if (value !== null) out[key] = String(value);
  return out;
}
