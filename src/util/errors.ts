// Errors the CLI maps to exit codes (SPEC 6): bad usage or input is 2.
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * The archive stopped part-way (SPEC 9.2 framing error, 9.5 conflicting record): what came
 * before it is imported, and a replay still evaluates it before exiting 2.
 */
export class PartialImportError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'PartialImportError';
  }
}
