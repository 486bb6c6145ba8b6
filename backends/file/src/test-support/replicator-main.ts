// A replicating process for core's crash tests: runs a Store for one database and a file
// replica until it is killed. Prints "started" once replication is running. It lives here
// because this package depends on core (built), not the other way round.
import { Store } from '@litestream-ts/core';
import { FileReplicaClient } from '../file-replica-client.ts';

const [dbPath, replicaDir] = process.argv.slice(2);
const store = new Store({
  databases: [{ path: dbPath!, replica: new FileReplicaClient(replicaDir!), db: { minCheckpointPageCount: 200 } }],
  monitorInterval: 10,
  levels: [
    { level: 1, interval: 100 },
    { level: 2, interval: 300 },
  ],
  snapshotInterval: 500,
  l0Retention: 200,
});
await store.start();
process.stdout.write('started\n');
setInterval(() => {}, 1 << 30);
