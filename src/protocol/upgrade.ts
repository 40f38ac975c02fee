// Upgrade machine (SPEC 4.5): `protocol-state-version-upgrade` events schedule a KV store model
// version change by writing `M.versionUpgrade`. Pure: returns a new store, never mutates `m`.
import type { KVStore, ProtocolStateVersionUpgrade, ServiceEvent, U64 } from '../model/types.js';
import { add } from '../model/u64.js';
import { eventOutcome, runKvMachine, type KvStep, type MachineOutcomes } from './outcome.js';

export interface UpgradeContext {
  /** The parent's KV store version `S.version` (rule 2 uses it, not `M.version`). */
  parentVersion: number;
  /** Candidate view `V`. */
  view: U64;
  /** `t` = finalizationSafetyThreshold of the parent's KV store. */
  t: U64;
}

const TYPE = 'protocol-state-version-upgrade';

/**
 * Applies one upgrade event to `m`: returns the new store (accepted) or the input store and a
 * rejection naming the rule.
 */
export function applyUpgrade(m: KVStore, u: ProtocolStateVersionUpgrade, ctx: UpgradeContext): KvStep {
  const vt = add(ctx.view, ctx.t);
  if (u.activeView <= vt) return { kv: m, outcome: eventOutcome(TYPE, '4.5.rule1', `rule 1: activeView ${u.activeView} <= V+t = ${vt}`) };
  const want = add(ctx.parentVersion, 1);
  if (u.newProtocolStateVersion !== want) {
    const reason = `rule 2: newProtocolStateVersion ${u.newProtocolStateVersion} != parent version ${ctx.parentVersion} + 1`;
    return { kv: m, outcome: eventOutcome(TYPE, '4.5.rule2', reason) };
  }
  const pending = m.versionUpgrade;
  if (pending !== null && pending.activationView >= ctx.view && pending.data !== u.newProtocolStateVersion) {
    const reason = `rule 3: pending upgrade to v${pending.data} at view ${pending.activationView} (>= V = ${ctx.view}); newProtocolStateVersion ${u.newProtocolStateVersion} differs`;
    return { kv: m, outcome: eventOutcome(TYPE, '4.5.rule3', reason) };
  }
  return {
    kv: { ...m, versionUpgrade: { data: u.newProtocolStateVersion, activationView: u.activeView } },
    outcome: eventOutcome(TYPE, '4.5.rule4', `upgrade to v${u.newProtocolStateVersion} at view ${u.activeView}`),
  };
}

/** Runs the upgrade machine over the block's events `ev` in order (other types are left alone). */
export function upgradeMachine(m: KVStore, ev: readonly ServiceEvent[], ctx: UpgradeContext): { kv: KVStore; outcomes: MachineOutcomes } {
  return runKvMachine(m, ev, (kv, e) => (e.unknown || e.type !== TYPE ? null : applyUpgrade(kv, e.event, ctx)));
}
