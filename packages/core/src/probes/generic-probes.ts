import type { LtxFileRef, ReplicaClient } from '../replica/replica-client.ts';
import { firstLine, isNotFound, isPreconditionFailure, type ProbeContext, type ProbeFinding, type ProviderProbe } from './probe.ts';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Pause between re-checks of a lagging store. */
const RECHECK_EVERY_MS = 100;

/**
 * Preconditions really enforced: a second `ifNoneMatch: '*'` create, an `ifMatch` write and an
 * `ifMatch` delete with a stale etag must all be refused, and an `ifMatch` of the current etag
 * must be taken. A store that accepts them silently (fauxqs, s3rver) would let two leaseholders
 * both believe they won.
 */
export const conditionalWritesProbe: ProviderProbe = {
  id: 'conditional-writes',
  title: 'conditional writes enforced (If-None-Match, If-Match)',
  skipReason: (client) => (client.capabilities.conditionalWrite ? undefined : 'backend declares conditionalWrite=false (no leasing on this backend)'),
  async run(client, { signal }) {
    const name = 'probe-conditional.json';
    const ignored: string[] = [];
    const refused = async (what: string, attempt: () => Promise<unknown>): Promise<void> => {
      try {
        await attempt();
        ignored.push(what);
      } catch (error) {
        if (!isPreconditionFailure(error)) throw error;
      }
    };
    await client.writeObject(name, text('first'), { ifNoneMatch: '*' }, { signal });
    await refused('If-None-Match: * on an existing object was accepted', () => client.writeObject(name, text('second'), { ifNoneMatch: '*' }, { signal }));
    const current = await client.readObject(name, { signal });
    if (current === undefined) return { status: 'fail', detail: 'an object written with If-None-Match: * could not be read back' };
    let next: { etag: string };
    try {
      next = await client.writeObject(name, text('third'), { ifMatch: current.etag }, { signal });
    } catch (error) {
      return { status: 'fail', detail: `If-Match with the current etag was refused: ${firstLine(error)}` };
    }
    if (next.etag === current.etag) return { status: 'fail', detail: 'the etag did not change when the object was replaced' };
    await refused('If-Match with a stale etag was accepted on a write', () => client.writeObject(name, text('fourth'), { ifMatch: current.etag }, { signal }));
    await refused('If-Match with a stale etag was accepted on a delete', () => client.deleteObject(name, { ifMatch: current.etag }, { signal }));
    await refused('If-Match on a missing object was accepted', () => client.writeObject('probe-missing.json', text('x'), { ifMatch: '"no-such-etag"' }, { signal }));
    if (ignored.length > 0) {
      return {
        status: 'fail',
        detail: `the store ignores preconditions: ${ignored.join('; ')}; leases on it do not exclude a second writer`,
        measured: { enforced: false },
      };
    }
    return { status: 'pass', detail: 'If-None-Match and If-Match enforced on writes and deletes', measured: { enforced: true } };
  },
};

/**
 * A delete that really deletes: after deleting an LTX file and a small object, neither may be
 * listed or read. A store that lags (R2 has been seen to) is re-checked until `recheckMs`, and
 * the lag seen is reported.
 */
export const deleteProbe: ProviderProbe = {
  id: 'delete-visibility',
  title: 'deleted files and objects are gone (delete lag)',
  async run(client, { recheckMs, signal }) {
    const file = ref(0, 1, 1);
    const name = 'probe-delete.json';
    await client.writeLtxFile(file, text('delete me'), { signal });
    await client.writeObject(name, text('delete me'), undefined, { signal });
    const deletedAt = Date.now();
    let deleteError: unknown;
    try {
      await client.deleteLtxFiles([file], { signal });
    } catch (error) {
      // A store that reports a delete it did not perform shows up as an error of the client's own check.
      deleteError = error;
    }
    await client.deleteObject(name, undefined, { signal });
    const leftovers = async (): Promise<string[]> => {
      const seen: string[] = [];
      for await (const f of client.listLtxFiles(0, { signal })) if (f.minTXID === 1 && f.maxTXID === 1) seen.push('listed');
      try {
        const stream = await client.openLtxFile(file, { signal });
        stream.destroy();
        seen.push('readable');
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      if ((await client.readObject(name, { signal })) !== undefined) seen.push('object readable');
      return seen;
    };
    const outcome = await recheck(leftovers, (seen) => seen.length === 0, deletedAt, recheckMs);
    const note = deleteError === undefined ? '' : ` (the delete call itself failed: ${firstLine(deleteError)})`;
    if (!outcome.settled) {
      return { status: 'fail', detail: `still ${outcome.last.join(', ')} ${outcome.lagMs} ms after the delete${note}`, measured: { lagMs: outcome.lagMs, settled: false } };
    }
    if (outcome.lagMs === 0 && deleteError === undefined) return { status: 'pass', detail: 'gone at once (lag 0 ms)', measured: { lagMs: 0, settled: true } };
    return { status: 'warn', detail: `gone after ${outcome.lagMs} ms${note}`, measured: { lagMs: outcome.lagMs, settled: true } };
  },
};

/**
 * List-after-write consistency: files just written are listed (and readable) at once. Lag is
 * re-checked until `recheckMs` and reported.
 */
export const listAfterWriteProbe: ProviderProbe = {
  id: 'list-after-write',
  title: 'list-after-write consistency',
  async run(client, { recheckMs, signal }) {
    const files = Array.from({ length: 8 }, (_, i) => ref(1, i * 2 + 1, i * 2 + 2));
    await Promise.all(files.map((f) => client.writeLtxFile(f, text(`file ${f.minTXID}`), { signal })));
    const writtenAt = Date.now();
    const listed = async (): Promise<number> => {
      let count = 0;
      for await (const f of client.listLtxFiles(1, { signal })) if (files.some((w) => w.minTXID === f.minTXID && w.maxTXID === f.maxTXID)) count++;
      return count;
    };
    const outcome = await recheck(listed, (count) => count === files.length, writtenAt, recheckMs);
    if (!outcome.settled) return { status: 'fail', detail: `${outcome.last} of ${files.length} files listed ${outcome.lagMs} ms after writing them`, measured: { lagMs: outcome.lagMs, settled: false } };
    if (outcome.lagMs === 0) return { status: 'pass', detail: `${files.length} files listed right after writing them`, measured: { lagMs: 0, settled: true } };
    return { status: 'warn', detail: `all ${files.length} files listed only after ${outcome.lagMs} ms`, measured: { lagMs: outcome.lagMs, settled: true } };
  },
};

/** Skew within this is reported as a pass (stores keep modification times to the second). */
const SKEW_OK_MS = 2_000;
/** Skew beyond this breaks time-based retention and the suite's own `createdAt` checks. */
const SKEW_FAIL_MS = 30_000;

/**
 * Clock skew against the server: the modification time the store gives a file it just stored
 * (a plain listing, not the LTX timestamp metadata) against this machine's clock around the write.
 */
export const clockSkewProbe: ProviderProbe = {
  id: 'clock-skew',
  title: 'clock skew against the server',
  async run(client, { signal }) {
    const file = ref(2, 1, 1);
    const before = Date.now();
    await client.writeLtxFile(file, text('what time is it'), { signal });
    const after = Date.now();
    let stored: Date | undefined;
    for await (const f of client.listLtxFiles(2, { signal })) if (f.minTXID === 1) stored = f.createdAt;
    if (stored === undefined) return { status: 'fail', detail: 'the file just written is not listed' };
    const at = stored.getTime();
    // Stores truncate modification times to the second: anything in [before - 1 s, after] is no skew.
    const skewMs = at < before - 1_000 ? at - before : at > after ? at - after : 0;
    const direction = skewMs > 0 ? 'ahead of' : 'behind';
    const measured = { skewMs, roundTripMs: after - before };
    if (Math.abs(skewMs) <= SKEW_OK_MS) return { status: 'pass', detail: `server clock within ${SKEW_OK_MS / 1000} s of this machine's (${skewMs} ms)`, measured };
    const detail = `server clock ${Math.abs(skewMs)} ms ${direction} this machine's`;
    return Math.abs(skewMs) <= SKEW_FAIL_MS ? { status: 'warn', detail, measured } : { status: 'fail', detail: `${detail}: retention and createdAt checks go wrong`, measured };
  },
};

/** The probes that apply to every backend, in report order. */
export const GENERIC_PROBES: readonly ProviderProbe[] = [conditionalWritesProbe, deleteProbe, listAfterWriteProbe, clockSkewProbe];

interface Recheck<T> {
  readonly settled: boolean;
  /** ms from `since` to the check that settled (0 when the first check did), or to the last check. */
  readonly lagMs: number;
  readonly last: T;
}

/** Checks until `done` holds or `boundMs` passed since `since`; the first check counts as lag 0. */
async function recheck<T>(check: () => Promise<T>, done: (value: T) => boolean, since: number, boundMs: number): Promise<Recheck<T>> {
  let last = await check();
  if (done(last)) return { settled: true, lagMs: 0, last };
  for (;;) {
    await sleep(RECHECK_EVERY_MS);
    last = await check();
    const lagMs = Date.now() - since;
    if (done(last)) return { settled: true, lagMs, last };
    if (lagMs >= boundMs) return { settled: false, lagMs, last };
  }
}

export type { ProbeContext, ProbeFinding };
