// The root of a generated spork: the root snapshot as the chosen profile's bootstrap would write it,
// the main branch starting at it, and the parameters every part of the storyline shares.
import type { EpochState, Id, KVStore, Result, RootSnapshot, ServiceEvent } from '../model/types.js';
import { ZERO } from '../model/bytes.js';
import { epochStateId, headerId, resultId, setupId, commitId } from '../model/ids.js';
import { payloadHash } from '../model/payload.js';
import { EMPTY_ROOT } from '../model/trie.js';
import { makeSnapshot } from '../protocol/evolve.js';
import { Branch } from './chain.js';
import { initialRoster, makeCommit, makeSetup } from './identities.js';
import type { RoleCounts, Roster } from './identities.js';
import type { Rng } from './rng.js';

/** `spec`: every SPEC feature; `flow`: only what a Mainnet28 Access node could serve. */
export type SynthProfile = 'spec' | 'flow';

export interface StoryParams {
  profile: SynthProfile;
  blocks: number;
  chainId: string;
  rootHeight: number;
  rootView: number;
  rootTimestamp: number;
  epochCounter: number;
  epochViews: number;
  /** finalizationSafetyThreshold */
  t: number;
  /** epochExtensionViewCount */
  E: number;
  /** Views of safety margin over the sealing lag for view-dependent events. */
  margin: number;
  roles: RoleCounts;
  clusters: number;
  msPerView: readonly [number, number];
  /** Special events (upgrade, beacons, ejections, v3 updates, rejected events, EFM). */
  storyline: boolean;
}

export interface Milestone {
  height: number;
  view: number;
  what: string;
}

export interface RootBundle {
  root: RootSnapshot;
  main: Branch;
  roster: Roster;
}

const DOMAIN: Record<SynthProfile, string> = { spec: 'flow.localnet', flow: 'flow.mainnet' };

/** Versions of the version beacons' boundaries (the root's, then in order of appearance). */
export const BEACON_VERSIONS: Record<SynthProfile, { root: string; first: string; rc: string; second: string; third: string }> = {
  spec: { root: '0.40.0', first: '0.41.0', rc: '0.42.0-rc.1', second: '0.42.0', third: '0.42.1' },
  flow: { root: '0.44.3', first: '0.44.10', rc: '0.46.0-rc.1', second: '0.46.0', third: '0.46.1' },
};

/**
 * The root result as flow-go's bootstrap writes it: one chunk holding only the final state
 * (the fixture of ACCESS 7.2 shows every other field zero, also `ServiceEventCount`, although
 * the result carries setup and commit), no previous result, no execution data.
 */
function bootstrapResult(rootId: Id, finalState: Id, serviceEvents: ServiceEvent[]): Result {
  return {
    previousResultId: ZERO,
    blockId: rootId,
    chunks: [
      {
        collectionIndex: 0,
        startState: ZERO,
        eventCollection: ZERO,
        serviceEventCount: 0,
        blockId: ZERO,
        totalComputationUsed: 0,
        numberOfTransactions: 0,
        index: 0,
        endState: finalState,
      },
    ],
    serviceEvents,
    executionDataId: ZERO,
  };
}

/** Builds the root snapshot (SPEC 3) and the main branch starting at it. */
export function buildRoot(p: StoryParams, rng: Rng): RootBundle {
  const flow = p.profile === 'flow';
  const roster = initialRoster(rng, p.roles, p.clusters, DOMAIN[p.profile]);
  const firstView = Math.max(0, p.rootView - Math.floor(p.epochViews / 10));
  const finalView = firstView + p.epochViews - 1;
  const avgMs = (p.msPerView[0] + p.msPerView[1]) / 2;
  const setup = makeSetup(
    roster,
    {
      counter: p.epochCounter,
      firstView,
      finalView,
      targetEndTime: Math.round((p.rootTimestamp + (finalView - p.rootView) * avgMs) / 1000),
      secondsPerView: avgMs / 1000,
    },
    rng,
  );
  const commit = makeCommit(setup, rng, flow);
  const epochState: EpochState = {
    previous: null,
    current: {
      setupId: setupId(setup),
      commitId: commitId(commit),
      identities: setup.participants.map((x) => ({ nodeId: x.nodeId, ejected: false })),
      extensions: [],
    },
    next: null,
    fallbackTriggered: false,
  };
  const kv: KVStore = {
    version: 2,
    versionUpgrade: null,
    epochStateId: epochStateId(epochState),
    epochExtensionViewCount: p.E,
    finalizationSafetyThreshold: p.t,
  };
  const snap = makeSnapshot(kv, epochState, {
    previousSetup: null,
    previousCommit: null,
    currentSetup: setup,
    currentCommit: commit,
    nextSetup: null,
    nextCommit: null,
  });
  const payload = { guarantees: [], seals: [], receipts: [], results: [], protocolStateId: snap.kvId };
  const header = {
    chainId: p.chainId,
    parentId: rng.bytes(32),
    height: p.rootHeight,
    timestamp: p.rootTimestamp,
    view: p.rootView,
    parentView: 0,
    parentVoterIndices: new Uint8Array(0),
    parentVoterSigData: new Uint8Array(0),
    proposerId: ZERO,
    lastViewTC: null,
    payloadHash: payloadHash(payload),
    proposerSigData: new Uint8Array(0),
  };
  const rootId = headerId(header);
  const finalState = rng.bytes(32);
  const rootEvents: ServiceEvent[] = [
    { type: 'setup', event: setup },
    { type: 'commit', event: commit },
  ];
  const rootResult: Result = flow
    ? bootstrapResult(rootId, finalState, rootEvents)
    : {
        previousResultId: ZERO,
        blockId: rootId,
        chunks: [
          {
            collectionIndex: 0,
            startState: rng.bytes(32),
            eventCollection: EMPTY_ROOT,
            serviceEventCount: 2,
            blockId: rootId,
            totalComputationUsed: 0,
            numberOfTransactions: 1,
            index: 0,
            endState: finalState,
          },
        ],
        serviceEvents: rootEvents,
        executionDataId: rng.bytes(32),
      };
  const rid = resultId(rootResult);
  const root: RootSnapshot = {
    rootBlock: { header, payload },
    rootSeal: { blockId: rootId, resultId: rid, finalState },
    rootResult,
    kvStore: kv,
    epochState,
    epochEvents: snap.events,
    // a bootstrapped spork root carries no beacon, and its spork id is the root block id (ACCESS 5.2)
    versionBeacon: flow
      ? null
      : {
          beacon: { boundaries: [{ blockHeight: Math.max(0, p.rootHeight - 20_000), version: BEACON_VERSIONS.spec.root }], sequence: ROOT_BEACON_SEQUENCE },
          sealHeight: Math.max(0, p.rootHeight - 19_990),
        },
    params: { chainId: p.chainId, sporkId: flow ? rootId : rng.bytes(32), sporkRootHeight: p.rootHeight, sporkRootView: p.rootView },
  };
  const main = new Branch(rootId, p.rootHeight, p.rootView, p.rootTimestamp, snap, p.rootHeight, [], [], rid, finalState, [rootId], p.rootView);
  return { root, main, roster };
}

export const ROOT_BEACON_SEQUENCE = 10;
