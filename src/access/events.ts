// Service-event payloads (ACCESS.md 4): the Go encoding/json bodies of the seven flow-go event
// types → SPEC 2.3 bodies, and back (the exact text a flow-go node serves).
import { MappingError } from './errors.js';
import {
  arr,
  arrOf,
  b64,
  hexBytes,
  hexId,
  obj,
  parseJson,
  rec,
  str,
  u64,
  wArr,
  wB64,
  wHex,
  wMap,
  wNum,
  wObj,
  wStr,
  type JsonText,
  type JsonValue,
} from './json.js';
import { compareBytes, toHex } from '../model/bytes.js';
import type {
  ClusterQC,
  EjectNode,
  EpochCommit,
  EpochRecover,
  EpochSetup,
  Id,
  Participant,
  ProtocolStateVersionUpgrade,
  ServiceEvent,
  SetEpochExtensionViewCount,
  U64,
  VersionBeacon,
  VersionBoundary,
} from '../model/types.js';

/** The type strings of ACCESS 4.2, the only ones a flow-go node can serve. */
export const FLOW_GO_EVENT_TYPES = [
  'setup',
  'commit',
  'recover',
  'version-beacon',
  'protocol-state-version-upgrade',
  'set-epoch-extension-view-count',
  'eject-node',
] as const;

const SPEC_ONLY_TYPES = ['set-execution-component-version', 'set-cadence-component-version', 'set-execution-metering-parameters'];

const ROLE_NAMES = ['collection', 'consensus', 'execution', 'verification', 'access'] as const;

// ---------------------------------------------------------------- JSON → model

const SETUP_KEYS = [
  'Counter',
  'FirstView',
  'DKGPhase1FinalView',
  'DKGPhase2FinalView',
  'DKGPhase3FinalView',
  'FinalView',
  'Participants',
  'Assignments',
  'RandomSource',
  'TargetDuration',
  'TargetEndTime',
];
const IDENTITY_KEYS = ['NodeID', 'Role', 'InitialWeight', 'StakingPubKey', 'NetworkPubKey'];
const COMMIT_KEYS = ['Counter', 'ClusterQCs', 'DKGGroupKey', 'DKGParticipantKeys', 'DKGIndexMap'];

function role(v: JsonValue, path: string): number {
  const s = str(v, path);
  const i = (ROLE_NAMES as readonly string[]).indexOf(s);
  if (i < 0) throw new MappingError(path, `unknown role ${JSON.stringify(s)} (expected one of ${ROLE_NAMES.join(', ')})`);
  return i + 1;
}

/** An identity (IdentitySkeleton JSON); `Address` is omitempty. */
export function mapIdentity(v: JsonValue, path: string): Participant {
  const r = rec(v, path, IDENTITY_KEYS, ['Address']);
  return {
    nodeId: r.get('NodeID', hexId),
    address: r.opt('Address', str, ''),
    role: r.get('Role', role),
    initialWeight: r.get('InitialWeight', u64),
    stakingKey: r.get('StakingPubKey', b64),
    networkKey: r.get('NetworkPubKey', b64),
  };
}

export function mapSetup(v: JsonValue, path: string): EpochSetup {
  const r = rec(v, path, SETUP_KEYS);
  return {
    counter: r.get('Counter', u64),
    firstView: r.get('FirstView', u64),
    dkgPhase1FinalView: r.get('DKGPhase1FinalView', u64),
    dkgPhase2FinalView: r.get('DKGPhase2FinalView', u64),
    dkgPhase3FinalView: r.get('DKGPhase3FinalView', u64),
    finalView: r.get('FinalView', u64),
    participants: r.get('Participants', arrOf(mapIdentity)),
    assignments: r.get('Assignments', arrOf(arrOf(hexId))),
    randomSource: r.get('RandomSource', b64),
    targetDuration: r.get('TargetDuration', u64),
    targetEndTime: r.get('TargetEndTime', u64),
  };
}

function clusterQC(v: JsonValue, path: string): ClusterQC {
  const r = rec(v, path, ['SigData', 'VoterIDs']);
  return { sigData: r.get('SigData', b64), voterIds: r.get('VoterIDs', arrOf(hexId)) };
}

/** `{ "<node id hex>": index }` (null → []) as pairs sorted by index, then node id bytes (ACCESS 4.2). */
function dkgIndexMap(v: JsonValue, path: string): [Id, U64][] {
  if (v === null) return [];
  const out: [Id, U64][] = [];
  const seen = new Set<string>();
  for (const [key, index] of obj(v, path)) {
    const at = `${path}[${JSON.stringify(key)}]`;
    const nodeId = hexId(key, at);
    const canonical = key.toLowerCase();
    if (seen.has(canonical)) throw new MappingError(at, 'the same node id appears twice (a Go map cannot hold it)');
    seen.add(canonical);
    out.push([nodeId, u64(index, at)]);
  }
  return out.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : compareBytes(a[0], b[0])));
}

export function mapCommit(v: JsonValue, path: string): EpochCommit {
  const r = rec(v, path, COMMIT_KEYS);
  return {
    counter: r.get('Counter', u64),
    clusterQCs: r.get('ClusterQCs', arrOf(clusterQC)),
    dkgGroupKey: r.get('DKGGroupKey', hexBytes),
    dkgParticipantKeys: r.get('DKGParticipantKeys', arrOf(hexBytes)),
    dkgIndexMap: r.get('DKGIndexMap', dkgIndexMap),
  };
}

function mapRecover(v: JsonValue, path: string): EpochRecover {
  const r = rec(v, path, ['EpochSetup', 'EpochCommit']);
  return { setup: r.get('EpochSetup', mapSetup), commit: r.get('EpochCommit', mapCommit) };
}

function boundary(v: JsonValue, path: string): VersionBoundary {
  const r = rec(v, path, ['BlockHeight', 'Version']);
  return { blockHeight: r.get('BlockHeight', u64), version: r.get('Version', str) };
}

/** `extra` names keys of an enclosing struct that embeds the beacon (SealedVersionBeacon). */
export function mapVersionBeacon(v: JsonValue, path: string, extra: readonly string[] = []): VersionBeacon {
  const r = rec(v, path, ['VersionBoundaries', 'Sequence', ...extra]);
  return { boundaries: r.get('VersionBoundaries', arrOf(boundary)), sequence: r.get('Sequence', u64) };
}

function mapUpgrade(v: JsonValue, path: string): ProtocolStateVersionUpgrade {
  const r = rec(v, path, ['NewProtocolStateVersion', 'ActiveView']);
  return { newProtocolStateVersion: r.get('NewProtocolStateVersion', u64), activeView: r.get('ActiveView', u64) };
}

function mapExtension(v: JsonValue, path: string): SetEpochExtensionViewCount {
  return { value: rec(v, path, ['Value']).get('Value', u64) };
}

function mapEject(v: JsonValue, path: string): EjectNode {
  return { nodeId: rec(v, path, ['NodeID']).get('NodeID', hexId) };
}

function refuseType(type: string, path: string): never {
  if (SPEC_ONLY_TYPES.includes(type)) {
    throw new MappingError(path, `service event type ${JSON.stringify(type)} is a SPEC extension with no flow-go counterpart: a flow-go node cannot serve it`);
  }
  throw new MappingError(path, `unknown service event type ${JSON.stringify(type)} (flow-go has only ${FLOW_GO_EVENT_TYPES.join(', ')})`);
}

/**
 * One flow-go service event from its type string and parsed JSON body (ACCESS 4.2). `path` is
 * the JSON path of the body; errors name the path inside it (e.g. `<path>.Participants[3].Role`).
 */
export function serviceEventFromFlowJson(type: string, body: JsonValue, path: string): ServiceEvent {
  switch (type) {
    case 'setup':
      return { type, event: mapSetup(body, path) };
    case 'commit':
      return { type, event: mapCommit(body, path) };
    case 'recover':
      return { type, event: mapRecover(body, path) };
    case 'version-beacon':
      return { type, event: mapVersionBeacon(body, path) };
    case 'protocol-state-version-upgrade':
      return { type, event: mapUpgrade(body, path) };
    case 'set-epoch-extension-view-count':
      return { type, event: mapExtension(body, path) };
    case 'eject-node':
      return { type, event: mapEject(body, path) };
  }
  return refuseType(type, path);
}

/** A gRPC `ServiceEvent`: `payload` is the UTF-8 JSON text of the body (ACCESS 4). */
export function serviceEventFromPayload(type: string, payload: Uint8Array, path: string): ServiceEvent {
  if (!(FLOW_GO_EVENT_TYPES as readonly string[]).includes(type)) refuseType(type, path);
  return serviceEventFromFlowJson(type, parseJson(payload, path), path);
}

// ---------------------------------------------------------------- model → JSON

/** An identity as IdentitySkeleton's MarshalJSON writes it (Address omitted when empty). */
export function identityJson(p: Participant): JsonText {
  const role = ROLE_NAMES[p.role - 1];
  if (role === undefined) throw new RangeError(`role ${p.role} has no flow-go name (1..5)`);
  const entries: [string, JsonText][] = [['NodeID', wHex(p.nodeId)]];
  if (p.address !== '') entries.push(['Address', wStr(p.address)]);
  entries.push(['Role', wStr(role)], ['InitialWeight', wNum(p.initialWeight)], ['StakingPubKey', wB64(p.stakingKey)], ['NetworkPubKey', wB64(p.networkKey)]);
  return wObj(entries);
}

export function setupJson(s: EpochSetup): JsonText {
  return wObj([
    ['Counter', wNum(s.counter)],
    ['FirstView', wNum(s.firstView)],
    ['DKGPhase1FinalView', wNum(s.dkgPhase1FinalView)],
    ['DKGPhase2FinalView', wNum(s.dkgPhase2FinalView)],
    ['DKGPhase3FinalView', wNum(s.dkgPhase3FinalView)],
    ['FinalView', wNum(s.finalView)],
    ['Participants', wArr(s.participants.map(identityJson), true)],
    [
      'Assignments',
      wArr(
        s.assignments.map((c) => wArr(c.map((id) => wHex(id)))),
        true,
      ),
    ],
    ['RandomSource', wB64(s.randomSource)],
    ['TargetDuration', wNum(s.targetDuration)],
    ['TargetEndTime', wNum(s.targetEndTime)],
  ]);
}

export function commitJson(c: EpochCommit): JsonText {
  return wObj([
    ['Counter', wNum(c.counter)],
    [
      'ClusterQCs',
      wArr(
        c.clusterQCs.map((qc) =>
          wObj([
            ['SigData', wB64(qc.sigData)],
            ['VoterIDs', wArr(qc.voterIds.map((id) => wHex(id)))],
          ]),
        ),
      ),
    ],
    ['DKGGroupKey', wHex(c.dkgGroupKey, true)],
    ['DKGParticipantKeys', wArr(c.dkgParticipantKeys.map((k) => wHex(k)))],
    ['DKGIndexMap', wMap(c.dkgIndexMap.map(([id, index]) => [toHex(id), wNum(index)]))],
  ]);
}

/** The beacon's two keys (also embedded, flattened, in SealedVersionBeacon). */
export function versionBeaconEntries(b: VersionBeacon): [string, JsonText][] {
  const boundaries = b.boundaries.map((x) =>
    wObj([
      ['BlockHeight', wNum(x.blockHeight)],
      ['Version', wStr(x.version)],
    ]),
  );
  return [
    ['VersionBoundaries', wArr(boundaries)],
    ['Sequence', wNum(b.sequence)],
  ];
}

/** The body text for one of the seven flow-go types; throws for anything a node cannot serve. */
function bodyJson(e: ServiceEvent): JsonText {
  if (e.unknown) throw new RangeError(`unknown service event type ${JSON.stringify(e.type)}: a flow-go node cannot serve it`);
  switch (e.type) {
    case 'setup':
      return setupJson(e.event);
    case 'commit':
      return commitJson(e.event);
    case 'recover':
      return wObj([
        ['EpochSetup', setupJson(e.event.setup)],
        ['EpochCommit', commitJson(e.event.commit)],
      ]);
    case 'version-beacon':
      return wObj(versionBeaconEntries(e.event));
    case 'protocol-state-version-upgrade':
      return wObj([
        ['NewProtocolStateVersion', wNum(e.event.newProtocolStateVersion)],
        ['ActiveView', wNum(e.event.activeView)],
      ]);
    case 'set-epoch-extension-view-count':
      return wObj([['Value', wNum(e.event.value)]]);
    case 'eject-node':
      return wObj([['NodeID', wHex(e.event.nodeId)]]);
  }
  throw new RangeError(`service event type ${JSON.stringify(e.type)} is a SPEC extension: a flow-go node cannot serve it`);
}

/** The exact `encoding/json` text flow-go sends as the gRPC `payload` (Go struct key order). */
export function serviceEventToFlowJson(e: ServiceEvent): string {
  return bodyJson(e);
}

/** `{"Type": ..., "Event": ...}` as the snapshot JSON wraps an event (ACCESS 4, 5.4). */
export function wrappedEventJson(e: ServiceEvent): JsonText {
  return wObj([
    ['Type', wStr(e.type)],
    ['Event', bodyJson(e)],
  ]);
}

/** `[{"Type", "Event"}]` entries of an ExecutionResult (null → []). */
export function mapWrappedEvents(v: JsonValue, path: string): ServiceEvent[] {
  return arr(v, path).map((x, i) => {
    const at = `${path}[${i}]`;
    const r = rec(x, at, ['Type', 'Event']);
    return serviceEventFromFlowJson(r.get('Type', str), r.raw('Event')!, `${at}.Event`);
  });
}
