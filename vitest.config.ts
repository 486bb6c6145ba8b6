import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages by name; point those names at their TypeScript sources
// so the suite never runs against a stale build.
const root = import.meta.dirname;
const packageDirs = ['packages', 'backends']
  .flatMap((group) => (existsSync(join(root, group)) ? readdirSync(join(root, group)).map((d) => join(root, group, d)) : []))
  .concat(['conformance', 'testcontainers'].map((d) => join(root, d)));
const alias = packageDirs
  .filter((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src/index.ts')))
  .map((dir) => {
    const name = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name as string;
    return { find: new RegExp(`^${name.replace(/[/.]/g, '\\$&')}$`), replacement: join(dir, 'src/index.ts') };
  });

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['{packages,backends}/*/src/**/*.test.ts', '{packages,backends}/*/test/**/*.test.ts', '{conformance,testcontainers}/{src,test}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['scripts/vitest-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
