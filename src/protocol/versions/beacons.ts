// Version beacons (SPEC 5.2, 9.16-9.20): validity, the index over the finalized chain, the
// required version R(h) / Rnext(h) with its retroactive rule, seal-lag warnings, and the
// version map rows of the report (9.19).
//
// R(h) is piecewise constant, so the index keeps it as *segments*: sorted start heights, each
// with one shared, frozen answer. A segment runs until the next one starts; the last one is
// open-ended and clipped to the finalized height on query.
import type { SealedVersionBeacon, U64, VersionBeacon, VersionBoundary } from '../../model/types.js';
import { add, cmp, sub } from '../../model/u64.js';
import { compareSemver, parseSemver, type SemVer } from './semver.js';

export type RequiredVersionSource = 'beacon' | 'root-snapshot' | 'retroactive' | 'unknown';

/** A boundary as reported in `nextRequiredVersion`. Instances are shared: do not mutate. */
export interface NextBoundary {
  readonly height: U64;
  readonly version: string;
}

/** R(h), its source, and Rnext(h). Instances are shared between heights: do not mutate. */
export interface RequiredVersion {
  readonly version: string | null;
  readonly source: RequiredVersionSource;
  readonly next: NextBoundary | null;
}

export interface Span {
  fromHeight: U64;
  toHeight: U64;
}

export interface RequiredSegment extends Span {
  required: RequiredVersion;
}

/** Decides whether a boundary counts (the bootstrap check's overrides skip some, SPEC 5.4). */
export type BoundaryFilter = (boundary: NextBoundary) => boolean;

/** One version beacon sealed by a finalized block, in seal order (SPEC 5.2 indexing). */
export interface SealedBeaconInput {
  beacon: VersionBeacon;
  /** Height of the executed block whose result emitted the beacon. */
  emittedAtHeight: U64;
  /** Hex id of the finalized block that seals it. */
  blockId: string;
}

/** A summary `beacons` entry (SPEC 9.22). */
export interface IndexedBeacon {
  sealHeight: U64;
  emittedAtHeight: U64;
  sequence: U64;
  boundaries: VersionBoundary[];
  blockId: string;
}

export type BeaconIssue =
  | { kind: 'invalid'; sealHeight: U64; sequence: U64; reason: string }
  | { kind: 'sequence-gap'; sealHeight: U64; expected: U64; sequence: U64 }
  | { kind: 'superseded'; sealHeight: U64; sequence: U64; reason: string };

export interface VersionRange extends Span {
  version: string;
}

export interface VersionWarning extends Span {
  sealBased: string;
  emissionBased: string;
}

/** The beacon-related summary fields (SPEC 9.16-9.18, 9.22). */
export interface VersionIndexSummary {
  beacons: IndexedBeacon[];
  beaconIssues: BeaconIssue[];
  retroactiveRanges: VersionRange[];
  unknownVersionRanges: Span[];
  versionWarnings: VersionWarning[];
}

const SUPERSEDED_REASON = 'another beacon followed in the same block';

// ---- validity ----

/** Why a beacon is invalid (SPEC 5.2 validity), or null when it is valid. */
export function validateBeacon(beacon: VersionBeacon): string | null {
  const { boundaries } = beacon;
  if (boundaries.length === 0) return 'no boundaries';
  let previous: { boundary: VersionBoundary; parsed: SemVer } | null = null;
  for (let i = 0; i < boundaries.length; i++) {
    const boundary = boundaries[i]!;
    const parsed = parseSemver(boundary.version);
    if (parsed === null) return `boundary ${i}: version ${JSON.stringify(boundary.version)} does not parse`;
    if (previous !== null) {
      if (boundary.blockHeight <= previous.boundary.blockHeight) {
        return `boundary ${i}: height ${boundary.blockHeight} not above ${previous.boundary.blockHeight}`;
      }
      if (compareSemver(parsed, previous.parsed) < 0) {
        return `boundary ${i}: version ${boundary.version} below ${previous.boundary.version}`;
      }
    }
    previous = { boundary, parsed };
  }
  return null;
}

// ---- regimes: which beacon is in force from which height ----

/** From `fromHeight` until the next regime starts, R(h) is read from `boundaries`. */
interface Regime {
  readonly fromHeight: U64;
  readonly source: RequiredVersionSource;
  readonly boundaries: readonly NextBoundary[];
}

interface StoredBeacon {
  readonly entry: IndexedBeacon;
  readonly boundaries: readonly NextBoundary[];
}

function toNextBoundaries(beacon: VersionBeacon): readonly NextBoundary[] {
  return Object.freeze(beacon.boundaries.map((b) => Object.freeze({ height: b.blockHeight, version: b.version })));
}

function rootRegime(rootHeight: U64, root: readonly NextBoundary[] | null): Regime {
  return root === null ? { fromHeight: rootHeight, source: 'unknown', boundaries: [] } : { fromHeight: rootHeight, source: 'root-snapshot', boundaries: root };
}

/** SPEC 5.2 step 3: the first indexed beacon applies retroactively iff its first boundary precedes its emission. */
function appliesRetroactively(first: StoredBeacon): boolean {
  return first.boundaries[0]!.height < first.entry.emittedAtHeight;
}

/**
 * Regimes of [root, first seal height): the root snapshot's beacon where it has a boundary at
 * or below h, else the first indexed beacon retroactively (SPEC 9.17), else nothing known.
 */
function regimesBeforeFirstSeal(rootHeight: U64, root: readonly NextBoundary[] | null, first: StoredBeacon | undefined): Regime[] {
  const fromRoot = rootRegime(rootHeight, root);
  if (first === undefined || !appliesRetroactively(first)) return [fromRoot];
  const rootInForceFrom = root === null ? null : root[0]!.height;
  if (rootInForceFrom !== null && rootInForceFrom <= rootHeight) return [fromRoot];
  const retroactive: Regime = { fromHeight: rootHeight, source: 'retroactive', boundaries: first.boundaries };
  if (rootInForceFrom === null || rootInForceFrom >= first.entry.sealHeight) return [retroactive];
  return [retroactive, { ...fromRoot, fromHeight: rootInForceFrom }];
}

function sealRegime(beacon: StoredBeacon): Regime {
  return { fromHeight: beacon.entry.sealHeight, source: 'beacon', boundaries: beacon.boundaries };
}

/** SPEC 5.2 step 4: a beacon counts from its emission height (no retroactive rule). */
function emissionRegimes(rootHeight: U64, root: readonly NextBoundary[] | null, beacons: readonly StoredBeacon[]): Regime[] {
  const regimes = [rootRegime(rootHeight, root)];
  const byEmission = [...beacons].sort((a, b) => cmp(a.entry.emittedAtHeight, b.entry.emittedAtHeight));
  for (const beacon of byEmission) {
    const regime: Regime = { fromHeight: maxU64(beacon.entry.emittedAtHeight, rootHeight), source: 'beacon', boundaries: beacon.boundaries };
    if (regimes[regimes.length - 1]!.fromHeight === regime.fromHeight) regimes[regimes.length - 1] = regime;
    else regimes.push(regime);
  }
  return regimes;
}

// ---- segments: where R(h) and Rnext(h) are constant ----

class Segments {
  readonly starts: U64[] = [];
  readonly values: RequiredVersion[] = [];

  push(fromHeight: U64, value: RequiredVersion): void {
    this.starts.push(fromHeight);
    this.values.push(value);
  }

  /** Drops every segment starting at or above `height`. */
  truncate(height: U64): void {
    while (this.starts.length > 0 && this.starts[this.starts.length - 1]! >= height) {
      this.starts.pop();
      this.values.pop();
    }
  }

  /** Appends a regime's segments up to (excluding) `end`, or without end when null. */
  addRegime(regime: Regime, end: U64 | null, counts: BoundaryFilter | null): void {
    const boundaries = counts === null ? regime.boundaries : regime.boundaries.filter(counts);
    const below = retroactiveFirst(regime, counts);
    let i = lastAtOrBelow(boundaries, heightOf, regime.fromHeight);
    this.push(regime.fromHeight, requiredAt(regime.source, boundaries, i, below));
    for (i++; i < boundaries.length && (end === null || boundaries[i]!.height < end); i++) {
      this.push(boundaries[i]!.height, requiredAt(regime.source, boundaries, i, below));
    }
  }

  static of(regimes: readonly Regime[], counts: BoundaryFilter | null): Segments {
    const segments = new Segments();
    regimes.forEach((regime, k) => {
      segments.addRegime(regime, regimes[k + 1]?.fromHeight ?? null, counts);
    });
    return segments;
  }

  /** Index of the segment holding `h` (h must be >= the first start). */
  find(h: U64): number {
    return lastAtOrBelow(this.starts, identity, h);
  }

  /** The segments clipped to [from, to]; `from` must be >= the first start. */
  clip(from: U64, to: U64): RequiredSegment[] {
    const out: RequiredSegment[] = [];
    if (from > to) return out;
    for (let k = this.find(from); k < this.starts.length && this.starts[k]! <= to; k++) {
      const end = k + 1 < this.starts.length ? sub(this.starts[k + 1]!, 1) : to;
      out.push({ fromHeight: maxU64(this.starts[k]!, from), toHeight: minU64(end, to), required: this.values[k]! });
    }
    return out;
  }
}

/**
 * The boundary a retroactive regime applies below all of its boundaries (SPEC 5.2 step 3: B1's
 * first), or null when there is none or it is overridden (SPEC 5.4: skipped, no fall-forward to
 * a later boundary either).
 */
function retroactiveFirst(regime: Regime, counts: BoundaryFilter | null): NextBoundary | null {
  const first = regime.boundaries[0];
  if (regime.source !== 'retroactive' || first === undefined) return null;
  return counts === null || counts(first) ? first : null;
}

/**
 * R(h) / Rnext(h) when `i` is the last counted boundary at or below h (-1: none), SPEC 5.2
 * steps 2-3; `below` is what applies when no counted boundary is at or below h.
 */
function requiredAt(source: RequiredVersionSource, boundaries: readonly NextBoundary[], i: number, below: NextBoundary | null): RequiredVersion {
  const next = boundaries[i + 1] ?? null;
  if (i >= 0) return Object.freeze({ version: boundaries[i]!.version, source, next });
  if (below !== null) return Object.freeze({ version: below.version, source, next });
  return Object.freeze({ version: null, source: 'unknown', next });
}

// ---- the index ----

export class VersionIndex {
  private finalized: U64;
  private readonly root: readonly NextBoundary[] | null;
  private readonly rootSequence: U64 | null;
  private readonly stored: StoredBeacon[] = [];
  private readonly issues: BeaconIssue[] = [];
  private lastSequence: U64 | null;
  private regimes: Regime[];
  private segments: Segments;
  private cursor = 0;

  /**
   * @param rootHeight the root block's height (R.height); also the initial finalized height.
   * @param rootBeacon the root snapshot's beacon; an invalid one is ignored and reported.
   */
  constructor(
    readonly rootHeight: U64,
    rootBeacon: SealedVersionBeacon | null,
  ) {
    this.finalized = rootHeight;
    const rootProblem = rootBeacon === null ? null : validateBeacon(rootBeacon.beacon);
    if (rootBeacon !== null && rootProblem !== null) {
      this.issues.push({ kind: 'invalid', sealHeight: rootHeight, sequence: rootBeacon.beacon.sequence, reason: rootProblem });
    }
    const usable = rootBeacon !== null && rootProblem === null ? rootBeacon : null;
    this.root = usable === null ? null : toNextBoundaries(usable.beacon);
    this.rootSequence = usable === null ? null : usable.beacon.sequence;
    this.lastSequence = this.rootSequence;
    this.regimes = [rootRegime(rootHeight, this.root)];
    this.segments = Segments.of(this.regimes, null);
  }

  /**
   * Rebuilds an index from already indexed beacons (e.g. a stored report's `beacons`), for
   * R(h) queries; beacon issues are not reconstructed.
   */
  static fromIndexed(rootHeight: U64, rootBeacon: SealedVersionBeacon | null, beacons: readonly IndexedBeacon[], finalizedHeight: U64): VersionIndex {
    const index = new VersionIndex(rootHeight, rootBeacon);
    for (const entry of beacons) {
      const problem = validateBeacon({ boundaries: entry.boundaries, sequence: entry.sequence });
      if (problem !== null) throw new RangeError(`indexed beacon sealed at ${entry.sealHeight}: ${problem}`);
      const last = index.stored[index.stored.length - 1];
      if (entry.sealHeight <= (last?.entry.sealHeight ?? rootHeight) || entry.sealHeight > finalizedHeight) {
        throw new RangeError(`indexed beacon sealed at ${entry.sealHeight}: seal heights must increase within (root, finalized]`);
      }
      index.stored.push({ entry: copyEntry(entry), boundaries: toNextBoundaries(entry) });
    }
    index.finalized = finalizedHeight;
    index.rebuild();
    return index;
  }

  get finalizedHeight(): U64 {
    return this.finalized;
  }

  /**
   * Adds the next finalized block (height = finalizedHeight + 1) with the version beacons it
   * seals, in seal order. Pass `[]` for blocks that contribute none, including every block
   * after the first invalid finalized one (SPEC 9.20).
   */
  addFinalized(height: U64, sealed: readonly SealedBeaconInput[]): void {
    if (height !== add(this.finalized, 1)) {
      throw new RangeError(`finalized height ${height} does not follow ${this.finalized}`);
    }
    this.finalized = height;
    if (sealed.length === 0) return;
    const problems = sealed.map((s) => validateBeacon(s.beacon));
    const kept = problems.lastIndexOf(null);
    sealed.forEach((s, i) => {
      const { sequence } = s.beacon;
      const problem = problems[i]!;
      if (problem !== null) {
        this.issues.push({ kind: 'invalid', sealHeight: height, sequence, reason: problem });
        return;
      }
      this.checkSequence(height, sequence);
      if (i !== kept) this.issues.push({ kind: 'superseded', sealHeight: height, sequence, reason: SUPERSEDED_REASON });
    });
    if (kept >= 0) this.index(height, sealed[kept]!);
  }

  /** SPEC 9.16: each valid beacon (superseded included) must follow the previous one's sequence. */
  private checkSequence(sealHeight: U64, sequence: U64): void {
    if (this.lastSequence !== null) {
      const expected = add(this.lastSequence, 1);
      if (sequence !== expected) this.issues.push({ kind: 'sequence-gap', sealHeight, expected, sequence });
    }
    this.lastSequence = sequence;
  }

  private index(sealHeight: U64, sealed: SealedBeaconInput): void {
    const { beacon, emittedAtHeight, blockId } = sealed;
    const entry: IndexedBeacon = {
      sealHeight,
      emittedAtHeight,
      sequence: beacon.sequence,
      boundaries: beacon.boundaries.map((b) => ({ blockHeight: b.blockHeight, version: b.version })),
      blockId,
    };
    const stored: StoredBeacon = { entry, boundaries: toNextBoundaries(beacon) };
    this.stored.push(stored);
    if (this.stored.length === 1) {
      this.rebuild();
      return;
    }
    const regime = sealRegime(stored);
    this.regimes.push(regime);
    this.segments.truncate(sealHeight);
    this.segments.addRegime(regime, null, null);
    this.cursor = 0;
  }

  private rebuild(): void {
    this.regimes = this.sealRegimes();
    this.segments = Segments.of(this.regimes, null);
    this.cursor = 0;
  }

  private sealRegimes(): Regime[] {
    return [...regimesBeforeFirstSeal(this.rootHeight, this.root, this.stored[0]), ...this.stored.map(sealRegime)];
  }

  /**
   * R(h), its source and Rnext(h) for a height of [root, finalizedHeight]; null outside.
   * Amortised O(1) for increasing h; returns shared objects (no allocation).
   * Heights below the first indexed beacon's seal height may still change from `unknown` to
   * `retroactive` when that beacon arrives: see isSettled.
   */
  required(h: U64): RequiredVersion | null {
    if (h < this.rootHeight || h > this.finalized) return null;
    return this.segments.values[this.segmentIndex(h)]!;
  }

  /** True when required(h) can no longer change as more finalized blocks are added. */
  isSettled(h: U64): boolean {
    const r = this.required(h);
    return r !== null && (this.stored.length > 0 || r.source !== 'unknown');
  }

  private segmentIndex(h: U64): number {
    const { starts } = this.segments;
    for (let k = this.cursor; k < this.cursor + 2 && k < starts.length; k++) {
      if (starts[k]! <= h && (k + 1 === starts.length || h < starts[k + 1]!)) {
        this.cursor = k;
        return k;
      }
    }
    this.cursor = this.segments.find(h);
    return this.cursor;
  }

  /**
   * Maximal spans of [from, to] ∩ [root, finalizedHeight] where R and Rnext are constant.
   * With `counts`, boundaries it rejects are skipped inside whichever beacon is in force
   * (SPEC 5.4 overrides: no fall-back to older beacons).
   */
  segmentsIn(from: U64, to: U64, counts?: BoundaryFilter): RequiredSegment[] {
    const segments = counts === undefined ? this.segments : Segments.of(this.regimes, counts);
    return segments.clip(maxU64(from, this.rootHeight), minU64(to, this.finalized));
  }

  /** The summary fields of SPEC 9.16-9.18 over [root, finalizedHeight]. */
  summary(): VersionIndexSummary {
    const all = this.segmentsIn(this.rootHeight, this.finalized);
    return {
      beacons: this.stored.map((s) => copyEntry(s.entry)),
      beaconIssues: this.issues.map((issue) => ({ ...issue })),
      retroactiveRanges: retroactiveRanges(all),
      unknownVersionRanges: unknownRanges(all),
      versionWarnings: this.versionWarnings(all),
    };
  }

  /** SPEC 9.18: where seal-based and emission-based R are both known and differ. */
  private versionWarnings(sealBased: readonly RequiredSegment[]): VersionWarning[] {
    const emission = Segments.of(emissionRegimes(this.rootHeight, this.root, this.stored), null);
    const emissionBased = emission.clip(this.rootHeight, this.finalized);
    const warnings: VersionWarning[] = [];
    for (const [fromHeight, toHeight, seal, emitted] of overlaySpans(sealBased, emissionBased)) {
      const s = seal.required.version;
      const e = emitted.required.version;
      if (s === null || e === null || s === e) continue;
      extendOrPush(
        warnings,
        { fromHeight, toHeight, sealBased: s, emissionBased: e },
        (a, b) => a.sealBased === b.sealBased && a.emissionBased === b.emissionBased,
      );
    }
    return warnings;
  }
}

function copyEntry(entry: IndexedBeacon): IndexedBeacon {
  return { ...entry, boundaries: entry.boundaries.map((b) => ({ ...b })) };
}

function retroactiveRanges(segments: readonly RequiredSegment[]): VersionRange[] {
  const out: VersionRange[] = [];
  for (const { fromHeight, toHeight, required } of segments) {
    if (required.source !== 'retroactive') continue;
    extendOrPush(out, { fromHeight, toHeight, version: required.version! }, (a, b) => a.version === b.version);
  }
  return out;
}

function unknownRanges(segments: readonly RequiredSegment[]): Span[] {
  const out: Span[] = [];
  for (const { fromHeight, toHeight, required } of segments) {
    if (required.source === 'unknown') extendOrPush(out, { fromHeight, toHeight }, () => true);
  }
  return out;
}

// ---- version map (SPEC 9.19) ----

export interface VersionMapRow extends Span {
  protocolStateVersion: number | null;
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
  requiredVersion: string | null;
}

export interface VersionMapEntry {
  height: U64;
  protocolStateVersion: number | null;
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
  requiredVersion: string | null;
}

/** Builds version map rows from finalized heights added in increasing order. */
export class VersionMapBuilder {
  private readonly out: VersionMapRow[] = [];

  add(
    height: U64,
    protocolStateVersion: number | null,
    executionComponentVersion: string | null,
    cadenceComponentVersion: string | null,
    requiredVersion: string | null,
  ): void {
    this.addSpan(height, height, protocolStateVersion, executionComponentVersion, cadenceComponentVersion, requiredVersion);
  }

  /** Adds heights [fromHeight, toHeight] with one set of values (fromHeight follows the last added height). */
  addSpan(
    fromHeight: U64,
    toHeight: U64,
    protocolStateVersion: number | null,
    executionComponentVersion: string | null,
    cadenceComponentVersion: string | null,
    requiredVersion: string | null,
  ): void {
    const last = this.out[this.out.length - 1];
    if (
      last !== undefined &&
      add(last.toHeight, 1) === fromHeight &&
      last.protocolStateVersion === protocolStateVersion &&
      last.executionComponentVersion === executionComponentVersion &&
      last.cadenceComponentVersion === cadenceComponentVersion &&
      last.requiredVersion === requiredVersion
    ) {
      last.toHeight = toHeight;
      return;
    }
    this.out.push({ fromHeight, toHeight, protocolStateVersion, executionComponentVersion, cadenceComponentVersion, requiredVersion });
  }

  rows(): VersionMapRow[] {
    return this.out.map((row) => ({ ...row }));
  }
}

export function versionMapRows(entries: Iterable<VersionMapEntry>): VersionMapRow[] {
  const builder = new VersionMapBuilder();
  for (const e of entries) {
    builder.add(e.height, e.protocolStateVersion, e.executionComponentVersion, e.cadenceComponentVersion, e.requiredVersion);
  }
  return builder.rows();
}

// ---- spans and U64 helpers ----

/**
 * The pieces where spans of `a` and `b` overlap, in height order, as
 * [fromHeight, toHeight, spanOfA, spanOfB]. Both lists must be sorted and disjoint.
 */
export function* overlaySpans<A extends Span, B extends Span>(a: readonly A[], b: readonly B[]): Generator<[U64, U64, A, B]> {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const from = maxU64(x.fromHeight, y.fromHeight);
    const to = minU64(x.toHeight, y.toHeight);
    if (from <= to) yield [from, to, x, y];
    if (x.toHeight <= y.toHeight) i++;
    if (y.toHeight <= x.toHeight) j++;
  }
}

/** Appends `item`, or extends the last span when it ends right before `item` and `same` holds. */
export function extendOrPush<T extends Span>(list: T[], item: T, same: (last: T, item: T) => boolean): void {
  const last = list[list.length - 1];
  if (last !== undefined && add(last.toHeight, 1) === item.fromHeight && same(last, item)) last.toHeight = item.toHeight;
  else list.push(item);
}

const identity = (h: U64): U64 => h;
const heightOf = (b: NextBoundary): U64 => b.height;

/** Index of the last item whose key is <= h (keys ascending), or -1. */
function lastAtOrBelow<T>(items: readonly T[], key: (item: T) => U64, h: U64): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(items[mid]!) <= h) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function maxU64(a: U64, b: U64): U64 {
  return a >= b ? a : b;
}

function minU64(a: U64, b: U64): U64 {
  return a <= b ? a : b;
}
