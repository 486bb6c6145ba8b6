import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../cli-error.ts';
import type { ControlCall } from '../control/control-client.ts';
import type {
  DatabaseInfoResponse,
  InfoResponse,
  ListResponse,
  RegisterResponse,
  StartStopResponse,
  SyncResponse,
  UnregisterResponse,
} from '../control/protocol.ts';
import { DEFAULT_SOCKET_PATH } from '../control/socket-defaults.ts';
import { printJSON } from '../output.ts';

// The commands that drive a running `replicate` through its control socket. Each is a small
// HTTP client: it loads node:http and this file, never core, the config loader or a backend.

interface ControlOptions {
  socket: string;
  timeout: string;
  json?: boolean;
}

const SOCKET_HELP = "control socket of litestream replicate (its config's socket.path)";
const ENABLE_HINT = '\n\nNeeds a running `litestream replicate` whose config enables the control socket:\n  socket:\n    enabled: true\n    path: /var/run/litestream.sock';

/** Adds `list`, `info`, `sync`, `start`, `stop`, `register` and `unregister`. */
export function registerControlCommands(program: Command): void {
  controlCommand(program, 'list', 10)
    .summary('list the databases of a running replicate')
    .description(`Lists the databases a running \`litestream replicate\` manages: replicating or stopped, and when each last synced.${ENABLE_HINT}`)
    .action(async (opts: ControlOptions) => {
      const result = await call<ListResponse>(opts, 'list', 'GET /list');
      if (opts.json) return printJSON(result);
      if (result.databases.length === 0) return print('No databases configured');
      for (const d of result.databases) {
        print(`${d.path} [${d.status}] (last sync: ${d.last_sync_at ?? 'never'})${d.last_error ? ` error: ${d.last_error}` : ''}`);
      }
    });

  controlCommand(program, 'info', 10)
    .summary('show a running replicate, or one of its databases')
    .description(
      'Without DB: the version, process id, uptime and number of databases of a running `litestream replicate`. With DB: its local and ' +
        `replica TXIDs, lag, last sync and last error, replica health, and where it is replicated to.${ENABLE_HINT}`,
    )
    .argument('[db]', 'database path')
    .action(async (db: string | undefined, opts: ControlOptions) => {
      if (db === undefined) {
        const info = await call<InfoResponse>(opts, 'info', 'GET /info');
        if (opts.json) return printJSON(info);
        print(`litestream-ts ${info.version}`);
        print(`  PID:        ${info.pid}`);
        print(`  Uptime:     ${goDuration(info.uptime_seconds)}`);
        print(`  Started at: ${info.started_at.replace(/\.\d+Z$/, 'Z')}`);
        print(`  Databases:  ${info.database_count}`);
        return;
      }
      const info = await call<DatabaseInfoResponse>(opts, 'info', `GET /info?path=${encodeURIComponent(resolve(db))}`);
      if (opts.json) return printJSON(info);
      print(`db_path: ${info.path}`);
      print(`status: ${info.status}`);
      print(`replica: ${info.replica}`);
      print(`txid: ${info.txid}`);
      print(`replica_txid: ${info.replica_txid}`);
      print(`lag: ${info.lag}`);
      print(`in_sync: ${info.in_sync}`);
      print(`healthy: ${info.healthy}`);
      print(`last_sync_at: ${info.last_sync_at ?? 'never'}`);
      if (info.last_error) print(`last_error: ${info.last_error}`);
      if (info.corrupt_files?.length) print(`corrupt_files: ${info.corrupt_files.join(', ')}`);
    });

  controlCommand(program, 'sync', 30)
    .summary('sync a database now')
    .description(
      'Asks a running `litestream replicate` to sync DB now instead of at its next interval. With --wait, returns once the replica holds ' +
        'every transaction committed before the command started (within --timeout), and prints the replica TXID; without, returns at once.' +
        ENABLE_HINT,
    )
    .argument('<db>', 'database path')
    .option('--wait', 'wait until the replica holds everything committed before this command')
    .action(async (db: string, opts: ControlOptions & { wait?: boolean }) => {
      const started = Date.now();
      const timeout = seconds(opts.timeout);
      const r = await call<SyncResponse>(opts, 'sync', 'POST /sync', { path: resolve(db), wait: opts.wait === true, timeout });
      const result = { db_path: r.path, txid: r.txid, ...(opts.wait ? { replica_txid: r.replicated_txid } : {}), duration_ms: Date.now() - started };
      if (opts.json) return printJSON(result);
      printFields(result);
    });

  for (const [name, state, summary, description] of [
    ['start', 'running', 'start replicating a stopped database again', 'Replicates DB again in a running `litestream replicate` after `litestream stop DB`: it catches up with every transaction committed meanwhile.'],
    [
      'stop',
      'stopped',
      'stop replicating a database and release it',
      'Stops replicating DB in a running `litestream replicate`: a final sync (within --timeout), then the database, its lock and its lease are released. ' +
        'It stays known, so `litestream start DB` replicates it again; the config file is not changed, and a restart of replicate replicates it again.',
    ],
  ] as const) {
    controlCommand(program, name, 30)
      .summary(summary)
      .description(`${description}${ENABLE_HINT}`)
      .argument('<db>', 'database path')
      .action(async (db: string, opts: ControlOptions) => {
        const r = await call<StartStopResponse>(opts, name, `POST /${name}`, { path: resolve(db), timeout: seconds(opts.timeout) });
        const result = { status: r.status, db_path: r.path, state, txid: r.txid, socket: resolve(opts.socket) };
        if (opts.json) return printJSON(result);
        printFields(result);
      });
  }

  controlCommand(program, 'register', 30)
    .summary('replicate another database, without a restart')
    .description(
      'Adds DB to a running `litestream replicate`, replicated to --replica URL with the defaults of `litestream replicate DB URL` ' +
        '(credentials from the URL or the environment). It lasts until `litestream unregister DB` or the end of replicate: the config ' +
        `file is not changed.${ENABLE_HINT}`,
    )
    .argument('<db>', 'database path (in WAL mode)')
    .option('--replica <url>', 'replica URL, e.g. s3://bucket/prefix or file:///backups/app (required)')
    .action(async (db: string, opts: ControlOptions & { replica?: string }) => {
      if (!opts.replica) throw new CliError('-replica is required: litestream register -replica URL DB', 2);
      const r = await call<RegisterResponse>(opts, 'register', 'POST /register', { path: resolve(db), replica_url: opts.replica, timeout: seconds(opts.timeout) });
      const result = { status: r.status, db_path: r.path, replica: await hideCredentials(opts.replica), socket: resolve(opts.socket) };
      if (opts.json) return printJSON(result);
      printFields({ ...result, status: r.status === 'already_registered' ? 'already registered' : r.status });
    });

  controlCommand(program, 'unregister', 30)
    .summary('stop replicating a database and forget it, without a restart')
    .description(
      'Removes DB from a running `litestream replicate` after a final sync (within --timeout): it is released and no longer listed. ' +
        `The config file is not changed: a database of the config is replicated again when replicate restarts.${ENABLE_HINT}`,
    )
    .argument('<db>', 'database path')
    .option('--dry-run', 'print what would be unregistered; send nothing')
    .action(async (db: string, opts: ControlOptions & { dryRun?: boolean }) => {
      const timeout = seconds(opts.timeout);
      if (opts.dryRun) {
        print('Dry run: nothing was sent.');
        printFields({ db_path: resolve(db), socket: resolve(opts.socket), timeout: `${timeout}s`, final_sync: 'replicate syncs the database before releasing it' });
        return;
      }
      const r = await call<UnregisterResponse>(opts, 'unregister', 'POST /unregister', { path: resolve(db), timeout });
      const result = { status: r.status, db_path: r.path, final_txid: r.txid, socket: resolve(opts.socket) };
      if (opts.json) return printJSON(result);
      printFields(result);
    });
}

/** A command with the flags every control command shares. */
function controlCommand(program: Command, name: string, defaultTimeout: number): Command {
  return program
    .command(name)
    .option('--socket <path>', SOCKET_HELP, DEFAULT_SOCKET_PATH)
    .option('--timeout <seconds>', 'how long to wait, in seconds (or a duration: 500ms, 2m)', String(defaultTimeout))
    .option('--json', 'print JSON');
}

async function call<T>(opts: ControlOptions, command: string, endpoint: `${'GET' | 'POST'} /${string}`, body?: object): Promise<T> {
  const { callControl } = await import('../control/control-client.ts');
  const timeout = seconds(opts.timeout) * 1000;
  // Commands whose timeout also bounds the work on the server get a moment more to hear its answer.
  const target: ControlCall = { socket: resolve(opts.socket), timeout: body === undefined ? timeout : timeout + 2000, command };
  return callControl<T>(target, endpoint, body);
}

/** `-timeout`: seconds (Litestream's form), or a duration such as 500ms, 10s, 2m. */
function seconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const value = match ? Number(match[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] ?? 's']! : NaN;
  if (!(value > 0) || !Number.isFinite(value)) throw new CliError(`-timeout must be a number of seconds greater than 0 (or a duration such as 500ms, 2m), got ${JSON.stringify(text)}`, 2);
  return value;
}

/** Seconds as Go prints a duration: 1h2m3s, 5m0s, 42s. */
function goDuration(totalSeconds: number): string {
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

/** A URL as it may be printed: without a password or credential query parameters. */
async function hideCredentials(url: string): Promise<string> {
  const { Redactor } = await import('../logging/redactor.ts');
  return new Redactor().redact(url);
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function printFields(fields: Readonly<Record<string, unknown>>): void {
  for (const [key, value] of Object.entries(fields)) print(`${key}: ${String(value)}`);
}
