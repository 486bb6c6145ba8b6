import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LogLevel } from './levels.ts';
import { createLogger } from './logger.ts';

const TIME = new Date('2026-11-23T14:03:40.123Z');
const SECRET = 'Zq9-very-secret-value';

/** A logger over a stream that keeps every line written. */
function capture(options: { level?: LogLevel; format?: 'text' | 'json'; secrets?: readonly string[] } = {}) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ level: options.level ?? 'info', format: options.format ?? 'text', stream, secrets: options.secrets ?? [], now: () => TIME });
  return { logger, lines };
}

describe('createLogger text format', () => {
  it("writes slog-style lines, one write per line", () => {
    const { logger, lines } = capture();
    logger.info('initialized db', { db: '/data/app.db', txid: '0000000000000001' });
    expect(lines).toEqual(['time=2026-11-23T14:03:40.123Z level=INFO msg="initialized db" db=/data/app.db txid=0000000000000001\n']);
  });

  it('quotes values with spaces, quotes, equals signs, backslashes or newlines, and empty ones', () => {
    const { logger, lines } = capture();
    logger.warn('x', { a: 'two words', b: 'say "hi"', c: 'k=v', d: 'C:\\dir', e: 'line\nbreak', f: '', g: 'plain' });
    expect(lines[0]).toBe('time=2026-11-23T14:03:40.123Z level=WARN msg=x a="two words" b="say \\"hi\\"" c="k=v" d="C:\\\\dir" e="line\\nbreak" f="" g=plain\n');
  });

  it('prints errors as their message (with causes), numbers, booleans, nested objects and arrays', () => {
    const { logger, lines } = capture();
    const error = new Error('upload failed', { cause: new Error('connect ECONNREFUSED') });
    logger.error('sync error', { error, n: 3, ok: false, big: 2n ** 64n, replica: { type: 's3', bucket: 'b' }, files: ['a', 'b'] });
    expect(lines[0]).toBe(
      'time=2026-11-23T14:03:40.123Z level=ERROR msg="sync error" error="upload failed: connect ECONNREFUSED" n=3 ok=false big=18446744073709551616 replica.type=s3 replica.bucket=b files="[\\"a\\",\\"b\\"]"\n',
    );
  });

  it('gives TRACE its own name and filters by level', () => {
    const { logger, lines } = capture({ level: 'trace' });
    logger.trace('t');
    expect(lines[0]).toContain('level=TRACE msg=t');
    const warnOnly = capture({ level: 'warn' });
    warnOnly.logger.trace('t');
    warnOnly.logger.debug('d');
    warnOnly.logger.info('i');
    warnOnly.logger.warn('w');
    warnOnly.logger.error('e');
    expect(warnOnly.lines.map((line) => /msg=(\w)/.exec(line)?.[1])).toEqual(['w', 'e']);
  });

  it('merges child fields, the call overriding the child', () => {
    const { logger, lines } = capture();
    const child = logger.child({ db: '/a.db', replica: 'file' }).child({ replica: 's3' });
    child.info('replicating to', { txid: 'none', replica: 'gs' });
    expect(lines[0]).toBe('time=2026-11-23T14:03:40.123Z level=INFO msg="replicating to" db=/a.db replica=gs txid=none\n');
    logger.info('parent untouched');
    expect(lines[1]).toBe('time=2026-11-23T14:03:40.123Z level=INFO msg="parent untouched"\n');
  });

  it('drops undefined fields and keeps reserved names out of the way', () => {
    const { logger, lines } = capture();
    logger.info('m', { gone: undefined, msg: 'field', level: 1 });
    expect(lines[0]).toBe('time=2026-11-23T14:03:40.123Z level=INFO msg=m field.msg=field field.level=1\n');
  });
});

describe('createLogger JSON format', () => {
  it('writes one object per line', () => {
    const { logger, lines } = capture({ format: 'json', level: 'trace' });
    logger.trace('restored', { output: '/tmp/x.db', bytes: 4096, error: new Error('boom'), nested: { a: [1, 2] } });
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '2026-11-23T14:03:40.123Z',
      level: 'TRACE',
      msg: 'restored',
      output: '/tmp/x.db',
      bytes: 4096,
      error: 'boom',
      nested: { a: [1, 2] },
    });
  });

  it('survives circular references', () => {
    const { logger, lines } = capture({ format: 'json' });
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    logger.info('m', { loop });
    expect(JSON.parse(lines[0]!).loop).toEqual({ name: 'loop', self: '[circular]' });
  });
});

describe.each(['text', 'json'] as const)('redaction in %s format', (format) => {
  function logged(log: (logger: ReturnType<typeof capture>['logger']) => void): string {
    const { logger, lines } = capture({ format, secrets: [SECRET] });
    log(logger);
    expect(lines).toHaveLength(1);
    if (format === 'json') JSON.parse(lines[0]!);
    return lines[0]!;
  }

  it('(a) hides fields whose names look like credentials, whatever their value', () => {
    const line = logged((logger) =>
      logger.info('config', { 'secret-access-key': 'not-registered-1', accountKey: 'not-registered-2', nested: { password: 'not-registered-3' }, keyPath: '/home/u/.ssh/id' }),
    );
    expect(line).not.toMatch(/not-registered/);
    expect(line.match(/\[REDACTED\]/g)).toHaveLength(3);
    expect(line).toContain('/home/u/.ssh/id');
  });

  it('(b) hides a registered secret in the message, fields, nested values, arrays and error messages', () => {
    const line = logged((logger) =>
      logger.child({ note: `child ${SECRET}` }).error(`sync error using ${SECRET}`, {
        error: new Error(`403 for signature ${SECRET}`, { cause: new Error(`cause ${SECRET}`) }),
        detail: { deeper: [`x${SECRET}y`] },
        byUrl: new Map([[`https://host/${SECRET}`, 1]]),
        url: new URL(`https://host/p?q=${SECRET}`),
      }),
    );
    expect(line).not.toContain(SECRET);
    expect(line.match(/\[REDACTED\]/g)!.length).toBeGreaterThanOrEqual(7);
  });

  it('(c) masks URL passwords in messages, fields and errors', () => {
    const line = logged((logger) =>
      logger.warn('cannot reach sftp://alice:pa55word@backup.local/db', { url: 'nats://u:nat5pass@nats:4222', error: new Error('dial s3://K:S3cretKey@minio:9000 failed') }),
    );
    expect(line).not.toMatch(/pa55word|nat5pass|S3cretKey/);
    expect(line).toContain('sftp://alice:[REDACTED]@backup.local/db');
    expect(line).toContain('nats://u:[REDACTED]@nats:4222');
    expect(line).toContain('s3://K:[REDACTED]@minio:9000');
  });
});

describe('createLogger with source (logging.source)', () => {
  function sourced(format: 'text' | 'json') {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    return { logger: createLogger({ level: 'info', format, stream, now: () => TIME, source: true }), lines };
  }

  /** The line number of the statement that calls this. */
  function lineHere(): number {
    const frame = new Error().stack!.split('\n')[2]!;
    return Number(/:(\d+):\d+\)?$/.exec(frame)![1]);
  }

  it('adds source=FILE:LINE of the calling code, after the level, through child loggers too', () => {
    const { logger, lines } = sourced('text');
    const line = lineHere(); logger.info('hello', { db: '/a.db' });
    logger.child({ db: '/b.db' }).warn('from a child', { source: 'a field' });
    expect(lines[0]).toMatch(new RegExp(`^time=2026-11-23T14:03:40\\.123Z level=INFO source=\\S*logger\\.test\\.ts:${line} msg=hello db=/a\\.db\\n$`));
    expect(lines[1]).toMatch(new RegExp(`level=WARN source=\\S*logger\\.test\\.ts:${line + 1} msg="from a child" db=/b\\.db field\\.source="a field"\\n$`));
  });

  it('writes it as an object in JSON, as slog does', () => {
    const { logger, lines } = sourced('json');
    const line = lineHere(); logger.info('hello');
    const parsed = JSON.parse(lines[0]!) as { source: { file: string; line: number }; msg: string };
    expect(Object.keys(parsed)).toEqual(['time', 'level', 'source', 'msg']);
    expect(parsed.source.file).toMatch(/logger\.test\.ts$/);
    expect(parsed.source.line).toBe(line);
  });

  it('is off by default', () => {
    const { logger, lines } = capture();
    logger.info('hello');
    expect(lines[0]).not.toContain('source=');
  });
});
