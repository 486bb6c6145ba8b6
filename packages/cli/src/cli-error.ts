import { LitestreamError } from '@litestream-ts/core';

/** A failure the CLI reports as one line and an exit code. */
export class CliError extends LitestreamError {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}
