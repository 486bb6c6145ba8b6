/** The MCP server of `replicate` (`mcp-addr`). Imported only when a config sets it: the SDK is heavy. */
export { startMcpServer, buildMcpServer, type RunningMcpServer } from './mcp-server.ts';
export type { McpDatabase, McpSource } from './mcp-source.ts';
export { databaseStatus, listDatabases, replicaLtxFiles, restorePlan, restoreToNewPath, parseTarget, findDatabase } from './mcp-tools.ts';
