import { Writable } from 'node:stream';
import type { LogFields, Logger } from '@litestream-ts/core';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging/index.ts';
import { createProgress } from './create-progress.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

interface Entry {
  readonly level: string;
  readonly message: string;
  readonly fields: LogFields;
}

/** A logger that remembers every call. */
function recordingLogger(entries: Entry[] = [], base: LogFields = {}): Logger & { entries: Entry[] } {
  const at = (level: string) => (message: string, fields: LogFields = {}) => entries.push({ level, message, fields: { ...base, ...fields } });
  return {
    entries,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => recordingLogger(entries, { ...base, ...fields }),
  };
}

/** A terminal double: keeps what is written, reports a TTY of `columns` columns. */
function fakeTerminal(columns = 120): NodeJS.WriteStream & { output(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  }) as unknown as NodeJS.WriteStream & { output(): string };
  Object.assign(stream, { isTTY: true, columns, output: () => text });
  return stream;
}

function fakeClock() {
  let ms = 0;
  return { now: () => ms, advance: (by: number) => (ms += by) };
}

// Drops ANSI control sequences, so assertions read what a user sees.
const plain = (text: string) => text.replace(/\x1B\[[0-9;?]*[A-Za-z]/g, '');

describe('createProgress without a terminal', () => {
  it('logs at most every intervalMs, then once on stop', () => {
    const logger = recordingLogger();
    const clock = fakeClock();
    const progress = createProgress({ label: 'restore', total: 100 * MiB, stream: fakeTerminal(), isTTY: false, logger, intervalMs: 5000, now: clock.now });
    clock.advance(1000);
    progress.update(10 * MiB);
    clock.advance(3000);
    progress.update(20 * MiB);
    expect(logger.entries).toEqual([]);
    clock.advance(1000);
    progress.update(25 * MiB);
    expect(logger.entries).toEqual([
      { level: 'info', message: 'progress', fields: { label: 'restore', done: 25 * MiB, total: 100 * MiB, percent: 25, rate: '5.0 MiB/s' } },
    ]);
    clock.advance(4999);
    progress.update(40 * MiB);
    expect(logger.entries).toHaveLength(1);
    clock.advance(1);
    progress.update(50 * MiB, 200 * MiB);
    expect(logger.entries[1]?.fields).toMatchObject({ done: 50 * MiB, total: 200 * MiB, percent: 25 });

    clock.advance(100);
    progress.update(200 * MiB);
    progress.stop();
    progress.stop();
    progress.update(1);
    expect(logger.entries).toHaveLength(3);
    expect(logger.entries[2]?.fields).toMatchObject({ done: 200 * MiB, total: 200 * MiB, percent: 100 });
    expect(progress.logger).toBe(logger);
  });

  it('reports 100% for an empty total and a zero rate before any time passed', () => {
    const logger = recordingLogger();
    const progress = createProgress({ label: 'restore', total: 0, stream: fakeTerminal(), isTTY: false, logger, now: () => 0 });
    progress.stop();
    expect(logger.entries[0]?.fields).toEqual({ label: 'restore', done: 0, total: 0, percent: 100, rate: '0 B/s' });
  });

  it('is chosen when the stream is not a terminal', () => {
    const logger = recordingLogger();
    const stream = fakeTerminal();
    Object.assign(stream, { isTTY: false });
    const progress = createProgress({ label: 'restore', total: 10, stream, logger });
    progress.stop();
    expect(stream.output()).toBe('');
    expect(logger.entries).toHaveLength(1);
  });
});

describe('createProgress on a terminal', () => {
  it('draws a bar with the label, human sizes, a percentage, rate and ETA', () => {
    const stream = fakeTerminal(120);
    const logger = recordingLogger();
    const clock = fakeClock();
    const progress = createProgress({ label: 'restore', total: GiB, stream, logger, now: clock.now });
    clock.advance(2000);
    progress.update(Math.round(12.3 * MiB));
    progress.stop();
    // Each frame starts with a cursor move to column 1; the last frame is the final state.
    const frames = stream.output().split('\x1B[1G').map(plain);
    expect(frames.at(-1)).toMatch(/^restore \[=?-+\] 1% \| 12\.3 MiB\/1\.0 GiB \| 6\.2 MiB\/s \| ETA 2m45s\n$/);
    expect(logger.entries).toEqual([]);
    expect(stream.output().endsWith('\n')).toBe(true);
    // No cursor save/restore: stop must not jump back over lines logged meanwhile.
    expect(stream.output()).not.toMatch(/\x1B[78]/);
  });

  it('draws when told the stream is a terminal even if the stream cannot tell', () => {
    const stream = fakeTerminal(80);
    Object.assign(stream, { isTTY: undefined });
    const progress = createProgress({ label: 'restore', total: 4 * MiB, stream, logger: recordingLogger(), isTTY: true, now: () => 0 });
    progress.update(2 * MiB);
    progress.stop();
    expect(plain(stream.output())).toContain('50% | 2.0 MiB/4.0 MiB');
  });

  it('keeps log lines off the bar line through progress.logger', () => {
    const stream = fakeTerminal(120);
    const logger = createLogger({ level: 'info', format: 'text', stream, now: () => new Date(0) });
    const progress = createProgress({ label: 'restore', total: 100, stream, logger, now: () => 0 });
    progress.update(40);
    progress.logger.child({ output: '/tmp/x.db' }).info('restored');
    progress.logger.debug('filtered out');
    progress.stop();
    progress.logger.info('after stop');
    const output = stream.output();
    // The bar's line is cleared right before the log line, which therefore starts a line.
    expect(output).toContain('\r\x1B[2Ktime=1970-01-01T00:00:00.000Z level=INFO msg=restored output=/tmp/x.db\n');
    // ... and the bar is drawn again after it.
    const afterLine = output.slice(output.indexOf('msg=restored'));
    expect(plain(afterLine)).toMatch(/\nrestore \[.*40%/);
    expect(output.endsWith('level=INFO msg="after stop"\n')).toBe(true);
  });
});
