import { BackendRegistry, type BackendPlugin } from '@litestream-ts/core';

function notUsed(): never {
  throw new Error('not used');
}

/** Stand-ins for the file and S3 backends: only their names, schemes and keys matter to the config. */
export function fakeRegistry(): BackendRegistry {
  const file: BackendPlugin = {
    type: 'file',
    schemes: ['file'],
    configKeys: ['path'],
    description: 'a local directory',
    fromURL: notUsed,
    fromConfig: notUsed,
  };
  const s3: BackendPlugin = {
    type: 's3',
    schemes: ['s3'],
    configKeys: ['bucket', 'region', 'endpoint', 'part-size', 'access-key-id', 'secret-access-key'],
    description: 'Amazon S3 and compatible stores',
    fromURL: notUsed,
    fromConfig: notUsed,
  };
  return new BackendRegistry().register(file).register(s3);
}
