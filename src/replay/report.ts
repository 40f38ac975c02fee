// SPEC 7.2: the JSON Lines report. Two streaming passes over the block results in report
// order: the first walks the finalized chain and builds the version index (R(h) can depend on
// beacons sealed far above h, SPEC 5.2 retroactive range); the second writes the lines.
import type { SealedVersionBeacon, U64 } from '../model/types.js';
import { VersionIndex, VersionMapBuilder, type VersionIndexSummary, type VersionMapRow } from '../protocol/versions/beacons.js';
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
  threads?: number;
  seconds?: number;
  blocksPerSecond?: number;
}

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

/** Pass 1: the finalized chain and the version index over it (SPEC 5.2, 9.11, 9.20). */
export function indexChain(ctx: ReportContext, results: Iterable<BlockResult>): { index: VersionIndex; walker: FinalityWalker } {
  const walker = new FinalityWalker(ctx.rootHeight, ctx.rootId);
  const index = new VersionIndex(ctx.rootHeight, ctx.rootBeacon);
  let beaconsStopped = false;
  for (const group of heightGroups(results)) {
    const entries = finalizedEntries(group);
    if (entries.length === 0 || group[0].height === null) continue;
    const onChain = walker.addHeight(group[0].height, entries);
    if (onChain === null) continue;
    const r = group.find((x) => x.id === onChain)!;
    const sealed = beaconsStopped || !r.sealsPassed ? [] : r.beacons.map((b) => ({ ...b, blockId: r.id! }));
    index.addFinalized(r.height!, sealed);
    if (r.verdict !== 'ok') beaconsStopped = true;
  }
  return { index, walker };
}

/** Pass 2: block lines in report order, then the summary. */
export function writeReport(
  ctx: ReportContext,
  results: Iterable<BlockResult>,
  index: VersionIndex,
  emit: (line: string) => void,
): ReportSummary {
  const walker = new FinalityWalker(ctx.rootHeight, ctx.rootId);
  const map = new VersionMapBuilder();
  const verdicts: Partial<Record<Verdict, number>> = {};
  let blocks = 0;
  let unknownServiceEvents = 0;
  let firstInvalidFinalized: ReportSummary['firstInvalidFinalized'] = null;
  const rootRequired = index.required(ctx.rootHeight);
  const rv = ctx.rootVersions;
  map.add(ctx.rootHeight, rv.protocolStateVersion, rv.executionComponentVersion, rv.cadenceComponentVersion, rootRequired?.version ?? null);

  for (const group of heightGroups(results)) {
    const entries = finalizedEntries(group);
    const onChain = entries.length > 0 && group[0].height !== null ? walker.addHeight(group[0].height, entries) : null;
    for (const r of group) {
      blocks++;
      verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
      unknownServiceEvents += r.unknownEvents;
      if (r.finalized && r.verdict !== 'ok' && r.height !== null && firstInvalidFinalized === null) {
        firstInvalidFinalized = { height: r.height, id: r.id!, verdict: r.verdict };
      }
      const chained = onChain !== null && r.id === onChain;
      const req = chained ? index.required(r.height!) : null;
      if (chained) {
        map.add(r.height!, r.protocolStateVersion, r.executionComponentVersion, r.cadenceComponentVersion, req?.version ?? null);
      }
      emit(blockLine(r, chained, req));
    }
  }
  return {
    type: 'summary',
    blocks,
    finalizedHeight: walker.finalizedHeight,
    verdicts,
    firstInvalidFinalized,
    finalityConflicts: walker.conflicts,
    versionMap: map.rows(),
    ...index.summary(),
    unknownServiceEvents,
  };
}

function blockLine(r: BlockResult, chained: boolean, req: ReturnType<VersionIndex['required']>): string {
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
    protocolStateVersion: r.protocolStateVersion,
    executionComponentVersion: r.executionComponentVersion,
    cadenceComponentVersion: r.cadenceComponentVersion,
    pendingUpgrade: r.pendingUpgrade,
    epochCounter: r.epochCounter,
    epochPhase: r.epochPhase,
    epochFinalView: r.epochFinalView,
    requiredVersion: req?.version ?? null,
    requiredVersionSource: chained ? (req?.source ?? 'unknown') : null,
    nextRequiredVersion: req?.next ?? null,
    events: r.events,
    reasons: r.reasons,
    record: r.record,
  });
}

const BIG = '\u0000big:';

/** JSON with u64 values above 2^53-1 written as plain JSON numbers (exact digits). */
export function stringify(v: unknown): string {
  let sawBig = false;
  const s = JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') {
      sawBig = true;
      return BIG + x.toString();
    }
    return x;
  });
  return sawBig ? s.replace(/"\\u0000big:(\d+)"/g, '$1') : s;
}
