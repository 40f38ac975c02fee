// Upgrade machine (SPEC 4.5): `protocol-state-version-upgrade` events schedule a KV store model
// version change by writing `M.versionUpgrade`. Pure: returns a new store, never mutates `m`.
import type { KVStore, ProtocolStateVersionUpgrade, ServiceEvent, U64 } from '../model/types.js';
import { add } from '../model/u64.js';
import type { EventOutcome, MachineOutcomes } from './evolve.js';

export interface UpgradeContext {
  /** The parent's KV store version `S.version` (rule 2 uses it, not `M.version`). */
  parentVersion: number;
  /** Candidate view `V`. */
  view: U64;
  /** `t` = finalizationSafetyThreshold of the parent's KV store. */
  t: U64;
}

/**
 * Applies one upgrade event to `m`: returns the new store (accepted) or the input store and a
 * rejection naming the rule.
 */
export function applyUpgrade(
  m: KVStore,
  u: ProtocolStateVersionUpgrade,
  ctx: UpgradeContext,
): { kv: KVStore; outcome: EventOutcome } {
  const type = 'protocol-state-version-upgrade';
  const vt = add(ctx.view, ctx.t);
  // rule 1: activeView must be strictly greater than V + t
  if (u.activeView <= vt)
    return { kv: m, outcome: { type, outcome: 'rejected', reason: `rule 1: activeView ${u.activeView} <= V+t = ${vt}` } };
  // rule 2: exactly one version above the parent's
  const want = add(ctx.parentVersion, 1);
  if (u.newProtocolStateVersion !== want)
    return {
      kv: m,
      outcome: {
        type,
        outcome: 'rejected',
        reason: `rule 2: newProtocolStateVersion ${u.newProtocolStateVersion} != parent version ${ctx.parentVersion} + 1`,
      },
    };
  // rule 3: a still-pending upgrade (activationView >= V) may only be replaced by one to the same version
  const pending = m.versionUpgrade;
  if (pending !== null && pending.activationView >= ctx.view && pending.data !== u.newProtocolStateVersion)
    return {
      kv: m,
      outcome: {
        type,
        outcome: 'rejected',
        reason: `rule 3: pending upgrade to v${pending.data} at view ${pending.activationView} (>= V = ${ctx.view}); newProtocolStateVersion ${u.newProtocolStateVersion} differs`,
      },
    };
  // rule 4: accept
  return {
    kv: { ...m, versionUpgrade: { data: u.newProtocolStateVersion, activationView: u.activeView } },
    outcome: { type, outcome: 'applied', reason: `upgrade to v${u.newProtocolStateVersion} at view ${u.activeView}` },
  };
}

/** Runs the upgrade machine over the block's events `ev` in order (other types are left alone). */
export function upgradeMachine(
  m: KVStore,
  ev: readonly ServiceEvent[],
  ctx: UpgradeContext,
): { kv: KVStore; outcomes: MachineOutcomes } {
  const outcomes: MachineOutcomes = [];
  let kv = m;
  for (let i = 0; i < ev.length; i++) {
    const e = ev[i];
    if (e.unknown || e.type !== 'protocol-state-version-upgrade') continue;
    const r = applyUpgrade(kv, e.event, ctx);
    kv = r.kv;
    outcomes[i] = r.outcome;
  }
  return { kv, outcomes };
}
