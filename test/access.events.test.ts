// ACCESS.md 4 (service-event payloads) and the lossless JSON layer under it (4.1, 4.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MappingError } from '../src/access/errors.js';
import { b64, hexBytes, hexId, JsonNumber, MAX_DEPTH, parseJson, u64, uint, wStr, type JsonObject, type JsonValue } from '../src/access/json.js';
import { FLOW_GO_EVENT_TYPES, serviceEventFromFlowJson, serviceEventFromPayload, serviceEventToFlowJson } from '../src/access/events.js';
import { decodeBlockRecordBytes, encodeBlockRecord } from '../src/model/archive.js';
import { compareBytes, toHex, ZERO } from '../src/model/bytes.js';
import { commitId, setupId } from '../src/model/ids.js';
import { U64_MAX } from '../src/model/u64.js';
import type { BlockRecord, EpochCommit, EpochRecover, EpochSetup, ServiceEvent } from '../src/model/types.js';
import { synthesize } from '../src/synth/index.js';

const FIXTURE = new URL('../../test/fixtures/flow-go/snapshot-fixture1.json', import.meta.url);
const enc = (s: string) => new TextEncoder().encode(s);

/** The fixture's root-result events: [type, body value, body text as Go wrote it]. */
function fixtureEvents(): { type: string; body: JsonValue; text: string }[] {
  const text = readFileSync(FIXTURE, 'utf8');
  const doc = JSON.parse(text) as { SealingSegment: { ExecutionResults: { ServiceEvents: { Type: string; Event: unknown }[] }[] } };
  const parsed = parseJson(text) as JsonObject;
  const seg = parsed.get('SealingSegment') as JsonObject;
  const events = ((seg.get('ExecutionResults') as JsonValue[])[0] as JsonObject).get('ServiceEvents') as JsonValue[];
  return doc.SealingSegment.ExecutionResults[0].ServiceEvents.map((e, i) => ({
    type: e.Type,
    body: (events[i] as JsonObject).get('Event')!,
    text: JSON.stringify(e.Event),
  }));
}

interface Bodies {
  setup: EpochSetup;
  commit: EpochCommit;
  recover: EpochRecover;
}

/** The body of a known event of `type` (asserted). */
function body<T extends keyof Bodies>(e: ServiceEvent, type: T): Bodies[T] {
  assert.equal(e.type, type);
  assert.ok(!e.unknown);
  return e.event as Bodies[T];
}

function refuses(f: () => unknown, path: string, reason: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof MappingError, `expected a MappingError, got ${String(e)}`);
    assert.equal(e.path, path);
    assert.match(e.reason, reason);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

// ---------------------------------------------------------------- the JSON layer

test('ACCESS 4.1: numbers keep their exact text; u64 is exact around 2^53 and at 2^64-1', () => {
  const v = parseJson('[9007199254740991, 9007199254740992, 9007199254740993, 18446744073709551615, 0]') as JsonValue[];
  assert.ok(v[0] instanceof JsonNumber);
  assert.equal(u64(v[0], '$[0]'), 9007199254740991);
  assert.equal(u64(v[1], '$[1]'), 9007199254740992n);
  assert.equal(u64(v[2], '$[2]'), 9007199254740993n);
  assert.equal(u64(v[3], '$[3]'), U64_MAX);
  assert.equal(u64(v[4], '$[4]'), 0);
});

test('ACCESS 4.4: integers outside their range, negative, fractional or with an exponent are refused', () => {
  const n = (t: string) => parseJson(t);
  refuses(() => u64(n('18446744073709551616'), '$.X'), '$.X', /above the uint64 range/);
  refuses(() => u64(n('-1'), '$.X'), '$.X', /non-negative integer/);
  refuses(() => u64(n('1.0'), '$.X'), '$.X', /no sign, fraction or exponent/);
  refuses(() => u64(n('1e3'), '$.X'), '$.X', /got 1e3/);
  refuses(() => u64(n('"5"'), '$.X'), '$.X', /expected a number, got string "5"/);
  refuses(() => uint(n('65536'), 16, '$.C'), '$.C', /above the uint16 range \(65535\)/);
  assert.equal(uint(n('65535'), 16, '$.C'), 65535);
});

test('ACCESS 4.4: syntax errors, duplicate keys, deep nesting and invalid UTF-8 name the byte offset', () => {
  refuses(() => parseJson('{"a":1,}'), '$', /JSON syntax error at byte 7: expected a string key/);
  refuses(() => parseJson('{"a":1,"b":2,"a":3}'), '$', /at byte 13: duplicate key "a"/);
  refuses(() => parseJson('[1] x'), '$', /at byte 4: trailing data/);
  refuses(() => parseJson('01'), '$', /at byte 1: trailing data/);
  refuses(() => parseJson('"abc'), '$', /at byte 0: unterminated string/);
  refuses(() => parseJson('['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1)), '$', new RegExp(`at byte ${MAX_DEPTH}: nesting deeper than ${MAX_DEPTH}`));
  assert.equal((parseJson('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH)) as JsonValue[]).length, 1);
  refuses(() => parseJson(Uint8Array.of(0x22, 0x61, 0xff, 0x22)), '$', /at byte 1: invalid UTF-8 in a string/);
  refuses(() => parseJson('"a\u0001"'), '$', /control character/);
});

test('ACCESS 4.1: strings with Go escapes and non-ASCII text decode; the writer escapes as Go does', () => {
  assert.equal(parseJson('"\\u003cv\\u003e \\u0026 é \\n"'), '<v> & é \n');
  assert.equal(wStr('<v> & "q"'), '"\\u003cv\\u003e \\u0026 \\"q\\""');
  const o = parseJson('{"b":1,"a":[true,false,null]}') as JsonObject;
  assert.deepEqual([...o.keys()], ['b', 'a']);
  assert.deepEqual(o.get('a'), [true, false, null]);
});

test('ACCESS 4.1: base64 is standard and padded, null is empty; ids are 64 hex digits', () => {
  assert.deepEqual(b64(parseJson('"AAEC"'), '$'), Uint8Array.of(0, 1, 2));
  assert.deepEqual(b64(parseJson('"AAE="'), '$'), Uint8Array.of(0, 1));
  assert.deepEqual(b64(null, '$'), new Uint8Array(0));
  assert.deepEqual(b64('', '$'), new Uint8Array(0));
  refuses(() => b64('AAE', '$.S'), '$.S', /not standard padded base64/);
  refuses(() => b64('AA-_', '$.S'), '$.S', /not standard padded base64/);
  assert.deepEqual(hexId('AB'.repeat(32), '$'), new Uint8Array(32).fill(0xab));
  refuses(() => hexId('ab'.repeat(31), '$.ID'), '$.ID', /32-byte id/);
  assert.deepEqual(hexBytes(null, '$'), new Uint8Array(0));
  refuses(() => hexBytes('abc', '$.K'), '$.K', /not hex/);
});

// ---------------------------------------------------------------- the seven types

test('ACCESS 4.2: the fixture setup and commit map to the SPEC bodies with the 7.3 ids', () => {
  const [setupEv, commitEv] = fixtureEvents();
  const s = body(serviceEventFromFlowJson(setupEv.type, setupEv.body, '$'), 'setup');
  const c = body(serviceEventFromFlowJson(commitEv.type, commitEv.body, '$'), 'commit');
  assert.equal(toHex(setupId(s)), '78cdf4cde701bfbffb61017537f324600ff3eaa0a568b8afbb02ae03c65a8ac9');
  assert.equal(toHex(commitId(c)), '6b3aa1496465ec8fd3c028c7462fe16763804e708d69a3d9b1530f574c4b410f');
  assert.equal(s.participants.length, 10);
  assert.deepEqual(s.participants.map((p) => p.role).sort(), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  assert.equal(s.participants[0].role, 1); // "collection"
  assert.equal(s.participants[1].role, 3); // "execution"
  assert.equal(s.participants[0].stakingKey.length, 96);
  assert.equal(s.participants[0].networkKey.length, 0); // null
  assert.equal(s.randomSource.length, 16);
  assert.deepEqual([s.counter, s.dkgPhase3FinalView, s.finalView, s.targetEndTime], [1, 300, 100000, 1746492607]);
  assert.equal(c.dkgGroupKey.length, 96);
  assert.equal(c.clusterQCs[0].sigData.length, 155);
  assert.deepEqual(
    c.dkgIndexMap.map(([id, i]) => [toHex(id).slice(0, 4), i]),
    [
      ['6409', 0],
      ['eade', 1],
    ],
  );
});

test('ACCESS 4.2: serviceEventToFlowJson writes exactly the text flow-go wrote (the fixture events)', () => {
  for (const ev of fixtureEvents()) {
    const e = serviceEventFromFlowJson(ev.type, ev.body, '$');
    assert.equal(serviceEventToFlowJson(e), ev.text, ev.type);
  }
});

test('ACCESS 4.2: Address is omitempty; DKGGroupKey null → empty; DKGIndexMap null → [] and sorted by index, then node id', () => {
  const id = (b: number) => b.toString(16).padStart(2, '0').repeat(32);
  const setup = serviceEventFromPayload(
    'setup',
    enc(
      JSON.stringify({
        Counter: 1,
        FirstView: 2,
        DKGPhase1FinalView: 3,
        DKGPhase2FinalView: 4,
        DKGPhase3FinalView: 5,
        FinalView: 6,
        Participants: [{ NodeID: id(1), Role: 'access', InitialWeight: 7, StakingPubKey: null, NetworkPubKey: 'AQI=' }],
        Assignments: null,
        RandomSource: null,
        TargetDuration: 8,
        TargetEndTime: 9,
      }),
    ),
    '$',
  );
  assert.deepEqual(body(setup, 'setup').participants[0], {
    nodeId: new Uint8Array(32).fill(1),
    address: '',
    role: 5,
    initialWeight: 7,
    stakingKey: new Uint8Array(0),
    networkKey: Uint8Array.of(1, 2),
  });
  assert.deepEqual(body(setup, 'setup').assignments, []);
  assert.ok(!serviceEventToFlowJson(setup).includes('"Address"'));

  const commit = (map: unknown) =>
    serviceEventFromPayload(
      'commit',
      enc(
        JSON.stringify({
          Counter: 1,
          ClusterQCs: null,
          DKGGroupKey: null,
          DKGParticipantKeys: ['0a0b', '0c0d', '0e0f'],
          DKGIndexMap: map,
        }),
      ),
      '$',
    );
  const a = body(commit(null), 'commit');
  assert.deepEqual(a.dkgIndexMap, []);
  assert.deepEqual(a.dkgGroupKey, new Uint8Array(0));
  assert.deepEqual(a.clusterQCs, []);
  // a duplicate index: written as received, pairs ordered by (index, node id bytes)
  const b = body(commit({ [id(9)]: 1, [id(5)]: 0, [id(3)]: 1 }), 'commit');
  assert.deepEqual(
    b.dkgIndexMap.map(([n, i]) => [n[0], i]),
    [
      [5, 0],
      [3, 1],
      [9, 1],
    ],
  );
});

test('ACCESS 4.2: the other five types map field by field', () => {
  const id = 'ab'.repeat(32);
  const cases: [string, unknown, unknown][] = [
    ['recover', null, null],
    [
      'version-beacon',
      { VersionBoundaries: [{ BlockHeight: 18446744073709551615n, Version: '0.44.1-rc.1+x' }], Sequence: 3 },
      { boundaries: [{ blockHeight: U64_MAX, version: '0.44.1-rc.1+x' }], sequence: 3 },
    ],
    [
      'protocol-state-version-upgrade',
      { NewProtocolStateVersion: 3, ActiveView: 9007199254740993n },
      { newProtocolStateVersion: 3, activeView: 9007199254740993n },
    ],
    ['set-epoch-extension-view-count', { Value: 600 }, { value: 600 }],
    ['eject-node', { NodeID: id }, { nodeId: new Uint8Array(32).fill(0xab) }],
  ];
  for (const [type, body, want] of cases) {
    if (body === null) continue;
    const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? `@${v}@` : v)).replace(/"@(\d+)@"/g, '$1');
    const e = serviceEventFromPayload(type, enc(text), '$');
    assert.equal(e.type, type);
    assert.deepEqual(e.event, want, type);
    assert.equal(serviceEventToFlowJson(e), text, `${type}: inverse`);
  }
  const [setupEv, commitEv] = fixtureEvents();
  const rec = body(serviceEventFromPayload('recover', enc(`{"EpochSetup":${setupEv.text},"EpochCommit":${commitEv.text}}`), '$'), 'recover');
  assert.equal(toHex(setupId(rec.setup)), '78cdf4cde701bfbffb61017537f324600ff3eaa0a568b8afbb02ae03c65a8ac9');
  assert.equal(toHex(commitId(rec.commit)), '6b3aa1496465ec8fd3c028c7462fe16763804e708d69a3d9b1530f574c4b410f');
});

// ---------------------------------------------------------------- refusals

test('ACCESS 4.3: an unknown type and each SPEC-only type are refused, naming the type', () => {
  refuses(
    () => serviceEventFromPayload('flow.ProtocolStateNote', enc('{}'), 'result 0 event 1 $'),
    'result 0 event 1 $',
    /unknown service event type "flow.ProtocolStateNote"/,
  );
  for (const type of ['set-execution-component-version', 'set-cadence-component-version', 'set-execution-metering-parameters']) {
    refuses(() => serviceEventFromPayload(type, enc('{}'), '$'), '$', new RegExp(`"${type}" is a SPEC extension with no flow-go counterpart`));
    refuses(() => serviceEventFromFlowJson(type, new Map(), '$'), '$', /SPEC extension/);
  }
  const specOnly: ServiceEvent = { type: 'set-execution-component-version', event: { version: { major: 1, minor: 0 }, activationView: 5 } };
  assert.throws(() => serviceEventToFlowJson(specOnly), /SPEC extension: a flow-go node cannot serve it/);
  assert.throws(() => serviceEventToFlowJson({ type: 'x', event: null, unknown: true }), /unknown service event type "x"/);
});

test('ACCESS 4.4: malformed payloads are refused naming the JSON path', () => {
  const [setupEv, commitEv] = fixtureEvents();
  const setup = (edit: (o: any) => void, path = 'height 5 result 0 event 1 $') => {
    const o = JSON.parse(setupEv.text);
    edit(o);
    return () => serviceEventFromPayload('setup', enc(JSON.stringify(o)), path);
  };
  refuses(
    setup((o) => (o.Participants[3].Role = 'observer')),
    'height 5 result 0 event 1 $.Participants[3].Role',
    /unknown role "observer"/,
  );
  refuses(
    setup((o) => (o.Participants[0].Extra = 1)),
    'height 5 result 0 event 1 $.Participants[0].Extra',
    /unknown key "Extra"/,
  );
  refuses(
    setup((o) => delete o.TargetEndTime),
    'height 5 result 0 event 1 $.TargetEndTime',
    /missing key/,
  );
  refuses(
    setup((o) => (o.Counter = -1)),
    'height 5 result 0 event 1 $.Counter',
    /non-negative integer/,
  );
  refuses(
    setup((o) => (o.RandomSource = 'not base64!')),
    'height 5 result 0 event 1 $.RandomSource',
    /not standard padded base64/,
  );
  refuses(
    setup((o) => (o.Assignments[0][1] = 'xyz')),
    'height 5 result 0 event 1 $.Assignments[0][1]',
    /32-byte id/,
  );
  refuses(
    setup((o) => (o.Participants = {})),
    'height 5 result 0 event 1 $.Participants',
    /expected an array or null, got an object/,
  );
  refuses(() => serviceEventFromPayload('setup', enc('[1,2'), '$'), '$', /JSON syntax error at byte 4/);
  refuses(() => serviceEventFromPayload('setup', Uint8Array.of(0x22, 0xc3, 0x28, 0x22), '$'), '$', /invalid UTF-8/);
  const c = JSON.parse(commitEv.text);
  c.DKGGroupKey = 'zz';
  refuses(() => serviceEventFromPayload('commit', enc(JSON.stringify(c)), '$'), '$.DKGGroupKey', /not hex/);
  const dup = commitEv.text.replace('"Counter":1', '"Counter":1,"Counter":2');
  refuses(() => serviceEventFromPayload('commit', enc(dup), '$'), '$', /duplicate key "Counter"/);
  const big = commitEv.text.replace('"Counter":1', '"Counter":18446744073709551616');
  refuses(() => serviceEventFromPayload('commit', enc(big), '$'), '$.Counter', /above the uint64 range/);
});

test('ACCESS 6.6: a commit whose index map is not a permutation maps as received and its block record still encodes', () => {
  const [, commitEv] = fixtureEvents();
  const text = commitEv.text.replace(/("eade[0-9a-f]{60}"):1/, '$1:7');
  const e = serviceEventFromPayload('commit', enc(text), '$');
  assert.deepEqual(
    body(e, 'commit').dkgIndexMap.map(([, i]) => i),
    [0, 7],
  );
  const rec: BlockRecord = {
    blockId: ZERO,
    header: {
      chainId: 'flow-emulator',
      parentId: ZERO,
      height: 1,
      timestamp: 0,
      view: 1,
      parentView: 0,
      parentVoterIndices: new Uint8Array(0),
      parentVoterSigData: new Uint8Array(0),
      proposerId: ZERO,
      lastViewTC: null,
      payloadHash: ZERO,
      proposerSigData: new Uint8Array(0),
    },
    payload: {
      guarantees: [],
      seals: [],
      receipts: [],
      results: [{ previousResultId: ZERO, blockId: ZERO, chunks: [], serviceEvents: [e], executionDataId: ZERO }],
      protocolStateId: new Uint8Array(32).fill(1),
    },
    finalized: true,
  };
  const bytes = encodeBlockRecord(rec);
  const back = decodeBlockRecordBytes(bytes);
  assert.equal(back.value, undefined);
  assert.match(`${back.error?.field}: ${back.error?.cause}`, /dkgIndexMap.*not a permutation/);
});

// ---------------------------------------------------------------- property: synth events round-trip

/** What the mapping gives for `e`: the DKG index map in its canonical (index, node id) order. */
function canonical(e: ServiceEvent): ServiceEvent {
  const sortMap = (c: EpochCommit): EpochCommit => ({
    ...c,
    dkgIndexMap: [...c.dkgIndexMap].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : compareBytes(a[0], b[0]))),
  });
  if (e.type === 'commit' && !e.unknown) return { type: 'commit', event: sortMap(e.event) };
  if (e.type === 'recover' && !e.unknown) return { type: 'recover', event: { setup: e.event.setup, commit: sortMap(e.event.commit) } };
  return e;
}

test('ACCESS 4.2: every flow-go-type event of a synth spork round-trips through serviceEventToFlowJson / serviceEventFromPayload', async () => {
  const events: ServiceEvent[] = [];
  await synthesize(
    { blocks: 1500, seed: 1 },
    {
      root: (r) => void events.push(...r.rootResult.serviceEvents),
      block: (rec) => {
        for (const r of rec.payload.results) events.push(...r.serviceEvents);
      },
    },
  );
  const seen = new Set<string>();
  let skipped = 0;
  for (const e of events) {
    if (!(FLOW_GO_EVENT_TYPES as readonly string[]).includes(e.type) || e.unknown) {
      assert.throws(() => serviceEventToFlowJson(e));
      skipped++;
      continue;
    }
    seen.add(e.type);
    const text = serviceEventToFlowJson(e);
    const back = serviceEventFromPayload(e.type, enc(text), '$');
    assert.deepEqual(back, canonical(e), e.type);
    assert.equal(serviceEventToFlowJson(back), text, `${e.type}: stable text`);
    if (e.type === 'commit') assert.deepEqual(commitId(back.event as EpochCommit), commitId(e.event as EpochCommit));
  }
  assert.deepEqual([...seen].sort(), [...FLOW_GO_EVENT_TYPES].sort());
  assert.ok(skipped > 0, 'the synth spork also carries SPEC-only types, which a node cannot serve');
});
