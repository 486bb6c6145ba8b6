// Fuzzing how the file backend reads replica locations: any `file:` URL, config entry or
// plain path gives a client on a usable directory or a UsageError naming the problem (never
// a TypeError from the URL or path functions), and a plain path routed through the registry
// comes back as the same directory.
import { resolve } from 'node:path';
import { BackendRegistry, UsageError } from '@litestream-ts/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectTyped, fuzzParameters, settingsFor, urlLike, withinHangBound } from '../../../packages/core/src/test-support/fuzz.ts';
import { fileBackend } from './file-backend.ts';
import type { FileReplicaClient } from './file-replica-client.ts';

const params = { ...fuzzParameters(400), timeout: undefined };
const registry = new BackendRegistry().register(fileBackend);

/** A client's directory must be one the file system can open: absolute, without NUL bytes. */
function checkRoot(client: FileReplicaClient): void {
  expect(client.root.startsWith('/')).toBe(true);
  expect(client.root.includes('\0')).toBe(false);
}

const pathPiece = fc.constantFrom('a', 'b', 'dir', ' ', '%', '%2F', '%25', '?', '#', '\\', 'é', ':', '~', '.', '..', '\0', '\n', '$HOME');
const plainPath = fc
  .tuple(fc.constantFrom('', '/', './', '~/', '../'), fc.array(fc.array(pathPiece, { minLength: 1, maxLength: 3 }).map((p) => p.join('')), { minLength: 1, maxLength: 4 }))
  .map(([start, parts]) => start + parts.join('/'))
  .filter((p) => !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(p));

describe('fuzz: file replica locations', () => {
  it('opens any file: URL as a directory or refuses it with a UsageError', () => {
    fc.assert(
      fc.property(urlLike(['file']), (text) => {
        try {
          checkRoot(withinHangBound('fromURL', () => fileBackend.fromURL(text)) as FileReplicaClient);
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });

  it('turns any config entry into a client or a UsageError', () => {
    fc.assert(
      fc.property(settingsFor(['path', 'url'], fc.oneof(urlLike(['file']), plainPath, fc.integer(), fc.constant(null))), (config) => {
        try {
          checkRoot(withinHangBound('fromConfig', () => fileBackend.fromConfig(config)) as FileReplicaClient);
        } catch (error) {
          expectTyped(error, [UsageError]);
        }
      }),
      params,
    );
  });

  it('routes a plain path through the registry to the same directory', async () => {
    await fc.assert(
      fc.asyncProperty(plainPath, async (path) => {
        let url: string;
        try {
          url = registry.resolve(path).url;
        } catch (error) {
          expectTyped(error, [UsageError]);
          return;
        }
        let client: FileReplicaClient;
        try {
          client = (await registry.fromURL(path)) as FileReplicaClient;
        } catch (error) {
          expectTyped(error, [UsageError]);
          // Refused only for a NUL character, or for naming the root directory.
          expect(path.includes('\0') || resolve(path) === '/', path).toBe(true);
          return;
        }
        checkRoot(client);
        // The registry takes a plain path as it is: `~` is not the home directory there.
        expect(client.root).toBe(resolve(path));
        expect(url.startsWith('file:///')).toBe(true);
      }),
      params,
    );
  });
});

describe('file replica regressions found by fuzzing', () => {
  it('refuses file URLs whose path does not decode to a local name with a UsageError', () => {
    // Counterexample "file:///%E0%A4%A" (a URIError), and an encoded "/" (a TypeError from Node).
    for (const url of ['file:///%E0%A4%A', 'file:///backups/a%2Fb']) {
      expect(() => fileBackend.fromURL(url), url).toThrow(UsageError);
      expect(() => fileBackend.fromURL(url), url).toThrow(/does not name a local directory/);
    }
  });

  it('refuses a directory with a NUL character, however it is given', async () => {
    // Counterexamples {path: "\0"} and the plain path "\0a"; no file system call accepts them.
    expect(() => fileBackend.fromConfig({ path: '\0' })).toThrow(/contains a NUL character/);
    expect(() => fileBackend.fromURL('file:///backups/%00x')).toThrow(UsageError);
    await expect(registry.fromURL('\0a')).rejects.toThrow(UsageError);
  });
});
