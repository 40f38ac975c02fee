// `replay` and `versions`.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { evaluateStore, exitCodeOf, loadRoot, reportFromStore } from '../replay/pipeline.js';
import { INVALID_LISTED, versionFindings, type ReportSummary } from '../replay/report.js';
import { openSource, parseThreads, printJson } from './common.js';
import { Progress, formatCount, formatSeconds } from './progress.js';
import { checkOutputPath } from '../util/atomic-file.js';

interface ReplayFlags {
  db?: string;
  threads: number;
  report?: string;
  json?: boolean;
  quiet?: boolean;
  full?: boolean;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay a spork from its root: verdict for every block, versions, report')
    .argument('[archive]', 'a .spork archive (imported into --db DIR, or a temporary store)')
    .option('--db <dir>', 'the LMDB store')
    .option(
      '--threads <n>',
      'integrity worker threads, besides one thread that stores the results (0 = all in the main thread)',
      parseThreads,
      availableParallelism(),
    )
    .option('--report <file>', 'write the JSON Lines report to this file (one line per block, then a summary; docs/output.md)')
    .option('--json', 'print the summary as JSON only')
    .option('--quiet', 'no progress bar')
    .option('--full', 'discard stored results and replay every block again')
    .action(async (archive: string | undefined, flags: ReplayFlags) => {
      if (flags.report !== undefined) checkOutputPath(flags.report, '--report');
      // SPEC 9.2: after a framing error the records before it are still imported and replayed
      const importStarted = process.hrtime.bigint();
      const src = await openSource(archive, flags.db, { quiet: flags.quiet || flags.json, partial: true });
      try {
        const importSeconds = Number(process.hrtime.bigint() - importStarted) / 1e9;
        const started = process.hrtime.bigint();
        const root = loadRoot(src.store);
        const bar = new Progress('replay', !(flags.quiet || flags.json));
        const work = await evaluateStore(src.store, root, { threads: flags.threads, full: flags.full ?? false, onProgress: (d, t) => bar.update(d, t) });
        bar.done();
        const summary = await reportFromStore(
          src.store,
          root,
          flags.report,
          (s) => {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            s.threads = flags.threads;
            s.seconds = round3(seconds);
            s.evaluated = work.evaluated;
            s.reused = work.reused;
            // a rate is only said of work done: a run that reused every result evaluated nothing
            if (work.evaluated > 0) s.blocksPerSecond = Math.round(work.evaluated / Math.max(seconds, 1e-9));
            if (src.imported !== null && !src.imported.alreadyImported) {
              const records = src.imported.archiveRecords;
              s.import = { records, seconds: round3(importSeconds), recordsPerSecond: Math.round(records / Math.max(importSeconds, 1e-9)) };
            }
          },
          work.pass1,
        );
        if (flags.json) printJson(summary);
        else printSummary(summary);
        process.exitCode = src.importError !== null ? 2 : exitCodeOf(summary);
      } finally {
        await src.close();
      }
    });
}

/** A list for one line: all of it when short; else its count, first and last (the JSON and the report have all). */
function listed(items: readonly string[], max = 8): string {
  if (items.length === 0) return 'none';
  if (items.length <= max) return items.join(', ');
  return `${items.length} (first ${items[0]}, last ${items[items.length - 1]}; --json or --report FILE lists every one)`;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function printSummary(s: ReportSummary): void {
  const lines: string[] = [];
  const row = (k: string, v: unknown) => lines.push(`  ${k.padEnd(24)} ${v}`);
  lines.push('spork-replay summary');
  row('blocks', s.blocks);
  row('finalized height', s.finalizedHeight);
  for (const [v, n] of Object.entries(s.verdicts)) row(`verdict ${v}`, n);
  const f = s.firstInvalidFinalized;
  row('first invalid finalized', f === null ? 'none' : `height ${f.height} ${f.id} (${f.verdict})`);
  if (s.invalidBlocks.length > 0) {
    row('invalid blocks', `${s.invalidBlocks.length}${s.invalidBlocks.length >= INVALID_LISTED ? '+' : ''} (descendants not listed)`);
    for (const b of s.invalidBlocks.slice(0, 10)) {
      lines.push(`    height ${String(b.height ?? '?').padEnd(10)} ${b.id ?? '(no id)'} ${b.verdict}${b.finalized ? ' FINALIZED' : ''}: ${b.reason}`);
    }
    lines.push('    (spork-replay inspect ... <id> shows a block; --report FILE.jsonl lists every block)');
  }
  row('finality conflicts', listed(s.finalityConflicts.map((c) => `${c.kind}@${c.height}`)));
  row('version map rows', s.versionMap.length);
  for (const r of s.versionMap.slice(0, 12)) {
    lines.push(
      `    ${String(r.fromHeight).padStart(10)}..${String(r.toHeight).padEnd(10)} protocol v${r.protocolStateVersion ?? '?'} exec ${r.executionComponentVersion ?? '-'} cadence ${r.cadenceComponentVersion ?? '-'} requires ${r.requiredVersion ?? 'unknown'}`,
    );
  }
  if (s.versionMap.length > 12) lines.push(`    ... ${s.versionMap.length - 12} more (spork-replay versions)`);
  row('beacons indexed', `${s.beacons.length} (${s.beaconIssues.length} issues)`);
  if (s.import !== undefined)
    row('import', `${s.import.records} records in ${formatSeconds(s.import.seconds)} (${formatCount(s.import.recordsPerSecond)} records/s)`);
  if (s.evaluated !== undefined)
    row('evaluated', `${s.evaluated} blocks${s.reused ? `, ${s.reused} reused from the previous replay (--full evaluates every block again)` : ''}`);
  if (s.seconds !== undefined) {
    const rate = s.blocksPerSecond === undefined ? 'nothing to evaluate' : `${formatCount(s.blocksPerSecond)} blocks/s evaluated`;
    row('time', `${formatSeconds(s.seconds)}, ${rate}, ${s.threads} threads`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerVersions(program: Command): void {
  program
    .command('versions')
    .description('the version map of the finalized chain (protocol and component versions, the version each height requires) and beacon findings')
    .argument('[archive]', 'a .spork archive')
    .option('--db <dir>', 'the LMDB store')
    .option('--threads <n>', 'worker threads if the store needs replaying', parseThreads, availableParallelism())
    .option('--json', 'print JSON')
    .action(async (archive: string | undefined, flags: { db?: string; threads: number; json?: boolean }) => {
      const src = await openSource(archive, flags.db, { quiet: true });
      try {
        const root = loadRoot(src.store);
        const work = await evaluateStore(src.store, root, { threads: flags.threads, full: false });
        const s = await reportFromStore(src.store, root, undefined, undefined, work.pass1);
        if (flags.json) printJson(versionFindings(s));
        else {
          const w = (l: string) => process.stdout.write(l + '\n');
          w(`finalized height ${s.finalizedHeight}`);
          w('from_height  to_height   protocol  execution  cadence  required');
          for (const r of s.versionMap) {
            w(
              `${String(r.fromHeight).padEnd(12)} ${String(r.toHeight).padEnd(11)} ${String(r.protocolStateVersion ?? '-').padEnd(9)} ${String(r.executionComponentVersion ?? '-').padEnd(10)} ${String(r.cadenceComponentVersion ?? '-').padEnd(8)} ${r.requiredVersion ?? 'unknown'}`,
            );
          }
          w(`beacons: ${s.beacons.length}; issues: ${s.beaconIssues.map((i) => `${i.kind}@${i.sealHeight}`).join(', ') || 'none'}`);
          for (const x of s.versionWarnings)
            w(`warning: heights ${x.fromHeight}..${x.toHeight} sealed beacons say ${x.sealBased}, emitted ones ${x.emissionBased} (sealing lagged)`);
          for (const x of s.unknownVersionRanges) w(`unknown required version: heights ${x.fromHeight}..${x.toHeight}`);
        }
        process.exitCode = 0;
      } finally {
        await src.close();
      }
    });
}
