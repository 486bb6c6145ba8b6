// The soak driver (run by scripts/soak.sh): the real `litestream replicate` on a database a
// writer commits to, against a real S3 server (s3rver behind the fault proxy) or a directory,
// while faults are injected one episode at a time for --minutes; a restore-and-compare every
// --check-every seconds; a final sync that must restore equal to the writer; then a table of
// faults and outcomes. Exit code 1 when anything failed.
import { createHash } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../../testcontainers/src/fault-policy.ts';
import { readPosition, restoreAndCompare, restoreWithCli, type CheckResult, type ReplicaPosition } from './check.ts';
import { availableEpisodes, episodeDealer, runEpisode, type SoakContext } from './episodes.ts';
import { file, s3, tc, type ReplicaClient } from './libs.ts';
import { ReplicateProcess } from './replicate-process.ts';
import { markdownTable, summarize, textTable, type EpisodeOutcome } from './report.ts';
import { SoakS3Server } from './s3-server.ts';
import { mountSmallFs, type SmallFs } from './small-fs.ts';
import { WriterClient } from './writer-client.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    seed: { type: 'string' },
    replica: { type: 'string', default: 's3' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'check-every': { type: 'string', default: '30' },
    'txn-per-second': { type: 'string', default: '20' },
    only: { type: 'string' },
  },
});
const minutes = Number(args.minutes);
const checkEveryMs = Number(args['check-every']) * 1000;
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
if (!(minutes > 0) || !(checkEveryMs > 0) || !Number.isInteger(seed) || !['s3', 'file'].includes(args.replica!)) {
  console.error('usage: soak.sh [--minutes N] [--seed S] [--replica s3|file] [--check-every SECONDS] [--txn-per-second N] [--only KIND,…] [--dir DIR] [--keep]');
  process.exit(2);
}
const RECOVERY_BOUND_MS = 120_000;

const work = args.dir ?? (await mkdtemp(join(tmpdir(), 'lts-soak-')));
await mkdir(work, { recursive: true });
const soakLog = join(work, 'soak.log');
const log = (line: string) => {
  const stamped = `${new Date().toISOString()} ${line}`;
  console.log(stamped);
  appendFileSync(soakLog, `${stamped}\n`);
};
log(`soak: ${minutes} min, seed ${seed}, replica ${args.replica}, work dir ${work}`);

const random = seededRandom(seed);
const db = join(work, 'soak.db');
const meta = join(work, 'meta');
await mkdir(meta, { recursive: true });
const smallFs: SmallFs = await mountSmallFs(meta, 64);
log(smallFs.available ? 'meta-path is on a 64 MiB tmpfs: disk-full episodes on' : `disk-full episodes off: ${smallFs.reason}`);

let server: SoakS3Server | undefined;
let proxy: Awaited<ReturnType<typeof tc.startFaultProxy>> | undefined;
let url: string;
let directUrl: string;
let env: Record<string, string> = {};
let observer: ReplicaClient;
if (args.replica === 's3') {
  server = new SoakS3Server(join(work, 's3rver'), await tc.freePort());
  await mkdir(server.directory, { recursive: true });
  await server.start();
  await server.createBucket('soak');
  proxy = await tc.startFaultProxy({ upstream: server.endpoint, dialect: 's3', seed, stallMs: 5000 });
  url = `s3://soak/db?endpoint=${proxy.url}&force-path-style=true&region=us-east-1`;
  directUrl = `s3://soak/db?endpoint=${server.endpoint}&force-path-style=true&region=us-east-1`;
  env = { LITESTREAM_ACCESS_KEY_ID: server.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: server.secretAccessKey };
  observer = new s3.S3ReplicaClient({ bucket: 'soak', path: 'db', endpoint: server.endpoint, region: 'us-east-1', accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, forcePathStyle: true, maxAttempts: 2 });
} else {
  const replicaDir = join(work, 'replica');
  url = directUrl = `file://${replicaDir}`;
  observer = new file.FileReplicaClient(replicaDir);
}

const writer = new WriterClient(db, Number(args['txn-per-second']));
while (writer.lastCommitted() === 0) await sleep(50);
const config = join(work, 'litestream.yml');
writeFileSync(
  config,
  [
    'levels:',
    '  - interval: 10s',
    '  - interval: 1m',
    'snapshot:',
    '  interval: 2m',
    '  retention: 10m',
    'l0-retention: 30s',
    'shutdown-sync-timeout: 20s',
    'dbs:',
    `  - path: ${db}`,
    `    meta-path: ${meta}`,
    '    replica:',
    `      url: ${JSON.stringify(url)}`,
    '      sync-interval: 1s',
    '',
  ].join('\n'),
);
const replicate = new ReplicateProcess(config, join(work, 'replicate.log'), env);
replicate.start();

const ctx: SoakContext = { random, replicate, writer, server, proxy, smallFs, log };
const outcomes: EpisodeOutcome[] = [];
const checks: CheckResult[] = [];
let failed = false;

/** Polls the replica (straight from the store) until it holds a file staged at or after `since`. */
async function recovered(since: number): Promise<{ ms: number | undefined; position: ReplicaPosition | undefined }> {
  let position: ReplicaPosition | undefined;
  while (Date.now() - since < RECOVERY_BOUND_MS) {
    position = await readPosition(observer).catch(() => position);
    if (position && position.stagedAt >= since) return { ms: Date.now() - since, position };
    await sleep(250);
  }
  return { ms: undefined, position };
}

async function check(): Promise<void> {
  const position = await readPosition(observer).catch(() => undefined);
  const result = await restoreAndCompare({ url: directUrl, env, out: join(work, 'check.db'), writer, position, previous: checks.filter((c) => c.ok).at(-1) });
  checks.push(result);
  log(`check: ${result.ok ? 'ok' : 'FAILED'} TXID ${result.restoredTxid} (reported ${result.reportedTxid}), ${result.rows}/${result.committed} rows, lag ${result.lagMs} ms, restore took ${result.ms} ms${result.ok ? '' : `: ${result.problems.join('; ')}`}`);
  if (!result.ok) failed = true;
}

const first = await recovered(Date.now() - 60_000);
if (first.ms === undefined) throw new Error(`the replica never received a file: ${replicate.recentOutput()}`);
log(`replicating; replica at TXID ${first.position!.txid}`);

// --only narrows the episodes to some kinds (by a word of their name: `--only disk,stall`).
const only = args.only?.split(',').map((w) => w.trim().toLowerCase()).filter(Boolean);
const episodes = availableEpisodes(ctx).filter(([kind]) => !only || only.some((w) => kind.toLowerCase().includes(w)));
if (episodes.length === 0) throw new Error(`--only ${args.only} matches no episode this run can inject: ${availableEpisodes(ctx).map(([k]) => k).join(', ')}`);
const nextEpisode = episodeDealer(ctx, episodes);
const unavailable: Array<[string, string]> = smallFs.available ? [] : [['disk full (meta-path)', smallFs.reason]];
const deadline = Date.now() + minutes * 60_000;
let lastCheck = Date.now();
while (Date.now() < deadline) {
  if (Date.now() - lastCheck >= checkEveryMs) {
    lastCheck = Date.now();
    await check();
  }
  const kind = nextEpisode();
  const startedAt = Date.now();
  let outcome: EpisodeOutcome;
  try {
    const end = await runEpisode(kind, ctx);
    const rec = await recovered(end.endedAt);
    outcome = { kind, startedAt, endedAt: end.endedAt, recoveryMs: rec.ms, ...(end.note ? { note: end.note } : {}) };
  } catch (err) {
    outcome = { kind, startedAt, endedAt: Date.now(), recoveryMs: undefined, problem: `episode failed: ${(err as Error).message}` };
  }
  outcomes.push(outcome);
  log(`${kind}: ${outcome.note ?? ''} → ${outcome.recoveryMs === undefined ? `NOT RECOVERED within ${RECOVERY_BOUND_MS / 1000} s` : `recovered in ${outcome.recoveryMs} ms`}${outcome.problem ? ` (${outcome.problem})` : ''}`);
  if (outcome.recoveryMs === undefined) {
    failed = true;
    log(`replicate's last lines:\n${replicate.recentOutput()}`);
    // Go on with the next fault from a replicating state: restart it (counted as a failure above).
    await replicate.kill();
    replicate.start();
    await recovered(Date.now());
  }
  await sleep(2000 + random() * 6000);
}

// The end: no more faults; the writer stops; the replica must catch up and restore equal to it.
proxy?.setRate(0);
proxy?.setMode(undefined);
await check();
const lastRow = await writer.stop();
const stoppedAt = Date.now();
const expected = await writer.hash();
let finalOk = false;
let finalNote = '';
while (!finalOk && Date.now() - stoppedAt < RECOVERY_BOUND_MS) {
  const out = join(work, 'final.db');
  await rm(out, { force: true });
  const r = await restoreWithCli(directUrl, out, env);
  const sha = r.code === 0 ? createHash('sha256').update(await readFile(out)).digest('hex') : undefined;
  finalOk = sha === expected;
  finalNote = r.code === 0 ? (finalOk ? `${lastRow} rows, byte-identical to the writer` : 'restored, but not (yet) equal to the writer') : `restore failed: ${r.stderr.trim().split('\n').at(-1)}`;
  if (!finalOk) await sleep(1000);
}
const finalMs = Date.now() - stoppedAt;
const exit = await replicate.terminate(40_000);
if (!exit || exit.code !== 0) {
  finalOk = false;
  finalNote += `; SIGTERM: ${exit ? `exit ${exit.code ?? exit.signal}` : 'still running after 40 s'}`;
}
if (!finalOk) failed = true;
log(`final: ${finalOk ? 'ok' : 'FAILED'} after ${finalMs} ms: ${finalNote}`);

const rows = summarize(outcomes, checks, { ok: finalOk, ms: finalMs, note: finalNote }, unavailable, episodes.map(([kind]) => kind));
const engine = [...replicate.counts].map(([msg, n]) => `${msg}: ${n}`).join(', ') || 'none';
const faults = proxy ? Object.entries(proxy.counts()).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') : 'no proxy';
const summary = [
  '',
  textTable(rows),
  '',
  `seed ${seed}; ${minutes} min; ${writer.commits.length} commits, ${lastRow} rows; replicate started ${replicate.starts} times`,
  `requests faulted by the proxy: ${faults}`,
  `replicate logged: ${engine}`,
  `work dir: ${work}${args.keep || failed ? '' : ' (removed)'}`,
].join('\n');
console.log(summary);
writeFileSync(join(work, 'soak-report.md'), `${markdownTable(rows)}\n\n${summary.split('\n').slice(-5).join('\n')}\n`);
console.log(`\n${markdownTable(rows)}`);

await writer.close();
await replicate.close();
await observer.close();
await proxy?.close();
await server?.stop();
if (smallFs.available) await smallFs.unmount();
if (!args.keep && !failed && args.dir === undefined) await rm(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
