/** Starting writer-child.ts and reading its result line. */
import { join } from 'node:path';
import { Service } from './proc.ts';

export interface WriterResult {
  mode: string;
  commits: number;
  seconds: number;
  commitNs: string[];
}

const CHILD = join(import.meta.dirname, 'writer-child.ts');

export function startWriter(db: string, mode: 'steady' | 'max' | 'lag', args: readonly (string | number)[]): Service {
  return new Service(`writer (${mode})`, process.execPath, [CHILD, db, mode, ...args.map(String)]);
}

/** Waits for the writer to finish and returns its JSON line; a writer that failed throws. */
export async function writerResult(w: Service, timeoutMs: number): Promise<WriterResult> {
  await w.wait(timeoutMs);
  if (w.exit?.code !== 0) throw new Error(`${w.name} exited with code ${w.exit?.code}:\n${w.tail()}`);
  const last = w.lines.map((l) => l.text).filter((t) => t.startsWith('{')).pop();
  if (!last) throw new Error(`${w.name} printed no result:\n${w.tail()}`);
  return JSON.parse(last) as WriterResult;
}
