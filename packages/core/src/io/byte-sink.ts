import type { Writable } from 'node:stream';

/** Where encoded bytes go: a Node writable stream or a function that takes each chunk. */
export type ByteSink = Writable | ((chunk: Buffer) => void | Promise<void>);

/** Resolves on 'drain', rejects on 'error' or an early 'close', and removes its listeners either way. */
export function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(stream.errored ?? new Error('output stream closed before all bytes were written'));
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
