import Database from 'better-sqlite3';
import { Store, restoreIfNotExists } from '@litestream-ts/core';
import { FileReplicaClient } from '@litestream-ts/backend-file';

const replica = new FileReplicaClient('backups/app');
await restoreIfNotExists({ client: replica, outputPath: 'app.db' }); // fresh machine: bring the data back

const db = new Database('app.db'); // creates app.db when there was nothing to restore
db.exec('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)');

const store = new Store({ databases: [{ path: 'app.db', replica }] });
await store.start();             // snapshot, then one LTX file per sync (every second)
db.prepare('INSERT INTO notes (body) VALUES (?)').run(`written at ${new Date().toISOString()}`);
await store.syncAndWait();       // e.g. before acknowledging something important
console.log(store.syncStatus()); // local vs replica TXID
await store.stop();              // final sync (within shutdownSyncTimeout), then close
db.close();
