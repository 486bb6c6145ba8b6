import { fileURLToPath } from 'node:url';

/** Where a log call was made (`logging.source`), as Go's slog reports it. */
export interface LogSource {
  /** The calling function, when the stack names one. */
  readonly function?: string;
  /** The file: a path, shortened to what follows the last `node_modules/` when it has one. */
  readonly file: string;
  readonly line: number;
}

const FRAME = /^\s*at (?:async )?(?:(.+?) \()?(.+):(\d+):\d+\)?$/;

/**
 * The first frame of the current stack outside the logger's own module (`loggerFile`, a
 * module URL or path): the code that called `info`, `warn`, …. Undefined when the stack
 * cannot be read.
 */
export function callerSource(loggerFile: string): LogSource | undefined {
  const stack = new Error().stack;
  if (!stack) return undefined;
  const skip = new Set([toPath(loggerFile), OWN_FILE]);
  for (const line of stack.split('\n').slice(1)) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const [, fn, location, lineNumber] = match;
    const path = toPath(location!);
    if (skip.has(path) || path.startsWith('node:')) continue;
    const at = path.lastIndexOf('/node_modules/');
    return { ...(fn ? { function: fn } : {}), file: at >= 0 ? path.slice(at + '/node_modules/'.length) : path, line: Number(lineNumber) };
  }
  return undefined;
}

/** A stack frame's location as a path (frames name ES modules by `file:` URL). */
function toPath(location: string): string {
  if (!location.startsWith('file://')) return location;
  try {
    return fileURLToPath(location);
  } catch {
    return location;
  }
}

const OWN_FILE = toPath(import.meta.url);
