// SPEC 4.3: the per-block evolution of the Dynamic Protocol State, and the one place that knows
// the order of the machines: target version, replicate, due v3 activations, upgrade machine,
// epoch machine, set-value machine, epochStateId, ID.
//
// Fast path: a block with no event for any state machine at a view where nothing is due (no
// version activation, no v3 activation, no deadline, extension or transition) returns the
// parent snapshot object itself, so the caller can skip hashing. `evolveFull` is the reference
// without the fast path; the tests prove both agree.
import type { EpochEvents, EpochState, Id, KVStore, ServiceEvent, U64 } from '../model/types.js';
import { bytesEqual } from '../model/bytes.js';
import { epochStateId, kvStoreId } from '../model/ids.js';
import { activationsDue, applyDueActivations, componentVersions, pendingUpgrade, replicate, targetVersion } from './kvstore.js';
import type { PendingUpgrade, ReplicateRule } from './kvstore.js';
import { upgradeMachine } from './upgrade.js';
import { EPOCH_TYPES, epochFinalView, epochMachine, epochNothingDue, phase } from './epoch.js';
import type { Phase } from './epoch.js';
import { SET_VALUE_TYPES, setValueMachine } from './setvalue.js';
import { validateBeacon } from './versions/beacons.js';
import { eventOutcome, type EventOutcome } from './outcome.js';

export type { EventOutcome, MachineOutcomes, Outcome } from './outcome.js';

/**
 * The protocol state after a block. Invariants (established by `makeSnapshot` and kept by
 * `evolve`): `kvId == kvStoreId(kv)`, `kv.epochStateId == epochStateId(epoch)`, and `events`
 * holds exactly the setup/commit events `epoch` references. Treat every part as immutable:
 * snapshots share structure with their ancestors.
 */
export interface ProtocolSnapshot {
  readonly kv: KVStore;
  readonly epoch: EpochState;
  readonly events: EpochEvents;
  readonly kvId: Id;
}

export type EvolveResult =
  | {
      ok: true;
      snapshot: ProtocolSnapshot;
      /** One per service event, in order. */
      outcomes: EventOutcome[];
      /** False when `snapshot` is the parent snapshot object itself (nothing changed). */
      changed: boolean;
    }
  | { ok: false; verdict: 'unsupported-version'; rule: ReplicateRule; reason: string };

/** Builds a snapshot, computing `kvId`. Does not check `kv.epochStateId` (the root checks do, SPEC 3). */
export function makeSnapshot(kv: KVStore, epoch: EpochState, events: EpochEvents): ProtocolSnapshot {
  return { kv, epoch, events, kvId: kvStoreId(kv) };
}

/** Types some state machine handles (anything else never changes the state). */
const STATE_TYPES: ReadonlySet<string> = new Set(['protocol-state-version-upgrade', ...EPOCH_TYPES, ...SET_VALUE_TYPES]);

function touchesState(ev: readonly ServiceEvent[]): boolean {
  for (const e of ev) if (!e.unknown && STATE_TYPES.has(e.type)) return true;
  return false;
}

/**
 * True iff reaching `view` changes nothing by itself: no pending version activation, no v3
 * activation, and the epoch machine has no deadline, extension or transition due.
 */
export function nothingDue(parent: ProtocolSnapshot, view: U64): boolean {
  const kv = parent.kv;
  if (targetVersion(kv, view) !== kv.version) return false;
  if (activationsDue(kv, view)) return false;
  return epochNothingDue({ state: parent.epoch, events: parent.events }, { view, t: kv.finalizationSafetyThreshold, E: kv.epochExtensionViewCount });
}

/** Outcome of an event no state machine handles: version beacons (SPEC 5.2) and unknown types. */
function otherOutcome(e: ServiceEvent): EventOutcome {
  if (!e.unknown && e.type === 'version-beacon') {
    const problem = validateBeacon(e.event);
    return problem === null
      ? eventOutcome(e.type, '5.2.beacon.indexed', 'version beacon: indexed when the sealing block is finalized')
      : eventOutcome(e.type, '5.2.beacon.invalid', `invalid version beacon: ${problem}`);
  }
  return eventOutcome(e.type, '9.14.unknown-type', `unknown service event type ${JSON.stringify(e.type)}`);
}

/** Evolves the parent's protocol state over one block (SPEC 4.3). Uses the fast path when it can. */
export function evolve(parent: ProtocolSnapshot, view: U64, ev: readonly ServiceEvent[]): EvolveResult {
  if (!touchesState(ev) && nothingDue(parent, view)) return { ok: true, snapshot: parent, outcomes: ev.map(otherOutcome), changed: false };
  return evolveFull(parent, view, ev);
}

/** SPEC 4.3 steps 1-8 in full, whatever the block (the reference the fast path must agree with). */
export function evolveFull(parent: ProtocolSnapshot, view: U64, ev: readonly ServiceEvent[]): EvolveResult {
  const S = parent.kv;
  // 1-2: target version, replicate
  const r = replicate(S, targetVersion(S, view));
  if (!r.ok) return { ok: false, verdict: 'unsupported-version', rule: r.rule, reason: r.reason };
  // 3: due v3 activations
  let M = applyDueActivations(r.kv, view);
  const t = S.finalizationSafetyThreshold;
  const E = S.epochExtensionViewCount;
  // 4: upgrade machine
  const up = upgradeMachine(M, ev, { parentVersion: S.version, view, t });
  M = up.kv;
  // 5: epoch machine (t and E of the parent)
  const ep = epochMachine({ state: parent.epoch, events: parent.events }, ev, { view, t, E });
  // 6: set-value machine
  const sv = setValueMachine(M, ev, { view, t });
  M = sv.kv;
  // 7: epochStateId, always written. An epoch state the machine returned untouched (the parent's
  // own object) has the parent's id by the snapshot invariant, which M already carries (replicated).
  if (ep.state !== parent.epoch) M = { ...M, epochStateId: epochStateId(ep.state) };
  // 8: ID
  const kvId = kvStoreId(M);
  const outcomes = ev.map((e, i) => up.outcomes[i] ?? ep.outcomes[i] ?? sv.outcomes[i] ?? otherOutcome(e));
  // Equal ID = equal state (the epoch state is committed to by epochStateId): keep sharing the parent.
  if (bytesEqual(kvId, parent.kvId)) return { ok: true, snapshot: parent, outcomes, changed: false };
  return { ok: true, snapshot: { kv: M, epoch: ep.state, events: ep.events, kvId }, outcomes, changed: true };
}

// ---- report fields (SPEC 5.1, 7.2, 9.22) ----

/** Counter of the current epoch's setup. */
export function epochCounter(s: ProtocolSnapshot): U64 {
  return s.events.currentSetup.counter;
}

export interface SnapshotReport {
  protocolStateVersion: number;
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
  pendingUpgrade: PendingUpgrade | null;
  epochCounter: U64;
  epochPhase: Phase;
  epochFinalView: U64;
}

/** The version and epoch fields of a block line, from the block's evolved state at its view. */
export function snapshotReport(s: ProtocolSnapshot, view: U64): SnapshotReport {
  const cv = componentVersions(s.kv);
  return {
    protocolStateVersion: s.kv.version,
    executionComponentVersion: cv.execution,
    cadenceComponentVersion: cv.cadence,
    pendingUpgrade: pendingUpgrade(s.kv, view),
    epochCounter: epochCounter(s),
    epochPhase: phase(s.epoch),
    epochFinalView: epochFinalView(s.epoch, s.events),
  };
}

export { phase, epochFinalView, pendingUpgrade, componentVersions };
export { versionText } from './kvstore.js';
