import { Command, CommanderError } from 'commander';
import { registerApply } from './commands/apply.ts';
import { registerChecksum } from './commands/checksum.ts';
import { registerDump } from './commands/dump.ts';
import { registerEncodeDb } from './commands/encode-db.ts';
import { registerList } from './commands/list.ts';
import { registerVerify } from './commands/verify.ts';
import { describeError } from './output.ts';
import { version } from './version.ts';

/** Builds the `ltx` command: tools to make, inspect, verify and apply LTX files. */
export function buildLtxProgram(): Command {
  const program = new Command('ltx')
    .description('Make, inspect, verify and apply LTX v3 files (the format of Litestream replicas).')
    .version(version, '-v, --version')
    .showHelpAfterError('(run "ltx help <command>" for usage)')
    .exitOverride();
  for (const register of [registerEncodeDb, registerApply, registerVerify, registerDump, registerChecksum, registerList]) register(program);
  return program;
}

/** Runs the CLI; every failure becomes one line on stderr and a non-zero exit code. */
export async function runLtx(argv: readonly string[]): Promise<number> {
  const program = buildLtxProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander already printed the message
    process.stderr.write(`ltx: ${describeError(err)}\n`);
    return 1;
  }
}
