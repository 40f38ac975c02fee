// The data model of SPEC section 2-4. Field order is the archive order (SPEC 7.1),
// which for every record but the header's fingerprint is also the preimage order.

/** 32-byte identifier. */
export type Id = Uint8Array;
export type Bytes = Uint8Array;
/**
 * Unsigned 64-bit integer: a `number` when <= Number.MAX_SAFE_INTEGER, else a `bigint`.
 * Always normalised (see u64.ts), so `===` compares values and `<`/`>` work across both.
 */
export type U64 = number | bigint;

export interface QC {
  view: U64;
  blockId: Id;
  signerIndices: Bytes;
  sigData: Bytes;
}

export interface TimeoutCertificate {
  view: U64;
  newestQCViews: U64[];
  newestQC: QC;
  signerIndices: Bytes;
  sigData: Bytes;
}

export interface Header {
  chainId: string;
  parentId: Id;
  height: U64;
  timestamp: U64;
  view: U64;
  parentView: U64;
  parentVoterIndices: Bytes;
  parentVoterSigData: Bytes;
  proposerId: Id;
  lastViewTC: TimeoutCertificate | null;
  payloadHash: Id;
  /** Carried and stored, not hashed. */
  proposerSigData: Bytes;
}

export interface Guarantee {
  collectionId: Id;
  referenceBlockId: Id;
  clusterChainId: string;
  signerIndices: Bytes;
  signature: Bytes;
}

export interface ApprovalSig {
  verifierSignatures: Bytes[];
  signerIds: Id[];
}

export interface Seal {
  blockId: Id;
  resultId: Id;
  finalState: Id;
  approvalSigs: ApprovalSig[];
}

export interface ReceiptStub {
  executorId: Id;
  resultId: Id;
  spocks: Bytes[];
  executorSignature: Bytes;
}

export interface Chunk {
  collectionIndex: U64;
  startState: Id;
  eventCollection: Id;
  /** uint16 */
  serviceEventCount: number;
  blockId: Id;
  totalComputationUsed: U64;
  numberOfTransactions: U64;
  index: U64;
  endState: Id;
}

export interface Result {
  previousResultId: Id;
  blockId: Id;
  chunks: Chunk[];
  serviceEvents: ServiceEvent[];
  executionDataId: Id;
}

export interface Payload {
  guarantees: Guarantee[];
  seals: Seal[];
  receipts: ReceiptStub[];
  results: Result[];
  protocolStateId: Id;
}

export interface Block {
  header: Header;
  payload: Payload;
}

// ---- service event bodies (SPEC 2.3) ----

export const Role = {
  collection: 1,
  consensus: 2,
  execution: 3,
  verification: 4,
  access: 5,
} as const;

export interface Participant {
  nodeId: Id;
  address: string;
  /** uint8; 1..5 when well-formed */
  role: number;
  initialWeight: U64;
  stakingKey: Bytes;
  networkKey: Bytes;
}

export interface EpochSetup {
  counter: U64;
  firstView: U64;
  dkgPhase1FinalView: U64;
  dkgPhase2FinalView: U64;
  dkgPhase3FinalView: U64;
  finalView: U64;
  participants: Participant[];
  assignments: Id[][];
  randomSource: Bytes;
  targetDuration: U64;
  targetEndTime: U64;
}

export interface ClusterQC {
  sigData: Bytes;
  voterIds: Id[];
}

export interface EpochCommit {
  counter: U64;
  clusterQCs: ClusterQC[];
  dkgGroupKey: Bytes;
  dkgParticipantKeys: Bytes[];
  /** nodeId -> DKG index; values are a permutation of 0..n-1 (checked when decoding). */
  dkgIndexMap: [Id, U64][];
}

export interface EpochRecover {
  setup: EpochSetup;
  commit: EpochCommit;
}

export interface EjectNode {
  nodeId: Id;
}

export interface VersionBoundary {
  blockHeight: U64;
  version: string;
}

export interface VersionBeacon {
  boundaries: VersionBoundary[];
  sequence: U64;
}

export interface ProtocolStateVersionUpgrade {
  newProtocolStateVersion: U64;
  activeView: U64;
}

export interface SetEpochExtensionViewCount {
  value: U64;
}

export interface MagnitudeVersion {
  major: U64;
  minor: U64;
}

export interface SetComponentVersion {
  version: MagnitudeVersion;
  activationView: U64;
}

/** Weight maps are [key(uint32), weight] pairs; order as given (sorted only in the preimage). */
export interface MeteringParams {
  effortWeights: [number, U64][];
  memoryWeights: [number, U64][];
  memoryLimit: U64;
}

export interface SetMeteringParameters {
  params: MeteringParams;
  activationView: U64;
}

/** Body of an event of a type this implementation does not know (SPEC 9.6). */
export type GenericValue = U64 | string | Bytes | boolean | null | GenericValue[];

export type KnownServiceEvent =
  | { type: 'setup'; event: EpochSetup; unknown?: undefined }
  | { type: 'commit'; event: EpochCommit; unknown?: undefined }
  | { type: 'recover'; event: EpochRecover; unknown?: undefined }
  | { type: 'eject-node'; event: EjectNode; unknown?: undefined }
  | { type: 'version-beacon'; event: VersionBeacon; unknown?: undefined }
  | { type: 'protocol-state-version-upgrade'; event: ProtocolStateVersionUpgrade; unknown?: undefined }
  | { type: 'set-epoch-extension-view-count'; event: SetEpochExtensionViewCount; unknown?: undefined }
  | { type: 'set-execution-component-version'; event: SetComponentVersion; unknown?: undefined }
  | { type: 'set-cadence-component-version'; event: SetComponentVersion; unknown?: undefined }
  | { type: 'set-execution-metering-parameters'; event: SetMeteringParameters; unknown?: undefined };

export interface UnknownServiceEvent {
  type: string;
  event: GenericValue;
  unknown: true;
}

export type ServiceEvent = KnownServiceEvent | UnknownServiceEvent;
export type ServiceEventType = KnownServiceEvent['type'];

// ---- KV store and epoch state (SPEC 4.1, 4.4) ----

export interface Activator<T> {
  data: T;
  activationView: U64;
}

export interface Updatable<T> {
  current: T;
  update: Activator<T> | null;
}

export interface KVStore {
  /** 0..3 are implemented; anything else is `unsupported-version`. */
  version: number;
  versionUpgrade: Activator<U64> | null;
  epochStateId: Id;
  epochExtensionViewCount: U64;
  finalizationSafetyThreshold: U64;
  /** Present iff version >= 3. */
  executionMeteringParameters?: Updatable<MeteringParams>;
  executionComponentVersion?: Updatable<MagnitudeVersion>;
  cadenceComponentVersion?: Updatable<MagnitudeVersion>;
}

export interface DynamicIdentity {
  nodeId: Id;
  ejected: boolean;
}

export interface EpochExtension {
  firstView: U64;
  finalView: U64;
}

export interface EpochContainer {
  setupId: Id;
  /** ZERO = not committed yet */
  commitId: Id;
  identities: DynamicIdentity[];
  extensions: EpochExtension[];
}

export interface EpochState {
  previous: EpochContainer | null;
  current: EpochContainer;
  next: EpochContainer | null;
  fallbackTriggered: boolean;
}

// ---- root snapshot (SPEC 3, 9.1) ----

export interface RootSeal {
  blockId: Id;
  resultId: Id;
  finalState: Id;
}

export interface EpochEvents {
  previousSetup: EpochSetup | null;
  previousCommit: EpochCommit | null;
  currentSetup: EpochSetup;
  currentCommit: EpochCommit | null;
  nextSetup: EpochSetup | null;
  nextCommit: EpochCommit | null;
}

export interface SealedVersionBeacon {
  beacon: VersionBeacon;
  sealHeight: U64;
}

export interface SporkParams {
  chainId: string;
  sporkId: Id;
  sporkRootHeight: U64;
  sporkRootView: U64;
}

export interface RootSnapshot {
  rootBlock: Block;
  rootSeal: RootSeal;
  rootResult: Result;
  kvStore: KVStore;
  epochState: EpochState;
  epochEvents: EpochEvents;
  versionBeacon: SealedVersionBeacon | null;
  params: SporkParams;
}

/** One block record of an archive (SPEC 7.1 item 2). */
export interface BlockRecord {
  blockId: Id;
  header: Header;
  payload: Payload;
  finalized: boolean;
}
