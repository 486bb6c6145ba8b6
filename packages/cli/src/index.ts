/** @litestream-ts/cli: the `litestream` command. Importable for tests and embedding the CLI. */
export { buildProgram, runLitestream, type RunOptions } from './program.ts';
export { runMain } from './run.ts';
export { createBackendRegistry, CLI_PACKAGE_DIR } from './backends.ts';
export * from './config/index.ts';
