// SPEC 3: root snapshot validity, and what the replay needs of the root.
import { bytesEqual, isZero, toHex } from '../model/bytes.js';
import { commitId, epochStateId, headerId, kvStoreId, resultId, setupId } from '../model/ids.js';
import { mul } from '../model/u64.js';
import type { EpochCommit, EpochSetup, Id, RootSnapshot } from '../model/types.js';

function checkEvent<T>(label: string, ref: Id | null, ev: T | null, idOf: (x: T) => Id): string | null {
  if (ref === null || isZero(ref)) {
    return ev === null ? null : `${label} is present but the epoch state does not reference it`;
  }
  if (ev === null) return `${label} is missing (the epoch state references ${toHex(ref)})`;
  const got = idOf(ev);
  return bytesEqual(got, ref) ? null : `ID(${label}) = ${toHex(got)} but the epoch state references ${toHex(ref)}`;
}

/** The first failing root check (SPEC 3 items 1-5, 9.7), or null when the root is valid. */
export function validateRoot(root: RootSnapshot): string | null {
  const kv = root.kvStore;
  if (!(kv.version >= 0 && kv.version <= 3)) return `9.7: kvStore version ${kv.version} is not implemented (0..3)`;
  if (root.params.chainId !== root.rootBlock.header.chainId) {
    return `9.7: params.chainId ${root.params.chainId} differs from the root block's ${root.rootBlock.header.chainId}`;
  }
  const kvId = kvStoreId(kv);
  if (!bytesEqual(kvId, root.rootBlock.payload.protocolStateId)) {
    return `check 1: ID(kvStore) = ${toHex(kvId)} differs from the root block's protocolStateId ${toHex(root.rootBlock.payload.protocolStateId)}`;
  }
  const esId = epochStateId(root.epochState);
  if (!bytesEqual(esId, kv.epochStateId)) return `check 2: ID(epochState) = ${toHex(esId)} differs from kvStore.epochStateId ${toHex(kv.epochStateId)}`;
  const es = root.epochState;
  const ev = root.epochEvents;
  const problems = [
    checkEvent<EpochSetup>('previousSetup', es.previous?.setupId ?? null, ev.previousSetup, setupId),
    checkEvent<EpochCommit>('previousCommit', es.previous?.commitId ?? null, ev.previousCommit, commitId),
    checkEvent<EpochSetup>('currentSetup', es.current.setupId, ev.currentSetup, setupId),
    checkEvent<EpochCommit>('currentCommit', es.current.commitId, ev.currentCommit, commitId),
    checkEvent<EpochSetup>('nextSetup', es.next?.setupId ?? null, ev.nextSetup, setupId),
    checkEvent<EpochCommit>('nextCommit', es.next?.commitId ?? null, ev.nextCommit, commitId),
  ];
  const p = problems.find((x) => x !== null);
  if (p) return `check 3: ${p}`;
  const rootId = headerId(root.rootBlock.header);
  if (!bytesEqual(root.rootSeal.blockId, rootId)) return `check 4: rootSeal.blockId ${toHex(root.rootSeal.blockId)} != ID(root block) ${toHex(rootId)}`;
  const rid = resultId(root.rootResult);
  if (!bytesEqual(root.rootSeal.resultId, rid)) return `check 4: rootSeal.resultId ${toHex(root.rootSeal.resultId)} != ID(rootResult) ${toHex(rid)}`;
  if (kv.epochExtensionViewCount < mul(2, kv.finalizationSafetyThreshold)) {
    return `check 5: epochExtensionViewCount ${kv.epochExtensionViewCount} < 2 * finalizationSafetyThreshold ${kv.finalizationSafetyThreshold}`;
  }
  return null;
}
