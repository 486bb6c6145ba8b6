import { describe, expect, it } from 'vitest';
import { expandEnv } from './env-expansion.ts';

describe('expandEnv (Go os.Expand rules)', () => {
  const env = { BUCKET: 'my-bucket', KEY_ID: 'AKIA123', EMPTY: '' };
  it.each([
    ['url: s3://$BUCKET/db', 'url: s3://my-bucket/db'],
    ['url: s3://${BUCKET}/db', 'url: s3://my-bucket/db'],
    ['id: ${KEY_ID}x', 'id: AKIA123x'],
    ['id: $KEY_IDx', 'id: '],
    ['a: $UNDEFINED.', 'a: .'],
    ['a: ${EMPTY}', 'a: '],
    ['price: 5$', 'price: 5$'],
    ['a: $ b', 'a: $ b'],
    ['a: ${}b', 'a: b'],
    ['a: ${BUCKET', 'a: BUCKET'],
    ['a: $$', 'a: '],
    ['a: $1x', 'a: x'],
    ['a: ${BUCKET}${BUCKET}', 'a: my-bucketmy-bucket'],
  ])('expands %j', (text, expected) => {
    expect(expandEnv(text, env)).toBe(expected);
  });

  it('expands $PID to the process id, as Litestream does', () => {
    expect(expandEnv('meta-path: /tmp/$PID', {}, 4242)).toBe('meta-path: /tmp/4242');
    expect(expandEnv('meta-path: /tmp/${PID}', { PID: 'ignored' }, 7)).toBe('meta-path: /tmp/7');
  });
});
