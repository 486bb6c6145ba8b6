import { parseArgs } from 'node:util';
import { parseByteSize, redactURL, type BackendRegistry } from '@litestream-ts/core';
import { childLocation, removeScratch, runProviderProbes, scratchLocation, uniqueScratchPrefix, type ScratchLocation, type SettingAdvice } from '@litestream-ts/core/probes';
import { loadBackends } from './backend-lookup.ts';
import { formatMatrix, summarize, type CertificationReport, type MatrixRow } from './matrix.ts';
import { runSuite } from './run-suite.ts';
import { collectSecrets, scrub } from './secrets.ts';

export const USAGE = `Usage: npx @litestream-ts/conformance <url> [options]

Runs the litestream-ts ReplicaClient contract suite and the provider probes against a live
store, in a unique scratch prefix below the URL's path that is removed afterwards (also on
failure and Ctrl-C), and prints a matrix of case → pass / fail / warn / skipped.

  <url>                       a replica URL (s3://bucket/path?endpoint=…, abs://…, gs://…,
                              nats://…, sftp://…, file:///dir) or a local directory
Options:
  --json                      print the report as JSON
  --large-file-size <size>    size of the suite's large streamed write (default 64MiB)
  --timeout <seconds>         per-case timeout (default 120)
  --lag-bound <seconds>       how long probes re-check a lagging delete or listing (default 5)
  --only <suite|probes>       run only the contract suite or only the provider probes
  -h, --help                  show this help

Credentials come from the usual environment variables of each backend (for S3
LITESTREAM_ACCESS_KEY_ID/LITESTREAM_SECRET_ACCESS_KEY or AWS_*, for Azure
LITESTREAM_AZURE_ACCOUNT_KEY, …); they are never printed. Backends are the installed
@litestream-ts/backend-*, litestream-backend-* and @scope/litestream-backend-* packages
(from the current directory or beside this one) plus the modules in LITESTREAM_PLUGINS.
Exit status: 0 when nothing failed, 1 when a case or probe failed, 2 on a usage error,
130 on SIGINT and 143 on SIGTERM (after removing the scratch prefix; a second signal
exits at once).`;

/** Exit statuses of the bin. */
const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130, terminated: 143 } as const;

/** Runs the certification bin with `argv` (without node and the script); resolves to the exit status. */
export async function certify(argv: readonly string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        'large-file-size': { type: 'string' },
        timeout: { type: 'string' },
        'lag-bound': { type: 'string' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    err.write(`conformance: ${(error as Error).message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (args.values.help) {
    out.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const url = args.positionals[0];
  if (url === undefined || args.positionals.length > 1) {
    err.write(`conformance: expected one replica URL\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const secrets = collectSecrets(url);
  const say = (stream: NodeJS.WritableStream, text: string): void => void stream.write(scrub(text, secrets));
  let settings;
  try {
    settings = {
      largeFileSize: args.values['large-file-size'] === undefined ? 64 * 1024 * 1024 : positive('--large-file-size', parseByteSize(args.values['large-file-size'])),
      timeoutMs: seconds('--timeout', args.values.timeout, 120),
      recheckMs: seconds('--lag-bound', args.values['lag-bound'], 5),
      only: only(args.values.only),
    };
  } catch (error) {
    say(err, `conformance: ${(error as Error).message}\n`);
    return EXIT.usage;
  }

  const started = Date.now();
  let registry: BackendRegistry;
  let root: ScratchLocation;
  let backend: string;
  const prefix = uniqueScratchPrefix();
  try {
    registry = await loadBackends();
    backend = registry.resolve(url).plugin.type;
    root = scratchLocation(registry, url, prefix);
  } catch (error) {
    say(err, `conformance: ${(error as Error).message}\n`);
    return EXIT.usage;
  }

  // Ctrl-C (or SIGTERM) stops the run, removes the scratch prefix, then exits 130 (143); a
  // second signal exits at once.
  const controller = new AbortController();
  let stopSuite: (() => Promise<void>) | undefined;
  let interrupted: Promise<number> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    if (interrupted !== undefined) {
      say(err, `conformance: ${signal} again; exiting without removing the scratch prefix ${prefix}\n`);
      process.exit(code);
    }
    interrupted = (async () => {
      say(err, `conformance: interrupted; removing the scratch prefix ${prefix}\n`);
      controller.abort(new Error('interrupted'));
      // Vitest ends its worker (the running case included) within a few seconds; a case still
      // writing after the prefix is removed would bring it back, so removal waits for that,
      // and is repeated if the worker outlived the wait.
      const stopping = (stopSuite?.() ?? Promise.resolve()).catch(() => {});
      const wait = (ms: number): Promise<false> => new Promise((r) => setTimeout(() => r(false), ms).unref());
      const stoppedInTime = await Promise.race([stopping.then(() => true), wait(15_000)]);
      let cleanup = await removeScratch(registry, root);
      if (!stoppedInTime && (await Promise.race([stopping.then(() => true), wait(30_000)]))) cleanup = await removeScratch(registry, root);
      say(err, `conformance: scratch prefix ${cleanup}\n`);
      // The run normally returns the code from here; a run that does not wind down is ended anyway.
      setTimeout(() => process.exit(code), 2_000).unref();
      return code;
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const exitIfInterrupted = async (): Promise<number | undefined> => (interrupted ? await interrupted : undefined);

  const rows: MatrixRow[] = [];
  let advice: readonly SettingAdvice[] = [];
  let cleanup = 'not removed';
  try {
    if (settings.only !== 'probes') {
      if (!args.values.json) say(err, `Running the contract suite on ${redactURL(url)} …\n`);
      const suiteRows = await runSuite({
        location: childLocation(registry, root, 'suite'),
        largeFileSize: settings.largeFileSize,
        title: `conformance on ${backend}`,
        timeoutMs: settings.timeoutMs,
        onStart: (vitest) => (stopSuite = () => vitest.close()),
      });
      const stopped = await exitIfInterrupted();
      if (stopped !== undefined) return stopped;
      rows.push(...suiteRows);
    }
    if (settings.only !== 'suite') {
      if (!args.values.json) say(err, 'Running the provider probes …\n');
      const report = await runProviderProbes(registry, childLocation(registry, root, 'probes'), { recheckMs: settings.recheckMs, signal: controller.signal });
      rows.push(
        ...report.results.map((r): MatrixRow => ({ kind: 'probe', id: r.id, name: r.title, status: r.status, detail: r.detail, durationMs: r.durationMs, ...(r.measured ? { measured: r.measured } : {}) })),
      );
      advice = report.settings;
    }
  } catch (error) {
    const stopped = await exitIfInterrupted();
    if (stopped !== undefined) return stopped;
    rows.push({ kind: 'suite', name: '(run)', status: 'fail', detail: (error as Error).message.split('\n')[0]!, durationMs: 0 });
  } finally {
    if (interrupted === undefined) cleanup = await removeScratch(registry, root);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const stopped = await exitIfInterrupted();
  if (stopped !== undefined) return stopped;

  const report: CertificationReport = {
    target: redactURL(url),
    backend,
    prefix,
    rows,
    settings: advice,
    summary: summarize(rows),
    durationMs: Date.now() - started,
    cleanup,
  };
  say(out, args.values.json ? `${JSON.stringify(report, null, 2)}\n` : formatMatrix(report));
  return report.summary.fail > 0 || rows.length === 0 ? EXIT.failed : EXIT.ok;
}

function seconds(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number of seconds, got ${JSON.stringify(value)}`);
  return Math.round(n * 1000);
}

function positive(flag: string, n: number): number {
  if (!(n > 0)) throw new Error(`${flag} must be more than 0 bytes`);
  return n;
}

function only(value: string | undefined): 'suite' | 'probes' | undefined {
  if (value === undefined || value === 'suite' || value === 'probes') return value;
  throw new Error(`--only must be "suite" or "probes", got ${JSON.stringify(value)}`);
}
