/**
 * Every knob of the peer comparison, read once from the environment. `BENCH_QUICK=1` swaps in
 * small defaults for a run of a few minutes while developing; each variable still overrides.
 */
const quick = process.env.BENCH_QUICK === '1';

function num(name: string, full: number, small: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return quick ? small : full;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v}: expected a number ≥ 0`);
  return n;
}

function list(name: string, full: number[], small: number[]): number[] {
  const v = process.env[name];
  if (v === undefined || v === '') return quick ? small : full;
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`${name}=${v}: expected whole numbers separated by commas`);
  return [...new Set(xs)].sort((a, b) => a - b);
}

/** `name:key=value,key=value` → an extra "ours" series of the lag scenario with those replica keys. */
function lagVariant(): { name: string; replica: Record<string, string>; db: Record<string, string> } | null {
  const v = process.env.BENCH_LAG_VARIANT;
  if (!v) return null;
  const [name, rest = ''] = v.split(':', 2) as [string, string?];
  const replica: Record<string, string> = {};
  const db: Record<string, string> = {};
  for (const kv of rest.split(',').filter(Boolean)) {
    const [k, val] = kv.split('=', 2);
    if (!k || val === undefined) throw new Error(`BENCH_LAG_VARIANT=${v}: expected name:key=value[,key=value] (db.key=value for a database key)`);
    if (k.startsWith('db.')) db[k.slice(3)] = val;
    else replica[k] = val;
  }
  return { name, replica, db };
}

export const settings = {
  quick,
  rounds: num('BENCH_ROUNDS', 3, 1),
  /** Multiplies the database sizes (200 MB, 600 MB, 1 GB). */
  scale: num('BENCH_SCALE', 1, 0.05),
  steadySeconds: num('BENCH_STEADY_S', 20, 5),
  steadyRate: num('BENCH_STEADY_RATE', 100, 100),
  /** Seconds between the initial snapshot reaching the replica and the start of a measured window. */
  settleSeconds: num('BENCH_SETTLE_S', 3, 2),
  idleCounts: list('BENCH_IDLE_NS', [1, 100, 1000], [1, 10, 50]),
  checkpointSeconds: num('BENCH_CHECKPOINT_S', 5, 2),
  idleWindowSeconds: num('BENCH_IDLE_WINDOW_S', 15, 6),
  /**
   * Start-up's follow-up work to wait out before an idle window: ours compacts each initial
   * snapshot into level 1 once, 30 s (its default L1 interval) after the database started.
   */
  idleFollowUpSeconds: num('BENCH_IDLE_FOLLOW_UP_S', 30, 30),
  freshCount: num('BENCH_FRESH_N', 100, 20),
  freshSeconds: num('BENCH_FRESH_S', 60, 10),
  restoreCounts: list('BENCH_RESTORE_KS', [0, 100, 300, 1000], [0, 10, 30, 100]),
  writerSeconds: num('BENCH_WRITER_S', 10, 3),
  lagCommits: num('BENCH_LAG_COMMITS', 150, 20),
  lagMinGapMs: num('BENCH_LAG_MIN_GAP_MS', 250, 250),
  lagMaxGapMs: num('BENCH_LAG_MAX_GAP_MS', 600, 600),
  lagVariant: lagVariant(),
  /** Longest wait for an initial snapshot or a restore, seconds. */
  timeoutSeconds: num('BENCH_TIMEOUT_S', 600, 300),
};

export type Settings = typeof settings;
