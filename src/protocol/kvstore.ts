// KV store models v0-v3 (SPEC 4.1): defaults, deep copy, replication between versions, and the
// small read-only views the report needs (component version text, pending upgrade).
//
// Versions 1 and 2 add no field over v0; v3 adds three Updatable fields. The models only differ
// in which fields exist, so one record type (model/types.ts KVStore) serves all of them and the
// version number selects the model. Everything here is pure: inputs are never mutated.
import type { Activator, KVStore, MagnitudeVersion, MeteringParams, U64, Updatable } from '../model/types.js';
import { U64_MAX } from '../model/u64.js';
import type { CheckRuleId } from './rules.js';

/** The KV store model versions this implementation knows. */
export const MIN_KV_VERSION = 0;
export const MAX_KV_VERSION = 3;

/** First version with the Updatable fields (component versions, metering parameters). */
export const V3 = 3;

export function isSupportedVersion(v: U64): v is number {
  return typeof v === 'number' && v >= MIN_KV_VERSION && v <= MAX_KV_VERSION;
}

/** Metering default (SPEC 4.1): both maps empty, memoryLimit 2^64-1 ("engine default"). */
export function defaultMeteringParams(): MeteringParams {
  return { effortWeights: [], memoryWeights: [], memoryLimit: U64_MAX };
}

/** Component version default `0.0`. */
export function defaultComponentVersion(): MagnitudeVersion {
  return { major: 0, minor: 0 };
}

// ---- deep copies (each returns fresh objects; bytes are copied too) ----

export function copyMagnitudeVersion(v: MagnitudeVersion): MagnitudeVersion {
  return { major: v.major, minor: v.minor };
}

export function copyMeteringParams(p: MeteringParams): MeteringParams {
  return {
    effortWeights: p.effortWeights.map(([k, w]) => [k, w] as [number, U64]),
    memoryWeights: p.memoryWeights.map(([k, w]) => [k, w] as [number, U64]),
    memoryLimit: p.memoryLimit,
  };
}

function copyUpdatable<T>(u: Updatable<T>, copy: (x: T) => T): Updatable<T> {
  return {
    current: copy(u.current),
    update: u.update === null ? null : { data: copy(u.update.data), activationView: u.update.activationView },
  };
}

function copyActivator(a: Activator<U64> | null): Activator<U64> | null {
  return a === null ? null : { data: a.data, activationView: a.activationView };
}

/** An independent deep copy of a KV store (any version; v3 fields copied when present). */
export function copyKVStore(s: KVStore): KVStore {
  const out: KVStore = {
    version: s.version,
    versionUpgrade: copyActivator(s.versionUpgrade),
    epochStateId: Uint8Array.from(s.epochStateId),
    epochExtensionViewCount: s.epochExtensionViewCount,
    finalizationSafetyThreshold: s.finalizationSafetyThreshold,
  };
  if (s.executionMeteringParameters !== undefined) out.executionMeteringParameters = copyUpdatable(s.executionMeteringParameters, copyMeteringParams);
  if (s.executionComponentVersion !== undefined) out.executionComponentVersion = copyUpdatable(s.executionComponentVersion, copyMagnitudeVersion);
  if (s.cadenceComponentVersion !== undefined) out.cadenceComponentVersion = copyUpdatable(s.cadenceComponentVersion, copyMagnitudeVersion);
  return out;
}

// ---- equality (value semantics; used by the evolve fast path) ----

export function magnitudeVersionEquals(a: MagnitudeVersion, b: MagnitudeVersion): boolean {
  return a.major === b.major && a.minor === b.minor;
}

function pairsEqual(a: [number, U64][], b: [number, U64][]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return false;
  return true;
}

/** Field-by-field, order-sensitive (conservative: equal values in another order compare unequal). */
export function meteringParamsEquals(a: MeteringParams, b: MeteringParams): boolean {
  return a.memoryLimit === b.memoryLimit && pairsEqual(a.effortWeights, b.effortWeights) && pairsEqual(a.memoryWeights, b.memoryWeights);
}

// ---- replication (SPEC 4.1) ----

/** Why replication fails: both mean the verdict `unsupported-version`. */
export type ReplicateRule = Extract<CheckRuleId, '4.1.incompatible-version-change' | '4.1.unknown-version'>;

export type ReplicateResult = { ok: true; kv: KVStore } | { ok: false; rule: ReplicateRule; reason: string };

/**
 * `replicate(S, target)`: same version -> independent deep copy; `S.version + 1` -> every field
 * copied (including `versionUpgrade`), new v3 fields at their defaults with no update; anything
 * else -> `incompatible-version-change`. A target (or source) outside the implemented models 0..3
 * gives `unknown-version`.
 */
export function replicate(s: KVStore, target: U64): ReplicateResult {
  if (!isSupportedVersion(s.version))
    return { ok: false, rule: '4.1.unknown-version', reason: `protocol state version ${s.version} is not implemented (0..${MAX_KV_VERSION})` };
  if (target === s.version) return { ok: true, kv: copyKVStore(s) };
  if (target !== s.version + 1)
    return {
      ok: false,
      rule: '4.1.incompatible-version-change',
      reason: `replication from v${s.version} to v${target}: incompatible-version-change`,
    };
  if (!isSupportedVersion(target))
    return {
      ok: false,
      rule: '4.1.unknown-version',
      reason: `replication from v${s.version} to v${target}: version ${target} is not implemented`,
    };
  const kv = copyKVStore(s);
  kv.version = target;
  if (target === V3) {
    kv.executionMeteringParameters = { current: defaultMeteringParams(), update: null };
    kv.executionComponentVersion = { current: defaultComponentVersion(), update: null };
    kv.cadenceComponentVersion = { current: defaultComponentVersion(), update: null };
  }
  return { ok: true, kv };
}

// ---- SPEC 4.3 step 1 and 3 helpers ----

/** The version the block's state must be replicated to (4.3 step 1). */
export function targetVersion(s: KVStore, view: U64): U64 {
  const up = s.versionUpgrade;
  return up !== null && view >= up.activationView ? up.data : s.version;
}

function due<T>(u: Updatable<T> | undefined, view: U64, eq: (a: T, b: T) => boolean): boolean {
  return u !== undefined && u.update !== null && view >= u.update.activationView && !eq(u.current, u.update.data);
}

/** True iff 4.3 step 3 would change a v3 field at this view (an update is due and not yet current). */
export function activationsDue(kv: KVStore, view: U64): boolean {
  if (kv.version < V3) return false;
  return (
    due(kv.executionMeteringParameters, view, meteringParamsEquals) ||
    due(kv.executionComponentVersion, view, magnitudeVersionEquals) ||
    due(kv.cadenceComponentVersion, view, magnitudeVersionEquals)
  );
}

/**
 * 4.3 step 3 (v3+ only): every Updatable whose update is due (`view >= activationView`) gets
 * `current = update.data`; the update is kept. Returns a new store when something changed, else
 * the input itself.
 */
export function applyDueActivations(kv: KVStore, view: U64): KVStore {
  if (!activationsDue(kv, view)) return kv;
  const out: KVStore = { ...kv };
  const m = kv.executionMeteringParameters;
  if (m !== undefined && m.update !== null && view >= m.update.activationView)
    out.executionMeteringParameters = { current: copyMeteringParams(m.update.data), update: m.update };
  const e = kv.executionComponentVersion;
  if (e !== undefined && e.update !== null && view >= e.update.activationView)
    out.executionComponentVersion = { current: copyMagnitudeVersion(e.update.data), update: e.update };
  const c = kv.cadenceComponentVersion;
  if (c !== undefined && c.update !== null && view >= c.update.activationView)
    out.cadenceComponentVersion = { current: copyMagnitudeVersion(c.update.data), update: c.update };
  return out;
}

// ---- report helpers (SPEC 5.1, 7.2, 9.22) ----

/** `"major.minor"` */
export function versionText(v: MagnitudeVersion): string {
  return `${v.major}.${v.minor}`;
}

/** Current component versions as text; `null` below v3. */
export function componentVersions(kv: KVStore): { execution: string | null; cadence: string | null } {
  if (kv.version < V3 || kv.executionComponentVersion === undefined || kv.cadenceComponentVersion === undefined) return { execution: null, cadence: null };
  return { execution: versionText(kv.executionComponentVersion.current), cadence: versionText(kv.cadenceComponentVersion.current) };
}

export interface PendingUpgrade {
  version: U64;
  activationView: U64;
}

/** SPEC 5.1: `versionUpgrade` if its activation view is still ahead (`activationView > view`), else null. */
export function pendingUpgrade(kv: KVStore, view: U64): PendingUpgrade | null {
  const up = kv.versionUpgrade;
  return up !== null && up.activationView > view ? { version: up.data, activationView: up.activationView } : null;
}
