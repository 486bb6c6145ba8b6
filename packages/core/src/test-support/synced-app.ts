import { join } from 'node:path';
import { DB } from '../engine/db.ts';
import type { DBOptions } from '../engine/db-options.ts';
import { AppProcess } from './app-process.ts';

/** An application process writing `path`, and the DB that stages its changes. */
export interface SyncedApp {
  path: string;
  app: AppProcess;
  db: DB;
}

/**
 * `app.db` in `dir` with `rows` rows written by an application process, opened as a DB
 * (with `options`) whose first sync has staged the initial full image.
 */
export async function syncedApp(dir: string, rows: number, options?: DBOptions): Promise<SyncedApp> {
  const path = join(dir, 'app.db');
  const app = new AppProcess(path);
  await app.insert(rows);
  const db = new DB(path, options);
  await db.open();
  await db.sync();
  return { path, app, db };
}
