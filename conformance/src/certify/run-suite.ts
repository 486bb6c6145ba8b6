import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeStatus } from '@litestream-ts/core/probes';
import type { TestCase, TestModule, Vitest } from 'vitest/node';
import type { MatrixRow } from './matrix.ts';
import type { CertifyInjection } from './suite-entry.ts';

export interface SuiteRunOptions extends Omit<CertifyInjection, 'cwd'> {
  /** Per-case and per-hook timeout, ms. */
  readonly timeoutMs: number;
  /** Receives the running vitest, so a signal handler can cancel it. */
  readonly onStart?: (vitest: Vitest) => void;
}

/** The compiled suite entry beside this module (`suite-entry.js` in `dist/certify`). */
const ENTRY = fileURLToPath(new URL(`./suite-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/**
 * Runs the contract suite through vitest's node API, on the entry module that builds the
 * clients from the URL, and returns one row per case. Vitest runs it exactly as a backend's
 * own test file would (async describe, hooks, skipIf, timeouts), in a worker; the results come
 * back through a reporter. No config file is read and nothing is written beside the package.
 */
export async function runSuite(options: SuiteRunOptions): Promise<MatrixRow[]> {
  let createVitest: typeof import('vitest/node').createVitest;
  try {
    ({ createVitest } = await import('vitest/node'));
  } catch (cause) {
    throw new Error('the contract suite runs under vitest, a peer dependency of @litestream-ts/conformance: install vitest (>= 4) beside it, or run --only probes', { cause });
  }
  const cacheDir = await mkdtemp(join(tmpdir(), 'lts-certify-vite-'));
  // An interrupted run exits before the finally below; the directory goes anyway.
  const removeCache = (): void => rmSync(cacheDir, { recursive: true, force: true });
  process.once('exit', removeCache);
  const rows: MatrixRow[] = [];
  const reporter = {
    onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<{ message?: string }>) {
      for (const module of modules) {
        for (const error of module.errors()) rows.push({ kind: 'suite', name: '(loading the suite)', status: 'fail', detail: firstLine(error.message), durationMs: 0 });
        for (const test of module.children.allTests()) rows.push(rowOf(test));
      }
      for (const error of unhandled) rows.push({ kind: 'suite', name: '(unhandled error)', status: 'fail', detail: firstLine(error.message), durationMs: 0 });
    },
  };
  const { location, largeFileSize, title } = options;
  try {
    const ours = new Set([...process.listeners('SIGINT'), ...process.listeners('SIGTERM')]);
    const vitest = await createVitest(
      'test',
      {
        root: dirname(ENTRY),
        config: false,
        include: [basename(ENTRY)],
        exclude: [],
        watch: false,
        reporters: [reporter],
        provide: { certify: { location, largeFileSize, title, cwd: process.cwd() } },
        testTimeout: options.timeoutMs,
        hookTimeout: options.timeoutMs,
        passWithNoTests: false,
        // Vitest 5 caches transformed modules in node_modules/.vitest-cache beside the root
        // (here, inside the installed package) unless told otherwise; vitest 4 only when asked.
        ...({ fsModuleCache: false, fsModuleCachePath: cacheDir } as object),
        experimental: { fsModuleCache: false, fsModuleCachePath: cacheDir },
      },
      { cacheDir, logLevel: 'silent', clearScreen: false },
    );
    // Vitest's logger exits the process on SIGINT/SIGTERM; the bin handles them itself (it removes the scratch prefix first).
    for (const signal of ['SIGINT', 'SIGTERM'] as const) for (const listener of process.listeners(signal)) if (!ours.has(listener)) process.off(signal, listener);
    options.onStart?.(vitest);
    try {
      await vitest.start([]);
    } finally {
      await vitest.close();
    }
  } finally {
    process.off('exit', removeCache);
    removeCache();
  }
  return rows;
}

function rowOf(test: TestCase): MatrixRow {
  const path: string[] = [test.name];
  for (let parent = test.parent; parent.type === 'suite'; parent = parent.parent) path.unshift(parent.name);
  // The outermost describe names the run ("conformance on s3"); the matrix says that once.
  const shown = path.slice(1).map((part) => part.replace(/ \(skipped: .*\)$/, ''));
  const result = test.result();
  const durationMs = Math.round(test.diagnostic()?.duration ?? 0);
  const status: ProbeStatus = result.state === 'passed' ? 'pass' : result.state === 'failed' ? 'fail' : 'skip';
  let detail = '';
  if (result.state === 'failed') detail = firstLine(result.errors[0]?.message ?? 'failed');
  else if (status === 'skip') detail = [...path].reverse().map((part) => / \(skipped: (.*)\)$/.exec(part)?.[1]).find((why) => why !== undefined) ?? (result.state === 'pending' ? 'not run' : 'skipped');
  return { kind: 'suite', name: shown.join(' › '), status, detail, durationMs };
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0]!.trim();
}
