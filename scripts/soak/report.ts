import type { CheckResult } from './check.ts';

/** One injected fault and how the replica came back from it. */
export interface EpisodeOutcome {
  readonly kind: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** From the end of the fault until the replica held a file staged after it; undefined if it never did within the bound. */
  readonly recoveryMs: number | undefined;
  readonly note?: string;
  readonly problem?: string;
}

/** A row of the summary table. */
interface Row {
  readonly fault: string;
  readonly count: number;
  readonly failures: number;
  readonly worst: string;
  readonly notes: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Groups outcomes and checks into the soak's table. */
export function summarize(
  outcomes: readonly EpisodeOutcome[],
  checks: readonly CheckResult[],
  final: { ok: boolean; ms: number; note: string },
  unavailable: ReadonlyArray<[string, string]>,
  planned: readonly string[],
): Row[] {
  const rows: Row[] = [];
  // Every kind this run could inject, even one the run was too short to reach.
  const kinds = [...new Set([...planned, ...outcomes.map((o) => o.kind)])];
  for (const kind of kinds) {
    const of = outcomes.filter((o) => o.kind === kind);
    const failed = of.filter((o) => o.problem !== undefined || o.recoveryMs === undefined);
    const recovered = of.map((o) => o.recoveryMs).filter((ms): ms is number => ms !== undefined);
    const busy = of.filter((o) => o.note?.startsWith('busy=1')).length;
    const checkpointNote = kind.startsWith('checkpoint') && of.length > 0 ? `the writer's checkpoint returned busy in ${busy} of ${of.length}` : '';
    rows.push({
      fault: kind,
      count: of.length,
      failures: failed.length,
      worst: recovered.length > 0 ? seconds(Math.max(...recovered)) : '-',
      notes: of.length === 0 ? 'not reached in this run' : failed.length > 0 ? failed.map((o) => o.problem ?? 'did not recover').slice(0, 2).join('; ') : checkpointNote,
    });
  }
  for (const [kind, reason] of unavailable) rows.push({ fault: kind, count: 0, failures: 0, worst: '-', notes: `not injected: ${reason}` });
  const failedChecks = checks.filter((c) => !c.ok);
  rows.push({
    fault: 'restore-and-compare',
    count: checks.length,
    failures: failedChecks.length,
    worst: checks.length > 0 ? `lag ${seconds(Math.max(...checks.map((c) => c.lagMs)))}` : '-',
    notes: failedChecks.length > 0 ? failedChecks[0]!.problems.join('; ') : `${checks.length > 0 ? Math.max(...checks.map((c) => c.rows)) : 0} rows at the last check`,
  });
  rows.push({ fault: 'final sync, restore = writer', count: 1, failures: final.ok ? 0 : 1, worst: seconds(final.ms), notes: final.note });
  return rows;
}

/** A fixed-width table for the terminal. */
export function textTable(rows: readonly Row[]): string {
  const head = ['fault', 'count', 'failures', 'max recovery', 'notes'];
  const cells = rows.map((r) => [r.fault, String(r.count), String(r.failures), r.worst, r.notes]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 1 || i === 2 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** The same table in Markdown, for docs/RELIABILITY.md. */
export function markdownTable(rows: readonly Row[]): string {
  const esc = (v: string) => v.replace(/\|/g, '\\|');
  return [
    '| fault | count | failures | max recovery | notes |',
    '|---|---:|---:|---:|---|',
    ...rows.map((r) => `| ${esc(r.fault)} | ${r.count} | ${r.failures} | ${r.worst} | ${esc(r.notes)} |`),
  ].join('\n');
}
