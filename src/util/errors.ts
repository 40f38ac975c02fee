// Errors the CLI maps to exit codes (SPEC 6): bad usage or input is 2.
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
