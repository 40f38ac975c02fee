// Errors the CLI maps to exit codes (SPEC 6): bad usage, input or environment is 2. `run()`
// prints a CliError as one line (`spork-replay: <message>[; <hint>]`) and exits with its
// code; anything else is a bug and is printed with its stack.
import { statfsSync } from 'node:fs';

export class CliError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(message: string, opts: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CliError';
    this.exitCode = opts.exitCode ?? 2;
    this.hint = opts.hint;
  }

  /** The line the CLI prints (without the program name). */
  line(): string {
    return this.hint === undefined ? this.message : `${this.message}; ${this.hint}`;
  }
}

/** Bad usage or input (a missing or malformed archive, a bad flag value). */
export class InputError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, { hint });
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

/** The machine, not the input: a full disk, a permission, a damaged store. */
export class EnvironmentError extends CliError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts);
    this.name = 'EnvironmentError';
  }
}

/** A write failed for lack of space (or the device failed); says what was kept. */
export class NoSpaceError extends EnvironmentError {
  /** `where`: a path on the filesystem written to (tells a full disk from a failing device on EIO). */
  constructor(
    readonly what: string,
    readonly kept: string,
    cause?: unknown,
    where?: string,
  ) {
    super(`${noSpaceReason(cause, where)} while writing ${what}; kept: ${kept}`, { cause });
    this.name = 'NoSpaceError';
  }
}

/** The store's files are not what LMDB wrote (truncated, overwritten): nothing maps them. */
export class DamagedStoreError extends EnvironmentError {
  constructor(dir: string, detail: string) {
    super(`store is damaged: ${dir}: ${detail}`, { hint: 'restore it from a copy, or delete it and import the archive again' });
    this.name = 'DamagedStoreError';
  }
}

const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
/** errno values LMDB reports as numbers: ENOSPC 28, EDQUOT 122, EFBIG 27, EIO 5. */
const NO_SPACE_ERRNOS = new Set([28, 122, 27]);
const EIO = 5;
const MDB_MAP_FULL = -30792;
/** MDB_PANIC, MDB_BAD_TXN: the environment or transaction is unusable after an earlier failure. */
const MDB_AFTER_FAILURE = new Set([-30795, -30782]);

function codeOf(e: unknown): unknown {
  return e !== null && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
}

/** The error a failed lmdb-js asynchronous commit carries, if that is what `e` is. */
function unwrapCommit(e: unknown): unknown {
  const inner = e !== null && typeof e === 'object' ? (e as { commitError?: unknown }).commitError : undefined;
  return inner instanceof Error ? inner : e;
}

/**
 * Whether `e` is a failed write for lack of space or a failing device: ENOSPC, EDQUOT, EFBIG,
 * EIO (LMDB turns a short write, which is what a full disk gives it, into EIO), MDB_MAP_FULL,
 * and LMDB's errors for transactions after such a failure.
 */
export function isWriteFailure(e: unknown): boolean {
  const x = unwrapCommit(e);
  const code = codeOf(x);
  if (typeof code === 'string') return NO_SPACE_CODES.has(code) || code === 'EIO';
  if (typeof code === 'number') return NO_SPACE_ERRNOS.has(code) || code === EIO || code === MDB_MAP_FULL || MDB_AFTER_FAILURE.has(code);
  const message = x instanceof Error ? x.message : '';
  return /Commit failed|No space left on device|Input\/output error|MDB_MAP_FULL|txn has failed/.test(message);
}

function noSpaceReason(cause: unknown, where: string | undefined): string {
  const x = unwrapCommit(cause);
  const code = codeOf(x);
  if (code === MDB_MAP_FULL) return 'no space left in the store (its map size is reached)';
  if (code === 'EFBIG' || code === 27) return 'the file size limit was reached (EFBIG)';
  if (code === EIO || code === 'EIO') {
    const path = where ?? (x as { path?: unknown } | undefined)?.path;
    return typeof path === 'string' && !lowOnSpace(path) ? 'the device failed (input/output error)' : 'no space left on device';
  }
  return 'no space left on device';
}

/** Whether the filesystem holding `path` has (almost) no free space left; unknown counts as low. */
export function lowOnSpace(path: string): boolean {
  try {
    const s = statfsSync(path);
    const free = s.bavail * s.bsize;
    return free < Math.max(64 * 1024 * 1024, 0.01 * s.blocks * s.bsize);
  } catch {
    return true;
  }
}

/** The one-line text of an operating-system error: `permission denied: PATH`, ... */
export function osErrorLine(e: unknown): string | null {
  const code = codeOf(e);
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return null;
  const path = (e as { path?: unknown }).path;
  const where = typeof path === 'string' ? `: ${path}` : '';
  const text = OS_ERRORS[code];
  if (text !== undefined) return `${text}${where}`;
  return `${code}${where}: ${(e as Error).message}`;
}

const OS_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOMEM: 'out of memory',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
  EBUSY: 'resource busy',
};

/**
 * Maps an error that reached the top of the CLI to a CliError when it is an input or
 * environment problem that some path did not name itself; null for a bug.
 */
export function classify(e: unknown): CliError | null {
  if (e instanceof CliError) return e;
  if (isWriteFailure(e)) {
    const path = (unwrapCommit(e) as { path?: unknown }).path;
    return new NoSpaceError(
      typeof path === 'string' ? path : 'the store',
      'every transaction committed before it (the store stays consistent; run the command again when there is space)',
      e,
    );
  }
  const line = osErrorLine(e);
  return line === null ? null : new EnvironmentError(line, { cause: e });
}

/**
 * The line the CLI prints for an error that reached its top: one line for an input or
 * environment problem (`writing`: the file being written, when the error does not say), the
 * stack for a bug.
 */
export function failureLine(e: unknown, writing: { what: string; kept: string } | null = null): string {
  if (writing !== null && !(e instanceof CliError) && isWriteFailure(e)) return new NoSpaceError(writing.what, writing.kept, e).line();
  const known = classify(e);
  if (known !== null) return known.line();
  return `internal error: ${e instanceof Error ? e.stack : String(e)}`;
}
