import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor, redactURLPasswords } from './redactor.ts';

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

  it('masks URL passwords exactly as the regular expression it replaces, on 20 000 generated strings', () => {
    // The former rule, as a reference: fine on short strings, quadratic on long runs of letters.
    const reference = (text: string) => text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/?#@:]*):[^\s/?#]*@/g, `$1:${REDACTED}@`);
    const alphabet = 'ab1.+-:/@?# x';
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 20_000; n++) {
      const length = 1 + Math.floor(next() * 24);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)];
      expect(redactURLPasswords(text), JSON.stringify(text)).toBe(reference(text));
    }
  });

  it('handles a 300 KB path without a URL, and one with a URL password at its end', () => {
    const long = `/srv/${'a'.repeat(300_000)}`;
    expect(new Redactor().redact(`database file "${long}" does not exist`)).toBe(`database file "${long}" does not exist`);
    expect(redactURLPasswords(`${'a'.repeat(300_000)}://u:p@h`)).toBe(`${'a'.repeat(300_000)}://u:${REDACTED}@h`);
  });
});
