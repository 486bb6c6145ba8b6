// A process that holds a database's replication lock (tests only): `node lock-holder-main.ts DB META`.
// Prints "locked" once it holds it (or the error), then holds it until stdin closes or it is killed.
import { ReplicationLock } from '../ownership/replication-lock.ts';

const [database, metaPath] = process.argv.slice(2) as [string, string];
const lock = new ReplicationLock(database, metaPath);
try {
  await lock.acquire();
  process.stdout.write('locked\n');
} catch (err) {
  process.stdout.write(`error: ${(err as Error).message}\n`);
  process.exit(1);
}
process.stdin.resume();
process.stdin.on('end', () => {
  lock.release();
  process.exit(0);
});
