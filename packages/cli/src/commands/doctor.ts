import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { CliError } from '../cli-error.ts';
import type { DeferredRegistry } from '../deferred-registry.ts';
import { Redactor } from '../logging/index.ts';
import { collectSecrets } from '../secrets.ts';

export function registerDoctor(program: Command, registry: DeferredRegistry): void {
  program
    .command('doctor')
    .summary('probe a replica store and print the settings to use')
    .description(
      'Checks how the store behind a replica URL behaves where providers differ: whether conditional writes are really ' +
        'enforced (leasing relies on them), whether deletes and new files are visible at once, the clock skew against the ' +
        'server, and for S3: unsigned payloads, path-style or virtual-hosted addressing, aws-chunked bodies and the smallest ' +
        'multipart part. Then prints the settings to use (sign-payload, force-path-style, part-size, concurrency).\n\n' +
        'Non-destructive: it reads, and writes only below a unique temporary prefix under the URL\'s path, which it deletes ' +
        'afterwards (also on Ctrl-C and SIGTERM, exiting 130 or 143). Credentials come from the usual environment variables and are never printed. ' +
        'For the whole contract suite, run `npx @litestream-ts/conformance <url>`.\n\n' +
        'Exit status: 0 when no probe failed, 1 when one did.',
    )
    .argument('<url>', 'a replica URL (s3://bucket/path?endpoint=…, abs://…, gs://…, nats://…, sftp://…) or a local directory')
    .option('--json', 'print JSON')
    .option('--lag-bound <seconds>', 'how long to re-check a delete or a listing that lags', parseSeconds, 5)
    .action(async (url: string, opts: { json?: boolean; lagBound: number }) => {
      const { redactURL } = await import('@litestream-ts/core');
      const { removeScratch, runProviderProbes, scratchLocation, uniqueScratchPrefix } = await import('@litestream-ts/core/probes');
      const redactor = new Redactor(collectSecrets(undefined, url));
      const print = (text: string): void => void process.stdout.write(redactor.redact(text));
      const backends = await registry.get();
      const prefix = uniqueScratchPrefix('lts-doctor');
      const root = scratchLocation(backends, url, prefix);
      // Each probe builds its own client, and a backend warns about its settings on every one: say each thing once.
      const warned = new Set<string>();
      const warn = (message: string): void => {
        if (warned.has(message)) return;
        warned.add(message);
        process.stderr.write(redactor.redact(`litestream doctor: ${message}\n`));
      };

      // Ctrl-C (SIGTERM) stops the probes, removes the scratch prefix, then exits 130 (143); a second signal exits at once.
      const controller = new AbortController();
      let interrupted: Promise<void> | undefined;
      const onSignal = (signal: NodeJS.Signals): void => {
        const code = signal === 'SIGTERM' ? 143 : 130;
        if (interrupted !== undefined) process.exit(code);
        interrupted = (async () => {
          controller.abort(new Error('interrupted'));
          warn(`interrupted; scratch prefix ${prefix} ${await removeScratch(backends, root)}`);
          process.exit(code);
        })();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let report;
      let cleanup: string;
      try {
        report = await runProviderProbes(backends, root, { recheckMs: opts.lagBound * 1000, signal: controller.signal, context: { warn } });
      } finally {
        if (interrupted) await interrupted;
        // A store that could not be listed holds nothing of ours (and would only time out again).
        cleanup = report?.reachable === false ? 'nothing written' : await removeScratch(backends, root);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const failed = report.results.filter((r) => r.status === 'fail').length;
      if (opts.json) {
        const document = { target: redactURL(url), backend: report.backend, prefix, probes: report.results, settings: report.settings, cleanup };
        print(`${JSON.stringify(document, null, 2)}\n`);
      } else {
        print(`Probed ${redactURL(url)} (${report.backend} backend) under the temporary prefix ${prefix}; ${cleanup}.\n\n`);
        print(formatTable(['RESULT', 'PROBE', 'DETAIL'], report.results.map((r) => [r.status, r.title, r.detail])));
        if (report.settings.length > 0) {
          print(`\nSettings to use (replica config keys, or URL query parameters):\n`);
          for (const s of report.settings) print(`  ${s.key}: ${s.value}    # ${s.reason}\n`);
        } else {
          print('\nNo settings to change for this backend.\n');
        }
      }
      if (failed > 0) throw new CliError(`${failed} probe(s) failed`, 1);
    });
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

/** Rows as aligned columns under a header (as `printTable`, but returned so it can be redacted). */
function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((row) => `${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`).join('');
}
