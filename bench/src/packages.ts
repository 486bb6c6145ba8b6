/**
 * `node bench/src/packages.ts`: what a user gets from npm (issue 12). Packs the workspace's
 * published packages with `pnpm pack`, `npm install`s the tarballs into fresh temporary
 * projects (outside the monorepo, `--ignore-scripts`, third-party dependencies from the npm
 * registry), and for each install reports:
 *
 *   - packages installed and their size (MB = 10^6 bytes: the files' bytes, and `du -sk`);
 *   - which SDK families are present (@aws-sdk, @azure, @google-cloud, nats, ssh2);
 *   - `litestream version`: wall time (spawn to exit) and peak RSS (`/usr/bin/time %M`);
 *   - `litestream databases` with a config listing no database: the cost of finding the backends
 *     (discovery and each backend's facts module) and reading a config.
 *
 * Installs: `@litestream-ts/cli` alone (the file backend), `@litestream-ts/cli` +
 * `@litestream-ts/backend-s3`, and the `litestream-ts` meta-package. A checkout from before the
 * split (where `litestream-ts` was the CLI with every backend) is measured as it was, in the
 * same run: `BENCH_BEFORE=/path/to/old/checkout` (built) adds its installs (only those its
 * packages allow). Every install is made first; then the timed cases run interleaved across
 * installs (A B C, A B C, …) so background load spreads over all alike. Checks issue 12's
 * targets: `version` ≤ 150 ms and ≤ 70 MB for `@litestream-ts/cli`, and no Azure, GCS, NATS or
 * SSH code with cli + backend-s3.
 *
 * Env: BENCH_BEFORE (a checkout to compare with), BENCH_RUNS (default 10) runs per timed case
 * after one warm-up, BENCH_JSON=path to also write every figure, BENCH_WRITE=1 to write
 * docs/benchmarks/packages.md, BENCH_KEEP=1 to keep the projects.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fmt, MB, median, repoRoot, runTimed, table } from './common.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
/** Issue 12's targets for `litestream version` of `@litestream-ts/cli`. */
const VERSION_WALL_MS = 150;
const VERSION_RSS_MB = 70;
/** Package families of the backends' SDKs, as installed directory names. */
const SDK_FAMILIES: Readonly<Record<string, RegExp>> = {
  'AWS (@aws-sdk, @smithy)': /^(@aws-sdk|@smithy)\//,
  'Azure (@azure)': /^@azure\//,
  'GCS (@google-cloud, google-auth-library)': /^(@google-cloud\/|google-auth-library$)/,
  'NATS (nats, @nats-io)': /^(nats$|@nats-io\/)/,
  'SSH (ssh2, ssh2-sftp-client)': /^ssh2(-sftp-client)?$/,
};

interface WorkspacePackage {
  name: string;
  dir: string;
  dependencies: string[];
  bin: string | undefined;
}

interface Install {
  label: string;
  /** Packages the user names in `npm install`. */
  wants: string[];
  /** The package whose `litestream` bin runs. */
  binPackage: string;
  /** Checkout the tarballs come from. */
  repo: string;
}

interface Timings {
  wallMs: number[];
  rssKiB: number[];
}

interface Installed {
  install: Install;
  bin: string;
  project: string;
  config: string;
  packages: number;
  bytes: number;
  /** `du -sk` of node_modules, in bytes: what the files take on this file system. */
  diskBytes: number;
  sdks: string[];
  largest: { name: string; bytes: number }[];
  version: Timings;
  databases: Timings;
}

function workspacePackages(repo: string): Map<string, WorkspacePackage> {
  const found = new Map<string, WorkspacePackage>();
  for (const group of ['packages', 'backends']) {
    const base = join(repo, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base)) {
      const file = join(base, entry, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; private?: boolean; dependencies?: Record<string, string>; bin?: Record<string, string> };
      if (pkg.private) continue;
      found.set(pkg.name, { name: pkg.name, dir: join(base, entry), dependencies: Object.keys(pkg.dependencies ?? {}), bin: pkg.bin?.litestream });
    }
  }
  return found;
}

/** The installs a checkout's packages allow: after the split three, before it one. */
function installsOf(repo: string, workspace: ReadonlyMap<string, WorkspacePackage>, tag: string): Install[] {
  if (workspace.has('@litestream-ts/cli')) {
    return [
      { label: `${tag}@litestream-ts/cli (file backend)`, wants: ['@litestream-ts/cli'], binPackage: '@litestream-ts/cli', repo },
      { label: `${tag}@litestream-ts/cli + @litestream-ts/backend-s3`, wants: ['@litestream-ts/cli', '@litestream-ts/backend-s3'], binPackage: '@litestream-ts/cli', repo },
      { label: `${tag}litestream-ts (meta-package, every backend)`, wants: ['litestream-ts'], binPackage: 'litestream-ts', repo },
    ];
  }
  return [{ label: `${tag}litestream-ts (the CLI, every backend)`, wants: ['litestream-ts'], binPackage: 'litestream-ts', repo }];
}

/** The wanted packages and every workspace package they depend on. */
function closure(wants: readonly string[], workspace: ReadonlyMap<string, WorkspacePackage>): string[] {
  const out = new Set<string>();
  const visit = (name: string) => {
    const pkg = workspace.get(name);
    if (!pkg || out.has(name)) return;
    out.add(name);
    pkg.dependencies.forEach(visit);
  };
  wants.forEach(visit);
  return [...out];
}

function pack(pkg: WorkspacePackage, destination: string): string {
  mkdirSync(destination, { recursive: true });
  const before = new Set(readdirSync(destination));
  execFileSync('pnpm', ['pack', '--pack-destination', destination], { cwd: pkg.dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const made = readdirSync(destination).filter((f) => !before.has(f) && f.endsWith('.tgz'));
  if (made.length !== 1) throw new Error(`pnpm pack in ${pkg.dir} made ${made.length} tarballs`);
  return join(destination, made[0]!);
}

/** Every installed package (a directory with a package.json under a node_modules), by name and path. */
function installedPackages(modules: string): { name: string; dir: string }[] {
  const out: { name: string; dir: string }[] = [];
  const visitModules = (dir: string) => {
    for (const entry of safeList(dir)) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@')) {
        for (const inner of safeList(join(dir, entry))) visitPackage(`${entry}/${inner}`, join(dir, entry, inner));
      } else {
        visitPackage(entry, join(dir, entry));
      }
    }
  };
  const visitPackage = (name: string, dir: string) => {
    if (!existsSync(join(dir, 'package.json'))) return;
    out.push({ name, dir });
    if (existsSync(join(dir, 'node_modules'))) visitModules(join(dir, 'node_modules'));
  };
  visitModules(modules);
  return out;
}

/** Bytes of the regular files under `dir`, not following symlinks; nested packages excluded when `skipNested`. */
function treeBytes(dir: string, skipNested: boolean): number {
  let total = 0;
  for (const entry of safeList(dir)) {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      if (skipNested && entry === 'node_modules') continue;
      total += treeBytes(path, skipNested);
    } else if (stat.isFile()) total += stat.size;
  }
  return total;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function timeOnce(bin: string, args: readonly string[], cwd: string): Promise<{ wallMs: number; rssKiB: number }> {
  const r = await runTimed('/usr/bin/time', ['-f', '@@time %M', process.execPath, bin, ...args], {
    stdoutTo: '/dev/null',
    env: { ...process.env, LITESTREAM_CONFIG: '', LITESTREAM_PLUGINS: '' },
    cwd,
  });
  const m = /@@time (\d+)\s*$/.exec(r.stderr);
  if (r.code !== 0 || !m) throw new Error(`${bin} ${args.join(' ')} exited with ${r.code}:\n${r.stderr}`);
  return { wallMs: r.wallMs, rssKiB: Number(m[1]) };
}

/** Installs the tarballs of `install` into a fresh project under `root` and measures its size. */
function installInto(install: Install, tarballs: ReadonlyMap<string, string>, workspace: ReadonlyMap<string, WorkspacePackage>, root: string): Installed {
  const project = join(root, install.label.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench-project', private: true, version: '0.0.0' }));
  // Every workspace package of the closure is given as a tarball (they are not on the registry
  // at this version); npm places them at the top level, as it would the published ones.
  const files = closure(install.wants, workspace).map((name) => tarballs.get(name)!);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...files], { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] });
  const modules = join(project, 'node_modules');
  const packages = installedPackages(modules);
  const sizes = packages.map((p) => ({ name: p.name, bytes: treeBytes(p.dir, true) }));
  const config = join(project, 'empty.yml');
  writeFileSync(config, 'dbs: []\n');
  return {
    install,
    bin: join(modules, install.binPackage, workspace.get(install.binPackage)!.bin!),
    project,
    config,
    packages: packages.length,
    bytes: treeBytes(modules, false),
    diskBytes: Number(execFileSync('du', ['-sk', modules], { encoding: 'utf8' }).split('\t')[0]) * 1024,
    sdks: Object.entries(SDK_FAMILIES)
      .filter(([, pattern]) => packages.some((p) => pattern.test(p.name)))
      .map(([family]) => family),
    largest: sizes.sort((a, b) => b.bytes - a.bytes).slice(0, 5),
    version: { wallMs: [], rssKiB: [] },
    databases: { wallMs: [], rssKiB: [] },
  };
}

async function main(): Promise<void> {
  const checkouts = [...(process.env.BENCH_BEFORE ? [{ repo: process.env.BENCH_BEFORE, tag: 'before: ' }] : []), { repo: repoRoot, tag: process.env.BENCH_BEFORE ? 'after: ' : '' }];
  const root = mkdtempSync(join(tmpdir(), 'litestream-packages-'));
  try {
    const results: Installed[] = [];
    for (const [i, { repo, tag }] of checkouts.entries()) {
      const workspace = workspacePackages(repo);
      const installs = installsOf(repo, workspace, tag);
      const needed = new Set(installs.flatMap((install) => closure(install.wants, workspace)));
      const tarballs = new Map([...needed].map((name) => [name, pack(workspace.get(name)!, join(root, `tarballs-${i}`))]));
      for (const install of installs) results.push(installInto(install, tarballs, workspace, join(root, `checkout-${i}`)));
    }

    const loadBefore = loadavg();
    for (let run = -1; run < RUNS; run++) {
      for (const r of results) {
        const v = await timeOnce(r.bin, ['version'], r.project);
        const d = await timeOnce(r.bin, ['databases', '-config', r.config], r.project);
        if (run < 0) continue;
        r.version.wallMs.push(v.wallMs);
        r.version.rssKiB.push(v.rssKiB);
        r.databases.wallMs.push(d.wallMs);
        r.databases.rssKiB.push(d.rssKiB);
      }
    }
    const loadAfter = loadavg();

    console.log(`litestream-ts packages (${checkouts.map((c) => `${c.tag}${c.repo}`).join(', ')}), node ${process.version}, ${RUNS} runs after 1 warm-up, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} → ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
    console.log(
      table(
        ['install', 'packages', 'MB', 'du MB', 'version min/median ms', 'version RSS MiB', 'databases min/median ms', 'databases RSS MiB', 'SDKs'],
        results.map((r) => [
          r.install.label,
          String(r.packages),
          fmt(r.bytes / MB, 1),
          fmt(r.diskBytes / MB, 1),
          `${fmt(Math.min(...r.version.wallMs))} / ${fmt(median(r.version.wallMs))}`,
          fmt(median(r.version.rssKiB) / 1024, 1),
          `${fmt(Math.min(...r.databases.wallMs))} / ${fmt(median(r.databases.wallMs))}`,
          fmt(median(r.databases.rssKiB) / 1024, 1),
          r.sdks.map((family) => family.split(' ')[0]).join(', ') || 'none',
        ]),
        new Set([1, 2, 3, 4, 5, 6, 7]),
      ),
    );
    for (const r of results) console.log(`\n${r.install.label}: largest packages ${r.largest.map((p) => `${p.name} ${fmt(p.bytes / MB, 1)} MB`).join(', ')}`);

    const cli = results.find((r) => r.install.repo === repoRoot && r.install.wants.join() === '@litestream-ts/cli');
    if (cli) {
      const wall = median(cli.version.wallMs);
      const rssMB = (median(cli.version.rssKiB) * 1024) / MB;
      console.log(`\n@litestream-ts/cli version: median ${fmt(wall)} ms (target ≤ ${VERSION_WALL_MS} ms: ${wall <= VERSION_WALL_MS ? 'met' : 'NOT met'}), median peak RSS ${fmt(rssMB, 1)} MB (target ≤ ${VERSION_RSS_MB} MB: ${rssMB <= VERSION_RSS_MB ? 'met' : 'NOT met'})`);
    }
    const s3 = results.find((r) => r.install.repo === repoRoot && r.install.wants.includes('@litestream-ts/backend-s3'));
    if (s3) {
      const foreign = s3.sdks.filter((f) => !f.startsWith('AWS'));
      console.log(`cli + backend-s3 pulls ${foreign.length === 0 ? 'no Azure, GCS, NATS or SSH code (target met)' : `${foreign.join(', ')} (target NOT met)`}`);
    }
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ checkouts, runs: RUNS, results }, null, 2));
    if (process.env.BENCH_WRITE === '1') {
      const file = join(repoRoot, 'docs/benchmarks/packages.md');
      writeFileSync(file, report(checkouts, results, loadBefore, loadAfter));
      console.log(`\nwrote ${relative(repoRoot, file)}`);
    }
  } finally {
    if (process.env.BENCH_KEEP === '1') console.log(`\nkept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

function gitCommit(repo: string): string {
  try {
    return execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** docs/benchmarks/packages.md: the figures of this run, and how they were taken. */
function report(checkouts: readonly { repo: string; tag: string }[], results: readonly Installed[], loadBefore: number[], loadAfter: number[]): string {
  const md: string[] = [];
  md.push('# Packages as installed from npm');
  md.push('');
  md.push('<!-- Generated by `BENCH_WRITE=1 node bench/src/packages.ts` (bench/src/packages.ts). Do not edit by hand: rerun it. -->');
  md.push('');
  md.push(
    'Each row is a fresh npm project outside the monorepo into which the workspace packages were installed from the tarballs `pnpm pack` makes ' +
      '(`npm install --ignore-scripts`, third-party dependencies from the npm registry; better-sqlite3 is therefore counted without its compiled addon). ' +
      '**packages**: directories with a `package.json` under `node_modules`; **MB**: bytes of their files (10⁶); **du MB**: `du -sk` of `node_modules`. ' +
      `Timings: spawn to exit of \`node <bin> version\` and of \`node <bin> databases -config empty.yml\` (a config listing no database: finding the backends and reading a config), run from the project, ${RUNS} runs after one warm-up, interleaved across installs; peak RSS from \`/usr/bin/time %M\`.`,
  );
  md.push('');
  md.push(`Date ${new Date().toISOString()}, node ${process.version}, load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (2 cores, shared).`);
  md.push('');
  for (const c of checkouts) md.push(`- ${c.tag ? `${c.tag.replace(/: $/, '')}: ` : ''}commit ${gitCommit(c.repo)}`);
  md.push('');
  md.push('| install | packages | MB | du MB | `version` ms, min / median | `version` RSS MiB | `databases` ms, min / median | `databases` RSS MiB | SDK families installed |');
  md.push('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results) {
    md.push(
      `| ${r.install.label} | ${r.packages} | ${fmt(r.bytes / MB, 1)} | ${fmt(r.diskBytes / MB, 1)} | ${fmt(Math.min(...r.version.wallMs))} / ${fmt(median(r.version.wallMs))} | ${fmt(median(r.version.rssKiB) / 1024, 1)} | ` +
        `${fmt(Math.min(...r.databases.wallMs))} / ${fmt(median(r.databases.wallMs))} | ${fmt(median(r.databases.rssKiB) / 1024, 1)} | ${r.sdks.join(', ') || 'none'} |`,
    );
  }
  md.push('');
  md.push('Largest packages of each install:');
  md.push('');
  for (const r of results) md.push(`- ${r.install.label}: ${r.largest.map((p) => `${p.name} ${fmt(p.bytes / MB, 1)} MB`).join(', ')}`);
  md.push('');
  md.push('Targets (issue 12): `litestream version` of `@litestream-ts/cli` ≤ 150 ms and ≤ 70 MB RSS; `npm install @litestream-ts/cli @litestream-ts/backend-s3` pulls no Azure, GCS, NATS or SSH code.');
  md.push('');
  return md.join('\n');
}

await main();
