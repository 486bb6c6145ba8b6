/** A failed control request: its HTTP status and the one-line message the command prints. */
export class ControlError extends Error {
  readonly status: number;
  /** With "database not found": the databases the server knows. */
  readonly knownDatabases: readonly string[] | undefined;
  constructor(status: number, message: string, knownDatabases?: readonly string[]) {
    super(message);
    this.name = 'ControlError';
    this.status = status;
    this.knownDatabases = knownDatabases;
  }
}
