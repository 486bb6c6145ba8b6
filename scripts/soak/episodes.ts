import { setTimeout as sleep } from 'node:timers/promises';
import type { tc } from './libs.ts';
import type { ReplicateProcess } from './replicate-process.ts';
import type { SoakS3Server } from './s3-server.ts';
import type { SmallFs } from './small-fs.ts';
import type { WriterClient } from './writer-client.ts';

type FaultProxy = Awaited<ReturnType<typeof tc.startFaultProxy>>;

/** The faults the soak injects, one episode at a time. */
export type EpisodeKind =
  | 'kill -9 replicate'
  | 'kill -9 S3 server'
  | 'proxy stall'
  | 'flaky network (30%)'
  | 'disk full (meta-path)'
  | 'checkpoint PASSIVE'
  | 'checkpoint RESTART'
  | 'checkpoint TRUNCATE';

/** What an episode needs. */
export interface SoakContext {
  readonly random: () => number;
  readonly replicate: ReplicateProcess;
  readonly writer: WriterClient;
  /** Absent with `--replica file`. */
  readonly server: SoakS3Server | undefined;
  readonly proxy: FaultProxy | undefined;
  readonly smallFs: SmallFs;
  log(line: string): void;
}

/** When the fault ended (recovery is measured from there) and what is worth noting. */
export interface EpisodeEnd {
  readonly endedAt: number;
  readonly note?: string;
}

const between = (ctx: SoakContext, lo: number, hi: number) => Math.round(lo + ctx.random() * (hi - lo));

/** The episodes this run can inject, with their weights. */
export function availableEpisodes(ctx: SoakContext): Array<[EpisodeKind, number]> {
  const list: Array<[EpisodeKind, number]> = [
    ['kill -9 replicate', 3],
    ['checkpoint PASSIVE', 1],
    ['checkpoint RESTART', 1],
    ['checkpoint TRUNCATE', 1],
  ];
  if (ctx.server) list.push(['kill -9 S3 server', 2]);
  if (ctx.proxy) list.push(['proxy stall', 2], ['flaky network (30%)', 2]);
  if (ctx.smallFs.available) list.push(['disk full (meta-path)', 2]);
  return list;
}

/**
 * Deals episodes from a shuffled deck holding each kind `weight` times, so every kind comes up
 * once per round (a round of the default weights is 15 episodes, about 4 minutes).
 */
export function episodeDealer(ctx: SoakContext, list: ReadonlyArray<[EpisodeKind, number]>): () => EpisodeKind {
  let deck: EpisodeKind[] = [];
  return () => {
    if (deck.length === 0) {
      deck = list.flatMap(([kind, weight]) => Array.from({ length: weight }, () => kind));
      for (let i = deck.length - 1; i > 0; i--) {
        const j = Math.floor(ctx.random() * (i + 1));
        [deck[i], deck[j]] = [deck[j]!, deck[i]!];
      }
    }
    return deck.pop()!;
  };
}

/** Injects one fault and waits until it is over. */
export async function runEpisode(kind: EpisodeKind, ctx: SoakContext): Promise<EpisodeEnd> {
  switch (kind) {
    case 'kill -9 replicate': {
      await ctx.replicate.kill();
      const downMs = between(ctx, 0, 3000);
      await sleep(downMs);
      ctx.replicate.start();
      return { endedAt: Date.now(), note: `down ${downMs} ms` };
    }
    case 'kill -9 S3 server': {
      const server = ctx.server!;
      const proxy = ctx.proxy!;
      // s3rver writes objects in place, not atomically as S3 does: quiesce first (hold new
      // requests at the proxy, let the ones under way finish), so the kill tears no object.
      proxy.pause();
      const quiesceUntil = Date.now() + 5000;
      while (proxy.inFlight() > 0 && Date.now() < quiesceUntil) await sleep(5);
      const inFlight = proxy.inFlight();
      await server.kill();
      // Held requests now meet a dead server: their connections are dropped.
      proxy.resume();
      const downMs = between(ctx, 2000, 15_000);
      await sleep(downMs);
      await server.start();
      return { endedAt: Date.now(), note: `down ${downMs} ms${inFlight > 0 ? `, ${inFlight} request(s) in flight at the kill` : ''}` };
    }
    case 'proxy stall': {
      const ms = between(ctx, 3000, 20_000);
      ctx.proxy!.setMode('stall');
      await sleep(ms);
      ctx.proxy!.setMode(undefined);
      return { endedAt: Date.now(), note: `${ms} ms` };
    }
    case 'flaky network (30%)': {
      const ms = between(ctx, 10_000, 30_000);
      ctx.proxy!.setRate(0.3);
      await sleep(ms);
      ctx.proxy!.setRate(0);
      return { endedAt: Date.now(), note: `${ms} ms` };
    }
    case 'disk full (meta-path)': {
      const fs = ctx.smallFs;
      if (!fs.available) throw new Error('no small file system');
      const ballast = await fs.fill();
      const ms = between(ctx, 5000, 20_000);
      await sleep(ms);
      await fs.drain();
      return { endedAt: Date.now(), note: `${ms} ms, ${Math.round(ballast / 1024)} KiB ballast` };
    }
    case 'checkpoint PASSIVE':
    case 'checkpoint RESTART':
    case 'checkpoint TRUNCATE': {
      const mode = kind.split(' ')[1] as 'PASSIVE' | 'RESTART' | 'TRUNCATE';
      const r = await ctx.writer.checkpoint(mode);
      return { endedAt: Date.now(), note: r.busy === 'error' ? 'failed (see the writer log)' : `busy=${r.busy} log=${r.log} checkpointed=${r.checkpointed} in ${r.ms} ms` };
    }
  }
}
