// Set-value machine (SPEC 4.7): `set-epoch-extension-view-count` (immediate) and the v3-only
// extension events that schedule an Updatable field (Decision). Pure: returns a new store.
import type { KVStore, MagnitudeVersion, MeteringParams, ServiceEvent, U64 } from '../model/types.js';
import { add, mul } from '../model/u64.js';
import { V3, copyMagnitudeVersion, copyMeteringParams } from './kvstore.js';
import { eventOutcome, runKvMachine, type KvStep, type MachineOutcomes } from './outcome.js';

export interface SetValueContext {
  /** Candidate view `V`. */
  view: U64;
  /** `t` of the parent's KV store. */
  t: U64;
}

export const SET_VALUE_TYPES: ReadonlySet<string> = new Set([
  'set-epoch-extension-view-count',
  'set-execution-component-version',
  'set-cadence-component-version',
  'set-execution-metering-parameters',
]);

function schedule(m: KVStore, type: string, activationView: U64, ctx: SetValueContext, write: (m: KVStore) => KVStore): KvStep {
  if (m.version < V3) return { kv: m, outcome: eventOutcome(type, '4.7.update.below-v3', `requires protocol state version >= ${V3}, state is v${m.version}`) };
  const vt = add(ctx.view, ctx.t);
  if (activationView <= vt) return { kv: m, outcome: eventOutcome(type, '4.7.update.activation-view', `activationView ${activationView} <= V+t = ${vt}`) };
  return { kv: write(m), outcome: eventOutcome(type, '4.7.update.scheduled', `scheduled for view ${activationView}`) };
}

function setComponent(m: KVStore, key: 'executionComponentVersion' | 'cadenceComponentVersion', data: MagnitudeVersion, activationView: U64): KVStore {
  const cur = m[key];
  if (cur === undefined) throw new Error(`v${m.version} store without ${key}`);
  return { ...m, [key]: { current: cur.current, update: { data: copyMagnitudeVersion(data), activationView } } };
}

function setMetering(m: KVStore, data: MeteringParams, activationView: U64): KVStore {
  const cur = m.executionMeteringParameters;
  if (cur === undefined) throw new Error(`v${m.version} store without executionMeteringParameters`);
  return { ...m, executionMeteringParameters: { current: cur.current, update: { data: copyMeteringParams(data), activationView } } };
}

function setExtensionViewCount(m: KVStore, type: string, v: U64): KvStep {
  const min = mul(2, m.finalizationSafetyThreshold);
  if (v < min) return { kv: m, outcome: eventOutcome(type, '4.7.eevc.too-small', `value ${v} < 2*FST = ${min}`) };
  return { kv: { ...m, epochExtensionViewCount: v }, outcome: eventOutcome(type, '4.7.eevc.applied', `epochExtensionViewCount = ${v}`) };
}

/** Applies one event if it is a set-value event; returns `null` for other types. */
export function applySetValue(m: KVStore, e: ServiceEvent, ctx: SetValueContext): KvStep | null {
  if (e.unknown) return null;
  switch (e.type) {
    case 'set-epoch-extension-view-count':
      return setExtensionViewCount(m, e.type, e.event.value);
    case 'set-execution-component-version': {
      const { version, activationView } = e.event;
      return schedule(m, e.type, activationView, ctx, (s) => setComponent(s, 'executionComponentVersion', version, activationView));
    }
    case 'set-cadence-component-version': {
      const { version, activationView } = e.event;
      return schedule(m, e.type, activationView, ctx, (s) => setComponent(s, 'cadenceComponentVersion', version, activationView));
    }
    case 'set-execution-metering-parameters': {
      const { params, activationView } = e.event;
      return schedule(m, e.type, activationView, ctx, (s) => setMetering(s, params, activationView));
    }
    default:
      return null;
  }
}

/** Runs the set-value machine over `ev` in order (other types are left alone). */
export function setValueMachine(m: KVStore, ev: readonly ServiceEvent[], ctx: SetValueContext): { kv: KVStore; outcomes: MachineOutcomes } {
  return runKvMachine(m, ev, (kv, e) => applySetValue(kv, e, ctx));
}
