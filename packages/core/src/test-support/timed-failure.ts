import { expect } from 'vitest';
import { StorageTimeoutError } from '../replica/storage-call.ts';

/** How long `call` took to reject, and its error (a call that succeeds yields an Error saying so). */
export async function timedFailure(call: () => Promise<unknown>, what = 'the call'): Promise<{ error: Error; took: number }> {
  const started = Date.now();
  const error = await call().then(
    () => new Error(`${what} succeeded`),
    (e: unknown) => e as Error,
  );
  return { error, took: Date.now() - started };
}

/** Each call fails with `StorageTimeoutError` after about `timeoutMs` (not before, not 3 s later). */
export async function expectEachTimesOut(calls: ReadonlyArray<readonly [string, () => Promise<unknown>]>, timeoutMs: number, against: string): Promise<void> {
  for (const [name, call] of calls) {
    const { error, took } = await timedFailure(call, `${name} against ${against}`);
    expect(error, name).toBeInstanceOf(StorageTimeoutError);
    expect(took, name).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(took, name).toBeLessThan(timeoutMs + 3000);
  }
}
