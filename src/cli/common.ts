// What every command shares: opening the store an archive path or --db names.
import { mkdtempSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockStore, type WriteActivity } from '../store/store.js';
import { importArchive, importedArchives, type ImportStats } from '../store/import.js';
import { EnvironmentError, InputError, PartialImportError, osErrorLine } from '../util/errors.js';
import { Progress } from './progress.js';
import type { FileLabel } from '../util/atomic-file.js';
import { InvalidArgumentError } from 'commander';
import { jsonText } from '../model/json-u64.js';

export interface StoreSource {
  store: BlockStore;
  imported: ImportStats | null;
  /** Set when the archive stopped part-way and `partial` allowed going on with what it held. */
  importError: PartialImportError | null;
  /** Closes the store and removes a temporary one. */
  close(): Promise<void>;
}

/** Opens `--db DIR`, importing ARCHIVE into it (or into a temporary store) first when given. */
export async function openSource(
  archive: string | undefined,
  db: string | undefined,
  opts: { quiet?: boolean; readOnly?: boolean; partial?: boolean } = {},
): Promise<StoreSource> {
  if (archive === undefined && db === undefined) throw new InputError('give an ARCHIVE path or --db DIR');
  if (archive !== undefined) checkArchivePath(archive);
  if (db !== undefined) checkStorePath(db, archive === undefined);
  const temp = db === undefined ? makeTempStoreDir() : null;
  const dir = db ?? temp!;
  const removeTemp = () => {
    if (temp !== null) rmSync(temp, { recursive: true, force: true });
  };
  let store: BlockStore;
  try {
    store = BlockStore.open(dir, { readOnly: archive === undefined && opts.readOnly === true });
  } catch (e) {
    removeTemp();
    throw e;
  }
  store.temporary = temp !== null;
  let imported: ImportStats | null = null;
  let importError: PartialImportError | null = null;
  const close = async () => {
    await store.close();
    removeTemp();
  };
  if (archive !== undefined) {
    store.activity = importActivity(store, archive, temp !== null);
    const bar = new Progress('import', !opts.quiet);
    try {
      imported = await importArchive(store, archive, { onProgress: (d, t) => bar.update(d, t, 'bytes') });
    } catch (e) {
      bar.done();
      if (!(opts.partial && e instanceof PartialImportError)) {
        await close();
        throw e;
      }
      importError = e;
      process.stderr.write(`spork-replay: ${e.message}\n`);
    }
    bar.done();
    if (imported !== null) warnMerged(store, imported);
  }
  return { store, imported, importError, close };
}

/**
 * A store that holds records of more than one archive replays their union: say so once (the
 * usual cause is reusing a --db for an other archive of the same spork).
 */
export function warnMerged(store: BlockStore, imported: ImportStats): void {
  if (store.temporary) return;
  const others = importedArchives(store)
    .filter((a) => a.sha256 === null || a.sha256 !== imported.sha256)
    .map((a) => (a.sha256 === null ? `${a.bytes} bytes, incomplete` : `sha256 ${a.sha256.slice(0, 16)}`));
  if (others.length === 0) return;
  process.stderr.write(
    `spork-replay: warning: the store ${store.dir} also holds the records of ${others.length} other archive${others.length > 1 ? 's' : ''} ` +
      `(${others.slice(0, 3).join('; ')}${others.length > 3 ? '; ...' : ''}): the replay covers their union; give a new --db to keep an archive apart\n`,
  );
}

/** What a failed write during an import says it was writing and what it kept. */
export function importActivity(store: BlockStore, archive: string, temporary: boolean): WriteActivity {
  if (temporary) {
    return {
      what: `the records of ${archive} into a temporary store in ${tmpdir()}`,
      kept: () => `nothing (the temporary store is removed; import into --db DIR on a disk with space, then replay --db DIR)`,
    };
  }
  return {
    what: `the records of ${archive} into the store ${store.dir}`,
    kept: () => `the ${store.recordCount()} records committed before it (the store is consistent; \`import\` resumes there when there is space)`,
  };
}

function makeTempStoreDir(): string {
  try {
    return mkdtempSync(join(tmpdir(), 'spork-replay-'));
  } catch (e) {
    throw new EnvironmentError(`cannot create a temporary store in ${tmpdir()}: ${osErrorLine(e) ?? String(e)}`, { hint: 'give --db DIR', cause: e });
  }
}

/** ARCHIVE must name a readable file. */
export function checkArchivePath(archive: string): void {
  if (!existsSync(archive)) throw new InputError(`${archive}: no such archive`);
  if (statSync(archive).isDirectory()) throw new InputError(`${archive}: is a directory, not an archive`);
}

/** `--db DIR` must be a directory; with `mustExist`, one holding a store. */
export function checkStorePath(db: string, mustExist: boolean): void {
  if (existsSync(db) && !statSync(db).isDirectory()) throw new InputError(`--db ${db}: is a file, not a store directory`);
  if (mustExist && !existsSync(join(db, 'data.mdb')))
    throw new InputError(`${db}: no store there (import an archive with \`spork-replay import ARCHIVE --db ${db}\`)`);
}

/** The label of an output file: `kept` is what stays consistent besides it if writing it fails. */
export function outputLabel(kind: string, path: string, kept: string): FileLabel {
  const before = existsSync(path) ? `${path} is unchanged` : `${path} was not created`;
  return { what: `${kind} ${path}`, kept: `${kept}; ${before}` };
}

/** --json output: 64-bit integers by the one rule of model/json-u64.ts (docs/output.md). */
export function printJson(v: unknown): void {
  process.stdout.write(jsonText(v, 2) + '\n');
}

export function parseThreads(s: string): number {
  const n = Number(s);
  if (!/^[0-9]+$/.test(s) || n > 256) throw new InvalidArgumentError('expected a whole number 0..256');
  return n;
}

export function parseCount(s: string): number {
  if (!/^[0-9]+$/.test(s)) throw new InvalidArgumentError('expected a whole number');
  return Number(s);
}
