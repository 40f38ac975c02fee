// The result record of one block (what a report line says, before versions by height) and the
// only code that records failures on it: by rule id, placed by the SPEC 6 table (verdicts.ts).
import { toHex } from '../model/bytes.js';
import type { U64, VersionBeacon } from '../model/types.js';
import type { EventOutcome, Outcome } from '../protocol/outcome.js';
import type { CheckRuleId, EventRuleId } from '../protocol/rules.js';
import type { BlockFacts, LinkHeader, ResultFact } from './facts.js';
import { rankOf, stops, verdictOf, type FailVerdict, type Verdict } from './verdicts.js';

/** A version beacon sealed by a block, with the height of the block whose result emitted it. */
export interface SealedBeacon {
  beacon: VersionBeacon;
  emittedAtHeight: U64;
}

/** An event outcome as a report line lists it (its rule is in `eventRules`, same index). */
export interface ReportedEvent {
  type: string;
  outcome: Outcome;
  reason: string;
}

/** Everything a block line of the report says, except what needs the whole chain (versions by height). */
export interface BlockResult {
  record: number;
  id: string | null;
  height: U64 | null;
  view: U64 | null;
  parentId: string | null;
  finalized: boolean;
  verdict: Verdict;
  /** Every failing row, in table order. */
  failed: FailVerdict[];
  /** Every failed check rule, in table order (rows), then in the order checked. */
  failedRules: readonly CheckRuleId[];
  /** Per failed row: its failed rules' texts, `; `-separated. For humans. */
  reasons: Record<string, string>;
  committedStateId: string | null;
  computedStateId: string | null;
  protocolStateVersion: number | null;
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
  pendingUpgrade: { version: U64; activationView: U64 } | null;
  epochCounter: U64 | null;
  epochPhase: string | null;
  epochFinalView: U64 | null;
  events: ReportedEvent[];
  /** The rule of each event outcome, aligned with `events`. */
  eventRules: readonly EventRuleId[];
  /** True when the block's seals were checked and passed (it may contribute beacons, SPEC 9.20). */
  sealsPassed: boolean;
  beacons: SealedBeacon[];
  unknownEvents: number;
  /** What children need of this block when it is no longer in memory (resume, pruning). */
  link: LinkHeader | null;
  lastSealed: U64 | null;
  /** Results this block's payload includes (ids, executed block, events): seals of descendants use them. */
  included: ResultFact[];
  /** Re-evaluate on the next replay even if stored (its inputs may appear later: unknown parent, cycles). */
  retry: boolean;
}

const NO_RULES: readonly never[] = Object.freeze([]);

/** A block's result before any check ran: verdict ok, no state. */
export function newResult(f: BlockFacts): BlockResult {
  const h = f.header;
  return {
    record: f.record,
    id: f.id === null ? null : toHex(f.id),
    height: h ? h.height : null,
    view: h ? h.view : null,
    parentId: h ? toHex(h.parentId) : null,
    finalized: f.finalized,
    verdict: 'ok',
    failed: [],
    failedRules: NO_RULES,
    reasons: {},
    committedStateId: f.protocolStateId === null ? null : toHex(f.protocolStateId),
    computedStateId: null,
    protocolStateVersion: null,
    executionComponentVersion: null,
    cadenceComponentVersion: null,
    pendingUpgrade: null,
    epochCounter: null,
    epochPhase: null,
    epochFinalView: null,
    events: [],
    eventRules: NO_RULES,
    sealsPassed: false,
    beacons: [],
    unknownEvents: 0,
    link: h,
    lastSealed: null,
    included: [],
    retry: false,
  };
}

/** Records a failed check. Texts of several rules of one row are joined with `; `. */
export function fail(r: BlockResult, rule: CheckRuleId, reason: string): void {
  const v = verdictOf(rule);
  r.failedRules = [...r.failedRules, rule];
  const before = r.reasons[v];
  if (before === undefined) {
    r.failed.push(v);
    r.reasons[v] = reason;
  } else {
    r.reasons[v] = `${before}; ${reason}`;
  }
}

/** True when a failed row ends the block's evaluation (SPEC 9.8). */
export function stopped(r: BlockResult): boolean {
  for (const v of r.failed) if (stops(v)) return true;
  return false;
}

const byRank = (a: FailVerdict, b: FailVerdict) => rankOf(a) - rankOf(b);

/** The verdict: the first failing row of the table, whatever order the checks ran in. */
export function close(r: BlockResult): BlockResult {
  if (r.failed.length > 1) {
    r.failed.sort(byRank);
    r.failedRules = [...r.failedRules].sort((a, b) => byRank(verdictOf(a), verdictOf(b)));
    const reasons: Record<string, string> = {};
    for (const v of r.failed) reasons[v] = r.reasons[v];
    r.reasons = reasons;
  }
  r.verdict = r.failed.length > 0 ? r.failed[0] : 'ok';
  return r;
}

/** The block's event outcomes: the report's form, and their rules beside it. */
export function setEvents(r: BlockResult, outcomes: readonly EventOutcome[]): void {
  if (outcomes.length === 0) return;
  r.events = outcomes.map((o) => ({ type: o.type, outcome: o.outcome, reason: o.reason }));
  r.eventRules = outcomes.map((o) => o.rule);
}
