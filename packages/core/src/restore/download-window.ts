import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LtxFileInfo, ReplicaClient } from '../replica/replica-client.ts';
import { downloadLtxFile, type DownloadOptions } from './download.ts';

/** A download's end, held without rejecting so an error nobody awaited yet is never "unhandled". */
type Outcome = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly path: string; readonly error: unknown };

/**
 * Downloads the files of a plan into a directory ahead of the one being applied: at most
 * `parallelism` files past the oldest unreleased one, so both the transfers in flight and
 * the finished files waiting on disk stay bounded whatever the plan's length.
 */
export class DownloadWindow {
  private readonly client: ReplicaClient;
  private readonly files: readonly LtxFileInfo[];
  private readonly dir: string;
  private readonly parallelism: number;
  private readonly options: Omit<DownloadOptions, 'signal'>;
  private readonly controller = new AbortController();
  private readonly outcomes: Promise<Outcome>[] = [];
  private released = 0;

  /**
   * @param dir an existing directory for the downloaded files; the caller removes it.
   * @param parallelism how many files may be downloading or waiting at once (≥ 1).
   * @param signal aborts every transfer, as `abort()` does.
   */
  constructor(client: ReplicaClient, files: readonly LtxFileInfo[], dir: string, parallelism: number, options: Omit<DownloadOptions, 'signal'> = {}, signal?: AbortSignal) {
    this.client = client;
    this.files = files;
    this.dir = dir;
    this.parallelism = parallelism;
    this.options = options;
    if (signal?.aborted) this.controller.abort(signal.reason);
    else signal?.addEventListener('abort', () => this.controller.abort(signal.reason), { once: true, signal: this.controller.signal });
  }

  /** Waits until file `index` is complete on disk and returns its path. Starts downloads as the window allows. */
  async take(index: number): Promise<string> {
    this.fill();
    const outcome = await this.outcomes[index]!;
    if (!outcome.ok) throw outcome.error;
    return outcome.path;
  }

  /** File `index` was applied: deletes its local copy and lets the window move past it. */
  async release(index: number): Promise<void> {
    const outcome = await this.outcomes[index]!;
    await rm(outcome.path, { force: true });
    this.released = Math.max(this.released, index + 1);
    this.fill();
  }

  /** Stops every transfer and waits until none is still writing, so the directory can be removed. */
  async abort(): Promise<void> {
    if (!this.controller.signal.aborted) this.controller.abort(new Error('restore aborted'));
    await Promise.all(this.outcomes);
  }

  private fill(): void {
    if (this.controller.signal.aborted) return;
    while (this.outcomes.length < this.files.length && this.outcomes.length < this.released + this.parallelism) {
      const index = this.outcomes.length;
      const info = this.files[index]!;
      // The index in the name keeps two plan entries apart even if a plan lists a file twice.
      const path = join(this.dir, `${index}-${info.level}-${info.minTXID}-${info.maxTXID}.ltx`);
      this.outcomes.push(
        downloadLtxFile(this.client, info, path, { ...this.options, signal: this.controller.signal }).then(
          (): Outcome => ({ ok: true, path }),
          (error: unknown): Outcome => ({ ok: false, path, error }),
        ),
      );
    }
  }
}
