import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.ts';
import { normalizeArgs } from './argv.ts';
import { registerControlCommands } from './commands/control.ts';
import { registerDatabases } from './commands/databases.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerLtx } from './commands/ltx.ts';
import { registerReplicate } from './commands/replicate.ts';
import { registerReset } from './commands/reset.ts';
import { registerRestore } from './commands/restore.ts';
import { registerStatus } from './commands/status.ts';
import { registerVersion, version } from './commands/version.ts';
import { DeferredRegistry } from './deferred-registry.ts';
import { scrubSecrets } from './scrub.ts';

/**
 * Builds the `litestream` command with every sub-command. Only commander and the commands'
 * options are loaded here: each command imports what it needs (core, the config loader, the
 * backends' registry, metrics, the progress bar) when it runs, so `version` and `--help` stay
 * fast and small.
 */
export function buildProgram(options: RunOptions = {}): Command {
  const registry = new DeferredRegistry(undefined, options.beside);
  const program = new Command('litestream')
    .description(
      'Streaming replication of SQLite databases (compatible with Litestream v0.5 configs and replicas).\n' +
        'Flags take one or two dashes: -config and --config are the same.\n' +
        'Backends: file is built in; others are used when installed beside this\n' +
        'command or in the project (npm install @litestream-ts/backend-s3, ...),\n' +
        'or when named by the config\'s plugins: or LITESTREAM_PLUGINS.',
    )
    .version(version, '-v, --version')
    .showHelpAfterError('(run "litestream help <command>" for usage)')
    .exitOverride();
  registerReplicate(program, registry);
  registerRestore(program, registry);
  registerDatabases(program, registry);
  registerLtx(program, registry);
  registerStatus(program, registry);
  registerReset(program, registry);
  registerDoctor(program, registry);
  registerControlCommands(program);
  registerVersion(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** How a host runs the command. */
export interface RunOptions {
  /**
   * Directories whose installed packages hold backends too, searched after the working
   * directory and the CLI's own installation: the `litestream-ts` meta-package passes its own.
   */
  readonly beside?: readonly string[];
}

/** Runs the CLI; failures are one line on stderr (credentials hidden) and a non-zero exit code. */
export async function runLitestream(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const program = buildProgram(options);
  try {
    await program.parseAsync(normalizeArgs(argv), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`litestream: ${scrubSecrets(describe(err))}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

function describe(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && 'path' in err && typeof (err as NodeJS.ErrnoException).path === 'string') {
    const e = err as NodeJS.ErrnoException;
    const reason = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory' }[e.code ?? ''];
    return `${e.path}: ${reason ?? e.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
