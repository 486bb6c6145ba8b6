// The project's own packages, as the soak uses them: core and the backends from their builds
// (the same modules the `litestream` bin runs), testcontainers from source.
export const core = await import('../../packages/core/dist/index.js');
export const s3 = await import('../../backends/s3/dist/index.js');
export const file = await import('../../backends/file/dist/index.js');
export const tc = await import('../../testcontainers/src/index.ts');

export type ReplicaClient = import('../../packages/core/dist/index.js').ReplicaClient;
