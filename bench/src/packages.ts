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
 * split (where `litestream-ts` was the CLI with every backend) is measured as it was:
 * `BENCH_REPO=/path/to/old/checkout` (built) measures that one; only the installs its packages
 * allow are made. Checks issue 12's targets: `version` ≤ 150 ms and ≤ 70 MB for
 * `@litestream-ts/cli`, and no Azure, GCS, NATS or SSH code with cli + backend-s3.
 *
 * Env: BENCH_REPO (default this checkout), BENCH_RUNS (default 10) runs per timed case after one
 * warm-up, BENCH_JSON=path to also write every figure, BENCH_KEEP=1 to keep the projects.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, MB, median, repoRoot, runTimed, table } from './common.ts';

const REPO = process.env.BENCH_REPO || repoRoot;
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
}

interface Measured {
  label: string;
  packages: number;
  bytes: number;
  /** `du -sk` of node_modules, in bytes: what the files take on this file system. */
  diskBytes: number;
  sdks: string[];
  largest: { name: string; bytes: number }[];
  version: { wallMs: number[]; rssKiB: number[] };
  databases: { wallMs: number[]; rssKiB: number[] };
}

function workspacePackages(): Map<string, WorkspacePackage> {
  const found = new Map<string, WorkspacePackage>();
  for (const group of ['packages', 'backends']) {
    const base = join(REPO, group);
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

async function measure(install: Install, tarballs: ReadonlyMap<string, string>, workspace: ReadonlyMap<string, WorkspacePackage>, root: string): Promise<Measured> {
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
  const sdks = Object.entries(SDK_FAMILIES)
    .filter(([, pattern]) => packages.some((p) => pattern.test(p.name)))
    .map(([family]) => family);

  const bin = join(modules, install.binPackage, workspace.get(install.binPackage)!.bin!);
  const config = join(project, 'empty.yml');
  writeFileSync(config, 'dbs: []\n');
  const version: Measured['version'] = { wallMs: [], rssKiB: [] };
  const databases: Measured['databases'] = { wallMs: [], rssKiB: [] };
  for (let run = -1; run < RUNS; run++) {
    const v = await timeOnce(bin, ['version'], project);
    const d = await timeOnce(bin, ['databases', '-config', config], project);
    if (run < 0) continue;
    version.wallMs.push(v.wallMs);
    version.rssKiB.push(v.rssKiB);
    databases.wallMs.push(d.wallMs);
    databases.rssKiB.push(d.rssKiB);
  }
  return {
    label: install.label,
    packages: packages.length,
    bytes: treeBytes(modules, false),
    diskBytes: Number(execFileSync('du', ['-sk', modules], { encoding: 'utf8' }).split('\t')[0]) * 1024,
    sdks,
    largest: sizes.sort((a, b) => b.bytes - a.bytes).slice(0, 5),
    version,
    databases,
  };
}

async function main(): Promise<void> {
  const workspace = workspacePackages();
  const split = workspace.has('@litestream-ts/cli');
  const backends = [...workspace.keys()].filter((n) => n.startsWith('@litestream-ts/backend-'));
  const installs: Install[] = split
    ? [
        { label: '@litestream-ts/cli (file backend)', wants: ['@litestream-ts/cli'], binPackage: '@litestream-ts/cli' },
        { label: '@litestream-ts/cli + @litestream-ts/backend-s3', wants: ['@litestream-ts/cli', '@litestream-ts/backend-s3'], binPackage: '@litestream-ts/cli' },
        { label: 'litestream-ts (meta-package, every backend)', wants: ['litestream-ts'], binPackage: 'litestream-ts' },
      ]
    : [{ label: 'litestream-ts (the CLI, every backend)', wants: ['litestream-ts'], binPackage: 'litestream-ts' }];

  const root = mkdtempSync(join(tmpdir(), 'litestream-packages-'));
  try {
    const tarballDir = join(root, 'tarballs');
    mkdirSync(tarballDir);
    const needed = new Set(installs.flatMap((i) => closure(i.wants, workspace)));
    const tarballs = new Map([...needed].map((name) => [name, pack(workspace.get(name)!, tarballDir)]));
    const loadBefore = loadavg();
    const results: Measured[] = [];
    for (const install of installs) results.push(await measure(install, tarballs, workspace, root));
    const loadAfter = loadavg();

    console.log(`litestream-ts packages from ${REPO} (${backends.length} backends), node ${process.version}, ${RUNS} runs after 1 warm-up, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} → ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
    console.log(
      table(
        ['install', 'packages', 'MB', 'du MB', 'version min/median ms', 'version RSS MiB', 'databases min/median ms', 'databases RSS MiB', 'SDKs'],
        results.map((r) => [
          r.label,
          String(r.packages),
          fmt(r.bytes / MB, 1),
          fmt(r.diskBytes / MB, 1),
          `${fmt(Math.min(...r.version.wallMs))} / ${fmt(median(r.version.wallMs))}`,
          fmt(median(r.version.rssKiB) / 1024, 1),
          `${fmt(Math.min(...r.databases.wallMs))} / ${fmt(median(r.databases.wallMs))}`,
          fmt(median(r.databases.rssKiB) / 1024, 1),
          r.sdks.join(', ') || 'none',
        ]),
        new Set([1, 2, 3, 4, 5, 6, 7]),
      ),
    );
    for (const r of results) console.log(`\n${r.label}: largest packages ${r.largest.map((p) => `${p.name} ${fmt(p.bytes / MB, 1)} MB`).join(', ')}`);

    const cli = results.find((r) => r.label.startsWith('@litestream-ts/cli ('));
    if (cli) {
      const wall = median(cli.version.wallMs);
      const rssMB = (median(cli.version.rssKiB) * 1024) / MB;
      console.log(`\n@litestream-ts/cli version: median ${fmt(wall)} ms (target ≤ ${VERSION_WALL_MS} ms: ${wall <= VERSION_WALL_MS ? 'met' : 'NOT met'}), median peak RSS ${fmt(rssMB, 1)} MB (target ≤ ${VERSION_RSS_MB} MB: ${rssMB <= VERSION_RSS_MB ? 'met' : 'NOT met'})`);
    }
    const s3 = results.find((r) => r.label.includes('backend-s3'));
    if (s3) {
      const foreign = s3.sdks.filter((f) => !f.startsWith('AWS'));
      console.log(`cli + backend-s3 pulls ${foreign.length === 0 ? 'no Azure, GCS, NATS or SSH code (target met)' : `${foreign.join(', ')} (target NOT met)`}`);
    }
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ repo: REPO, runs: RUNS, results }, null, 2));
  } finally {
    if (process.env.BENCH_KEEP === '1') console.log(`\nkept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

await main();
