import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { runReplicaClientConformance } from './index.ts';
import { MemoryReplicaClient } from './memory.ts';

// The suite checks itself against a backend with no optional capabilities: the gated groups
// must show up as skipped, with the reason in their names, and the refusal cases must run.
runReplicaClientConformance('MemoryReplicaClient (suite self-check)', {
  makeClient: () => new MemoryReplicaClient(),
  largeFileSize: 8 * 1024 * 1024,
});

const packageDir = resolve(import.meta.dirname, '..');

/** Every bare specifier (package import) reachable from a built module through its relative imports. */
function bareImportsOf(entry: string, seen = new Set<string>()): Set<string> {
  const bare = new Set<string>();
  if (seen.has(entry)) return bare;
  seen.add(entry);
  // Comments go first: TSDoc examples show imports that the module does not make.
  const source = readFileSync(entry, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const [, specifier] of source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g)) {
    if (specifier!.startsWith('.')) for (const inner of bareImportsOf(resolve(dirname(entry), specifier!), seen)) bare.add(inner);
    else bare.add(specifier!);
  }
  return bare;
}

it('publishes ./memory as a built module that needs nothing but core and Node (no vitest)', () => {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
  const target = manifest.exports['./memory'];
  expect(target).toEqual({ types: './dist/memory.d.ts', default: './dist/memory.js' });
  const imports = [...bareImportsOf(join(packageDir, target!.default))];
  expect(imports.length).toBeGreaterThan(0);
  expect(imports.filter((specifier) => specifier !== '@litestream-ts/core' && !specifier.startsWith('node:'))).toEqual([]);
});
