import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RACER = fileURLToPath(new URL('./object-racer.ts', import.meta.url));

/**
 * Starts one `object-racer.ts` process per argument list, waits until all are ready, releases
 * them together (calling `atStart` at the same moment, to race from this process too) and
 * returns each one's JSON outcome.
 */
export async function raceProcesses(argLists: readonly string[][], atStart?: () => void): Promise<Array<Record<string, unknown>>> {
  const racers = argLists.map((args) => {
    const child = spawn(process.execPath, ['--no-warnings', RACER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (text: string) => {
        stdout += text;
        if (stdout.startsWith('ready\n')) resolve();
      });
      child.once('exit', () => reject(new Error(`racer exited before it was ready: ${stderr}`)));
    });
    child.stderr.on('data', (text: string) => (stderr += text));
    const exited = new Promise<Record<string, unknown>>((resolve, reject) => {
      child.once('exit', (code) => {
        const last = stdout.trim().split('\n').at(-1) ?? '';
        if (code !== 0) reject(new Error(`racer ${args.join(' ')} exited with ${code}: ${last} ${stderr}`));
        else resolve(JSON.parse(last) as Record<string, unknown>);
      });
    });
    // Observed now so that an early abort (killing the others) leaves no unhandled rejection.
    exited.catch(() => {});
    return { child, ready, exited };
  });
  try {
    await Promise.all(racers.map((r) => r.ready));
  } catch (error) {
    for (const r of racers) r.child.kill();
    throw error;
  }
  for (const r of racers) r.child.stdin.write('go\n');
  atStart?.();
  return Promise.all(racers.map((r) => r.exited));
}
