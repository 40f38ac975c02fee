// `bootstrap-check`: may a binary of version X execute a range of finalized heights (SPEC 5.4)?
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { U64 } from '../model/types.js';
import {
  BootstrapInputError,
  explainBootstrap,
  type BootstrapQuery,
  type BootstrapRange,
  type BootstrapReason,
  type BootstrapReport,
  type ComponentRun,
  type RequiredVersionTimeline,
} from '../protocol/versions/bootstrap.js';
import { extendOrPush, type Span } from '../protocol/versions/beacons.js';
import { evaluateStore, loadRoot } from '../replay/pipeline.js';
import { jsonText, parseHeight, parseList, QueryInputError, StoreQuery } from '../query/query.js';
import { InputError } from '../util/errors.js';
import { openSource, parseThreads } from './common.js';

interface BootstrapFlags {
  db?: string;
  binary: string;
  supports?: string;
  overrides?: string;
  from?: string;
  to?: string;
  json?: boolean;
  threads: number;
}

export function registerBootstrap(program: Command): void {
  program
    .command('bootstrap-check')
    .description('may a binary of version X execute the finalized heights [from, to]? (exit 0 yes, 1 no, 2 bad usage)')
    .argument('[archive]', 'a .spork archive (imported into --db DIR, or a temporary store)')
    .option('--db <dir>', 'the LMDB store')
    .requiredOption('--binary <version>', "the binary's version string (a leading v is dropped and missing parts are zero: v0.38 -> 0.38.0)")
    .option('--supports <list>', 'component versions the binary supports, major.minor, comma-separated (default: no component check)')
    .option('--overrides <list>', 'boundary versions M.m.p declared compatible, comma-separated')
    .option('--from <height>', 'first finalized height (default: the root height)')
    .option('--to <height>', 'last finalized height (default: the finalized height)')
    .option(
      '--json',
      'print the answer as JSON (docs/schemas/bootstrap-check.schema.json): ranges with their reasons, belowRequired, finalizedRange, outsideFinalizedRange',
    )
    .option('--threads <n>', 'worker threads if the store needs replaying', parseThreads, availableParallelism())
    .action(async (archive: string | undefined, flags: BootstrapFlags) => {
      // Validate what can be validated before any work (exit 2 on bad options).
      const query: BootstrapQuery = {
        binary: flags.binary,
        supportedComponents: flags.supports === undefined ? null : parseList(flags.supports),
        overrides: flags.overrides === undefined ? null : parseList(flags.overrides),
        fromHeight: flags.from === undefined ? null : heightOption(flags.from, '--from'),
        toHeight: flags.to === undefined ? null : heightOption(flags.to, '--to'),
      };
      validateQuery(query);
      const src = await openSource(archive, flags.db, { quiet: true });
      try {
        const root = loadRoot(src.store);
        await evaluateStore(src.store, root, { threads: flags.threads, full: false });
        const q = new StoreQuery(src.store);
        const { index } = q.chain();
        checkRangeNotInverted(query, index);
        const answer = answerOf(index, q.summary().versionMap, query);
        if (flags.json) process.stdout.write(jsonText(answer, 2) + '\n');
        else process.stdout.write(formatAnswer(answer));
        process.exitCode = answer.verdict ? 0 : 1;
      } finally {
        await src.close();
      }
    });
}

function answerOf(timeline: RequiredVersionTimeline, components: readonly ComponentRun[], query: BootstrapQuery): BootstrapReport {
  try {
    return explainBootstrap(timeline, components, query);
  } catch (e) {
    if (e instanceof BootstrapInputError) throw new InputError(e.message);
    throw e;
  }
}

/** Checks the binary, supported set, overrides and an explicit range: exit 2 before any work. */
function validateQuery(query: BootstrapQuery): void {
  const { fromHeight: from, toHeight: to } = query;
  if (from != null && to != null && from > to) throw new InputError(`--from ${from} is above --to ${to}: the range is empty`);
  answerOf({ rootHeight: 0, finalizedHeight: 0, segmentsIn: () => [] }, [], { ...query, fromHeight: 0, toHeight: 0 });
}

/** A range emptied by a default end (from above the head, or to below the root) is bad usage too. */
function checkRangeNotInverted(query: BootstrapQuery, timeline: RequiredVersionTimeline): void {
  const finalized = `finalized range ${timeline.rootHeight}..${timeline.finalizedHeight}`;
  const { fromHeight: from, toHeight: to } = query;
  if (from != null && to == null && from > timeline.finalizedHeight) {
    throw new InputError(`--from ${from} is above the finalized height ${timeline.finalizedHeight} (${finalized}): the range is empty`);
  }
  if (to != null && from == null && to < timeline.rootHeight) {
    throw new InputError(`--to ${to} is below the root height ${timeline.rootHeight} (${finalized}): the range is empty`);
  }
}

function heightOption(s: string, name: string): U64 {
  try {
    return parseHeight(s, name);
  } catch (e) {
    if (e instanceof QueryInputError) throw new InputError(e.message);
    throw e;
  }
}

/** Human form: the verdict with every reason first, then the range table (a partition of [from, to]). */
export function formatAnswer(a: BootstrapReport): string {
  const x = a.normalized === a.binary ? a.binary : `${a.binary} (${a.normalized})`;
  const lines = [
    a.verdict
      ? `${x} may execute heights ${a.fromHeight}..${a.toHeight}`
      : `${x} must NOT execute the whole range ${a.fromHeight}..${a.toHeight}: ${summaryReasons(a).join('; ')}`,
  ];
  if (a.ranges.length > 0) {
    const w = Math.max(11, ...a.ranges.map((r) => String(r.toHeight).length + 1));
    lines.push('');
    lines.push(`${'from'.padEnd(w)} ${'to'.padEnd(w)} status`);
    for (const r of a.ranges) lines.push(`${String(r.fromHeight).padEnd(w)} ${String(r.toHeight).padEnd(w)} ${rangeStatus(r, a.finalizedRange)}`);
  }
  return lines.join('\n') + '\n';
}

const SUMMARY: readonly [BootstrapReason, string][] = [
  ['below-required', 'below the required version at'],
  ['silent-fork-risk', 'silent-fork risk (at or above the next boundary) at'],
  ['component-mismatch', 'component versions not supported at'],
  ['unknown-no-beacon', 'required version unknown (no beacon boundary at or below the height) at'],
  ['unknown-overridden', 'required version unknown (its boundaries are overridden, no fall-back) at'],
  ['unknown-outside-finalized-range', 'required version unknown at'],
];

/** One clause per reason found in the range, each with its heights. */
function summaryReasons(a: BootstrapReport): string[] {
  const clauses: string[] = [];
  for (const [reason, text] of SUMMARY) {
    const spans: Span[] = [];
    for (const r of a.ranges) {
      if (r.reasons.includes(reason)) extendOrPush(spans, { fromHeight: r.fromHeight, toHeight: r.toHeight }, () => true);
    }
    if (spans.length === 0) continue;
    const where = spans.map(rangeText).join(', ');
    clauses.push(reason === 'unknown-outside-finalized-range' ? `${text} ${where} (${outsideText(a.finalizedRange)})` : `${text} ${where}`);
  }
  return clauses.length > 0 ? clauses : ['the range is empty'];
}

/** A table row's reasons with the versions behind them. */
function rangeStatus(r: BootstrapRange, finalized: Span): string {
  if (r.reasons.length === 0) return 'may execute';
  return r.reasons
    .map((reason) => {
      switch (reason) {
        case 'below-required':
          return `below required version ${r.requiredVersion}`;
        case 'silent-fork-risk':
          return `at/above the next boundary ${r.nextBoundary?.version} (height ${r.nextBoundary?.height}): silent-fork risk`;
        case 'component-mismatch':
          return r.unsupportedComponents.map((c) => `${c.component} component version ${c.version} not supported`).join(', ');
        case 'unknown-no-beacon':
          return 'R(h) unknown: no beacon boundary at or below h';
        case 'unknown-overridden':
          return 'R(h) unknown: the boundaries giving it are overridden (no fall-back)';
        case 'unknown-outside-finalized-range':
          return `R(h) unknown: ${outsideText(finalized)}`;
        default:
          return reason;
      }
    })
    .join(' + ');
}

function outsideText(finalized: Span): string {
  return `outside the finalized range ${finalized.fromHeight}..${finalized.toHeight}`;
}

function rangeText(s: Span): string {
  return s.fromHeight === s.toHeight ? `${s.fromHeight}` : `${s.fromHeight}..${s.toHeight}`;
}
