// SPEC 7.2: the JSON Lines report. Two streaming passes over the block results in report
// order: the first walks the finalized chain and builds the version index (R(h) can depend on
// beacons sealed far above h, SPEC 5.2 retroactive range); the second writes the lines.
import type { SealedVersionBeacon, U64 } from '../model/types.js';
import {
  VersionIndex,
  VersionMapBuilder,
  overlaySpans,
  type RequiredVersion,
  type VersionIndexSummary,
  type VersionMapRow,
} from '../protocol/versions/beacons.js';
import { add } from '../model/u64.js';
import type { BlockResult, Verdict } from './evaluate.js';
import { FinalityWalker, type FinalityConflict } from './finality.js';

export interface ReportContext {
  rootHeight: U64;
  rootId: string;
  rootBeacon: SealedVersionBeacon | null;
  rootVersions: { protocolStateVersion: number; executionComponentVersion: string | null; cadenceComponentVersion: string | null };
}

export interface ReportSummary extends VersionIndexSummary {
  type: 'summary';
  blocks: number;
  finalizedHeight: U64;
  verdicts: Partial<Record<Verdict, number>>;
  firstInvalidFinalized: { height: U64; id: string; verdict: Verdict } | null;
  finalityConflicts: FinalityConflict[];
  versionMap: VersionMapRow[];
  unknownServiceEvents: number;
  /** The first blocks (report order) whose own checks failed: where an incident starts. */
  invalidBlocks: { height: U64 | null; id: string | null; verdict: Verdict; finalized: boolean; reason: string }[];
  threads?: number;
  seconds?: number;
  /** Blocks evaluated per second of this run; absent when it evaluated nothing. */
  blocksPerSecond?: number;
  /** Blocks this run evaluated, and blocks whose stored result it reused (incremental replay). */
  evaluated?: number;
  reused?: number;
  /** When this run imported an archive first: records read, seconds, records per second. */
  import?: { records: number; seconds: number; recordsPerSecond: number };
}

/** How many invalid blocks the summary lists. */
export const INVALID_LISTED = 20;

/** Consecutive results of one height (a header-less result forms a group of its own). */
export function* heightGroups(results: Iterable<BlockResult>): Generator<BlockResult[]> {
  let group: BlockResult[] = [];
  for (const r of results) {
    if (group.length > 0 && (r.height === null || r.height !== group[0].height)) {
      yield group;
      group = [];
    }
    group.push(r);
  }
  if (group.length > 0) yield group;
}

function finalizedEntries(group: BlockResult[]) {
  const out: { id: string; parentId: string }[] = [];
  for (const r of group) if (r.finalized && r.height !== null && r.id !== null) out.push({ id: r.id, parentId: r.parentId! });
  return out;
}

interface StateRun {
  fromHeight: U64;
  toHeight: U64;
  protocolStateVersion: number | null;
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
}

/**
 * Pass 1 of the report, shared by every consumer (JSONL report, HTML timeline): walks the
 * finalized chain (SPEC 9.11), indexes its beacons (5.2, 9.20), counts verdicts and collects
 * the chain's state-version runs; the summary's version map is those runs overlaid with R(h)
 * once the index is complete (9.19), so the whole summary needs one pass.
 */
export class ChainSummarizer {
  readonly walker: FinalityWalker;
  readonly index: VersionIndex;
  private beaconsStopped = false;
  private blocks = 0;
  private readonly verdicts: Partial<Record<Verdict, number>> = {};
  private unknownServiceEvents = 0;
  private firstInvalidFinalized: ReportSummary['firstInvalidFinalized'] = null;
  private readonly invalidBlocks: ReportSummary['invalidBlocks'] = [];
  private readonly stateRuns: StateRun[] = [];

  constructor(private readonly ctx: ReportContext) {
    this.walker = new FinalityWalker(ctx.rootHeight, ctx.rootId);
    this.index = new VersionIndex(ctx.rootHeight, ctx.rootBeacon);
    const rv = ctx.rootVersions;
    this.addState(ctx.rootHeight, rv.protocolStateVersion, rv.executionComponentVersion, rv.cadenceComponentVersion);
  }

  /** Feeds the results of one height (see heightGroups); returns the id of its chain block, or null. */
  addGroup(group: BlockResult[]): string | null {
    const entries = finalizedEntries(group);
    const onChain = entries.length > 0 && group[0].height !== null ? this.walker.addHeight(group[0].height, entries) : null;
    for (const r of group) {
      this.blocks++;
      this.verdicts[r.verdict] = (this.verdicts[r.verdict] ?? 0) + 1;
      this.unknownServiceEvents += r.unknownEvents;
      if (r.verdict === 'ok') continue;
      if (r.finalized && r.height !== null && this.firstInvalidFinalized === null) {
        this.firstInvalidFinalized = { height: r.height, id: r.id!, verdict: r.verdict };
      }
      if (r.verdict !== 'descends-from-invalid' && this.invalidBlocks.length < INVALID_LISTED) {
        this.invalidBlocks.push({ height: r.height, id: r.id, verdict: r.verdict, finalized: r.finalized, reason: r.reasons[r.verdict] ?? '' });
      }
    }
    if (onChain !== null) {
      const r = group.find((x) => x.id === onChain)!;
      const sealed = this.beaconsStopped || !r.sealsPassed ? [] : r.beacons.map((b) => ({ ...b, blockId: r.id! }));
      this.index.addFinalized(r.height!, sealed);
      if (r.verdict !== 'ok') this.beaconsStopped = true;
      this.addState(r.height!, r.protocolStateVersion, r.executionComponentVersion, r.cadenceComponentVersion);
    }
    return onChain;
  }

  private addState(h: U64, psv: number | null, exec: string | null, cadence: string | null): void {
    const last = this.stateRuns[this.stateRuns.length - 1];
    if (
      last !== undefined &&
      add(last.toHeight, 1) === h &&
      last.protocolStateVersion === psv &&
      last.executionComponentVersion === exec &&
      last.cadenceComponentVersion === cadence
    ) {
      last.toHeight = h;
      return;
    }
    this.stateRuns.push({ fromHeight: h, toHeight: h, protocolStateVersion: psv, executionComponentVersion: exec, cadenceComponentVersion: cadence });
  }

  /** SPEC 9.19 rows: the chain's state-version runs overlaid with R(h), equal neighbours merged. */
  private versionMap(): VersionMapRow[] {
    const rows = new VersionMapBuilder();
    const segments = this.index.segmentsIn(this.ctx.rootHeight, this.walker.finalizedHeight);
    for (const [fromHeight, toHeight, st, seg] of overlaySpans(this.stateRuns, segments)) {
      rows.addSpan(fromHeight, toHeight, st.protocolStateVersion, st.executionComponentVersion, st.cadenceComponentVersion, seg.required.version);
    }
    return rows.rows();
  }

  summary(): ReportSummary {
    return {
      type: 'summary',
      blocks: this.blocks,
      finalizedHeight: this.walker.finalizedHeight,
      verdicts: { ...this.verdicts },
      firstInvalidFinalized: this.firstInvalidFinalized,
      finalityConflicts: this.walker.conflicts.map((c) => ({ ...c, ids: [...c.ids] })),
      versionMap: this.versionMap(),
      ...this.index.summary(),
      unknownServiceEvents: this.unknownServiceEvents,
      invalidBlocks: this.invalidBlocks,
    };
  }
}

/** Pass 1: the summary and the complete version index. */
export function summarize(ctx: ReportContext, results: Iterable<BlockResult>): { summary: ReportSummary; index: VersionIndex } {
  const pass = new ChainSummarizer(ctx);
  for (const group of heightGroups(results)) pass.addGroup(group);
  return { summary: pass.summary(), index: pass.index };
}

/**
 * Whether a result is the finalized chain's block at its height, given pass 1's finalized
 * height: up to it the chain has exactly one finalized block per height (SPEC 9.11), above it
 * none is on the chain. So each line can be written on its own, in any range of the report.
 */
export function onChain(r: BlockResult, rootHeight: U64, finalizedHeight: U64): boolean {
  return r.finalized && r.id !== null && r.height !== null && r.height > rootHeight && r.height <= finalizedHeight;
}

/** Pass 2: the block lines of `results` (a range of the report order), each with R(h) from the complete index. */
export function writeBlockLines(
  ctx: ReportContext,
  results: Iterable<BlockResult>,
  index: VersionIndex,
  finalizedHeight: U64,
  emit: (line: string) => void,
): void {
  for (const r of results) {
    const chained = onChain(r, ctx.rootHeight, finalizedHeight);
    emit(blockLine(r, chained, chained ? index.required(r.height!) : null));
  }
}

/** The version and epoch fields of a block line (SPEC 7.2, 9.17, 9.22); R(h) only on the chain. */
export function versionFields(r: BlockResult, chained: boolean, req: RequiredVersion | null) {
  return {
    protocolStateVersion: r.protocolStateVersion,
    executionComponentVersion: r.executionComponentVersion,
    cadenceComponentVersion: r.cadenceComponentVersion,
    pendingUpgrade: r.pendingUpgrade,
    epochCounter: r.epochCounter,
    epochPhase: r.epochPhase,
    epochFinalView: r.epochFinalView,
    ...requiredFields(req, chained),
  };
}

/** R(h), its source and Rnext(h) as report fields (SPEC 7.2, 9.17); the source only on the chain. */
export function requiredFields(req: RequiredVersion | null, chained: boolean) {
  return {
    requiredVersion: req?.version ?? null,
    requiredVersionSource: chained ? (req?.source ?? 'unknown') : null,
    nextRequiredVersion: req?.next ? { height: req.next.height, version: req.next.version } : null,
  };
}

function blockLine(r: BlockResult, chained: boolean, req: RequiredVersion | null): string {
  return stringify({
    type: 'block',
    id: r.id,
    height: r.height,
    view: r.view,
    parentId: r.parentId,
    finalized: r.finalized,
    verdict: r.verdict,
    failed: r.failed,
    committedStateId: r.committedStateId,
    computedStateId: r.computedStateId,
    ...versionFields(r, chained, req),
    events: r.events,
    reasons: r.reasons,
    record: r.record,
  });
}

/** The summary's version findings (the `versions` command and the server's /versions). */
export function versionFindings(s: ReportSummary) {
  return {
    finalizedHeight: s.finalizedHeight,
    versionMap: s.versionMap,
    beacons: s.beacons,
    beaconIssues: s.beaconIssues,
    retroactiveRanges: s.retroactiveRanges,
    unknownVersionRanges: s.unknownVersionRanges,
    versionWarnings: s.versionWarnings,
  };
}

const BIG = '\u0000big:';

/** JSON with u64 values above 2^53-1 written as plain JSON numbers (exact digits). */
export function stringify(v: unknown): string {
  try {
    // the fast path: no replacer (a replacer makes JSON.stringify call back for every key)
    return JSON.stringify(v);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
  }
  const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? BIG + x.toString() : x));
  return s.replace(/"\\u0000big:(\d+)"/g, '$1');
}
