import { CliError } from '../cli-error.ts';

/** The MCP SDK's packages: optional peers of `@litestream-ts/cli`, dependencies of `litestream-ts`. */
export const MCP_PACKAGES = ['@modelcontextprotocol/sdk', 'zod'] as const;

/**
 * Imports the MCP server module, which needs the MCP SDK. `@litestream-ts/cli` does not install
 * the SDK (about a hundred packages) for everyone: without it, a config with `mcp-addr` gets an
 * error saying what to install, before any database is opened.
 */
export async function loadMcp(): Promise<typeof import('./index.ts')> {
  try {
    return await import('./index.ts');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && MCP_PACKAGES.some((name) => (err as Error).message.includes(`'${name}`));
    if (!missing) throw err;
    throw new CliError(
      `mcp-addr needs the MCP SDK, which @litestream-ts/cli does not install by itself: npm install ${MCP_PACKAGES.join(' ')} (the litestream-ts package includes it)`,
    );
  }
}
