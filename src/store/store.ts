// The LMDB block store. Raw canonical archive bytes are the source of truth (so workers read
// them with getBinaryFast and a C program can read the same environment); everything else is
// an index over them or a replay result. Layout: README "Store layout".
import { existsSync, mkdirSync, statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { dataFileProblem, padDataFile } from './data-file.js';
import { CliError, DamagedStoreError, EnvironmentError, InputError, NoSpaceError, isWriteFailure, osErrorLine } from '../util/errors.js';

export const STORE_FORMAT = 2;
/**
 * Results are stored under 48-byte order keys; stores of format 1 also hold msgpackr's shared
 * structures under a one-byte key before them. Iterate results from RESULTS_START.
 */
export const RESULTS_START = Buffer.alloc(48);

const BINARY_DBS = ['blocks', 'orphans', 'records', 'order', 'children', 'finalized', 'headless', 'includes'] as const;
/** Every named database of the environment (README "Store layout"). */
export const DB_NAMES = [...BINARY_DBS, 'results', 'states', 'meta'] as const;

export interface WriteActivity {
  /** e.g. `replay results into the store st` */
  what: string;
  /** What stays consistent if the write fails (read after the failure). */
  kept: () => string;
}

export interface StoreDbs {
  /** claimed block id (32) -> raw block record bytes */
  blocks: Database<Buffer, Buffer>;
  /** global record number (8) -> raw bytes of a record without a usable id (SPEC 9.4) */
  orphans: Database<Buffer, Buffer>;
  /** global record number (8) -> claimed id (32), or empty for an orphan: archive order, for export */
  records: Database<Buffer, Buffer>;
  /** report order key (48, see keys.ts) -> record number (8) | claimed id (32; absent for an orphan): the replay walks this */
  order: Database<Buffer, Buffer>;
  /** parent id (32) | child id (32) -> empty */
  children: Database<Buffer, Buffer>;
  /** height (8) | id (32) -> empty, for records marked finalized whose header decoded */
  finalized: Database<Buffer, Buffer>;
  /** claimed id (32) -> order key (48), only for records whose header does not decode */
  headless: Database<Buffer, Buffer>;
  /** replay: order key (48) -> msgpack BlockResult */
  results: Database<any, Buffer>;
  /** replay: result id (32) | including block id (32) -> empty */
  includes: Database<Buffer, Buffer>;
  /** replay: protocol state id (32) -> msgpack ProtocolSnapshot (content-addressed) */
  states: Database<any, Buffer>;
  /** string -> msgpack value: root header bytes, import progress, replay progress */
  meta: Database<any, string>;
}

export class BlockStore implements StoreDbs {
  readonly env: RootDatabase;
  readonly blocks!: Database<Buffer, Buffer>;
  readonly orphans!: Database<Buffer, Buffer>;
  readonly records!: Database<Buffer, Buffer>;
  readonly order!: Database<Buffer, Buffer>;
  readonly children!: Database<Buffer, Buffer>;
  readonly finalized!: Database<Buffer, Buffer>;
  readonly headless!: Database<Buffer, Buffer>;
  readonly results!: Database<any, Buffer>;
  readonly includes!: Database<Buffer, Buffer>;
  readonly states!: Database<any, Buffer>;
  readonly meta!: Database<any, string>;

  /** What is being written now, for the message of a failed write (set by import, replay). */
  activity: WriteActivity;
  /** A store the command removes when it ends (so a failure keeps nothing of it). */
  temporary = false;
  private writeFailure: CliError | null = null;
  /** Nesting of guarded write transactions (only the outermost one commits). */
  private writeDepth = 0;
  private padAfterCommit: () => void = () => {};

  private constructor(
    readonly dir: string,
    readonly readOnly: boolean,
  ) {
    this.activity = { what: `the store ${dir}`, kept: () => this.committedSummary() };
    this.env = openEnv(dir, {
      path: dir,
      // a store is always a directory, also when its name has an extension (`--db mainnet28.db`)
      noSubdir: false,
      maxDbs: 16,
      readOnly,
      // Commits are atomic but not synced one by one: import, fetch and replay sync at their
      // checkpoints (sync()). A crash of the process loses nothing committed; a crash of the
      // machine can lose the commits since the last sync, which the command then redoes.
      noSync: true,
      overlappingSync: false,
      // Blocks are read in report order, not key order: kernel read-ahead would only pull
      // unrelated pages into memory.
      noReadAhead: true,
      mapSize: 64 * 1024 ** 3,
    });
    const bin = { encoding: 'binary' as const, keyEncoding: 'binary' as const };
    const packed = { encoding: 'msgpack' as const, keyEncoding: 'binary' as const, useRecords: false };
    const self = this as any;
    for (const name of BINARY_DBS) {
      self[name] = this.env.openDB({ name, ...bin });
    }
    // results are the replay's own binary records (replay/result-codec.ts)
    self.results = this.env.openDB({ name: 'results', ...bin });
    self.states = this.env.openDB({ name: 'states', ...packed });
    self.meta = this.env.openDB({ name: 'meta', encoding: 'msgpack', useRecords: false } as any);
    if (!readOnly) this.guardWrites();
  }

  /**
   * Opens (or, writable, creates) the store in `dir`. Throws InputError when `dir` is not a
   * directory, DamagedStoreError when data.mdb is shorter than its header says (mapping it would
   * kill the process with SIGBUS), EnvironmentError when the OS refuses (permissions).
   */
  static open(dir: string, opts: { readOnly?: boolean } = {}): BlockStore {
    const readOnly = opts.readOnly ?? false;
    checkStoreDir(dir, readOnly);
    return new BlockStore(dir, readOnly);
  }

  /**
   * Every write transaction goes through here (lmdb-js's transactionSync, which putSync and
   * removeSync outside a transaction also use, and sync). At the first failed write the store
   * stops writing for good: LMDB has aborted that transaction and the environment keeps what
   * was committed before it, but writing on (lmdb-js retrying a failed commit) is what crashed
   * the process. Every later write throws the same NoSpaceError.
   */
  private guardWrites(): void {
    const dbs: { transactionSync: (...a: any[]) => unknown }[] = [this.env, ...DB_NAMES.map((n) => (this as any)[n])];
    const rawEnvTransaction = this.env.transactionSync.bind(this.env);
    const dataFile = join(this.dir, 'data.mdb');
    this.padAfterCommit = () => rawEnvTransaction(() => padDataFile(dataFile));
    for (const db of dbs) {
      const raw = db.transactionSync.bind(db);
      db.transactionSync = (...args: any[]) => this.guard(() => raw(...args));
    }
    const env = this.env as unknown as { sync?: (cb: (e?: unknown) => void) => void };
    const rawSync = env.sync?.bind(env);
    if (rawSync !== undefined) {
      env.sync = (cb) => {
        if (this.writeFailure !== null) return cb(this.writeFailure);
        rawSync((e) => cb(e ? this.failWith(e) : e));
      };
    }
  }

  private guard<T>(write: () => T): T {
    if (this.writeFailure !== null) throw this.writeFailure;
    if (this.writeDepth > 0) return write();
    this.checkSpace();
    this.writeDepth++;
    try {
      const out = write();
      // a commit can leave unwritten pages at the end of the file (data-file.ts): the file is
      // extended to its header's size at once, so that no reader finds it short
      this.padAfterCommit();
      return out;
    } catch (e) {
      throw this.failWith(e);
    } finally {
      this.writeDepth--;
    }
  }

  /**
   * A write transaction is not started on a filesystem that is (nearly) full: LMDB would fail
   * it anyway, and a commit that fails while spilling pages also prints LMDB's own lines.
   */
  private checkSpace(): void {
    const free = freeBytes(this.dir);
    if (free === null || free.available >= Math.min(WRITE_RESERVE, Math.max(MIN_RESERVE, free.total / 64))) return;
    const e = Object.assign(new Error(`only ${free.available} bytes free on the store's filesystem`), { code: 'ENOSPC' });
    throw this.failWith(e);
  }

  /** A write of this store that failed in another thread (the replay's result writer): the same error as if it had failed here. */
  failedElsewhere(e: unknown): unknown {
    return this.failWith(e);
  }

  private failWith(e: unknown): unknown {
    if (e instanceof CliError || !isWriteFailure(e)) return e;
    this.writeFailure = new NoSpaceError(this.activity.what, this.keptText(), e, this.dir);
    return this.writeFailure;
  }

  private keptText(): string {
    try {
      return this.activity.kept();
    } catch {
      return 'every transaction committed before it (the store is consistent)';
    }
  }

  /** What the store holds, as committed: for the `kept:` part of a write failure. */
  committedSummary(): string {
    const records = this.recordCount();
    const results = this.results.getCount({ start: RESULTS_START });
    return `the ${records} records${results > 0 ? ` and ${results} replay results` : ''} committed before it (the store is consistent; run the command again when there is space: it resumes from there)`;
  }

  /** Raw bytes of the archive header (root snapshot) this store was created from. */
  rootHeaderBytes(): Buffer | undefined {
    const v = this.meta.get('root');
    return v === undefined ? undefined : Buffer.from(v);
  }

  recordCount(): number {
    return this.meta.get('recordCount') ?? 0;
  }

  /**
   * Flushes committed transactions to the disk. Commits are not synced one by one (noSync):
   * import, fetch and replay call this at their checkpoints (the end, an interruption).
   */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      (this.env as unknown as { sync(cb: (e?: unknown) => void): void }).sync((e) => (e ? reject(e) : resolve()));
    });
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}

/** Free space below which no write transaction starts: the smaller of these, but at least MIN_RESERVE. */
const WRITE_RESERVE = 8 << 20;
const MIN_RESERVE = 64 << 10;

function freeBytes(dir: string): { available: number; total: number } | null {
  try {
    const s = statfsSync(dir);
    return { available: s.bavail * s.bsize, total: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

type EnvOptions = Parameters<typeof open>[0] & { noReadAhead: boolean };

/** lmdb-js's open, with its errors as CLI errors (a bad environment is not a bug). */
function openEnv(dir: string, options: EnvOptions): RootDatabase {
  try {
    return open(options);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && code >= -30799 && code <= -30700) throw new DamagedStoreError(dir, `LMDB cannot open it: ${(e as Error).message}`);
    const line = osErrorLine(e) ?? (typeof code === 'number' && code > 0 ? (e as Error).message : null);
    if (line !== null) throw new EnvironmentError(`cannot open the store ${dir}: ${line}`, { cause: e });
    throw e;
  }
}

/** Checks the store directory and its data file before LMDB maps it. */
function checkStoreDir(dir: string, readOnly: boolean): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new InputError(`${dir}: is a file, not a store directory (--db names a directory)`);
  } else if (readOnly) {
    throw new InputError(`${dir}: no store there`);
  } else {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new EnvironmentError(`cannot create the store ${dir}: ${osErrorLine(e) ?? String(e)}`, { cause: e });
    }
  }
  const data = join(dir, 'data.mdb');
  if (!existsSync(data)) return;
  if (!statSync(data).isFile()) throw new DamagedStoreError(dir, 'data.mdb is not a file');
  const problem = dataFileProblem(data);
  if (problem !== null) throw new DamagedStoreError(dir, problem);
}
