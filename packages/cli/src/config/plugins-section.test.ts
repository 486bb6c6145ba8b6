import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginRequest } from '@litestream-ts/core/plugins';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackendRegistry } from '../backends.ts';
import { ConfigError } from './config-error.ts';
import { loadConfig } from './load-config.ts';
import { configPlugins } from './plugins-section.ts';

// A real config file and a real plugin module in a temporary directory, found by the CLI's own
// discovery (which also finds the backends installed beside the CLI: file, s3, …).
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-plugins-config-'));
  await mkdir(join(dir, 'etc', 'plugins'), { recursive: true });
  await writeFile(
    join(dir, 'etc', 'plugins', 'mine.mjs'),
    `export default {
  type: 'mine', schemes: ['mine'], configKeys: ['mine-key'], description: 'a test backend',
  fromURL(url) { return { url }; },
  fromConfig(config) { return { config }; },
};\n`,
  );
  await writeFile(join(dir, 'app.db'), '');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function configFile(text: string): Promise<string> {
  const file = join(dir, 'etc', `litestream-${Math.random().toString(36).slice(2)}.yml`);
  await writeFile(file, text);
  return file;
}

const DB = (replica: string) => `dbs:\n  - path: ${join(dir, 'app.db')}\n    replica:\n${replica}`;
const discover = (env: Record<string, string> = {}) => (plugins: readonly PluginRequest[]) => createBackendRegistry({ plugins, env, cwd: dir });

describe('config plugins:', () => {
  it('loads the modules it names, relative to the config file, before reading the replicas that use them', async () => {
    const file = await configFile(`plugins:\n  - ./plugins/mine.mjs\nmine-key: shared\n${DB('      url: mine://bucket/db\n')}`);
    const seen: PluginRequest[][] = [];
    const config = await loadConfig(file, {
      registry: (plugins) => {
        seen.push([...plugins]);
        return discover()(plugins);
      },
    });
    expect(seen).toEqual([[{ module: './plugins/mine.mjs', base: join(dir, 'etc'), origin: `config ${file}` }]]);
    expect(config.dbs[0]!.replica.type).toBe('mine');
    // The plugin's own key is accepted at the top level and handed to its replicas.
    expect(config.dbs[0]!.replica.settings).toMatchObject({ url: 'mine://bucket/db', 'mine-key': 'shared' });
  });

  it('takes one module without a list, and expands variables in it', async () => {
    const file = await configFile(`plugins: \${PLUGIN_DIR}/mine.mjs\n${DB('      type: mine\n')}`);
    expect(configPlugins('plugins: ${PLUGIN_DIR}/mine.mjs\n', { file, env: { PLUGIN_DIR: '/x' } })).toEqual([{ module: '/x/mine.mjs', base: join(dir, 'etc'), origin: `config ${file}` }]);
    const previous = process.env.PLUGIN_DIR;
    process.env.PLUGIN_DIR = join(dir, 'etc', 'plugins');
    try {
      const config = await loadConfig(file, { registry: discover() });
      expect(config.dbs[0]!.replica.type).toBe('mine');
    } finally {
      if (previous === undefined) delete process.env.PLUGIN_DIR;
      else process.env.PLUGIN_DIR = previous;
    }
  });

  it('LITESTREAM_PLUGINS serves a config that names no plugin', async () => {
    const file = await configFile(DB('      url: mine://bucket/db\n'));
    const config = await loadConfig(file, { registry: discover({ LITESTREAM_PLUGINS: join(dir, 'etc', 'plugins', 'mine.mjs') }) });
    expect(config.dbs[0]!.replica.type).toBe('mine');
  });

  it('without the plugin, the scheme is unknown, at its line', async () => {
    const file = await configFile(DB('      url: mine://bucket/db\n'));
    const error = await loadConfig(file, { registry: discover() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:12: dbs\\[0\\]\\.replica\\.url: unknown replica URL scheme "mine://"; installed backends: .*file \\(file://\\)`));
  });

  it('a module that does not exist is an error naming it and the config file', async () => {
    const file = await configFile(`plugins: [./plugins/missing.mjs]\n${DB('      url: mine://bucket/db\n')}`);
    await expect(loadConfig(file, { registry: discover() })).rejects.toThrow(`backend plugin ./plugins/missing.mjs (from config ${file}): ${join(dir, 'etc', 'plugins', 'missing.mjs')} does not exist`);
  });
});
