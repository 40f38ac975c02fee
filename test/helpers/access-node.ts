// A loopback flow.access.AccessAPI server for tests and the fetch benchmark: one spork's
// FINALIZED chain (the root from a RootSnapshot, blocks from a function), the error codes and
// messages of ACCESS.md 6.4, and a deterministic fault plan counted in `stats`.
import { readFileSync } from 'node:fs';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { blockMessageFromRecord } from '../../src/access/block.js';
import {
  accessServiceDefinition,
  encodeBlockResponse,
  type BlockHeaderMsg,
  type BlockHeaderResponseMsg,
  type BlockMsg,
  type BlockResponseMsg,
  type BlockStatus,
  type GetBlockByHeightRequestMsg,
  type GetBlockHeaderByHeightRequestMsg,
  type GetLatestBlockHeaderRequestMsg,
  type GetLatestBlockRequestMsg,
  type GetNetworkParametersResponseMsg,
  type GetNodeVersionInfoResponseMsg,
  type GetProtocolStateSnapshotByHeightRequestMsg,
  type MetadataMsg,
  type ProtocolStateSnapshotResponseMsg,
  type SubscribeBlocksFromStartHeightRequestMsg,
  type SubscribeBlocksResponseMsg,
} from '../../src/access/grpc.js';
import { rootSnapshotToFlowJson } from '../../src/access/snapshot.js';
import { parseArchiveBytes } from '../../src/model/archive.js';
import { headerId } from '../../src/model/ids.js';
import { compareBytes } from '../../src/model/bytes.js';
import type { BlockRecord, EpochCommit, Id, RootSnapshot, ServiceEvent } from '../../src/model/types.js';
import { Rng } from '../../src/synth/rng.js';

/**
 * Faults, each deterministic for a seed (the phase of every periodic fault comes from it). The
 * periodic call faults count unary calls and the messages of block subscriptions together: a
 * fault on a message ends its subscription with that status instead of sending the message.
 */
export interface FaultPlan {
  seed?: number | string;
  /** Unary calls (or stream messages) fail UNAVAILABLE `unavailableBurst` (default 1) times in a row, every N calls. */
  unavailableEvery?: number;
  unavailableBurst?: number;
  /** Every Nth unary call (or stream message): RESOURCE_EXHAUSTED "<method> rate limit reached, please retry later." */
  resourceExhaustedEvery?: number;
  /** Every Nth block call (GetBlockByHeight, GetBlockHeaderByHeight) or subscription message: INTERNAL. */
  internalEvery?: number;
  /** Every Nth unary call (or stream message) answers `slowMs` late (a client deadline below it gives DEADLINE_EXCEEDED). */
  slowEvery?: number;
  slowMs?: number;
  /** Every Nth height at or below the head answers NOT_FOUND once (a lagging node behind a load balancer). */
  laggingNotFoundEvery?: number;
  /** Every Nth subscription start (at or below the head) answers NOT_FOUND: it reached a lagging node behind a load balancer. */
  laggingStreamEvery?: number;
  /** Every subscription fails UNAVAILABLE after this many messages. */
  dropStreamAfter?: number;
  /** The block at this height is always sent with one 32-byte field cut to 31 bytes. */
  shortFieldAtHeight?: bigint;
  /** The first request for this height is answered with the block of the next (or previous) height. */
  wrongHeightAtHeight?: bigint;
}

export type FaultKind = 'unavailable' | 'resourceExhausted' | 'internal' | 'slow' | 'laggingNotFound' | 'streamDropped' | 'shortField' | 'wrongHeight';

export interface AccessNodeOptions {
  root: RootSnapshot;
  /** Finalized block records by height (the root height may be left out: it is served from `root`). */
  blocks: (height: bigint) => BlockRecord | undefined;
  /** The finalized head. */
  head: bigint;
  /** Default: the root block id. */
  sporkId?: Id;
  /** First height the node serves; default the spork root height. */
  nodeRootHeight?: bigint;
  /** Default "v0.44.3". */
  semver?: string;
  faults?: FaultPlan;
  /**
   * The encoded `flow.entities.Block` of the block at a height (what `encodeBlock` gives for its
   * record), for a node that answers from bytes encoded once instead of encoding per call (the
   * fetch benchmark: serialization is the node's cost, not the client's). A height it has no
   * bytes for, and the shortField fault, are encoded per call.
   */
  encoded?: (height: bigint) => Uint8Array | undefined;
  /** A node without block subscriptions: SubscribeBlocksFromStartHeight answers UNIMPLEMENTED. */
  noSubscriptions?: boolean;
}

export interface AccessNodeStats {
  calls: Record<string, number>;
  faults: Record<FaultKind, number>;
}

export interface AccessNode {
  address: string;
  port: number;
  setHead(h: bigint): void;
  stats: AccessNodeStats;
  stop(): Promise<void>;
}

/** Pre-encoded response bytes, sent as they are (see `rawAwareService`). */
class Raw {
  constructor(readonly bytes: Buffer) {}
}

/** The AccessAPI service definition whose two block answers may also be `Raw` bytes. */
function rawAwareService(): ReturnType<typeof accessServiceDefinition> {
  const def = accessServiceDefinition();
  const out: Record<string, unknown> = { ...def };
  for (const rpc of ['GetBlockByHeight', 'SubscribeBlocksFromStartHeight']) {
    const m = def[rpc];
    const serialize = m.responseSerialize;
    out[rpc] = { ...m, responseSerialize: (v: unknown) => (v instanceof Raw ? v.bytes : serialize(v)) };
  }
  return out as ReturnType<typeof accessServiceDefinition>;
}

/** The bytes of one `flow.entities.Block` message for a record (what a v0.43+ node sends). */
export function encodeBlock(rec: BlockRecord): Buffer {
  const f = lengthField(encodeBlockResponse({ block: blockMessageFromRecord(rec), block_status: 'BLOCK_UNKNOWN', metadata: null }), 1);
  return f.subarray(f.length - lengthOfBody(f));
}

/** Field `no` (length-delimited, tag and length included) of an encoded message: the last one. */
function lengthField(b: Buffer, no: number): Buffer {
  let found: Buffer | null = null;
  for (let i = 0; i < b.length; ) {
    const start = i;
    let tag = 0;
    for (let s = 0; ; s += 7) {
      const x = b[i++]!;
      tag += (x & 0x7f) * 2 ** s;
      if (!(x & 0x80)) break;
    }
    const wire = tag % 8;
    if (wire === 0) {
      while (b[i++]! & 0x80);
      continue;
    }
    if (wire !== 2) throw new Error(`wire type ${wire} not expected here`);
    let len = 0;
    for (let s = 0; ; s += 7) {
      const x = b[i++]!;
      len += (x & 0x7f) * 2 ** s;
      if (!(x & 0x80)) break;
    }
    i += len;
    if (Math.floor(tag / 8) === no) found = b.subarray(start, i);
  }
  if (found === null) throw new Error(`no field ${no}`);
  return found;
}

/** The body length of one length-delimited field (tag and length included). */
function lengthOfBody(f: Buffer): number {
  let i = 0;
  while (f[i++]! & 0x80);
  let len = 0;
  for (let s = 0; ; s += 7) {
    const x = f[i++]!;
    len += (x & 0x7f) * 2 ** s;
    if (!(x & 0x80)) break;
  }
  return len;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** `0x0a len body`: field 1 of a message, length-delimited. */
function field1(body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x0a, ...varint(body.length)]), body]);
}

class Rpc extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
  ) {
    super(details);
  }
}

/** BlockResponse field 2 (block_status) as bytes. */
const STATUS_BYTES: Record<BlockStatus, Buffer> = {
  BLOCK_UNKNOWN: Buffer.alloc(0),
  BLOCK_FINALIZED: Buffer.from([0x10, 1]),
  BLOCK_SEALED: Buffer.from([0x10, 2]),
};

const METHOD = (rpc: string) => `/flow.access.AccessAPI/${rpc}`;
const NODE_ID = Buffer.alloc(32, 0xa5);

/** The periodic faults: call (or height) n hits a fault of period `every` when (n + phase) mod every < width. */
class Schedule {
  private readonly phases = new Map<string, number>();

  constructor(private readonly seed: number | string) {}

  hit(kind: string, every: number | undefined, n: number | bigint, width = 1): boolean {
    if (every === undefined || every <= 0) return false;
    let phase = this.phases.get(kind);
    if (phase === undefined) this.phases.set(kind, (phase = new Rng(this.seed, `access-node:${kind}`).int(every)));
    return (BigInt(n) + BigInt(phase)) % BigInt(every) < BigInt(width);
  }
}

/** Starts the node on 127.0.0.1, an ephemeral port, plaintext. */
export async function startAccessNode(opts: AccessNodeOptions): Promise<AccessNode> {
  const root = opts.root;
  const faults = opts.faults ?? {};
  const schedule = new Schedule(faults.seed ?? 0);
  const rootId = headerId(root.rootBlock.header);
  const sporkRoot = BigInt(root.rootBlock.header.height);
  const nodeRoot = opts.nodeRootHeight ?? sporkRoot;
  const stats: AccessNodeStats = {
    calls: {},
    faults: { unavailable: 0, resourceExhausted: 0, internal: 0, slow: 0, laggingNotFound: 0, streamDropped: 0, shortField: 0, wrongHeight: 0 },
  };
  let head = opts.head;
  let headId: Buffer | null = null;
  let callNo = 0;
  let blockCallNo = 0;
  let streamNo = 0;
  let stopped = false;
  const lagged = new Set<bigint>();
  let wrongHeightSent = false;
  const waiters = new Set<() => void>();
  let snapshot: Buffer | null = null;
  let metaBytes: Buffer | null = null;

  const rootRecord: BlockRecord = { blockId: rootId, header: root.rootBlock.header, payload: root.rootBlock.payload, finalized: true };
  const recordAt = (h: bigint): BlockRecord | undefined => (h === sporkRoot ? rootRecord : opts.blocks(h));

  function metadata(): MetadataMsg {
    headId ??= Buffer.from(recordAt(head)?.blockId ?? new Uint8Array(32));
    return {
      latest_finalized_block_id: headId,
      latest_finalized_height: String(head),
      node_id: NODE_ID,
      highest_indexed_height: String(head),
      executor_metadata: null,
    };
  }

  /** BlockResponse field 3 (metadata) as bytes, encoded once per head. */
  function metadataBytes(): Buffer {
    metaBytes ??= lengthField(encodeBlockResponse({ block: null, block_status: 'BLOCK_UNKNOWN', metadata: metadata() }), 3);
    return metaBytes;
  }

  /** The pre-encoded bytes of a record's Block message, unless a fault changes what is sent. */
  function encodedBlock(rec: BlockRecord): Uint8Array | undefined {
    if (opts.encoded === undefined) return undefined;
    const h = BigInt(rec.header.height);
    if (faults.shortFieldAtHeight !== undefined && h === faults.shortFieldAtHeight) return undefined;
    return opts.encoded(h);
  }

  const statusOf = (h: bigint): BlockStatus => (h === sporkRoot ? 'BLOCK_SEALED' : 'BLOCK_FINALIZED');

  /** The ACCESS 6.4 NOT_FOUND cases of the by-height calls, else the record. */
  function finalizedRecord(h: bigint): BlockRecord {
    const generic = `failed to retrieve block ID for height ${h}: could not retrieve resource: key not found`;
    if (h < sporkRoot) {
      throw new Rpc(
        status.NOT_FOUND,
        `not found: block height ${h} is less than the spork root block height ${sporkRoot}. Try to use a historic node: ${generic}`,
      );
    }
    if (h < nodeRoot) {
      throw new Rpc(
        status.NOT_FOUND,
        `not found: block height ${h} is less than the node's root block height ${nodeRoot}. Try to use a different Access node: ${generic}`,
      );
    }
    const rec = h <= head ? recordAt(h) : undefined;
    if (rec === undefined) throw new Rpc(status.NOT_FOUND, `not found: ${generic}`);
    return rec;
  }

  function blockMessage(rec: BlockRecord): BlockMsg {
    const msg = blockMessageFromRecord(rec);
    if (faults.shortFieldAtHeight !== undefined && BigInt(rec.header.height) === faults.shortFieldAtHeight) {
      stats.faults.shortField++;
      const seal = msg.block_seals[0];
      if (seal !== undefined) seal.final_state = seal.final_state.subarray(0, 31);
      else msg.block_header!.parent_id = msg.block_header!.parent_id.subarray(0, 31);
    }
    return msg;
  }

  /** GetBlockByHeight's record, with the lagging-node and wrong-height faults. */
  function blockByHeight(h: bigint): BlockRecord {
    const rec = finalizedRecord(h);
    if (h > sporkRoot && !lagged.has(h) && schedule.hit('lagging', faults.laggingNotFoundEvery, h)) {
      lagged.add(h);
      stats.faults.laggingNotFound++;
      throw new Rpc(status.NOT_FOUND, `not found: failed to retrieve block ID for height ${h}: could not retrieve resource: key not found`);
    }
    if (h === faults.wrongHeightAtHeight && !wrongHeightSent) {
      const other = recordAt(h + 1n) ?? recordAt(h - 1n);
      if (other !== undefined) {
        wrongHeightSent = true;
        stats.faults.wrongHeight++;
        return other;
      }
    }
    return rec;
  }

  function headerMessage(rec: BlockRecord): BlockHeaderMsg {
    return blockMessageFromRecord({ ...rec, payload: { guarantees: [], seals: [], receipts: [], results: [], protocolStateId: rec.payload.protocolStateId } })
      .block_header!;
  }

  /** The highest height at or below the head whose block a block at or below the head seals (else the root). */
  function sealedHead(): bigint {
    const sealed = new Set<string>();
    for (let h = head; h > sporkRoot && h > head - 2000n; h--) {
      const rec = recordAt(h);
      if (rec === undefined) break;
      if (sealed.has(Buffer.from(rec.blockId).toString('hex'))) return h;
      for (const s of rec.payload.seals) sealed.add(Buffer.from(s.blockId).toString('hex'));
    }
    return sporkRoot;
  }

  /** The periodic faults before a unary call; a returned status is sent instead of the answer. */
  async function injected(rpc: string, blockCall: boolean): Promise<Rpc | null> {
    const n = ++callNo;
    if (schedule.hit('slow', faults.slowEvery, n)) {
      stats.faults.slow++;
      await new Promise((r) => setTimeout(r, faults.slowMs ?? 100));
    }
    if (schedule.hit('unavailable', faults.unavailableEvery, n, faults.unavailableBurst ?? 1)) {
      stats.faults.unavailable++;
      return new Rpc(status.UNAVAILABLE, 'upstream connect error or disconnect/reset before headers');
    }
    if (schedule.hit('resourceExhausted', faults.resourceExhaustedEvery, n)) {
      stats.faults.resourceExhausted++;
      return new Rpc(status.RESOURCE_EXHAUSTED, `${METHOD(rpc)} rate limit reached, please retry later.`);
    }
    if (blockCall && schedule.hit('internal', faults.internalEvery, ++blockCallNo)) {
      stats.faults.internal++;
      return new Rpc(status.INTERNAL, 'failed to get block: internal error (injected)');
    }
    return null;
  }

  function unary<Req, Res>(rpc: string, blockCall: boolean, answer: (req: Req) => Res) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      stats.calls[rpc] = (stats.calls[rpc] ?? 0) + 1;
      void (async () => {
        const fault = await injected(rpc, blockCall);
        if (fault !== null) return callback(toStatus(fault));
        try {
          callback(null, answer(call.request));
        } catch (e) {
          callback(toStatus(e instanceof Rpc ? e : new Rpc(status.INTERNAL, e instanceof Error ? e.message : String(e))));
        }
      })();
    };
  }

  function snapshotAt(h: bigint): ProtocolStateSnapshotResponseMsg {
    if (h < nodeRoot)
      throw new Rpc(
        status.INTERNAL,
        `failed to convert snapshot to bytes: could not build sealing segment: height ${h} is below the node's root height ${nodeRoot}`,
      );
    if (h !== sporkRoot) throw new Rpc(status.NOT_FOUND, `failed to find snapshot: the test node holds only the spork root snapshot (height ${sporkRoot})`);
    snapshot ??= Buffer.from(rootSnapshotToFlowJson(root), 'utf8');
    return { serializedSnapshot: snapshot, metadata: metadata() };
  }

  const impl: UntypedServiceImplementation = {
    Ping: unary<object, object>('Ping', false, () => ({})),
    GetNodeVersionInfo: unary<object, GetNodeVersionInfoResponseMsg>('GetNodeVersionInfo', false, () => ({
      info: {
        semver: opts.semver ?? 'v0.44.3',
        commit: '0000000000000000000000000000000000000000',
        spork_id: Buffer.from(opts.sporkId ?? rootId),
        protocol_version: '0',
        spork_root_block_height: String(sporkRoot),
        node_root_block_height: String(nodeRoot),
        compatible_range: null,
        protocol_state_version: String(root.kvStore.version),
      },
    })),
    GetNetworkParameters: unary<object, GetNetworkParametersResponseMsg>('GetNetworkParameters', false, () => ({ chain_id: root.params.chainId })),
    GetLatestBlockHeader: unary<GetLatestBlockHeaderRequestMsg, BlockHeaderResponseMsg>('GetLatestBlockHeader', false, (req) => {
      const h = req.is_sealed ? sealedHead() : head;
      return { block: headerMessage(finalizedRecord(h)), block_status: req.is_sealed ? 'BLOCK_SEALED' : statusOf(h), metadata: metadata() };
    }),
    GetLatestBlock: unary<GetLatestBlockRequestMsg, BlockResponseMsg>('GetLatestBlock', true, (req) => {
      const h = req.is_sealed ? sealedHead() : head;
      return {
        block: lightOrFull(blockMessage(finalizedRecord(h)), req.full_block_response),
        block_status: req.is_sealed ? 'BLOCK_SEALED' : statusOf(h),
        metadata: metadata(),
      };
    }),
    GetBlockHeaderByHeight: unary<GetBlockHeaderByHeightRequestMsg, BlockHeaderResponseMsg>('GetBlockHeaderByHeight', true, (req) => {
      const h = BigInt(req.height);
      return { block: headerMessage(finalizedRecord(h)), block_status: statusOf(h), metadata: metadata() };
    }),
    GetBlockByHeight: unary<GetBlockByHeightRequestMsg, BlockResponseMsg | Raw>('GetBlockByHeight', true, (req) => {
      const h = BigInt(req.height);
      const rec = blockByHeight(h);
      const raw = req.full_block_response ? encodedBlock(rec) : undefined;
      if (raw !== undefined) return new Raw(Buffer.concat([field1(raw), STATUS_BYTES[statusOf(h)], metadataBytes()]));
      return { block: lightOrFull(blockMessage(rec), req.full_block_response), block_status: statusOf(h), metadata: metadata() };
    }),
    GetProtocolStateSnapshotByHeight: unary<GetProtocolStateSnapshotByHeightRequestMsg, ProtocolStateSnapshotResponseMsg>(
      'GetProtocolStateSnapshotByHeight',
      false,
      (req) => snapshotAt(BigInt(req.block_height)),
    ),
    SubscribeBlocksFromStartHeight: (call: ServerWritableStream<SubscribeBlocksFromStartHeightRequestMsg, SubscribeBlocksResponseMsg>) => {
      stats.calls.SubscribeBlocksFromStartHeight = (stats.calls.SubscribeBlocksFromStartHeight ?? 0) + 1;
      if (opts.noSubscriptions)
        return fail(call, new Rpc(status.UNIMPLEMENTED, 'unknown method SubscribeBlocksFromStartHeight for service flow.access.AccessAPI'));
      stream(call).catch((e: unknown) => fail(call, e instanceof Rpc ? e : new Rpc(status.INTERNAL, String(e))));
    },
  };

  function fail(call: ServerWritableStream<unknown, unknown>, e: Rpc): void {
    if (!call.cancelled && !call.writableEnded) call.emit('error', toStatus(e));
  }

  /** Resolves when the head moves, the call is cancelled or the node stops. */
  function headAbove(call: ServerWritableStream<unknown, unknown>): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        waiters.delete(done);
        call.off('cancelled', done);
        resolve();
      };
      waiters.add(done);
      call.once('cancelled', done);
    });
  }

  /** Finalized blocks from the start height, waiting at the head (a SEALED subscription gets the same). */
  async function stream(call: ServerWritableStream<SubscribeBlocksFromStartHeightRequestMsg, SubscribeBlocksResponseMsg>): Promise<void> {
    const req = call.request;
    if (req.block_status !== 'BLOCK_FINALIZED' && req.block_status !== 'BLOCK_SEALED') {
      throw new Rpc(status.INVALID_ARGUMENT, 'block status is unknown. Possible variants: BLOCK_FINALIZED, BLOCK_SEALED');
    }
    let h = BigInt(req.start_block_height);
    if (h < nodeRoot) throw new Rpc(status.INVALID_ARGUMENT, `start height must be greater than or equal to the root height ${nodeRoot}`);
    if (h > head) throw new Rpc(status.NOT_FOUND, `could not get header for height ${h}: could not retrieve resource: key not found`);
    if (schedule.hit('laggingStream', faults.laggingStreamEvery, ++streamNo)) {
      stats.faults.laggingNotFound++;
      throw new Rpc(status.NOT_FOUND, `could not get header for height ${h}: could not retrieve resource: key not found`);
    }
    let sent = 0;
    while (!call.cancelled && !stopped) {
      if (h > head) {
        await headAbove(call);
        continue;
      }
      const fault = await injected('SubscribeBlocksFromStartHeight', true);
      if (fault !== null) throw fault;
      if (call.cancelled || stopped) break;
      const rec = recordAt(h);
      if (rec === undefined) throw new Rpc(status.NOT_FOUND, `could not get block for height ${h}: key not found`);
      const raw = req.full_block_response ? encodedBlock(rec) : undefined;
      const msg = raw !== undefined ? new Raw(field1(raw)) : { block: lightOrFull(blockMessage(rec), req.full_block_response) };
      if (!call.write(msg as SubscribeBlocksResponseMsg)) await new Promise((r) => call.once('drain', r));
      sent++;
      h++;
      if (faults.dropStreamAfter !== undefined && sent >= faults.dropStreamAfter) {
        stats.faults.streamDropped++;
        throw new Rpc(status.UNAVAILABLE, `stream dropped after ${sent} messages (injected)`);
      }
    }
    if (!call.cancelled && !call.writableEnded) call.end();
  }

  const server = new Server();
  server.addService(rawAwareService(), impl);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });

  return {
    address: `127.0.0.1:${port}`,
    port,
    stats,
    setHead(h: bigint) {
      head = h;
      headId = null;
      metaBytes = null;
      for (const w of [...waiters]) w();
    },
    stop() {
      stopped = true;
      for (const w of [...waiters]) w();
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}

function toStatus(e: Rpc): ServerErrorResponse {
  return Object.assign(new Error(e.details), { code: e.code, details: e.details });
}

/** The light form (full_block_response = false): no header, payload or results; ACCESS 2.2 says not to use it. */
function lightOrFull(b: BlockMsg, full: boolean): BlockMsg {
  if (full) return b;
  return {
    ...b,
    collection_guarantees: [],
    block_seals: [],
    signatures: [],
    execution_receipt_metaList: [],
    execution_result_list: [],
    block_header: null,
    protocol_state_id: Buffer.alloc(0),
  };
}

/** The finalized chain of a `.spork` archive: its root, records by height, and the highest height. */
export function archiveChain(path: string): {
  root: RootSnapshot;
  byHeight: Map<bigint, BlockRecord>;
  head: bigint;
  blocks: (h: bigint) => BlockRecord | undefined;
} {
  const parsed = parseArchiveBytes(readFileSync(path));
  return chainOf(
    parsed.header,
    parsed.blocks.flatMap((b) => (b.value !== undefined ? [b.value] : [])),
  );
}

/** The finalized records of a spork by height (others are dropped: the API serves finalized blocks only). */
export function chainOf(
  root: RootSnapshot,
  records: Iterable<BlockRecord>,
): { root: RootSnapshot; byHeight: Map<bigint, BlockRecord>; head: bigint; blocks: (h: bigint) => BlockRecord | undefined } {
  const byHeight = new Map<bigint, BlockRecord>();
  let head = BigInt(root.rootBlock.header.height);
  for (const r of records) {
    if (!r.finalized) continue;
    const h = BigInt(r.header.height);
    byHeight.set(h, r);
    if (h > head) head = h;
  }
  return { root, byHeight, head, blocks: (h) => byHeight.get(h) };
}

// ---------------------------------------------------------------- what comes back from the wire

function canonicalCommit(c: EpochCommit): EpochCommit {
  return { ...c, dkgIndexMap: [...c.dkgIndexMap].sort(([a, i], [b, j]) => (i < j ? -1 : i > j ? 1 : compareBytes(a, b))) };
}

function canonicalEvent(e: ServiceEvent): ServiceEvent {
  if (e.type === 'commit' && !e.unknown) return { ...e, event: canonicalCommit(e.event) };
  if (e.type === 'recover' && !e.unknown) return { ...e, event: { ...e.event, commit: canonicalCommit(e.event.commit) } };
  return e;
}

/**
 * A record as an importer gets it back from a v0.43+ node: no proposer signature (3.1), and each
 * commit's DKGIndexMap (a JSON object on the wire) in the canonical order of 4.2: by index, then
 * node id bytes. Ids do not change (the preimage orders by index).
 */
export function asServed(rec: BlockRecord): BlockRecord {
  const results = rec.payload.results.map((r) => ({ ...r, serviceEvents: r.serviceEvents.map(canonicalEvent) }));
  return { ...rec, header: { ...rec.header, proposerSigData: new Uint8Array(0) }, payload: { ...rec.payload, results } };
}

/**
 * The root as it maps back from the snapshot JSON the node serves: DKG index maps in canonical
 * order, and `params.sporkId` = the root block id (what flow-go's bootstrap writes; SPEC keeps
 * params informational, so a generated root may hold another value).
 */
export function rootAsServed(root: RootSnapshot): RootSnapshot {
  const ev = root.epochEvents;
  const commit = (c: EpochCommit | null) => (c === null ? null : canonicalCommit(c));
  return {
    ...root,
    rootResult: { ...root.rootResult, serviceEvents: root.rootResult.serviceEvents.map(canonicalEvent) },
    epochEvents: { ...ev, previousCommit: commit(ev.previousCommit), currentCommit: commit(ev.currentCommit), nextCommit: commit(ev.nextCommit) },
    params: { ...root.params, sporkId: headerId(root.rootBlock.header) },
  };
}
