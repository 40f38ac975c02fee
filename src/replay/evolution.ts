// SPEC 6's protocol-state rows: evolve the parent's state over the events the block seals
// (SPEC 4.3), fill the block's state fields, then compare with the committed state id.
import { bytesEqual, toHex } from '../model/bytes.js';
import type { Id, ServiceEvent, U64 } from '../model/types.js';
import { evolve, snapshotReport, type ProtocolSnapshot } from '../protocol/evolve.js';
import { fail, setEvents, type BlockResult } from './result.js';

/**
 * Returns the block's state, or null after failing the block (`unsupported-version`).
 * `onState` receives the state when it is not the parent's own object (a new state to keep).
 */
export function evolveBlock(
  parent: ProtocolSnapshot,
  view: U64,
  ev: readonly ServiceEvent[],
  committedStateId: Id,
  r: BlockResult,
  onState: ((s: ProtocolSnapshot) => void) | undefined,
): ProtocolSnapshot | null {
  const evolved = evolve(parent, view, ev);
  if (!evolved.ok) {
    fail(r, evolved.rule, evolved.reason);
    return null;
  }
  const s = evolved.snapshot;
  if (evolved.changed) onState?.(s);
  r.computedStateId = toHex(s.kvId);
  setEvents(r, evolved.outcomes);
  for (const e of ev) if (e.unknown) r.unknownEvents++;
  setStateFields(r, s, view);
  if (!bytesEqual(s.kvId, committedStateId)) fail(r, '6.state-mismatch', `payload commits ${toHex(committedStateId)}, computed ${r.computedStateId}`);
  return s;
}

/** The version and epoch fields of a block line (SPEC 5.1, 7.2, 9.22). */
function setStateFields(r: BlockResult, s: ProtocolSnapshot, view: U64): void {
  const rep = snapshotReport(s, view);
  r.protocolStateVersion = rep.protocolStateVersion;
  r.executionComponentVersion = rep.executionComponentVersion;
  r.cadenceComponentVersion = rep.cadenceComponentVersion;
  r.pendingUpgrade = rep.pendingUpgrade;
  r.epochCounter = rep.epochCounter;
  r.epochPhase = rep.epochPhase;
  r.epochFinalView = rep.epochFinalView;
}
