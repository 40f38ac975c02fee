// What every command shares: opening the store an archive path or --db names.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockStore } from '../store/store.js';
import { importArchive, type ImportStats } from '../store/import.js';
import { InputError, PartialImportError } from '../util/errors.js';
import { Progress } from './progress.js';
import { InvalidArgumentError } from 'commander';

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
  if (archive !== undefined && !existsSync(archive)) throw new InputError(`${archive}: no such archive`);
  if (archive === undefined && !existsSync(join(db!, 'data.mdb'))) throw new InputError(`${db}: no store there (import an archive with \`spork-replay import ARCHIVE --db ${db}\`)`);
  const temp = db === undefined ? mkdtempSync(join(tmpdir(), 'spork-replay-')) : null;
  const dir = db ?? temp!;
  const store = BlockStore.open(dir, { readOnly: archive === undefined && opts.readOnly === true });
  let imported: ImportStats | null = null;
  let importError: PartialImportError | null = null;
  const close = async () => {
    await store.close();
    if (temp !== null) rmSync(temp, { recursive: true, force: true });
  };
  if (archive !== undefined) {
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
  }
  return { store, imported, importError, close };
}

export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2) + '\n');
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
