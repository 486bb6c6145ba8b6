import { describe, expect, it } from 'vitest';
import { LitestreamError } from '../ltx/errors.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { ErrorStreak, errorKey } from './error-streak.ts';

const upload = (txid: number, cause: Error) => new LitestreamError(`upload of ${String(txid).padStart(16, '0')}-${String(txid).padStart(16, '0')}.ltx failed: ${cause.message}`, { cause });
const refused = (port: number) => Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
const noBucket = () => Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' });

describe('ErrorStreak', () => {
  it('logs the first error, not its repeats, again when the error changes, and once when it is over', () => {
    const logger = new RecordingLogger();
    const streak = new ErrorStreak(logger, 'sync error', 'sync resumed');
    streak.fail(upload(5, refused(9000)));
    // The next file's name and another port are the same failure.
    streak.fail(upload(6, refused(9001)));
    streak.fail(upload(6, refused(9001)));
    // The store came back empty: a different failure, which must be seen.
    streak.fail(upload(6, noBucket()));
    streak.fail(upload(7, noBucket()));
    streak.succeed();
    streak.succeed();
    expect(logger.records.map((r) => [r.level, r.message, r.fields.error, r.fields.after])).toEqual([
      ['error', 'sync error', expect.stringContaining('ECONNREFUSED'), undefined],
      ['error', 'sync error', expect.stringContaining('bucket does not exist'), 3],
      ['info', 'sync resumed', undefined, 5],
    ]);
    expect(streak.failures).toBe(0);
    expect(streak.lastError).toBeUndefined();
  });

  it('tells errors apart by their innermost cause: class, code and message without numbers', () => {
    expect(errorKey(upload(1, refused(1)))).toBe(errorKey(upload(2, refused(2))));
    expect(errorKey(upload(1, refused(1)))).not.toBe(errorKey(upload(1, noBucket())));
    expect(errorKey('plain 12')).toBe(errorKey('plain 13'));
  });
});
