// Files the CLI writes (reports, exports, HTML) appear complete or not at all: they are written
// to `<name>.tmp-<pid>` in the same directory, flushed to the disk, then renamed over the final
// name. A failed write removes the temporary file and leaves the final name as it was. Writes
// are synchronous: a report is produced by a synchronous walk of the store, and a write that
// cannot keep up then simply waits instead of buffering the whole file in memory.
import { closeSync, existsSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError, EnvironmentError, InputError, NoSpaceError, isWriteFailure, osErrorLine } from './errors.js';

/** What a file being written is, for error messages. */
export interface FileLabel {
  /** e.g. `the report r.jsonl` */
  what: string;
  /** What stays consistent if writing it fails, e.g. `the replayed store; r.jsonl is unchanged`. */
  kept: string;
}

interface Pending extends FileLabel {
  temp: string;
}

/** Temporary files being written; removed at exit if still there (a crash path called exit). */
const pending = new Set<Pending>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of pending) removeQuietly(p.temp);
  });
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.tmp-${process.pid}`);
}

/** The label of the one file being written now, if exactly one is (the top-level error handler uses it). */
export function fileBeingWritten(): FileLabel | null {
  if (pending.size !== 1) return null;
  const [p] = pending;
  return { what: p.what, kept: p.kept };
}

/** Maps a failed write of `label` to the CLI's one-line error; other errors (bugs) are returned as they are. */
export function writeError(e: unknown, label: FileLabel, where: string): unknown {
  if (e instanceof CliError) return e;
  if (isWriteFailure(e)) return new NoSpaceError(label.what, label.kept, e, where);
  const line = osErrorLine(e);
  return line === null ? e : new EnvironmentError(`cannot write ${label.what}: ${line}`, { cause: e });
}

/** Checks that `path` can name an output file (not a directory, its directory exists). */
export function checkOutputPath(path: string, flag: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) throw new InputError(`${flag} ${path}: is a directory (give a file name)`);
  const dir = dirname(path);
  if (!existsSync(dir)) throw new InputError(`${flag} ${path}: no directory ${dir}`);
  if (!statSync(dir).isDirectory()) throw new InputError(`${flag} ${path}: ${dir} is not a directory`);
}

/**
 * A file written under a temporary name and renamed into place by `commit()`. Every failure is
 * thrown as a CliError naming the file and what was kept, after the temporary file is removed.
 */
export class AtomicFile {
  private fd: number | null;
  private readonly entry: Pending;

  private constructor(
    readonly path: string,
    label: FileLabel,
    fd: number,
    temp: string,
  ) {
    this.fd = fd;
    this.entry = { ...label, temp };
    pending.add(this.entry);
  }

  static create(path: string, label: FileLabel): AtomicFile {
    installExitHook();
    const temp = tempPathFor(path);
    let fd: number;
    try {
      fd = openSync(temp, 'w', 0o644);
    } catch (e) {
      throw writeError(e, label, dirname(path));
    }
    return new AtomicFile(path, label, fd, temp);
  }

  get temp(): string {
    return this.entry.temp;
  }

  write(data: string | Uint8Array): void {
    const fd = this.open();
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Flushes the file to the disk and renames it to its final name. */
  commit(): void {
    const fd = this.open();
    try {
      fsyncSync(fd);
      closeSync(fd);
      this.fd = null;
      renameSync(this.entry.temp, this.path);
    } catch (e) {
      this.fail(e);
    }
    pending.delete(this.entry);
    syncDirectory(dirname(this.path));
  }

  /** Removes the temporary file (after a failure elsewhere); the final name is untouched. */
  abort(): void {
    if (!pending.has(this.entry)) return;
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // closing is best effort here
      }
      this.fd = null;
    }
    removeQuietly(this.entry.temp);
    pending.delete(this.entry);
  }

  private open(): number {
    if (this.fd === null) throw new Error(`AtomicFile ${this.path}: already closed`);
    return this.fd;
  }

  private fail(e: unknown): never {
    this.abort();
    throw writeError(e, this.entry, dirname(this.path));
  }
}

/** Makes a rename durable (best effort: not every filesystem lets a directory be fsynced). */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // the rename itself happened
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Writes a whole file atomically. */
export function writeFileAtomic(path: string, data: string | Uint8Array, label: FileLabel): void {
  const f = AtomicFile.create(path, label);
  f.write(data);
  f.commit();
}

/**
 * Runs `produce(temp)`, which writes the file at the temporary path by its own means, then
 * flushes and renames it into place; on any failure the temporary file is removed.
 */
export async function produceFileAtomic<T>(path: string, label: FileLabel, produce: (temp: string) => Promise<T>): Promise<T> {
  installExitHook();
  const entry: Pending = { ...label, temp: tempPathFor(path) };
  pending.add(entry);
  try {
    const out = await produce(entry.temp);
    const fd = openSync(entry.temp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(entry.temp, path);
    pending.delete(entry);
    syncDirectory(dirname(path));
    return out;
  } catch (e) {
    removeQuietly(entry.temp);
    pending.delete(entry);
    throw writeError(e, label, dirname(path));
  }
}
