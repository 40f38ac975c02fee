// Record-level content rules (SPEC 2.2, 2.3, 9.2) that the shape of a record alone cannot say.
// Both the MessagePack decoder and the JSON conversion apply them to every record they build.
import type { RecKind } from './schema.js';
import { bytesKey, isZero, toHex } from './bytes.js';

/** Reports a broken rule: `field` is relative to the record; it does not return. */
export type CheckFail = (field: string, cause: string) => never;

const CHECKED = new Set(['Payload', 'EpochCommit', 'MeteringParams', 'KVStore']);

/** Whether records of this kind have content rules (the decoders skip the call otherwise). */
export function hasRecordChecks(kind: RecKind): boolean {
  return CHECKED.has(kind.name);
}

/** Applies the content rules of the record's kind to `o`, calling `fail` on the first broken one. */
export function checkRecord(kind: RecKind, o: any, fail: CheckFail): void {
  switch (kind.name) {
    case 'Payload':
      if (isZero(o.protocolStateId)) fail('protocolStateId', 'protocolStateId is ZERO (SPEC 2.2)');
      return;
    case 'EpochCommit': {
      const map: [Uint8Array, any][] = o.dkgIndexMap;
      const n = o.dkgParticipantKeys.length;
      if (map.length !== n) fail('dkgIndexMap', `not a permutation of 0..${n - 1}: ${map.length} entries for ${n} DKG participant keys`);
      const seen = new Uint8Array(n);
      const ids = new Set<string>();
      for (let i = 0; i < map.length; i++) {
        const idx = map[i][1];
        if (typeof idx !== 'number' || idx >= n) fail(`dkgIndexMap[${i}]`, `index ${idx} out of range 0..${n - 1} (not a permutation)`);
        if (seen[idx]) fail(`dkgIndexMap[${i}]`, `index ${idx} repeated (not a permutation)`);
        seen[idx] = 1;
        const k = bytesKey(map[i][0]);
        if (ids.has(k)) fail(`dkgIndexMap[${i}]`, `node id ${toHex(map[i][0])} repeated`);
        ids.add(k);
      }
      return;
    }
    case 'MeteringParams':
      checkWeights(o.effortWeights, 'effortWeights', fail);
      checkWeights(o.memoryWeights, 'memoryWeights', fail);
      return;
    case 'KVStore': {
      const tailPresent = o.executionMeteringParameters !== undefined;
      const v = o.version;
      if (typeof v === 'number' && v <= 3 && (v === 3) !== tailPresent)
        fail(
          tailPresent ? 'executionMeteringParameters' : 'version',
          tailPresent ? `version ${v} KV store must not carry the version 3 fields` : 'version 3 KV store lacks the version 3 fields',
        );
      return;
    }
  }
}

function checkWeights(list: [number, unknown][], name: string, fail: CheckFail): void {
  if (list.length < 2) return;
  const seen = new Set<number>();
  for (let i = 0; i < list.length; i++) {
    const k = list[i][0];
    if (seen.has(k)) fail(`${name}[${i}]`, `repeated weight key ${k}`);
    seen.add(k);
  }
}
