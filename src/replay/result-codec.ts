// A block's result as a stored record: a fixed binary layout for what every block has (ids as
// bytes, verdict as a code, heights, versions, the link header, included results) and a
// v8-serialized tail for what few blocks have (failures and reasons, event outcomes, sealed
// beacons, service events of included results). Decoding gives back an equal BlockResult.
import { deserialize, serialize } from 'node:v8';
import type { ServiceEvent } from '../model/types.js';
import { FieldReader, FieldWriter } from './binary.js';
import type { LinkHeader, ResultFact } from './facts.js';
import type { BlockResult } from './result.js';
import { VERDICTS, type Verdict } from './verdicts.js';

/** Bumped whenever the layout changes: results of another layout are not read (the replay redoes them). */
export const RESULT_FORMAT = 2;

const HAS_ID = 1;
const HAS_PARENT = 2;
const FINALIZED = 4;
const SEALS_PASSED = 8;
const RETRY = 16;
const HAS_LINK = 32;
const HAS_TAIL = 64;
const HAS_TC = 128;

const VERDICT_CODE = new Map<Verdict, number>(VERDICTS.map((v, i) => [v, i]));

/** What few results have; absent members are empty. */
interface Tail {
  failed?: BlockResult['failed'];
  failedRules?: BlockResult['failedRules'];
  reasons?: BlockResult['reasons'];
  events?: BlockResult['events'];
  eventRules?: BlockResult['eventRules'];
  beacons?: BlockResult['beacons'];
  pendingUpgrade?: BlockResult['pendingUpgrade'];
  /** Service events of included results, by index in `included`. */
  includedEvents?: Record<number, ServiceEvent[]>;
}

function tailOf(r: BlockResult): Tail | null {
  const t: Tail = {};
  let any = false;
  const put = <K extends keyof Tail>(k: K, v: Tail[K]) => {
    any = true;
    t[k] = v;
  };
  if (r.failed.length > 0) {
    put('failed', r.failed);
    put('failedRules', r.failedRules);
    put('reasons', r.reasons);
  }
  if (r.events.length > 0) {
    put('events', r.events);
    put('eventRules', r.eventRules);
  }
  if (r.beacons.length > 0) put('beacons', r.beacons);
  if (r.pendingUpgrade !== null) put('pendingUpgrade', r.pendingUpgrade);
  for (let i = 0; i < r.included.length; i++) {
    const ev = r.included[i].events;
    if (ev.length === 0) continue;
    const all = t.includedEvents ?? {};
    all[i] = ev;
    put('includedEvents', all);
  }
  return any ? t : null;
}

const writer = new FieldWriter(1 << 12);

/** Encodes a result; the bytes are a view into a shared buffer, valid until the next call. */
export function encodeResult(r: BlockResult): Buffer {
  const w = writer.reset();
  const tail = tailOf(r);
  const link = r.link;
  const flags =
    (r.id !== null ? HAS_ID : 0) |
    (r.parentId !== null ? HAS_PARENT : 0) |
    (r.finalized ? FINALIZED : 0) |
    (r.sealsPassed ? SEALS_PASSED : 0) |
    (r.retry ? RETRY : 0) |
    (link !== null ? HAS_LINK : 0) |
    (tail !== null ? HAS_TAIL : 0) |
    (link?.tc ? HAS_TC : 0);
  w.u8(flags);
  w.u8(VERDICT_CODE.get(r.verdict)!);
  w.f64(r.record);
  if (r.id !== null) w.hexId(r.id);
  if (r.parentId !== null) w.hexId(r.parentId);
  w.u64(r.height);
  w.u64(r.view);
  w.u8((r.committedStateId !== null ? 1 : 0) | (r.computedStateId !== null ? 2 : 0) | (r.protocolStateVersion !== null ? 4 : 0));
  if (r.committedStateId !== null) w.hexId(r.committedStateId);
  if (r.computedStateId !== null) w.hexId(r.computedStateId);
  if (r.protocolStateVersion !== null) w.u32(r.protocolStateVersion);
  w.text(r.executionComponentVersion);
  w.text(r.cadenceComponentVersion);
  w.u64(r.epochCounter);
  w.text(r.epochPhase);
  w.u64(r.epochFinalView);
  w.u32(r.unknownEvents);
  w.u64(r.lastSealed);
  if (link !== null) {
    w.text(link.chainId);
    w.id(link.parentId);
    w.u64(link.height);
    w.u64(link.view);
    w.u64(link.parentView);
    w.u64(link.timestamp);
    if (link.tc !== null) {
      w.u64(link.tc.view);
      w.u64(link.tc.newestQCView);
    }
  }
  w.u16(r.included.length);
  for (const inc of r.included) {
    w.id(inc.id);
    w.id(inc.blockId);
  }
  if (tail !== null) w.bytes(serialize(tail));
  return w.view();
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * Decodes a stored result (copies what it keeps: `bytes` may be a reused read buffer). With
 * `lines`, what only the replay itself needs (the link header, included results) is skipped:
 * `link` is null and `included` empty, the rest is whole (the report, versions).
 */
export function decodeResult(bytes: Uint8Array, lines = false): BlockResult {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const rd = new FieldReader(buf);
  const flags = rd.u8();
  const verdict = VERDICTS[rd.u8()];
  const record = rd.f64();
  const id = flags & HAS_ID ? rd.hexId() : null;
  const parentId = flags & HAS_PARENT ? rd.hexId() : null;
  const height = rd.u64();
  const view = rd.u64();
  const has = rd.u8();
  const committedStateId = has & 1 ? rd.hexId() : null;
  const computedStateId = has & 2 ? rd.hexId() : null;
  const protocolStateVersion = has & 4 ? rd.u32() : null;
  const executionComponentVersion = rd.text();
  const cadenceComponentVersion = rd.text();
  const epochCounter = rd.u64();
  const epochPhase = rd.text();
  const epochFinalView = rd.u64();
  const unknownEvents = rd.u32();
  const lastSealed = rd.u64();
  let link: LinkHeader | null = null;
  if (lines) {
    if (flags & HAS_LINK) {
      const chainIdBytes = rd.u16();
      rd.pos += chainIdBytes + 32;
      for (let i = flags & HAS_TC ? 6 : 4; i > 0; i--) rd.skipU64();
    }
    const includedCount = rd.u16();
    rd.pos += 64 * includedCount;
  } else if (flags & HAS_LINK) {
    const chainId = rd.text()!;
    const linkParent = rd.id();
    const lh = rd.u64()!;
    const lv = rd.u64()!;
    const parentView = rd.u64()!;
    const timestamp = rd.u64()!;
    const tc = flags & HAS_TC ? { view: rd.u64()!, newestQCView: rd.u64()! } : null;
    link = { chainId, parentId: linkParent, height: lh, view: lv, parentView, timestamp, tc };
  }
  let included: ResultFact[] = [];
  if (!lines) {
    const n = rd.u16();
    included = new Array(n);
    for (let i = 0; i < n; i++) included[i] = { id: rd.id(), blockId: rd.id(), events: [] };
  }
  const tail: Tail = flags & HAS_TAIL ? deserialize(buf.subarray(rd.pos)) : {};
  if (!lines && tail.includedEvents !== undefined) for (const [i, ev] of Object.entries(tail.includedEvents)) included[Number(i)].events = ev;
  return {
    record,
    id,
    height,
    view,
    parentId,
    finalized: (flags & FINALIZED) !== 0,
    verdict,
    failed: tail.failed ?? [],
    failedRules: tail.failedRules ?? NONE,
    reasons: tail.reasons ?? {},
    committedStateId,
    computedStateId,
    protocolStateVersion,
    executionComponentVersion,
    cadenceComponentVersion,
    pendingUpgrade: tail.pendingUpgrade ?? null,
    epochCounter,
    epochPhase,
    epochFinalView,
    events: tail.events ?? [],
    eventRules: tail.eventRules ?? NONE,
    sealsPassed: (flags & SEALS_PASSED) !== 0,
    beacons: tail.beacons ?? [],
    unknownEvents,
    link,
    lastSealed,
    included,
    retry: (flags & RETRY) !== 0,
  };
}
