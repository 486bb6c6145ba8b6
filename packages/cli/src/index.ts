/** litestream-ts: the `litestream` command. Importable for tests and embedding the CLI. */
export { buildProgram, runLitestream } from './program.ts';
export { createBackendRegistry } from './backends.ts';
export * from './config/index.ts';
