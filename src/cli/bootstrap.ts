// `bootstrap-check`: may a binary of version X execute a range of finalized heights (SPEC 5.4)?
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { U64 } from '../model/types.js';
import { BootstrapInputError, checkBootstrap, type BootstrapAnswer } from '../protocol/versions/bootstrap.js';
import type { Span } from '../protocol/versions/beacons.js';
import { evaluateStore, loadRoot } from '../replay/pipeline.js';
import { jsonText, parseHeight, parseList, QueryInputError, StoreQuery, type BootstrapParams } from '../server/query.js';
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
    .description('may a binary of version X execute the finalized heights [from, to]? (SPEC 5.4; exit 0 yes, 1 no)')
    .argument('[archive]', 'a .spork archive (imported into --db DIR, or a temporary store)')
    .option('--db <dir>', 'the LMDB store')
    .requiredOption('--binary <version>', "the binary's version string (normalised per SPEC 5.3, e.g. v0.38 -> 0.38.0)")
    .option('--supports <list>', 'component versions the binary supports, major.minor, comma-separated (default: no component check)')
    .option('--overrides <list>', 'boundary versions M.m.p declared compatible, comma-separated')
    .option('--from <height>', 'first finalized height (default: the root height)')
    .option('--to <height>', 'last finalized height (default: the finalized height)')
    .option('--json', 'print the SPEC 5.4 JSON answer')
    .option('--threads <n>', 'worker threads if the store needs replaying', parseThreads, availableParallelism())
    .action(async (archive: string | undefined, flags: BootstrapFlags) => {
      // Validate what can be validated before any work (exit 2 on bad options).
      const from = flags.from === undefined ? null : heightOption(flags.from, '--from');
      const to = flags.to === undefined ? null : heightOption(flags.to, '--to');
      const query = {
        binary: flags.binary,
        supports: flags.supports === undefined ? null : parseList(flags.supports),
        overrides: flags.overrides === undefined ? null : parseList(flags.overrides),
        from,
        to,
      };
      validateQuery(query);
      const src = await openSource(archive, flags.db, { quiet: true });
      try {
        const root = loadRoot(src.store);
        await evaluateStore(src.store, root, { threads: flags.threads, full: false });
        const q = new StoreQuery(src.store);
        let answer: BootstrapAnswer;
        try {
          answer = q.bootstrap(query);
        } catch (e) {
          if (e instanceof QueryInputError) throw new InputError(e.message);
          throw e;
        }
        if (flags.json) process.stdout.write(jsonText(answer, 2) + '\n');
        else process.stdout.write(formatAnswer(answer));
        process.exitCode = answer.verdict ? 0 : 1;
      } finally {
        await src.close();
      }
    });
}

/** Checks the binary, supported set and overrides against an empty timeline: exit 2 before any work. */
function validateQuery(p: BootstrapParams): void {
  try {
    checkBootstrap({ rootHeight: 0, finalizedHeight: 0, segmentsIn: () => [] }, [], {
      binary: p.binary,
      supportedComponents: p.supports ?? null,
      overrides: p.overrides ?? null,
      fromHeight: 0,
      toHeight: 0,
    });
  } catch (e) {
    if (e instanceof BootstrapInputError) throw new InputError(e.message);
    throw e;
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

type Status = 'may execute' | 'silent-fork risk' | 'unknown' | 'component mismatch' | 'below required version';

/** Human form: the verdict first, then the range table (a partition of [from, to]). */
export function formatAnswer(a: BootstrapAnswer): string {
  const lines: string[] = [];
  const x = a.normalized === a.binary ? a.binary : `${a.binary} (${a.normalized})`;
  if (a.verdict) {
    lines.push(`${x} may execute heights ${a.fromHeight}..${a.toHeight}`);
  } else if (a.fromHeight > a.toHeight) {
    lines.push(`${x} must NOT execute the whole range: the range ${a.fromHeight}..${a.toHeight} is empty`);
  } else {
    const why: string[] = [];
    const list = (spans: Span[]) => spans.map((s) => rangeText(s)).join(', ');
    if (a.silentForkRisk.length > 0) why.push(`silent-fork risk at ${list(a.silentForkRisk)}`);
    if (a.unknown.length > 0) why.push(`required version unknown at ${list(a.unknown)}`);
    if (a.componentMismatch.length > 0) why.push(`component versions not supported at ${list(a.componentMismatch)}`);
    const rows = partition(a);
    const below = rows.filter((r) => r.statuses.includes('below required version'));
    if (below.length > 0) why.push(`older than the required version at ${below.map((r) => rangeText(r)).join(', ')}`);
    lines.push(`${x} must NOT execute the whole range ${a.fromHeight}..${a.toHeight}: ${why.join('; ')}`);
  }
  const rows = partition(a);
  if (rows.length > 0) {
    const w = Math.max(11, ...rows.map((r) => String(r.fromHeight).length + 1));
    lines.push('');
    lines.push(`${'from'.padEnd(w)} ${'to'.padEnd(w)} status`);
    for (const r of rows) lines.push(`${String(r.fromHeight).padEnd(w)} ${String(r.toHeight).padEnd(w)} ${r.statuses.join(' + ')}`);
  }
  return lines.join('\n') + '\n';
}

function rangeText(s: Span): string {
  return s.fromHeight === s.toHeight ? `${s.fromHeight}` : `${s.fromHeight}..${s.toHeight}`;
}

interface Row extends Span {
  statuses: Status[];
}

/** Cuts [from, to] at every range end and labels each piece; adjacent equal pieces merge. */
function partition(a: BootstrapAnswer): Row[] {
  if (a.fromHeight > a.toHeight) return [];
  const lists: [Status, Span[]][] = [
    ['may execute', a.mayExecute],
    ['silent-fork risk', a.silentForkRisk],
    ['unknown', a.unknown],
    ['component mismatch', a.componentMismatch],
  ];
  const from = BigInt(a.fromHeight);
  const to = BigInt(a.toHeight);
  const cuts = new Set<bigint>([from, to + 1n]);
  for (const [, spans] of lists) {
    for (const s of spans) {
      cuts.add(BigInt(s.fromHeight));
      cuts.add(BigInt(s.toHeight) + 1n);
    }
  }
  const points = [...cuts].filter((c) => c >= from && c <= to + 1n).sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
  const rows: Row[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const lo = points[i]!;
    const hi = points[i + 1]! - 1n;
    const statuses: Status[] = [];
    for (const [status, spans] of lists) {
      if (spans.some((s) => BigInt(s.fromHeight) <= lo && hi <= BigInt(s.toHeight))) statuses.push(status);
    }
    const known = statuses.some((s) => s === 'may execute' || s === 'silent-fork risk' || s === 'unknown');
    if (!known) statuses.unshift('below required version');
    const last = rows[rows.length - 1];
    if (last !== undefined && BigInt(last.toHeight) + 1n === lo && last.statuses.join() === statuses.join()) {
      last.toHeight = u64Of(hi);
    } else rows.push({ fromHeight: u64Of(lo), toHeight: u64Of(hi), statuses });
  }
  return rows;
}

function u64Of(x: bigint): U64 {
  return x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}
