// DEC save/restore cursor. cli-progress saves the cursor when a bar starts and jumps back to
// it on stop; once log lines have pushed the bar down, that jump lands above them and the
// next output overwrites them. Without the pair, stop simply ends the bar's own line.
const SAVE_CURSOR = '\x1B7';
const RESTORE_CURSOR = '\x1B8';

/**
 * The terminal as cli-progress sees it: `target` minus cursor save/restore, and always a TTY
 * (so `isTTY: true` passed to `createProgress` draws even when the stream cannot tell).
 */
export function barStream(target: NodeJS.WriteStream): NodeJS.WritableStream {
  const adapter = {
    isTTY: true,
    get columns(): number | undefined {
      return target.columns;
    },
    write(chunk: unknown, ...rest: unknown[]): boolean {
      if (chunk === SAVE_CURSOR || chunk === RESTORE_CURSOR) {
        const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }
      return Reflect.apply(target.write, target, [chunk, ...rest]) as boolean;
    },
  };
  // cli-progress (and readline's cursor helpers it calls) only use write, isTTY and columns.
  return adapter as unknown as NodeJS.WritableStream;
}
