import { LitestreamError } from '@litestream-ts/core';

/** Where in a config file a problem is: 1-based line and column, and the key path. */
export interface ConfigLocation {
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  /** Dotted key path such as `dbs[0].replica.sync-interval`. */
  readonly keyPath?: string | undefined;
}

/**
 * A problem in a config file. The message reads `FILE:LINE:COL: KEY.PATH: what is wrong`
 * (line, column and key path when known), so editors and terminals can jump to it.
 */
export class ConfigError extends LitestreamError {
  /** The config file (or the name given to `parseConfig`). */
  readonly configFile: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly keyPath: string | undefined;
  constructor(configFile: string, detail: string, location: ConfigLocation = {}, options?: { cause?: unknown }) {
    super(formatConfigMessage(configFile, detail, location), options);
    // The base class would prefix `file: ` itself; the location has to sit between the two.
    Object.assign(this, { file: configFile });
    this.configFile = configFile;
    this.line = location.line;
    this.column = location.column;
    this.keyPath = location.keyPath;
  }
}

/** `FILE:LINE:COL: KEY.PATH: detail`, leaving out the parts that are not known. */
export function formatConfigMessage(configFile: string, detail: string, location: ConfigLocation = {}): string {
  let where = configFile;
  if (location.line !== undefined) where += `:${location.line}`;
  if (location.line !== undefined && location.column !== undefined) where += `:${location.column}`;
  return location.keyPath ? `${where}: ${location.keyPath}: ${detail}` : `${where}: ${detail}`;
}
