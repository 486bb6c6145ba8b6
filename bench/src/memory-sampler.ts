/**
 * Samples `process.memoryUsage()` every few ms while a child works, keeping the peak of
 * each part, so a peak RSS can be told apart: V8 heap (JS objects), `external` /
 * `arrayBuffers` (Buffer memory outside the heap, freed only when GC finds the Buffer
 * objects dead), or the rest (code, stacks, allocator slack). The timer only fires when
 * the event loop turns, which the codecs do at least once per 1 MiB chunk.
 */
export interface MemoryPeaks {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  samples: number;
}

export function startMemorySampler(intervalMs = 50): () => MemoryPeaks {
  const peaks: MemoryPeaks = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0, samples: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peaks.rss = Math.max(peaks.rss, m.rss);
    peaks.heapTotal = Math.max(peaks.heapTotal, m.heapTotal);
    peaks.heapUsed = Math.max(peaks.heapUsed, m.heapUsed);
    peaks.external = Math.max(peaks.external, m.external);
    peaks.arrayBuffers = Math.max(peaks.arrayBuffers, m.arrayBuffers);
    peaks.samples += 1;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    sample();
    return peaks;
  };
}
