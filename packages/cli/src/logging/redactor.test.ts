import { describe, expect, it } from 'vitest';
import { Redactor } from './redactor.ts';

describe('Redactor', () => {
  it('hides every registered value wherever it appears', () => {
    const redactor = new Redactor(['hunter2-s3cr3t', 'AKIAEXAMPLE']);
    expect(redactor.redact('auth failed for AKIAEXAMPLE with hunter2-s3cr3t (hunter2-s3cr3t)')).toBe(
      'auth failed for [REDACTED] with [REDACTED] ([REDACTED])',
    );
  });

  it('hides a secret that contains another one whole', () => {
    const redactor = new Redactor(['abcd', 'abcdefgh']);
    expect(redactor.redact('x abcdefgh y')).toBe('x [REDACTED] y');
  });

  it('hides the percent-encoded form of a secret', () => {
    const redactor = new Redactor(['p@ss/word']);
    expect(redactor.redact('https://example.com/?x=p%40ss%2Fword')).toBe('https://example.com/?x=[REDACTED]');
  });

  it('does not match very short values in text', () => {
    expect(new Redactor(['abc']).redact('abcdef')).toBe('abcdef');
  });

  it('masks URL passwords even when not registered', () => {
    const redactor = new Redactor();
    expect(redactor.redact('dial sftp://alice:topsecret@host:22/backups failed')).toBe('dial sftp://alice:[REDACTED]@host:22/backups failed');
    expect(redactor.redact('nats://:tok@en@nats.local/x')).toBe('nats://:[REDACTED]@nats.local/x');
    expect(redactor.redact('s3://bucket/path and sftp://bob@host/dir')).toBe('s3://bucket/path and sftp://bob@host/dir');
  });

  it('masks credential query parameters', () => {
    const redactor = new Redactor();
    expect(redactor.redact('GET https://acct.blob.core.windows.net/c/x?sv=2022&sig=abc%2Bdef&se=2030')).toBe(
      'GET https://acct.blob.core.windows.net/c/x?sv=2022&sig=[REDACTED]&se=2030',
    );
    expect(redactor.redact('https://s3/x?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff00')).toBe(
      'https://s3/x?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]',
    );
  });
});
