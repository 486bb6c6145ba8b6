/**
 * A failure the CLI reports as one line and an exit code. A plain `Error` rather than core's
 * `LitestreamError`, so that every command can throw it without loading core.
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
