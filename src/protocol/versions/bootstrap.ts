// Bootstrap check for a binary (SPEC 5.4): over a range of finalized heights, where may a
// binary of version X execute, where would a stock node run it although it must not, and
// where is the required version unknown. Works on spans (R/Rnext segments, component runs),
// never height by height.
import type { U64 } from '../../model/types.js';
import { add, sub } from '../../model/u64.js';
import {
  extendOrPush,
  overlaySpans,
  type BoundaryFilter,
  type RequiredVersion,
  type Span,
  type VersionIndex,
} from './beacons.js';
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

/** Unusable query input (the CLI reports it with exit code 2). */
export class BootstrapInputError extends Error {
  override name = 'BootstrapInputError';
}

/** What the check needs from the version index. */
export type RequiredVersionTimeline = Pick<VersionIndex, 'rootHeight' | 'finalizedHeight' | 'segmentsIn'>;

interface RequiredSpan extends Span {
  /** null outside [root, finalizedHeight]: R is not defined there. */
  required: RequiredVersion | null;
}

/**
 * SPEC 5.4. `components` must be sorted and disjoint; heights they do not cover have no
 * component versions (and pass the component check). Heights of the range outside
 * [root, finalizedHeight] count as unknown.
 */
export function checkBootstrap(
  timeline: RequiredVersionTimeline,
  components: Iterable<ComponentRun>,
  query: BootstrapQuery,
): BootstrapAnswer {
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
  const answer: BootstrapAnswer = {
    binary: query.binary,
    normalized,
    fromHeight,
    toHeight,
    mayExecute: [],
    silentForkRisk: [],
    unknown: [],
    componentMismatch: [],
    verdict: false,
  };
  if (fromHeight > toHeight) return answer;

  const required = cover<RequiredSpan>(timeline.segmentsIn(fromHeight, toHeight, counts), fromHeight, toHeight, (gap) => ({ ...gap, required: null }));
  const runs = cover<ComponentRun>(components, fromHeight, toHeight, (gap) => ({ ...gap, executionComponentVersion: null, cadenceComponentVersion: null }));
  for (const [from, to, { required: r }, run] of overlaySpans(required, runs)) {
    const piece = { fromHeight: from, toHeight: to };
    const componentsOk = supportsComponents(supported, run);
    if (!componentsOk) addRange(answer.componentMismatch, piece);
    if (r === null || r.version === null) {
      addRange(answer.unknown, piece);
      continue;
    }
    const lenient = compareSemver(binary, versions.get(r.version)) >= 0;
    const exact = lenient && (r.next === null || compareSemver(binary, versions.get(r.next.version)) < 0);
    if (exact && componentsOk) addRange(answer.mayExecute, piece);
    if (lenient && !exact) addRange(answer.silentForkRisk, piece);
  }
  answer.verdict = coversExactly(answer.mayExecute, fromHeight, toHeight);
  return answer;
}

class VersionCache {
  private readonly parsed = new Map<string, SemVer>();

  /** Beacon versions were validated when indexed, so they parse. */
  get(version: string): SemVer {
    let v = this.parsed.get(version);
    if (v === undefined) {
      const parsed = parseSemver(version);
      if (parsed === null) throw new RangeError(`boundary version ${JSON.stringify(version)} does not parse`);
      this.parsed.set(version, (v = parsed));
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

/** A block without component versions passes (SPEC 5.4). */
function supportsComponents(supported: Set<string> | null, run: ComponentRun): boolean {
  if (supported === null) return true;
  const ok = (v: string | null): boolean => v === null || supported.has(v);
  return ok(run.executionComponentVersion) && ok(run.cadenceComponentVersion);
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
