/**
 * What a scenario of the peer comparison is, and the shared runner: for each scenario, rounds
 * 1..R, and in each round every series in order (ours, then the peer: A B, A B, …). A round
 * returns named values; a figure is one value name summarised over the rounds (min / median /
 * max per series, ratio ours/peer of the medians) and held to its target from issue 9.
 */
import { median } from '../common.ts';
import type { ToolId } from './tools.ts';

/** A series is a tool, or a baseline such as "no replication" or `cp`. */
export type SeriesId = ToolId | 'none' | 'cp' | `ours-${string}`;

export type Target =
  /** median(ours) / median(peer) ≤ value */
  | { kind: 'ratio-max'; value: number }
  /** median(ours) / median(peer) ≥ value */
  | { kind: 'ratio-min'; value: number }
  /** median(ours) ≤ value (in the figure's unit) */
  | { kind: 'ours-max'; value: number }
  /** median(ours) ≥ value (in the figure's unit) */
  | { kind: 'ours-min'; value: number }
  /** median(ours) ≤ median(peer) (for figures where the peer's value may be 0) */
  | { kind: 'ours-le-peer' };

export interface FigureDef {
  /** Name of the value a round returns. */
  key: string;
  label: string;
  unit: string;
  digits: number;
  target?: Target;
  /** Words for the target column, e.g. "≤ 1.0× peer". */
  targetText?: string;
  /** Shown under the table. */
  note?: string;
}

export interface RoundResult {
  values: Record<string, number>;
  /** Anything worth keeping in the JSON (file counts, log excerpts, raw lags…). */
  detail?: Record<string, unknown>;
}

export interface ScenarioContext {
  round: number;
  rounds: number;
  /** Values already measured for other series in this round (e.g. the no-replication baseline). */
  sameRound: Partial<Record<SeriesId, RoundResult>>;
}

export interface Scenario {
  id: string;
  /** Figure number in the brief / issue 9. */
  number: number;
  title: string;
  /** How it is measured, in a few sentences of Markdown (goes to BENCHMARKS.md). */
  method: string;
  series: SeriesId[];
  figures: FigureDef[];
  /** Once before round 1 (build or fetch the databases). */
  prepare?(): Promise<void>;
  run(series: SeriesId, ctx: ScenarioContext): Promise<RoundResult>;
}

export interface SeriesSamples {
  series: SeriesId;
  rounds: RoundResult[];
}

export interface ScenarioResult {
  id: string;
  number: number;
  title: string;
  method: string;
  figures: FigureDef[];
  series: SeriesSamples[];
  /** Set when the scenario failed: no figure of it is reported. */
  error?: string;
  seconds: number;
}

export interface Summary {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function summarize(xs: readonly number[]): Summary | undefined {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return undefined;
  return { min: Math.min(...v), median: median(v), max: Math.max(...v), n: v.length };
}

export function valuesOf(r: ScenarioResult, series: SeriesId, key: string): number[] {
  return r.series.find((s) => s.series === series)?.rounds.map((x) => x.values[key]).filter((x): x is number => x !== undefined) ?? [];
}

export type Verdict = 'met' | 'not met' | 'n/a';

export function verdict(fig: FigureDef, oursS: Summary | undefined, peerS: Summary | undefined): Verdict {
  const t = fig.target;
  if (!t || !oursS) return 'n/a';
  switch (t.kind) {
    case 'ours-max':
      return oursS.median <= t.value ? 'met' : 'not met';
    case 'ours-min':
      return oursS.median >= t.value ? 'met' : 'not met';
    case 'ours-le-peer':
      return peerS ? (oursS.median <= peerS.median ? 'met' : 'not met') : 'n/a';
    case 'ratio-max':
      if (!peerS) return 'n/a';
      if (peerS.median === 0) return oursS.median === 0 ? 'met' : 'not met';
      return oursS.median / peerS.median <= t.value ? 'met' : 'not met';
    case 'ratio-min':
      if (!peerS || peerS.median === 0) return 'n/a';
      return oursS.median / peerS.median >= t.value ? 'met' : 'not met';
  }
}

/**
 * Runs one scenario: prepare, then R rounds of every series in order. The first error stops
 * the scenario: it is reported as failed, with no numbers.
 */
export async function runScenario(s: Scenario, rounds: number, log: (msg: string) => void): Promise<ScenarioResult> {
  const started = performance.now();
  const result: ScenarioResult = { id: s.id, number: s.number, title: s.title, method: s.method, figures: s.figures, series: s.series.map((series) => ({ series, rounds: [] })), seconds: 0 };
  try {
    await s.prepare?.();
    for (let round = 1; round <= rounds; round++) {
      const sameRound: ScenarioContext['sameRound'] = {};
      for (const series of s.series) {
        const t0 = performance.now();
        log(`[${s.id}] round ${round}/${rounds} ${series} …`);
        const r = await s.run(series, { round, rounds, sameRound });
        sameRound[series] = r;
        result.series.find((x) => x.series === series)!.rounds.push(r);
        const shown = Object.entries(r.values)
          .slice(0, 6)
          .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`)
          .join(' ');
        log(`[${s.id}] round ${round}/${rounds} ${series}: ${shown}${Object.keys(r.values).length > 6 ? ' …' : ''} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
    }
  } catch (err) {
    result.error = (err as Error).stack ?? String(err);
    log(`[${s.id}] FAILED: ${(err as Error).message}`);
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
