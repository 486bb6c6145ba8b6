/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function, self
 * time per category (LZ4 native, CRC-64 WebAssembly, our JS, Node internals, V8
 * builtins, GC, idle), and inclusive time of the codec's own functions.
 *
 * Run alone: `node src/cpuprofile.ts <file.cpuprofile> [top]`.
 */
import { readFileSync } from 'node:fs';
import { fmt, table } from './common.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FunctionTime {
  name: string;
  where: string;
  category: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  /** Sampled time after start-up (the denominator of every share). */
  totalMs: number;
  startupMs: number;
  categories: { category: string; selfMs: number; share: number }[];
  functions: FunctionTime[];
}

/** Native functions lz4-napi exports (they show up with an empty url). */
const LZ4_NATIVE = new Set(['compressSync', 'uncompressSync', 'compress', 'uncompress']);

function shortUrl(url: string): string {
  const i = url.indexOf('/packages/');
  if (i >= 0) return url.slice(i + 1);
  const j = url.indexOf('/bench/');
  if (j >= 0) return url.slice(j + 1);
  const k = url.indexOf('/node_modules/');
  if (k >= 0) return url.slice(url.lastIndexOf('/node_modules/') + 14);
  return url;
}

const STARTUP = 'start-up: module loading, type stripping (before the timed part)';
const FS_BINDINGS = new Set(['read', 'write', 'open', 'close', 'fstat']);

/** Category of a frame from itself alone; `undefined` for WebAssembly, which needs its callers. */
function ownCategory(frame: CallFrame): string | undefined {
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle (waiting for I/O)';
  if (fn === '(program)') return 'VM/native, unattributed';
  if (fn === '(root)') return 'root';
  if (url.startsWith('wasm://')) return undefined;
  if (url.includes('amaro') || url.startsWith('node:internal/modules/') || fn === 'compileSourceTextModule') return STARTUP;
  if (url === '' && LZ4_NATIVE.has(fn)) return 'LZ4 (lz4-napi native)';
  // N-API calls do not get frames of their own: lz4-napi's Rust code is charged to the JS
  // function that calls it, i.e. compressBlock / decompressBlock.
  if (url.includes('/packages/core/src/lz4/')) return 'LZ4 (lz4-napi native, charged to lz4/block.ts)';
  if (url.includes('/packages/core/src/checksum/')) return 'CRC-64: JS glue (copy into WASM memory, BigInt)';
  if (url.includes('/packages/core/src/io/')) return 'our JS: io (ByteReader, ChunkChannel)';
  if (url.includes('/packages/core/src/')) return 'our JS: codec (framing, validation, async plumbing)';
  if (url.includes('/bench/')) return 'bench harness';
  if (url.includes('/node_modules/')) return 'dependency JS';
  if (url === '' && FS_BINDINGS.has(fn)) return 'I/O: fs reads (+ libuv page-cache copy, same core)';
  if (url.startsWith('node:')) return 'Node internals (streams, fs, buffer)';
  return 'V8 builtins (promises, microtasks, typed arrays)';
}

/**
 * Category of a sampled node: its own, except that WebAssembly is the CRC-64 kernel when
 * called from core's checksum code and start-up otherwise (Node's type stripper is WASM too).
 */
export function categorise(nodeId: number, byId: Map<number, ProfileNode>, parent: Map<number, number>): string {
  const frame = byId.get(nodeId)!.callFrame;
  const own = ownCategory(frame);
  if (own !== undefined) return own;
  for (let cur = parent.get(nodeId); cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur)!.callFrame;
    if (f.url.includes('/packages/core/src/checksum/')) return 'CRC-64 WebAssembly kernel';
    if (f.url.includes('amaro') || f.url.startsWith('node:internal/modules/')) return STARTUP;
  }
  return 'WebAssembly, other';
}

export function summariseProfile(path: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the gap before sample i; DevTools charges sample i with the gap after it.
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Inclusive time per function key: each node's self time counts once for every distinct
  // function on its stack (so recursion is not counted twice).
  const key = (f: CallFrame) => `${f.functionName || '(anonymous)'}\u0000${f.url}:${f.lineNumber + 1}`;
  const funcs = new Map<string, FunctionTime>();
  const cats = new Map<string, number>();
  const entry = (f: CallFrame, category = ''): FunctionTime => {
    const k = key(f);
    let e = funcs.get(k);
    if (!e) {
      e = { name: f.functionName || '(anonymous)', where: f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '', category, selfMs: 0, totalMs: 0 };
      funcs.set(k, e);
    }
    return e;
  };
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    totalUs += us;
    const node = byId.get(id)!;
    const category = categorise(id, byId, parent);
    cats.set(category, (cats.get(category) ?? 0) + us / 1000);
    const self = entry(node.callFrame, category);
    self.selfMs += us / 1000;
    if (self.category === '') self.category = category;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const k = key(f);
      if (seen.has(k)) continue;
      seen.add(k);
      entry(f).totalMs += us / 1000;
    }
  }
  cats.delete('root');
  // Shares are of the work after start-up: module loading happens before the timed part.
  const startupMs = cats.get(STARTUP) ?? 0;
  const totalMs = totalUs / 1000 - startupMs;
  return {
    totalMs,
    startupMs,
    categories: [...cats.entries()]
      .filter(([category]) => category !== STARTUP)
      .map(([category, selfMs]) => ({ category, selfMs, share: selfMs / totalMs }))
      .filter((c) => c.selfMs > 0)
      .sort((a, b) => b.selfMs - a.selfMs),
    functions: [...funcs.values()].sort((a, b) => b.selfMs - a.selfMs),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatSummary(s: ProfileSummary, top = 20): string {
  const out: string[] = [];
  out.push(`sampled ${fmt(s.totalMs)} ms after start-up (start-up, excluded from the shares: ${fmt(s.startupMs)} ms)`);
  out.push('');
  out.push('self time by category');
  out.push(table(['category', 'ms', 'share'], s.categories.map((c) => [c.category, fmt(c.selfMs), pct(c.share)]), new Set([1, 2])));
  out.push('');
  out.push(`top ${top} functions by self time`);
  out.push(
    table(
      ['function', 'where', 'category', 'self ms', 'self', 'total'],
      s.functions.filter((f) => f.name !== '(root)' && f.category !== STARTUP).slice(0, top).map((f) => [f.name, f.where, f.category, fmt(f.selfMs), pct(f.selfMs / s.totalMs), pct(f.totalMs / s.totalMs)]),
      new Set([3, 4, 5]),
    ),
  );
  const ours = s.functions
    .filter((f) => (f.category.startsWith('our JS') || f.where.startsWith('packages/core/')) && f.totalMs / s.totalMs >= 0.01)
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top);
  out.push('');
  out.push('our functions by inclusive time (self + everything they call)');
  out.push(table(['function', 'where', 'total ms', 'total', 'self'], ours.map((f) => [f.name, f.where, fmt(f.totalMs), pct(f.totalMs / s.totalMs), pct(f.selfMs / s.totalMs)]), new Set([2, 3, 4])));
  return out.join('\n');
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: cpuprofile.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(formatSummary(summariseProfile(file), top ? Number(top) : 20));
}
