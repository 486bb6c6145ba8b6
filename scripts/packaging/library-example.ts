// Runs the README's library example (examples/library/replicate.ts) the way a user would: in a
// fresh directory, once with nothing to restore, then again on a "new machine" (the database
// and its local state gone) where it must bring the data back from the replica first.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './workspace.ts';

export const LIBRARY_EXAMPLE = join(ROOT, 'examples/library/replicate.ts');

export interface ExampleRuns {
  /** stdout of the first and the second run. */
  readonly outputs: readonly [string, string];
  /** Rows in app.db after each run. */
  readonly rows: readonly [number, number];
  /** LTX files in the replica after the first run. */
  readonly ltxFiles: number;
}

/**
 * Runs `script` twice in `cwd` (which must be empty), removing app.db and its local state in
 * between. `modulesFrom` is a directory from which `better-sqlite3` resolves, to count rows.
 */
export function runLibraryExampleTwice(script: string, cwd: string, modulesFrom: string): ExampleRuns {
  const run = () => execFileSync(process.execPath, [script], { cwd, encoding: 'utf8', timeout: 60_000 });
  const first = run();
  const firstRows = countRows(join(cwd, 'app.db'), modulesFrom);
  const ltxFiles = countFiles(join(cwd, 'backups/app/ltx'));
  for (const name of ['app.db', 'app.db-wal', 'app.db-shm', '.app.db-litestream']) rmSync(join(cwd, name), { recursive: true, force: true });
  const second = run();
  return { outputs: [first, second], rows: [firstRows, countRows(join(cwd, 'app.db'), modulesFrom)], ltxFiles };
}

function countRows(database: string, modulesFrom: string): number {
  const code = `const D = require(require.resolve('better-sqlite3', { paths: [${JSON.stringify(modulesFrom)}] }));
const db = new D(${JSON.stringify(database)}, { readonly: true });
process.stdout.write(String(db.prepare('SELECT count(*) AS n FROM notes').get().n));`;
  return Number(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }));
}

function countFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
}

/** The code blocks of a markdown file that follow `<!-- example: PATH -->`, with their paths. */
export function quotedExamples(markdown: string): { path: string; code: string }[] {
  const found: { path: string; code: string }[] = [];
  const pattern = /<!-- example: (\S+) -->\n```[a-z]*\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(pattern)) found.push({ path: match[1]!, code: match[2]! });
  return found;
}
