import type { ProbeResult, ProbeStatus, SettingAdvice } from '@litestream-ts/core/probes';

/** One line of the certification matrix: a suite case or a provider probe. */
export interface MatrixRow {
  readonly kind: 'suite' | 'probe';
  /** Suite: the describe path and case name joined by ` › `; probe: its title. */
  readonly name: string;
  /** Probes only: the probe's stable id. */
  readonly id?: string;
  readonly status: ProbeStatus;
  /** Failure: the error's first line; skip: why; probe: what was seen. */
  readonly detail: string;
  readonly durationMs: number;
  readonly measured?: ProbeResult['measured'];
}

/** The whole certification, as `--json` prints it. */
export interface CertificationReport {
  /** The URL certified, password hidden. */
  readonly target: string;
  readonly backend: string;
  /** The scratch prefix the run used below the URL's path. */
  readonly prefix: string;
  readonly rows: readonly MatrixRow[];
  readonly settings: readonly SettingAdvice[];
  readonly summary: Readonly<Record<ProbeStatus, number>>;
  readonly durationMs: number;
  /** `removed`, or `not removed (why)`. */
  readonly cleanup: string;
}

/** Counts of each status. */
export function summarize(rows: readonly MatrixRow[]): Record<ProbeStatus, number> {
  const summary: Record<ProbeStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const row of rows) summary[row.status]++;
  return summary;
}

/** The matrix as aligned text: result, case, detail. */
export function formatMatrix(report: CertificationReport): string {
  const lines = [`Certifying ${report.target} (${report.backend} backend) under the scratch prefix ${report.prefix}`, ''];
  const names = report.rows.map((r) => `${r.kind} › ${r.name}`);
  const width = Math.min(90, Math.max(4, ...names.map((n) => n.length)));
  lines.push(`${'RESULT'.padEnd(6)}  ${'CASE'.padEnd(width)}  DETAIL`);
  report.rows.forEach((row, i) => lines.push(`${row.status.padEnd(6)}  ${names[i]!.padEnd(width)}  ${row.detail}`.trimEnd()));
  if (report.settings.length > 0) {
    lines.push('', 'Settings to use:');
    for (const s of report.settings) lines.push(`  ${s.key}: ${s.value}    # ${s.reason}`);
  }
  const { pass, fail, warn, skip } = report.summary;
  lines.push('', `${pass} passed, ${fail} failed, ${warn} warnings, ${skip} skipped in ${(report.durationMs / 1000).toFixed(1)} s; scratch prefix ${report.cleanup}`);
  return `${lines.join('\n')}\n`;
}
