import { formatTXID, parseLtxFilename, type LtxFileRef } from '@litestream-ts/core';

/**
 * Object names in the bucket, as Litestream's NATS client writes them:
 * `[<path>/]ltx/<level>/<minTXID>-<maxTXID>.ltx` (level in decimal), and small objects such
 * as `lock.json` at `[<path>/]<name>`. Litestream itself uses no path.
 */
export class NatsObjectLayout {
  /** `''` or `<path>/`. */
  readonly prefix: string;

  constructor(path: string) {
    this.prefix = path === '' ? '' : `${path}/`;
  }

  ltxName(ref: LtxFileRef): string {
    return `${this.levelPrefix(ref.level)}${formatTXID(ref.minTXID)}-${formatTXID(ref.maxTXID)}.ltx`;
  }

  levelPrefix(level: number): string {
    return `${this.prefix}ltx/${level}/`;
  }

  /** The reference an object name stands for on `level`, or undefined for any other name. */
  parseLtxName(name: string, level: number): LtxFileRef | undefined {
    const prefix = this.levelPrefix(level);
    if (!name.startsWith(prefix)) return undefined;
    try {
      const parsed = parseLtxFilename(name.slice(prefix.length));
      return parsed && { level, ...parsed };
    } catch {
      return undefined; // a TXID beyond 2^53-1: not one of ours
    }
  }

  objectName(name: string): string {
    return this.prefix + name;
  }

  /** Whether `deleteAll` removes this object: everything under the path, or the whole bucket without one. */
  owns(name: string): boolean {
    return name.startsWith(this.prefix);
  }
}
