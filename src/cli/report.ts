// `report`: the HTML timeline report (issue 6). Replays the store if needed (evaluateStore),
// then streams the stored results once to build a compact timeline model: runs of equal values
// per lane, and individual markers only for non-ok blocks and off-chain blocks (capped).
//
// The pass is the report's own first pass (ChainSummarizer in src/replay/report.ts: finality,
// beacons, counts, version map) with the timeline lanes drawn from the same groups.
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { RootSnapshot, U64 } from '../model/types.js';
import { snapshotReport } from '../protocol/evolve.js';
import type { VersionMapRow } from '../protocol/versions/beacons.js';
import type { BlockResult } from '../replay/evaluate.js';
import { evaluateStore, loadRoot, reportContext, rootContext, storedResults } from '../replay/pipeline.js';
import { ChainSummarizer, type ReportContext, type ReportSummary } from '../replay/report.js';
import { verdictOf } from '../replay/verdicts.js';
import { StoreQuery } from '../query/query.js';
import {
  RUN_LANES,
  renderHtml,
  type BlockDetails,
  type RunLane,
  type TimelineBlock,
  type TimelineModel,
  type TimelinePoint,
  type TimelineRun,
} from '../report/html.js';
import type { BlockStore } from '../store/store.js';
import { openSource, outputLabel, parseCount, parseThreads, printJson } from './common.js';
import { checkOutputPath, writeFileAtomic } from '../util/atomic-file.js';
import { Progress } from './progress.js';

export const DEFAULT_MAX_MARKERS = 5000;
/** Runs per lane; beyond it a lane stops (and the page says so). Real sporks need a handful. */
export const MAX_RUNS = 20000;
/** Service events listed per block in the details panel. */
const MAX_EVENTS = 100;
/** How many recent chain heights are remembered to link off-chain blocks to their parent. */
const CHAIN_WINDOW = 4096;

interface ReportFlags {
  db?: string;
  html: string;
  threads: number;
  maxMarkers: number;
  title?: string;
  quiet?: boolean;
  json?: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML timeline of the spork: versions, epochs, forks, invalid blocks')
    .argument('[archive]', 'a .spork archive (imported into --db DIR, or a temporary store)')
    .option('--db <dir>', 'the LMDB store')
    .requiredOption('--html <file>', 'write the HTML report to this file')
    .option('--threads <n>', 'worker threads if the store needs replaying', parseThreads, availableParallelism())
    .option('--max-markers <n>', 'individually drawn blocks: at most this many non-ok and this many ok off-chain blocks', parseCount, DEFAULT_MAX_MARKERS)
    .option('--title <text>', 'page title (default: from the archive or store name)')
    .option('--json', 'print what the page holds as JSON')
    .option('--quiet', 'no progress bar, no closing line')
    .action(async (archive: string | undefined, flags: ReportFlags) => {
      checkOutputPath(flags.html, '--html');
      const src = await openSource(archive, flags.db, { quiet: flags.quiet || flags.json });
      try {
        const root = loadRoot(src.store);
        const bar = new Progress('replay', !(flags.quiet || flags.json));
        await evaluateStore(src.store, root, { threads: flags.threads, full: false, onProgress: (d, t) => bar.update(d, t) });
        bar.done();
        const title = flags.title ?? `spork-replay report: ${basename(archive ?? flags.db ?? 'store')}`;
        const model = buildTimelineModel(src.store, root, { title, maxMarkers: flags.maxMarkers });
        const kept = src.store.temporary ? 'nothing (the replay ran in a temporary store, which is removed)' : `the replayed store ${src.store.dir}`;
        writeFileAtomic(flags.html, renderHtml(model), outputLabel('the HTML report', flags.html, kept));
        if (flags.json) {
          printJson({
            html: flags.html,
            blocks: model.summary.blocks,
            notOk: model.counts.nonOk,
            drawn: model.markers.length,
            offChain: model.counts.offChain,
            finalizedHeight: model.summary.finalizedHeight,
          });
        } else if (!flags.quiet) {
          process.stdout.write(
            `wrote ${flags.html}: ${model.summary.blocks} blocks, ${model.counts.nonOk} not ok (${model.markers.length} drawn), ` +
              `${model.counts.offChain} off the finalized chain, finalized height ${model.summary.finalizedHeight}\n`,
          );
        }
        // Like `versions`, a rendering command: the findings are in the page (`replay` gives exit 1).
        process.exitCode = 0;
      } finally {
        await src.close();
      }
    });
}

export interface TimelineOptions {
  title: string;
  maxMarkers?: number;
}

/** The timeline model of an evaluated store: one streaming pass over the stored results. */
export function buildTimelineModel(store: BlockStore, root: RootSnapshot, opts: TimelineOptions): TimelineModel {
  const rc = rootContext(root);
  const ctx = reportContext(root, rc);
  const s = snapshotReport(rc.snapshot, root.rootBlock.header.view);
  const builder = new TimelineBuilder(
    ctx,
    { counter: s.epochCounter, phase: s.epochPhase, finalView: s.epochFinalView },
    opts.maxMarkers ?? DEFAULT_MAX_MARKERS,
  );
  for (const r of storedResults(store)) builder.add(r);
  const model = builder.finish(opts.title);
  addStateDiffs(store, model);
  return model;
}

/** At most this many not-ok blocks get their state diff in the page. */
export const MAX_PAGE_DIFFS = 200;

/** The state diff (parent -> computed) of the not-ok blocks whose state the replay computed. */
function addStateDiffs(store: BlockStore, model: TimelineModel): void {
  let q: StoreQuery | null = null;
  let n = 0;
  for (const [key, d] of Object.entries(model.details)) {
    if (d.verdict === 'ok' || d.computedStateId === null || d.id === null) continue;
    if (n++ >= MAX_PAGE_DIFFS) break;
    q ??= new StoreQuery(store);
    const x = q.inspect(key);
    d.stateDiff = x.stateDiff.map((e) => e.text);
    d.committedStateComputed = x.committedStateComputed;
  }
}

const str = (x: U64 | null | undefined): string | null => (x === null || x === undefined ? null : x.toString());

/** Appends to a lane's runs, merging a span into the last run when adjacent and of the same key. */
class RunList {
  readonly runs: TimelineRun[] = [];
  truncated = false;
  private lastKey: string | null = null;

  constructor(private readonly cap: number) {}

  add(a: number, key: string, make: () => TimelineRun): void {
    this.addSpan(a, a, key, make);
  }

  addSpan(a: number, b: number, key: string, make: () => TimelineRun): void {
    const last = this.runs[this.runs.length - 1];
    if (last !== undefined && last.b + 1 === a && this.lastKey === key) {
      last.b = b;
      return;
    }
    if (this.runs.length >= this.cap) {
      this.truncated = true;
      return;
    }
    const run = make();
    run.a = a;
    run.b = b;
    this.runs.push(run);
    this.lastKey = key;
  }
}

export interface EpochInfo {
  counter: U64 | null;
  phase: string | null;
  finalView: U64 | null;
}

/**
 * Builds the model from results fed in report order (height, view, id). A block is "on the
 * chain" when the finality walker extends the consistent finalized chain with it, exactly as
 * in `writeReport`; everything else is drawn in the forks lane.
 */
export class TimelineBuilder {
  private readonly sum: ChainSummarizer;
  private readonly low: U64;
  private high: U64;
  private group: BlockResult[] = [];
  private firstInvalidShown = false;
  // lanes
  private readonly epoch = new RunList(MAX_RUNS);
  private readonly phase = new RunList(MAX_RUNS);
  private readonly chain = new RunList(MAX_RUNS);
  private readonly forks = new RunList(MAX_RUNS);
  private readonly extensions: TimelinePoint[] = [];
  private prevEpoch: EpochInfo;
  // individually drawn blocks
  private readonly markers: TimelineBlock[] = [];
  private readonly forkBlocks: TimelineBlock[] = [];
  private readonly details: Record<string, BlockDetails> = {};
  private readonly chainHeights = new Map<string, U64>();
  private readonly drawn = new Map<string, { a: number; stack: number }>();
  /** Ids of the most recent chain blocks, by offset modulo CHAIN_WINDOW. */
  private readonly recentChain: (string | undefined)[] = new Array(CHAIN_WINDOW);
  private nonOk = 0;
  private offChain = 0;
  private noHeight = 0;
  private noHeightStack = 0;
  private extraFirstInvalid = false;

  constructor(
    private readonly ctx: ReportContext,
    rootEpoch: EpochInfo,
    private readonly maxMarkers: number,
  ) {
    this.sum = new ChainSummarizer(ctx);
    this.low = ctx.rootHeight;
    this.high = ctx.rootHeight;
    this.prevEpoch = rootEpoch;
    this.recentChain[0] = ctx.rootId;
    this.addEpoch(0, rootEpoch);
    this.chain.add(0, 'ok', () => ({ a: 0, b: 0, value: 'ok', label: '', title: '' }));
  }

  private offset(h: U64): number {
    const low = this.low;
    return typeof h === 'number' && typeof low === 'number' ? h - low : Number(BigInt(h) - BigInt(low));
  }

  /** Feeds the next result in report order. */
  add(r: BlockResult): void {
    const g = this.group;
    if (g.length > 0 && (r.height === null || r.height !== g[0]!.height)) this.flush();
    this.group.push(r);
  }

  private flush(): void {
    const group = this.group;
    if (group.length === 0) return;
    this.group = [];
    const onChain = this.sum.addGroup(group);
    let stack = 0;
    for (const r of group) {
      if (r.height !== null && r.height > this.high) this.high = r.height;
      const chained = onChain !== null && r.id === onChain;
      const bad = r.verdict !== 'ok';
      let mustShow = false;
      if (bad && r.finalized && r.height !== null && !this.firstInvalidShown) {
        this.firstInvalidShown = true;
        mustShow = true;
      }
      if (bad) this.nonOk++;
      const a = r.height === null ? null : this.offset(r.height);
      if (chained) this.addChained(r, a!);
      else if (a !== null) {
        this.offChain++;
        this.forks.add(a, 'fork', () => ({ a, b: a, value: 'fork', label: '', title: '' }));
      } else this.noHeight++;

      const list = bad ? this.markers : chained ? null : this.forkBlocks;
      if (list === null) continue;
      if (list.length >= this.maxMarkers) {
        if (!mustShow) continue;
        this.extraFirstInvalid = true;
      }
      const key = r.id ?? `record-${r.record}`;
      const s = chained ? 0 : a === null ? this.noHeightStack++ : stack++;
      let parent: TimelineBlock['parent'];
      if (!chained && a !== null && r.parentId !== null) {
        const p = this.drawn.get(r.parentId);
        if (p !== undefined) parent = { a: p.a, stack: p.stack };
        else if (a >= 1 && this.recentChain[(a - 1) % CHAIN_WINDOW] === r.parentId) parent = { a: a - 1, stack: null };
        if (r.id !== null) this.drawn.set(r.id, { a, stack: s });
      }
      list.push({
        key,
        a,
        height: str(r.height),
        lane: chained ? 'chain' : 'forks',
        stack: s,
        verdict: r.verdict,
        finalized: r.finalized,
        parent,
        title: `${r.verdict} · height ${r.height ?? '?'} · view ${r.view ?? '?'} · ${key.slice(0, 16)}${r.failed.length > 1 ? ` · failed: ${r.failed.join(', ')}` : ''}${r.finalized ? ' · finalized' : ''}`,
      });
      this.details[key] = detailsOf(r, chained);
      if (chained) this.chainHeights.set(key, r.height!);
    }
  }

  private addChained(r: BlockResult, a: number): void {
    const e: EpochInfo = { counter: r.epochCounter, phase: r.epochPhase, finalView: r.epochFinalView };
    const prev = this.prevEpoch;
    if (
      e.counter !== null &&
      prev.counter !== null &&
      e.counter === prev.counter &&
      e.finalView !== null &&
      prev.finalView !== null &&
      e.finalView !== prev.finalView
    ) {
      this.extensions.push({
        a,
        key: r.id!,
        title: `epoch ${e.counter} extended at height ${r.height}: final view ${prev.finalView} → ${e.finalView}${e.phase === 'fallback' ? ' (epoch fallback)' : ''}`,
      });
    }
    this.prevEpoch = e;
    this.addEpoch(a, e);
    this.recentChain[a % CHAIN_WINDOW] = r.id!;
    const v = r.verdict === 'ok' ? 'ok' : 'bad';
    this.chain.add(a, v, () => ({ a, b: a, value: v, label: '', title: '', cls: v === 'bad' ? 'bad' : undefined }));
  }

  private addEpoch(a: number, e: EpochInfo): void {
    this.epoch.add(a, e.counter === null ? 'null' : `${e.counter}/${e.finalView}`, () => ({
      a,
      b: a,
      value: e.counter === null ? null : String(e.counter),
      label: e.counter === null ? 'n/a' : `epoch ${e.counter} · final view ${e.finalView}`,
      short: e.counter === null ? undefined : `epoch ${e.counter}`,
      title: e.counter === null ? 'epoch state not evaluated' : `epoch ${e.counter}, final view ${e.finalView}`,
    }));
    this.phase.add(a, e.phase ?? 'null', () => ({
      a,
      b: a,
      value: e.phase,
      label: e.phase ?? 'n/a',
      title:
        e.phase === null
          ? 'epoch state not evaluated'
          : e.phase === 'fallback'
            ? `epoch fallback (EFM) in epoch ${e.counter}`
            : `${e.phase} phase of epoch ${e.counter}`,
      cls: e.phase === null ? undefined : `phase-${e.phase}`,
    }));
  }

  /** The report summary (minus the run fields). */
  summary(): ReportSummary {
    this.flush();
    return this.sum.summary();
  }

  finish(title: string): TimelineModel {
    const summary = this.summary();
    const notes: string[] = [];
    const off = (h: U64) => this.offset(h);
    const low = BigInt(this.low);
    const hText = (a: number) => (low + BigInt(a)).toString();

    // Version lanes: the version map's rows merged per field (finalized chain only, SPEC 5.2).
    const fromMap = (pick: (row: VersionMapRow) => string | null, label: (v: string) => string, what: string): RunList => {
      const list = new RunList(MAX_RUNS);
      for (const row of summary.versionMap) {
        const v = pick(row);
        list.addSpan(off(row.fromHeight), off(row.toHeight), v ?? '\u0000null', () => ({
          a: 0,
          b: 0,
          value: v,
          label: v === null ? 'n/a' : label(v),
          title: v === null ? `${what}: absent` : `${what}: ${v}`,
        }));
      }
      return list;
    };
    const lists: Record<RunLane, RunList> = {
      protocol: fromMap(
        (r) => (r.protocolStateVersion === null ? null : String(r.protocolStateVersion)),
        (v) => `v${v}`,
        'protocol state version',
      ),
      execution: fromMap(
        (r) => r.executionComponentVersion,
        (v) => v,
        'execution component version',
      ),
      cadence: fromMap(
        (r) => r.cadenceComponentVersion,
        (v) => v,
        'cadence component version',
      ),
      required: this.requiredRuns(),
      epoch: this.epoch,
      phase: this.phase,
      chain: this.chain,
      forks: this.forks,
    };
    const runs = {} as Record<RunLane, TimelineRun[]>;
    const truncatedLanes: RunLane[] = [];
    for (const lane of RUN_LANES) {
      runs[lane] = lists[lane].runs;
      if (lists[lane].truncated) {
        truncatedLanes.push(lane);
        notes.push(`The ${lane} lane stops after ${MAX_RUNS} runs.`);
      }
    }
    for (const r of runs.chain) {
      const n = r.b - r.a + 1;
      r.title = `finalized heights ${hText(r.a)}–${hText(r.b)}: ${n} block${n === 1 ? '' : 's'} ${r.value === 'ok' ? 'ok' : 'not ok'}`;
    }
    for (const r of runs.forks) r.title = `heights ${hText(r.a)}–${hText(r.b)}: blocks off the finalized chain`;

    if (this.markers.length < this.nonOk) {
      notes.push(
        `${this.nonOk} blocks are not ok; markers are drawn for the first ${this.maxMarkers} in report order${this.extraFirstInvalid ? ' (and for the first invalid finalized block)' : ''}.`,
      );
    }
    const okOffChain = this.offChain - this.markers.filter((m) => m.lane === 'forks' && m.a !== null).length;
    if (this.forkBlocks.length >= this.maxMarkers && okOffChain > this.forkBlocks.length) {
      notes.push(
        `Only the first ${this.maxMarkers} ok blocks off the finalized chain are drawn individually; the forks lane shades every height that has any.`,
      );
    }
    if (this.noHeight > 0) notes.push(`${this.noHeight} block(s) have no readable height; they are drawn in the "no height" gutter.`);
    if (summary.finalizedHeight < this.high)
      notes.push(`Heights above ${summary.finalizedHeight} are not on the finalized chain: only the forks lane shows them.`);

    const beacons: TimelinePoint[] = summary.beacons.slice(0, this.maxMarkers).map((b) => ({
      a: off(b.sealHeight),
      key: b.blockId,
      title: `beacon sequence ${b.sequence} sealed at ${b.sealHeight} (emitted at ${b.emittedAtHeight}): ${b.boundaries.map((x) => `${x.version} from ${x.blockHeight}`).join(', ')}`,
    }));
    const conflicts: TimelinePoint[] = summary.finalityConflicts
      .filter((c) => c.height >= this.low)
      .slice(0, this.maxMarkers)
      .map((c) => ({ a: off(c.height), title: `finality conflict (${c.kind}) at height ${c.height}${c.ids.length > 0 ? ': ' + c.ids.join(', ') : ''}` }));
    for (const [key, h] of this.chainHeights) this.details[key]!.requiredVersion = this.sum.index.required(h)?.version ?? null;

    return {
      title,
      rootHeight: String(this.ctx.rootHeight),
      rootId: this.ctx.rootId,
      lowHeight: String(this.low),
      highHeight: String(this.high),
      span: off(this.high),
      summary,
      runs,
      truncatedLanes,
      extensions: this.extensions.slice(0, this.maxMarkers),
      beacons,
      conflicts,
      markers: this.markers,
      forkBlocks: this.forkBlocks,
      counts: { nonOk: this.nonOk, offChain: this.offChain, noHeight: this.noHeight },
      maxMarkers: this.maxMarkers,
      details: this.details,
      notes,
    };
  }

  /** R(h) over the finalized chain from the version index's segments, merged by (version, source). */
  private requiredRuns(): RunList {
    const list = new RunList(MAX_RUNS);
    for (const seg of this.sum.index.segmentsIn(this.low, this.sum.walker.finalizedHeight)) {
      const { version, source, next } = seg.required;
      list.addSpan(this.offset(seg.fromHeight), this.offset(seg.toHeight), `${version}|${source}`, () => ({
        a: 0,
        b: 0,
        value: version,
        label: version === null ? 'unknown' : source === 'retroactive' ? `${version} (retroactive)` : version,
        short: version === null ? '?' : version,
        title:
          version === null
            ? 'required version unknown (no beacon in force)'
            : `required version ${version} (${source})${next === null ? '' : `; next ${next.version} from height ${next.height}`}`,
        cls: `source-${source}`,
      }));
    }
    return list;
  }
}

/** The failed rule ids of a result, by the check (verdict row) they belong to. */
function rulesByCheck(r: BlockResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const id of r.failedRules ?? []) {
    const check = verdictOf(id);
    out[check] = [...(out[check] ?? []), id];
  }
  return out;
}

function detailsOf(r: BlockResult, onChain: boolean): BlockDetails {
  return {
    id: r.id,
    record: r.record,
    height: r.height,
    view: r.view,
    parentId: r.parentId,
    finalized: r.finalized,
    onChain,
    verdict: r.verdict,
    failed: [...r.failed],
    reasons: { ...r.reasons },
    rules: rulesByCheck(r),
    stateDiff: null,
    committedStateComputed: null,
    events: r.events.slice(0, MAX_EVENTS).map((e) => ({ type: e.type, outcome: e.outcome, reason: e.reason })),
    eventsTotal: r.events.length,
    committedStateId: r.committedStateId,
    computedStateId: r.computedStateId,
    protocolStateVersion: r.protocolStateVersion,
    executionComponentVersion: r.executionComponentVersion,
    cadenceComponentVersion: r.cadenceComponentVersion,
    pendingUpgrade: r.pendingUpgrade === null ? null : `version ${r.pendingUpgrade.version} at view ${r.pendingUpgrade.activationView}`,
    epochCounter: r.epochCounter,
    epochPhase: r.epochPhase,
    epochFinalView: r.epochFinalView,
    requiredVersion: null,
  };
}
