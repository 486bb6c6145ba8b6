import { MAX_LEVEL, TRAILER_SIZE } from '../ltx/constants.ts';
import type { Position } from '../ltx/position.ts';
import type { LtxFileInfo, ReplicaClient } from '../replica/replica-client.ts';

/**
 * The replica's position: the file reaching the highest TXID on any level, and the
 * post-apply checksum in its trailer. Undefined when the replica holds nothing.
 */
export async function readRemotePosition(client: ReplicaClient, options: { signal?: AbortSignal } = {}): Promise<(Position & { file: LtxFileInfo }) | undefined> {
  const signal = options.signal;
  let best: LtxFileInfo | undefined;
  for (let level = 0; level <= MAX_LEVEL; level++) {
    for await (const info of client.listLtxFiles(level, { signal })) {
      if (!best || info.maxTXID > best.maxTXID) best = info;
    }
  }
  if (!best) return undefined;
  const trailer = await readAll(await client.openLtxFile(best, { offset: best.size - TRAILER_SIZE, size: TRAILER_SIZE, signal }));
  return { txid: best.maxTXID, postApplyChecksum: trailer.readBigUInt64BE(0), file: best };
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}
