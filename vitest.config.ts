import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages by name; point those names at their TypeScript sources
// so the suite never runs against a stale build.
const root = import.meta.dirname;
const packageDirs = ['packages', 'backends']
  .flatMap((group) => (existsSync(join(root, group)) ? readdirSync(join(root, group)).map((d) => join(root, group, d)) : []))
  .concat(['conformance', 'testcontainers'].map((d) => join(root, d)));
const escape = (text: string) => text.replace(/[/.]/g, '\\$&');
const alias = packageDirs
  .filter((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src/index.ts')))
  .flatMap((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; exports?: Record<string, string | { default?: string }> };
    // Subpath exports (`@litestream-ts/backend-s3/plugin` → ./dist/plugin.js) point at their source (src/plugin.ts).
    const subpaths = Object.entries(pkg.exports ?? {}).flatMap(([key, target]) => {
      const built = typeof target === 'string' ? target : target.default;
      const source = key !== '.' && built ? join(dir, built.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')) : undefined;
      return source && existsSync(source) ? [{ find: new RegExp(`^${escape(pkg.name)}/${escape(key.slice(2))}$`), replacement: source }] : [];
    });
    return [{ find: new RegExp(`^${escape(pkg.name)}$`), replacement: join(dir, 'src/index.ts') }, ...subpaths];
  });

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['{packages,backends}/*/src/**/*.test.ts', '{packages,backends}/*/test/**/*.test.ts', '{conformance,testcontainers}/{src,test}/**/*.test.ts', 'scripts/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['scripts/vitest-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
