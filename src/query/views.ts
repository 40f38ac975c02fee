// The shapes `inspect --json` and the HTTP API return for a block and its states.
import { verdictOf } from '../replay/verdicts.js';
import { toHex } from '../model/bytes.js';
import { resultId } from '../model/ids.js';
import type { Payload, U64 } from '../model/types.js';
import type { RequiredVersion } from '../protocol/versions/beacons.js';
import type { BlockResult, Verdict } from '../replay/evaluate.js';
import { versionFields } from '../replay/report.js';
import type { DiffEntry } from './diff.js';

export interface StateView {
  /** The protocol state ID (the KV store's ID). */
  id: string;
  kv: unknown;
  epoch: unknown;
}

export interface FullStateView extends StateView {
  epochEvents: unknown;
}

export interface EventView {
  type: string;
  outcome: string;
  /** The rule that gave the outcome (docs/rules.md). */
  rule: string | null;
  reason: string;
  /** The event as sealed (`{type, event}` JSON form); absent when the block applied no event. */
  event?: unknown;
}

export interface VersionsView {
  protocolStateVersion: number | null;
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
  pendingUpgrade: unknown;
  epochCounter: U64 | null;
  epochPhase: string | null;
  epochFinalView: U64 | null;
  /** R(height) for blocks of the consistent finalized chain, else null (SPEC 5.2, 7.2). */
  requiredVersion: string | null;
  requiredVersionSource: string | null;
  nextRequiredVersion: { height: U64; version: string } | null;
}

export interface PayloadView {
  guarantees: number;
  seals: { blockId: string; resultId: string }[];
  receipts: number;
  results: { id: string; blockId: string; serviceEvents: string[] }[];
  protocolStateId: string;
}

/** A failed check of the block: its row (verdict) and the reason text. */
export interface FailedCheck {
  /** The failed row (the verdict it gives). */
  check: string;
  /** The ids of the rules of that row that failed (docs/rules.md). */
  rules: string[];
  /** For people; may change between versions. */
  reason: string;
}

export interface BlockInspection {
  id: string | null;
  /** Global record number (import order); null for the root block. */
  record: number | null;
  root: boolean;
  /** False when the store holds no replay result for the block (not replayed yet). */
  evaluated: boolean;
  height: U64 | null;
  view: U64 | null;
  parentId: string | null;
  /** The record's finalized flag. */
  finalized: boolean;
  /** Part of the consistent finalized chain from the root (SPEC 9.11). */
  onFinalizedChain: boolean;
  header: unknown;
  payload: PayloadView | null;
  decodeError: string | null;
  recordBytes: number | null;
  /** null for the root block (trusted, checked against the root snapshot) and unevaluated blocks. */
  verdict: Verdict | null;
  failed: FailedCheck[];
  committedStateId: string | null;
  computedStateId: string | null;
  /** Whether the committed state is one the replay computed (for this block or any other); null when nothing is committed. */
  committedStateComputed: boolean | null;
  parentStateId: string | null;
  versions: VersionsView;
  events: EventView[];
  stateBefore: StateView | null;
  stateAfter: StateView | null;
  stateDiff: DiffEntry[];
  children: string[];
}

export const EMPTY_VERSIONS: VersionsView = {
  protocolStateVersion: null,
  executionComponentVersion: null,
  cadenceComponentVersion: null,
  pendingUpgrade: null,
  epochCounter: null,
  epochPhase: null,
  epochFinalView: null,
  requiredVersion: null,
  requiredVersionSource: null,
  nextRequiredVersion: null,
};

export function payloadView(p: Payload): PayloadView {
  return {
    guarantees: p.guarantees.length,
    seals: p.seals.map((s) => ({ blockId: toHex(s.blockId), resultId: toHex(s.resultId) })),
    receipts: p.receipts.length,
    results: p.results.map((res) => ({ id: toHex(resultId(res)), blockId: toHex(res.blockId), serviceEvents: res.serviceEvents.map((e) => e.type) })),
    protocolStateId: toHex(p.protocolStateId),
  };
}

/** The failed checks of a stored result, in table order. */
export function failedChecks(r: BlockResult): FailedCheck[] {
  const rules = r.failedRules ?? [];
  return r.failed.map((check) => ({ check, rules: rules.filter((id) => verdictOf(id) === check), reason: r.reasons[check] ?? '' }));
}

export function versionsOf(r: BlockResult, chained: boolean, req: RequiredVersion | null): VersionsView {
  return versionFields(r, chained, req);
}
