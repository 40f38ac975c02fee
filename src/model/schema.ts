// One description of every record's shape (SPEC 2, 7.1, 9.1). The archive codec, the JSON
// form (vectors, reports) and the random generators of the property tests all walk it, so a
// field is named and typed in exactly one place besides types.ts.
//
// Archive form: a `rec` is a MessagePack array of its fields in order; a `map` is a
// MessagePack map with string keys in the order listed; a `pair` is a 2-array; `opt` is nil
// or the value; `event` is `[type, body]` with the body chosen by type.
// JSON form: `rec` and `map` are objects keyed by field name, bytes and ids lowercase hex,
// u64 numbers (decimal strings above 2^53-1), `pair` a 2-array, `opt` null or the value.

export type Kind =
  | { k: 'u64' }
  /** unsigned integer with a narrower range: uint8, uint16, uint32 */
  | { k: 'uint'; bits: 8 | 16 | 32 }
  | { k: 'id' }
  | { k: 'bytes' }
  | { k: 'str' }
  | { k: 'bool' }
  | { k: 'opt'; of: Kind }
  | { k: 'list'; of: Kind }
  | { k: 'pair'; a: Kind; b: Kind }
  | RecKind
  | MapKind
  | { k: 'event' }
  /** body of an unknown service event type (SPEC 9.6) */
  | { k: 'generic' };

export interface RecKind {
  k: 'rec';
  name: string;
  fields: readonly (readonly [string, Kind])[];
  /** How many trailing fields may be absent together (KV store v3 fields). */
  optionalTail?: number;
}

export interface MapKind {
  k: 'map';
  name: string;
  fields: readonly (readonly [string, Kind])[];
  /** Keys that may be absent (read as null). Every other key is required. */
  optionalKeys?: readonly string[];
}

export const u64: Kind = { k: 'u64' };
export const u8: Kind = { k: 'uint', bits: 8 };
export const u16: Kind = { k: 'uint', bits: 16 };
export const u32: Kind = { k: 'uint', bits: 32 };
export const id: Kind = { k: 'id' };
export const bytes: Kind = { k: 'bytes' };
export const str: Kind = { k: 'str' };
export const bool: Kind = { k: 'bool' };
export const opt = (of: Kind): Kind => ({ k: 'opt', of });
export const list = (of: Kind): Kind => ({ k: 'list', of });
export const pair = (a: Kind, b: Kind): Kind => ({ k: 'pair', a, b });
const rec = (name: string, fields: [string, Kind][], optionalTail?: number): RecKind => ({ k: 'rec', name, fields, optionalTail });
const map = (name: string, fields: [string, Kind][], optionalKeys?: string[]): MapKind => ({ k: 'map', name, fields, optionalKeys });
export const event: Kind = { k: 'event' };
export const generic: Kind = { k: 'generic' };

export const QC = rec('QC', [
  ['view', u64],
  ['blockId', id],
  ['signerIndices', bytes],
  ['sigData', bytes],
]);
export const TimeoutCertificate = rec('TimeoutCertificate', [
  ['view', u64],
  ['newestQCViews', list(u64)],
  ['newestQC', QC],
  ['signerIndices', bytes],
  ['sigData', bytes],
]);
export const Header = rec('Header', [
  ['chainId', str],
  ['parentId', id],
  ['height', u64],
  ['timestamp', u64],
  ['view', u64],
  ['parentView', u64],
  ['parentVoterIndices', bytes],
  ['parentVoterSigData', bytes],
  ['proposerId', id],
  ['lastViewTC', opt(TimeoutCertificate)],
  ['payloadHash', id],
  ['proposerSigData', bytes],
]);
export const Guarantee = rec('Guarantee', [
  ['collectionId', id],
  ['referenceBlockId', id],
  ['clusterChainId', str],
  ['signerIndices', bytes],
  ['signature', bytes],
]);
export const ApprovalSig = rec('ApprovalSig', [
  ['verifierSignatures', list(bytes)],
  ['signerIds', list(id)],
]);
export const Seal = rec('Seal', [
  ['blockId', id],
  ['resultId', id],
  ['finalState', id],
  ['approvalSigs', list(ApprovalSig)],
]);
export const ReceiptStub = rec('ReceiptStub', [
  ['executorId', id],
  ['resultId', id],
  ['spocks', list(bytes)],
  ['executorSignature', bytes],
]);
export const Chunk = rec('Chunk', [
  ['collectionIndex', u64],
  ['startState', id],
  ['eventCollection', id],
  ['serviceEventCount', u16],
  ['blockId', id],
  ['totalComputationUsed', u64],
  ['numberOfTransactions', u64],
  ['index', u64],
  ['endState', id],
]);
export const Result = rec('Result', [
  ['previousResultId', id],
  ['blockId', id],
  ['chunks', list(Chunk)],
  ['serviceEvents', list(event)],
  ['executionDataId', id],
]);
export const Payload = rec('Payload', [
  ['guarantees', list(Guarantee)],
  ['seals', list(Seal)],
  ['receipts', list(ReceiptStub)],
  ['results', list(Result)],
  ['protocolStateId', id],
]);
export const Block = rec('Block', [
  ['header', Header],
  ['payload', Payload],
]);

// ---- service event bodies ----
export const Participant = rec('Participant', [
  ['nodeId', id],
  ['address', str],
  ['role', u8],
  ['initialWeight', u64],
  ['stakingKey', bytes],
  ['networkKey', bytes],
]);
export const EpochSetup = rec('EpochSetup', [
  ['counter', u64],
  ['firstView', u64],
  ['dkgPhase1FinalView', u64],
  ['dkgPhase2FinalView', u64],
  ['dkgPhase3FinalView', u64],
  ['finalView', u64],
  ['participants', list(Participant)],
  ['assignments', list(list(id))],
  ['randomSource', bytes],
  ['targetDuration', u64],
  ['targetEndTime', u64],
]);
export const ClusterQC = rec('ClusterQC', [
  ['sigData', bytes],
  ['voterIds', list(id)],
]);
export const EpochCommit = rec('EpochCommit', [
  ['counter', u64],
  ['clusterQCs', list(ClusterQC)],
  ['dkgGroupKey', bytes],
  ['dkgParticipantKeys', list(bytes)],
  ['dkgIndexMap', list(pair(id, u64))],
]);
export const EpochRecover = rec('EpochRecover', [
  ['setup', EpochSetup],
  ['commit', EpochCommit],
]);
export const EjectNode = rec('EjectNode', [['nodeId', id]]);
export const VersionBoundary = rec('VersionBoundary', [
  ['blockHeight', u64],
  ['version', str],
]);
export const VersionBeacon = rec('VersionBeacon', [
  ['boundaries', list(VersionBoundary)],
  ['sequence', u64],
]);
export const ProtocolStateVersionUpgrade = rec('ProtocolStateVersionUpgrade', [
  ['newProtocolStateVersion', u64],
  ['activeView', u64],
]);
export const SetEpochExtensionViewCount = rec('SetEpochExtensionViewCount', [['value', u64]]);
export const MagnitudeVersion = rec('MagnitudeVersion', [
  ['major', u64],
  ['minor', u64],
]);
export const SetComponentVersion = rec('SetComponentVersion', [
  ['version', MagnitudeVersion],
  ['activationView', u64],
]);
export const MeteringParams = rec('MeteringParams', [
  ['effortWeights', list(pair(u32, u64))],
  ['memoryWeights', list(pair(u32, u64))],
  ['memoryLimit', u64],
]);
export const SetMeteringParameters = rec('SetMeteringParameters', [
  ['params', MeteringParams],
  ['activationView', u64],
]);

/** Body shape of each known service event type. */
export const EVENT_BODIES: Readonly<Record<string, RecKind>> = {
  setup: EpochSetup,
  commit: EpochCommit,
  recover: EpochRecover,
  'eject-node': EjectNode,
  'version-beacon': VersionBeacon,
  'protocol-state-version-upgrade': ProtocolStateVersionUpgrade,
  'set-epoch-extension-view-count': SetEpochExtensionViewCount,
  'set-execution-component-version': SetComponentVersion,
  'set-cadence-component-version': SetComponentVersion,
  'set-execution-metering-parameters': SetMeteringParameters,
};

// ---- protocol state ----
const activator = (of: Kind) =>
  rec('Activator', [
    ['data', of],
    ['activationView', u64],
  ]);
const updatable = (of: Kind) =>
  rec('Updatable', [
    ['current', of],
    ['update', opt(activator(of))],
  ]);
export const KVStore = rec(
  'KVStore',
  [
    ['version', u64],
    ['versionUpgrade', opt(activator(u64))],
    ['epochStateId', id],
    ['epochExtensionViewCount', u64],
    ['finalizationSafetyThreshold', u64],
    ['executionMeteringParameters', updatable(MeteringParams)],
    ['executionComponentVersion', updatable(MagnitudeVersion)],
    ['cadenceComponentVersion', updatable(MagnitudeVersion)],
  ],
  3,
);
export const DynamicIdentity = rec('DynamicIdentity', [
  ['nodeId', id],
  ['ejected', bool],
]);
export const EpochExtension = rec('EpochExtension', [
  ['firstView', u64],
  ['finalView', u64],
]);
export const EpochContainer = rec('EpochContainer', [
  ['setupId', id],
  ['commitId', id],
  ['identities', list(DynamicIdentity)],
  ['extensions', list(EpochExtension)],
]);
export const EpochState = rec('EpochState', [
  ['previous', opt(EpochContainer)],
  ['current', EpochContainer],
  ['next', opt(EpochContainer)],
  ['fallbackTriggered', bool],
]);

// ---- root snapshot and archive ----
export const RootSeal = rec('RootSeal', [
  ['blockId', id],
  ['resultId', id],
  ['finalState', id],
]);
export const EpochEvents = map(
  'EpochEvents',
  [
    ['previousSetup', opt(EpochSetup)],
    ['previousCommit', opt(EpochCommit)],
    ['currentSetup', EpochSetup],
    ['currentCommit', opt(EpochCommit)],
    ['nextSetup', opt(EpochSetup)],
    ['nextCommit', opt(EpochCommit)],
  ],
  ['previousSetup', 'previousCommit', 'currentCommit', 'nextSetup', 'nextCommit'],
);
export const SealedVersionBeacon = rec('SealedVersionBeacon', [
  ['beacon', VersionBeacon],
  ['sealHeight', u64],
]);
export const SporkParams = map('SporkParams', [
  ['chainId', str],
  ['sporkId', id],
  ['sporkRootHeight', u64],
  ['sporkRootView', u64],
]);
export const RootSnapshot = map('RootSnapshot', [
  ['rootBlock', Block],
  ['rootSeal', RootSeal],
  ['rootResult', Result],
  ['kvStore', KVStore],
  ['epochState', EpochState],
  ['epochEvents', EpochEvents],
  ['versionBeacon', opt(SealedVersionBeacon)],
  ['params', SporkParams],
]);
export const ArchiveHeader = map('ArchiveHeader', [
  ['format', str],
  ['version', u64],
  ['root', RootSnapshot],
]);
export const BlockRecord = rec('BlockRecord', [
  ['blockId', id],
  ['header', Header],
  ['payload', Payload],
  ['finalized', bool],
]);
