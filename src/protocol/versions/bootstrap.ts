// Bootstrap check for a binary (SPEC 5.4): over a range of finalized heights, where may a
// binary of version X execute, where would a stock node run it although it must not, and
// where is the required version unknown. Works on spans (R/Rnext segments, component runs),
// never height by height.
import type { U64 } from '../../model/types.js';
import { add, sub } from '../../model/u64.js';
import { extendOrPush, overlaySpans, type BoundaryFilter, type NextBoundary, type RequiredVersion, type Span, type VersionIndex } from './beacons.js';
import { compareSemver, normalizeBinaryVersion, parseSemver, type SemVer } from './semver.js';

/** Component versions over a run of heights; version map rows (SPEC 9.19) fit as they are. */
export interface ComponentRun extends Span {
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
}

export interface BootstrapQuery {
  /** The binary's own version string, normalised per SPEC 5.3 before parsing. */
  binary: string;
  /** `major.minor` values the binary supports, for both components; absent: no component check. */
  supportedComponents?: readonly string[] | null;
  /** Boundary versions `M.m.p` declared compatible: such boundaries are skipped. */
  overrides?: readonly string[] | null;
  /** Default: the root height. */
  fromHeight?: U64 | null;
  /** Default: the finalized height. */
  toHeight?: U64 | null;
}

/** SPEC 5.4 JSON form. */
export interface BootstrapAnswer {
  binary: string;
  normalized: string;
  fromHeight: U64;
  toHeight: U64;
  mayExecute: Span[];
  silentForkRisk: Span[];
  unknown: Span[];
  componentMismatch: Span[];
  verdict: boolean;
}

/** Why a height may not be executed by the binary; none: it may. */
export type BootstrapReason =
  | 'below-required'
  | 'silent-fork-risk'
  | 'component-mismatch'
  | 'unknown-no-beacon'
  | 'unknown-overridden'
  | 'unknown-outside-finalized-range';

export interface UnsupportedComponent {
  component: 'execution' | 'cadence';
  version: string;
}

/** One piece of the partition of [fromHeight, toHeight] with the values behind its reasons. */
export interface BootstrapRange extends Span {
  reasons: BootstrapReason[];
  /** R(h), set only with 'below-required'. */
  requiredVersion: string | null;
  /** Rnext(h), set only with 'silent-fork-risk'. */
  nextBoundary: NextBoundary | null;
  /** Set only with 'component-mismatch'. */
  unsupportedComponents: UnsupportedComponent[];
}

/** The SPEC 5.4 answer (its keys first) with the reasons spelled out. */
export interface BootstrapReport extends BootstrapAnswer {
  /** R(h) known and X < R(h). */
  belowRequired: Span[];
  /** [root height, finalized height]: where R(h) is defined at all. */
  finalizedRange: Span;
  /** The heights of [fromHeight, toHeight] outside finalizedRange (a part of `unknown`). */
  outsideFinalizedRange: Span[];
  /** A partition of [fromHeight, toHeight] into maximal runs of equal reasons and values. */
  ranges: BootstrapRange[];
}

/** Unusable query input (the CLI reports it with exit code 2). */
export class BootstrapInputError extends Error {
  override name = 'BootstrapInputError';
}

/** What the check needs from the version index. */
export type RequiredVersionTimeline = Pick<VersionIndex, 'rootHeight' | 'finalizedHeight' | 'segmentsIn'>;

interface RequiredSpan extends Span {
  /** null outside [root, finalizedHeight]: R is not defined there. */
  required: RequiredVersion | null;
  /** R unknown only because overrides skipped the boundaries that give it. */
  overridden: boolean;
}

/**
 * SPEC 5.4. `components` must be sorted and disjoint; heights they do not cover have no
 * component versions (and pass the component check). Heights of the range outside
 * [root, finalizedHeight] count as unknown.
 */
export function checkBootstrap(timeline: RequiredVersionTimeline, components: Iterable<ComponentRun>, query: BootstrapQuery): BootstrapAnswer {
  const { binary, normalized, fromHeight, toHeight, mayExecute, silentForkRisk, unknown, componentMismatch, verdict } = explainBootstrap(
    timeline,
    components,
    query,
  );
  return { binary, normalized, fromHeight, toHeight, mayExecute, silentForkRisk, unknown, componentMismatch, verdict };
}

/** checkBootstrap with the reason for every height that may not be executed. */
export function explainBootstrap(timeline: RequiredVersionTimeline, components: Iterable<ComponentRun>, query: BootstrapQuery): BootstrapReport {
  const normalized = normalizeBinaryVersion(query.binary);
  const binary = parseSemver(normalized);
  if (binary === null) {
    throw new BootstrapInputError(`binary version ${JSON.stringify(query.binary)} (normalised ${JSON.stringify(normalized)}) does not parse`);
  }
  const versions = new VersionCache();
  const supported = parseComponentSet(query.supportedComponents);
  const counts = overrideFilter(query.overrides, versions);
  const fromHeight = query.fromHeight ?? timeline.rootHeight;
  const toHeight = query.toHeight ?? timeline.finalizedHeight;
  const report: BootstrapReport = {
    binary: query.binary,
    normalized,
    fromHeight,
    toHeight,
    mayExecute: [],
    silentForkRisk: [],
    unknown: [],
    componentMismatch: [],
    verdict: false,
    belowRequired: [],
    finalizedRange: { fromHeight: timeline.rootHeight, toHeight: timeline.finalizedHeight },
    outsideFinalizedRange: [],
    ranges: [],
  };
  if (fromHeight > toHeight) return report;

  const required = requiredSpans(timeline, fromHeight, toHeight, counts);
  const runs = cover<ComponentRun>(components, fromHeight, toHeight, (gap) => ({ ...gap, executionComponentVersion: null, cadenceComponentVersion: null }));
  for (const [from, to, span, run] of overlaySpans(required, runs)) {
    const range = judge(binary, versions, span, unsupportedComponents(supported, run), { fromHeight: from, toHeight: to });
    addToLists(report, range);
    extendOrPush(report.ranges, range, sameJudgement);
  }
  report.verdict = coversExactly(report.mayExecute, fromHeight, toHeight);
  return report;
}

/** R(h) over [from, to], with the overrides applied; holes (outside the finalized range) have none. */
function requiredSpans(timeline: RequiredVersionTimeline, from: U64, to: U64, counts: BoundaryFilter | undefined): RequiredSpan[] {
  const counted = timeline.segmentsIn(from, to, counts);
  const spans: RequiredSpan[] = [];
  if (counts === undefined) {
    for (const s of counted) spans.push({ ...s, overridden: false });
  } else {
    for (const [lo, hi, c, all] of overlaySpans(counted, timeline.segmentsIn(from, to))) {
      spans.push({ fromHeight: lo, toHeight: hi, required: c.required, overridden: c.required.version === null && all.required.version !== null });
    }
  }
  return cover<RequiredSpan>(spans, from, to, (gap) => ({ ...gap, required: null, overridden: false }));
}

/** The reasons of one piece where R, Rnext and the component versions are constant. */
function judge(binary: SemVer, versions: VersionCache, span: RequiredSpan, unsupported: UnsupportedComponent[], piece: Span): BootstrapRange {
  const range: BootstrapRange = { ...piece, reasons: [], requiredVersion: null, nextBoundary: null, unsupportedComponents: [] };
  const r = span.required;
  if (r === null) range.reasons.push('unknown-outside-finalized-range');
  else if (r.version === null) range.reasons.push(span.overridden ? 'unknown-overridden' : 'unknown-no-beacon');
  else if (compareSemver(binary, versions.get(r.version)) < 0) {
    range.reasons.push('below-required');
    range.requiredVersion = r.version;
  } else if (r.next !== null && compareSemver(binary, versions.get(r.next.version)) >= 0) {
    range.reasons.push('silent-fork-risk');
    range.nextBoundary = r.next;
  }
  if (unsupported.length > 0) {
    range.reasons.push('component-mismatch');
    range.unsupportedComponents = unsupported;
  }
  return range;
}

const UNKNOWN_REASONS: readonly BootstrapReason[] = ['unknown-no-beacon', 'unknown-overridden', 'unknown-outside-finalized-range'];

function addToLists(report: BootstrapReport, range: BootstrapRange): void {
  const piece = { fromHeight: range.fromHeight, toHeight: range.toHeight };
  const has = (reason: BootstrapReason) => range.reasons.includes(reason);
  if (range.reasons.length === 0) addRange(report.mayExecute, piece);
  if (has('silent-fork-risk')) addRange(report.silentForkRisk, piece);
  if (UNKNOWN_REASONS.some(has)) addRange(report.unknown, piece);
  if (has('component-mismatch')) addRange(report.componentMismatch, piece);
  if (has('below-required')) addRange(report.belowRequired, piece);
  if (has('unknown-outside-finalized-range')) addRange(report.outsideFinalizedRange, piece);
}

function sameJudgement(a: BootstrapRange, b: BootstrapRange): boolean {
  return (
    a.reasons.join() === b.reasons.join() &&
    a.requiredVersion === b.requiredVersion &&
    a.nextBoundary?.height === b.nextBoundary?.height &&
    a.nextBoundary?.version === b.nextBoundary?.version &&
    a.unsupportedComponents.map(componentText).join() === b.unsupportedComponents.map(componentText).join()
  );
}

function componentText(c: UnsupportedComponent): string {
  return `${c.component} ${c.version}`;
}

class VersionCache {
  private readonly parsed = new Map<string, SemVer>();

  /** Beacon versions were validated when indexed, so they parse. */
  get(version: string): SemVer {
    let v = this.parsed.get(version);
    if (v === undefined) {
      const parsed = parseSemver(version);
      if (parsed === null) throw new RangeError(`boundary version ${JSON.stringify(version)} does not parse`);
      v = parsed;
      this.parsed.set(version, v);
    }
    return v;
  }
}

const MAJOR_MINOR = /^([0-9]+)\.([0-9]+)$/;

/** The supported `major.minor` set in canonical decimal form, or null for no component check. */
function parseComponentSet(values: readonly string[] | null | undefined): Set<string> | null {
  if (values === null || values === undefined) return null;
  return new Set(
    values.map((value) => {
      const m = MAJOR_MINOR.exec(value);
      if (m === null) throw new BootstrapInputError(`supported component version ${JSON.stringify(value)} is not major.minor`);
      return `${BigInt(m[1]!)}.${BigInt(m[2]!)}`;
    }),
  );
}

/** The component versions of `run` outside the supported set; a block without them passes (SPEC 5.4). */
function unsupportedComponents(supported: Set<string> | null, run: ComponentRun): UnsupportedComponent[] {
  const out: UnsupportedComponent[] = [];
  if (supported === null) return out;
  const check = (component: UnsupportedComponent['component'], version: string | null): void => {
    if (version !== null && !supported.has(version)) out.push({ component, version });
  };
  check('execution', run.executionComponentVersion);
  check('cadence', run.cadenceComponentVersion);
  return out;
}

/** Counts a boundary unless its major.minor.patch equals an override (SPEC 5.4 Decision). */
function overrideFilter(values: readonly string[] | null | undefined, versions: VersionCache): BoundaryFilter | undefined {
  if (values === null || values === undefined || values.length === 0) return undefined;
  const overrides = values.map((value) => {
    const v = parseSemver(value);
    if (v === null || v.preRelease !== '' || v.metadata !== '') {
      throw new BootstrapInputError(`override ${JSON.stringify(value)} is not a version M.m.p`);
    }
    return v;
  });
  return (boundary) => {
    const v = versions.get(boundary.version);
    return !overrides.some((o) => o.major === v.major && o.minor === v.minor && o.patch === v.patch);
  };
}

/** Clips sorted, disjoint spans to [from, to] and fills the holes with `gap`. */
function cover<T extends Span>(spans: Iterable<T>, from: U64, to: U64, gap: (hole: Span) => T): T[] {
  const out: T[] = [];
  let next = from;
  for (const span of spans) {
    const lo = span.fromHeight > from ? span.fromHeight : from;
    const hi = span.toHeight < to ? span.toHeight : to;
    if (lo > hi) continue;
    if (lo < next) throw new RangeError(`spans must be sorted and disjoint (at height ${lo})`);
    if (lo > next) out.push(gap({ fromHeight: next, toHeight: sub(lo, 1) }));
    out.push({ ...span, fromHeight: lo, toHeight: hi });
    next = add(hi, 1);
  }
  if (next <= to) out.push(gap({ fromHeight: next, toHeight: to }));
  return out;
}

function addRange(list: Span[], piece: Span): void {
  extendOrPush(list, piece, () => true);
}

function coversExactly(ranges: readonly Span[], from: U64, to: U64): boolean {
  return ranges.length === 1 && ranges[0]!.fromHeight === from && ranges[0]!.toHeight === to;
}
