// `import` and `export`.
import type { Command } from 'commander';
import { BlockStore } from '../store/store.js';
import { importArchive } from '../store/import.js';
import { exportArchive } from '../store/export.js';
import { checkArchivePath, checkStorePath, importActivity, outputLabel, printJson, warnMerged } from './common.js';
import { Progress } from './progress.js';
import { checkOutputPath, produceFileAtomic } from '../util/atomic-file.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import an archive into an LMDB store (streaming, idempotent, resumable)')
    .argument('<archive>', 'a .spork archive')
    .requiredOption('--db <dir>', 'the LMDB store (created if missing)')
    .option('--json', 'print the import statistics as JSON')
    .option('--quiet', 'no progress bar')
    .action(async (archive: string, flags: { db: string; json?: boolean; quiet?: boolean }) => {
      checkArchivePath(archive);
      checkStorePath(flags.db, false);
      const store = BlockStore.open(flags.db);
      store.activity = importActivity(store, archive, false);
      const bar = new Progress('import', !(flags.quiet || flags.json));
      try {
        const stats = await importArchive(store, archive, { onProgress: (d, t) => bar.update(d, t, 'bytes') });
        bar.done();
        warnMerged(store, stats);
        if (flags.json) printJson(stats);
        else if (stats.alreadyImported) process.stdout.write(`${archive}: already imported into ${flags.db}; nothing changed\n`);
        else {
          process.stdout.write(
            `${archive}: ${stats.archiveRecords} records read, ${stats.stored} stored, ${stats.duplicates} already present, ${stats.decodeErrors} that do not decode (kept; the replay reports them)` +
              (stats.resumedFrom !== null ? `, resumed at record ${stats.resumedFrom}` : '') +
              '\n',
          );
        }
      } finally {
        bar.done();
        await store.close();
      }
    });
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write the stored records back as an archive')
    .requiredOption('--db <dir>', 'the LMDB store')
    .requiredOption('--out <file>', 'the archive to write')
    .option('--json', 'print what was written as JSON')
    .option('--quiet', 'no progress bar')
    .action(async (flags: { db: string; out: string; quiet?: boolean; json?: boolean }) => {
      checkStorePath(flags.db, true);
      checkOutputPath(flags.out, '--out');
      const store = BlockStore.open(flags.db, { readOnly: true });
      const bar = new Progress('export', !(flags.quiet || flags.json));
      try {
        const n = await produceFileAtomic(flags.out, outputLabel('the archive', flags.out, 'the store (export only reads it)'), (temp) =>
          exportArchive(store, temp, (d, t) => bar.update(d, t, 'records')),
        );
        bar.done();
        if (flags.json) printJson({ out: flags.out, records: n });
        else if (!flags.quiet) process.stdout.write(`${flags.out}: ${n} records written\n`);
      } finally {
        await store.close();
      }
    });
}
