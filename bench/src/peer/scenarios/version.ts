/**
 * Figure 7, `litestream version` of ours: wall time and peak RSS. The start-up bench
 * (bench/src/startup.ts, kept by whoever owns CLI start-up) measures it; this scenario runs
 * that script when it is present and reports its `version` case, so the numbers are not
 * measured twice in two ways.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MB, srcDir } from '../../common.ts';
import { makeTempDir, removeTempDir, runMeasured } from '../proc.ts';
import type { Scenario } from '../scenario.ts';
import { settings } from '../settings.ts';
import { OURS_BIN } from '../tools.ts';

const STARTUP = join(srcDir, 'startup.ts');

export const version: Scenario = {
  id: 'version',
  number: 7,
  title: '`litestream version` (ours)',
  method:
    'Taken from `bench/src/startup.ts` (the start-up bench), run once per round with `BENCH_RUNS=5`; its `version` case: wall time spawn to exit and peak RSS (`/usr/bin/time %M`) ' +
    'of `node packages/cli/bin/litestream.js version`. Each round reports the median of its runs. The peer (a Go binary) is not measured here.',
  series: ['ours'],
  figures: [
    { key: 'wall_ms', label: 'litestream version: wall time', unit: 'ms', digits: 0, target: { kind: 'ours-max', value: 150 }, targetText: '≤ 150 ms' },
    { key: 'rss_mb', label: 'litestream version: peak RSS', unit: 'MB', digits: 0 },
  ],
  async prepare() {
    if (!existsSync(STARTUP)) throw new Error(`${STARTUP} is not there (yet): the version figure comes from it`);
  },
  async run() {
    const dir = makeTempDir('version');
    try {
      const json = join(dir, 'startup.json');
      await runMeasured(process.execPath, [STARTUP], { env: { ...process.env, BENCH_RUNS: String(settings.quick ? 3 : 5), BENCH_JSON: json, LITESTREAM_BIN: OURS_BIN } });
      const runs = (JSON.parse(readFileSync(json, 'utf8')) as Record<string, { wallMs: number; maxRssKiB: number }[]>).version;
      if (!runs || runs.length === 0) throw new Error('startup.ts wrote no `version` runs');
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
      rmSync(json, { force: true });
      return { values: { wall_ms: med(runs.map((r) => r.wallMs)), rss_mb: (med(runs.map((r) => r.maxRssKiB)) * 1024) / MB }, detail: { runs } };
    } finally {
      removeTempDir(dir);
    }
  },
};
