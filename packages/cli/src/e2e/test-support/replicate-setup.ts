import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppProcess } from '../../../../core/src/test-support/app-process.ts';

/** What a `replicate` end-to-end test starts from. */
export interface ReplicateSetup {
  /** The database, `app.db`, written by `app`. */
  db: string;
  /** The file replica's directory, `replica`. */
  replica: string;
  app: AppProcess;
  /** The config file, `litestream.yml`. */
  config: string;
}

/**
 * In `dir`: `app.db` with `rows` rows written by an application process, and `litestream.yml`
 * holding what `yaml` makes of the database's path and the file replica's directory.
 */
export async function replicateSetup(dir: string, rows: number, yaml: (paths: { db: string; replica: string }) => string): Promise<ReplicateSetup> {
  const db = join(dir, 'app.db');
  const replica = join(dir, 'replica');
  const app = new AppProcess(db);
  await app.insert(rows);
  const config = join(dir, 'litestream.yml');
  await writeFile(config, yaml({ db, replica }));
  return { db, replica, app, config };
}
