/**
 * `pnpm --filter @litestream-ts/bench run profile`: runs the encode and decode+verify
 * children once each on the cached 1 GiB database under `node --cpu-prof` (pinned to the
 * same CPU as the bench) and prints where the time goes. Profiles are kept in
 * `.bench-data/profiles/` (open them in Chrome DevTools → Performance, or VS Code).
 *
 * Options (env): BENCH_PROFILE_DB=db-256mib to profile the small file instead;
 * BENCH_PROFILE_INTERVAL_US (default 250) for the sampling interval.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, fmt, lastJsonLine, MB, median, pinArgs, pinnedCpu, runOk, srcDir, table } from './common.ts';
import { formatSummary, summariseProfile, type ProfileSummary } from './cpuprofile.ts';
import { DATABASES, ensureDatabase } from './make-db.ts';

const dbName = process.env.BENCH_PROFILE_DB ?? 'db-1gib';
const intervalUs = Number(process.env.BENCH_PROFILE_INTERVAL_US ?? 250);
const spec = DATABASES.find((d) => d.name === dbName);
if (!spec) throw new Error(`unknown BENCH_PROFILE_DB ${dbName} (have ${DATABASES.map((d) => d.name).join(', ')})`);

const db = await ensureDatabase(spec.name, spec.targetBytes);
const profDir = join(dataDir, 'profiles');
mkdirSync(profDir, { recursive: true });
const ltx = join(dataDir, `${db.name}.ltx`);

interface ChildJson {
  ms: number;
  dbBytes: number;
  maxRssKiB: number;
  cpuUserMs: number;
  cpuSystemMs: number;
}

async function profiled(name: string, script: string, args: string[]): Promise<{ child: ChildJson; summary: ProfileSummary; file: string }> {
  const file = join(profDir, `${name}.cpuprofile`);
  rmSync(file, { force: true });
  const [cmd, cmdArgs] = pinArgs(process.execPath, [
    '--cpu-prof',
    `--cpu-prof-dir=${profDir}`,
    `--cpu-prof-name=${name}.cpuprofile`,
    `--cpu-prof-interval=${intervalUs}`,
    join(srcDir, script),
    ...args,
  ]);
  const r = await runOk(cmd, cmdArgs);
  return { child: lastJsonLine<ChildJson>(r.stdout), summary: summariseProfile(file), file };
}

// Warm the page cache and make sure the LTX file exists (the bench leaves one behind).
await runOk(...pinArgs(process.execPath, [join(srcDir, 'encode-child.ts'), db.path, 'file', ltx]));
if (!existsSync(ltx)) throw new Error(`no ${ltx}`);

const out: Record<string, unknown> = { db: db.name, pinnedCpu: pinnedCpu(), intervalUs, node: process.version };

// Ceilings of the building blocks, each alone on the same pages, in several fresh processes:
// lz4-napi's compress speed depends on the process (its bundled mimalloc; see README), so
// the same runs are repeated with mimalloc's large-OS-page use switched off.
{
  interface Components {
    bytes: number;
    ratio: number;
    mbPerS: Record<string, number>;
    detail: Record<string, { ms: number; systemMs: number; minorFaults: number }>;
  }
  const pick = <T>(rec: Record<string, T>, prefix: string): T => Object.entries(rec).find(([k]) => k.startsWith(prefix))![1];
  const variants = [
    ['default', {}],
    ['MIMALLOC_ALLOW_LARGE_OS_PAGES=0', { MIMALLOC_ALLOW_LARGE_OS_PAGES: '0' }],
  ] as const;
  const PROCESSES = 6;
  const rows: string[][] = [];
  const all: Record<string, Components[]> = {};
  for (const [name, extra] of variants) {
    const runs: Components[] = [];
    for (let i = 0; i < PROCESSES; i++) {
      const r = await runOk(...pinArgs(process.execPath, [join(srcDir, 'components-child.ts'), db.path, '64']), { env: { ...process.env, ...extra } });
      runs.push(lastJsonLine<Components>(r.stdout));
    }
    all[name] = runs;
    for (const [label, prefix] of [
      ['compressBlock (lz4-napi)', 'compressBlock'],
      ['decompressBlock (lz4-napi)', 'decompressBlock'],
      ['crc64Raw (WASM CRC-64)', 'crc64Raw'],
    ] as const) {
      const speeds = runs.map((c) => pick(c.mbPerS, prefix));
      const sys = runs.map((c) => pick(c.detail, prefix).systemMs);
      rows.push([
        label,
        name,
        speeds.map((x) => fmt(x)).join(' '),
        fmt(median(speeds)),
        sys.map((x) => fmt(x)).join(' '),
      ]);
    }
  }
  const def = all.default!;
  const med = (prefix: string) => median(def.map((c) => pick(c.mbPerS, prefix)));
  const best = (prefix: string) => Math.max(...def.map((c) => pick(c.mbPerS, prefix)));
  console.log(`===== building blocks alone: first 64 MiB of ${db.name} in memory (per-page LZ4 ratio ${def[0]!.ratio.toFixed(2)}×), ${PROCESSES} fresh processes each =====`);
  console.log('MB per CPU-second of the main thread, best of 5 in each process; sys = kernel ms per 64 MiB in that best pass');
  console.log(table(['per 4 KiB page', 'environment', 'MB/CPU-s per process', 'median', 'sys ms per process'], rows, new Set([3])));
  const enc = (lz4: number, crc: number) => 1 / (1 / lz4 + 1 / crc);
  console.log(
    `ceiling for encode (LZ4 compress + one CRC pass, nothing else): ${fmt(enc(med('compressBlock'), med('crc64Raw')))} MB/s at the median process, ` +
      `${fmt(enc(best('compressBlock'), best('crc64Raw')))} at the best`,
  );
  console.log(
    `ceiling for decode + verify (LZ4 decompress + one CRC pass, nothing else): ${fmt(enc(med('decompressBlock'), med('crc64Raw')))} MB/s at the median process, ` +
      `${fmt(enc(best('decompressBlock'), best('crc64Raw')))} at the best`,
  );
  out.components = all;
}

for (const [name, script, args] of [
  ['encode-discard', 'encode-child.ts', [db.path, 'discard']],
  ['verify', 'verify-child.ts', [ltx]],
] as const) {
  const p = await profiled(name, script, [...args]);
  const speed = p.child.dbBytes / MB / (p.child.ms / 1000);
  console.log(`\n===== ${name} on ${db.name}: ${fmt(speed)} MB/s under the profiler (${fmt(p.child.ms)} ms; CPU user ${fmt(p.child.cpuUserMs)} + sys ${fmt(p.child.cpuSystemMs)} ms) =====`);
  console.log(`profile: ${p.file}`);
  console.log(formatSummary(p.summary, 25));
  out[name] = { child: p.child, mbPerS: speed, categories: p.summary.categories, topFunctions: p.summary.functions.slice(0, 40) };
}
writeFileSync(join(profDir, 'summary.json'), JSON.stringify(out, null, 2) + '\n');
console.log(`\nsummary: ${join(profDir, 'summary.json')}`);
