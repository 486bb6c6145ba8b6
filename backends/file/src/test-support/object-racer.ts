/**
 * A second (third, …) process for cross-process race tests, run with plain `node` (type
 * stripping). It prints `ready`, waits for a line on stdin so every racer starts together,
 * then races on one object and prints one JSON line with its outcome.
 *
 *   node object-racer.ts create <root> <name>           ifNoneMatch '*' once
 *   node object-racer.ts increment <root> <name> <n>    n compare-and-swap increments
 */
import { registerHooks } from 'node:module';
import { createInterface } from 'node:readline';

// Outside vitest nothing maps the workspace package to its TypeScript source; do it here.
const coreSource = new URL('../../../../packages/core/src/index.ts', import.meta.url).href;
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === '@litestream-ts/core') return { url: coreSource, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});

const [mode, root, name, count] = process.argv.slice(2);
const { FileReplicaClient } = await import('../file-replica-client.ts');
const { PreconditionFailedError } = await import('@litestream-ts/core');
const client = new FileReplicaClient(root!);

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();

try {
  if (mode === 'create') {
    try {
      await client.writeObject(name!, new TextEncoder().encode(`process ${process.pid}`), { ifNoneMatch: '*' });
      report({ won: true, pid: process.pid });
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
      report({ won: false, pid: process.pid });
    }
  } else if (mode === 'increment') {
    let conflicts = 0;
    for (let done = 0; done < Number(count); ) {
      const current = await client.readObject(name!);
      if (current === undefined) throw new Error(`${name} vanished`);
      const next = Number(new TextDecoder().decode(current.data)) + 1;
      try {
        await client.writeObject(name!, new TextEncoder().encode(String(next)), { ifMatch: current.etag });
        done++;
      } catch (error) {
        if (!(error instanceof PreconditionFailedError)) throw error;
        conflicts++;
      }
    }
    report({ done: Number(count), conflicts });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (error) {
  report({ error: String(error) });
  process.exitCode = 1;
}

function report(outcome: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}
