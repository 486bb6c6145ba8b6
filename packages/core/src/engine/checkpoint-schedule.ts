/** When to checkpoint, in Litestream v0.5's terms (see `DBOptions`). */
export interface CheckpointSettings {
  readonly minCheckpointPageCount: number;
  readonly checkpointInterval: number;
  readonly truncatePageN: number;
}

/**
 * Decides when the replicator checkpoints. It counts WAL frames copied since the last
 * checkpoint, not the size of the `-wal` file: a PASSIVE checkpoint never shrinks the file,
 * so a size-based rule would checkpoint on every sync once the file had grown, and an idle
 * database would be checkpointed forever. With nothing copied since the last checkpoint,
 * nothing is due — an idle database stays idle.
 */
export class CheckpointSchedule {
  private readonly settings: CheckpointSettings;
  private framesSince = 0;
  private lastAt: number;

  constructor(settings: CheckpointSettings, now = Date.now()) {
    this.settings = settings;
    this.lastAt = now;
  }

  /** Frames copied since the last checkpoint. */
  get pendingFrames(): number {
    return this.framesSince;
  }

  /** Records frames copied by a sync. */
  copied(frames: number): void {
    this.framesSince += frames;
  }

  /**
   * The checkpoint due now, if any. `walFrames` is how many frames the current WAL
   * generation holds (what a TRUNCATE would reclaim).
   */
  due(walFrames: number, now = Date.now()): 'PASSIVE' | 'TRUNCATE' | undefined {
    const s = this.settings;
    if (this.framesSince === 0) return undefined;
    if (s.truncatePageN > 0 && walFrames >= s.truncatePageN) return 'TRUNCATE';
    if (this.framesSince >= s.minCheckpointPageCount) return 'PASSIVE';
    if (s.checkpointInterval > 0 && now - this.lastAt >= s.checkpointInterval) return 'PASSIVE';
    return undefined;
  }

  /** A checkpoint ran (or was attempted): start counting again. */
  checkpointed(now = Date.now()): void {
    this.framesSince = 0;
    this.lastAt = now;
  }
}
