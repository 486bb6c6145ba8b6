import { LitestreamError } from '../ltx/errors.ts';

/**
 * A backend plugin module could not be found, imported or used: names the module as the user
 * gave it (or the package found), where it was named, and what is wrong.
 */
export class PluginError extends LitestreamError {
  /** Stable code, for hosts that cannot rely on `instanceof` (two copies of core). */
  readonly code = 'ERR_LITESTREAM_PLUGIN';
  /** The module as named (`litestream-backend-x`, `./plugin.mjs`). */
  readonly module: string;
  constructor(module: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.module = module;
  }
}
