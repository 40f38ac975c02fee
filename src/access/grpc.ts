// The Access API subset of ACCESS.md 2 over @grpc/grpc-js: the hand-written .proto files (loaded
// at run time from src/access/proto, no codegen), the messages as proto-loader returns them, a
// promise client (with block answers decoded by wire.ts for the fetch), and the service
// definition for servers (the loopback test node).
import { fileURLToPath } from 'node:url';
import { Client, credentials, Metadata, status, type CallOptions, type ClientReadableStream, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition, type PackageDefinition } from '@grpc/proto-loader';
import type { BlockRecord, U64 } from '../model/types.js';
import { fastBlockResponse, fastSubscribeBlocksResponse } from './wire.js';

export const ACCESS_SERVICE = 'flow.access.AccessAPI';

/** src/access/proto, resolved from the compiled module dist/src/access/grpc.js (the .proto files ship in the source tree). */
export const PROTO_DIR = fileURLToPath(new URL('../../../src/access/proto', import.meta.url));

// ---------------------------------------------------------------- messages (proto-loader output)
// keepCase, longs: String (uint64/int64 → decimal string), enums: String, bytes: Buffer,
// defaults: true (absent repeated → [], absent bytes → empty Buffer, absent message → null).

export type BlockStatus = 'BLOCK_UNKNOWN' | 'BLOCK_FINALIZED' | 'BLOCK_SEALED';

export interface TimestampMsg {
  /** int64 */
  seconds: string;
  nanos: number;
}

export interface QuorumCertificateMsg {
  view: string;
  block_id: Buffer;
  signer_indices: Buffer;
  sig_data: Buffer;
}

export interface TimeoutCertificateMsg {
  view: string;
  high_qc_views: string[];
  highest_qc: QuorumCertificateMsg | null;
  signer_indices: Buffer;
  sig_data: Buffer;
}

export interface BlockHeaderMsg {
  id: Buffer;
  parent_id: Buffer;
  height: string;
  timestamp: TimestampMsg | null;
  payload_hash: Buffer;
  view: string;
  parent_voter_ids: Buffer[];
  parent_voter_sig_data: Buffer;
  proposer_id: Buffer;
  proposer_sig_data: Buffer;
  chain_id: string;
  parent_voter_indices: Buffer;
  last_view_tc: TimeoutCertificateMsg | null;
  parent_view: string;
}

export interface CollectionGuaranteeMsg {
  collection_id: Buffer;
  signatures: Buffer[];
  reference_block_id: Buffer;
  signature: Buffer;
  signer_ids: Buffer[];
  signer_indices: Buffer;
  cluster_chain_id: Buffer;
}

export interface AggregatedSignatureMsg {
  verifier_signatures: Buffer[];
  signer_ids: Buffer[];
}

export interface BlockSealMsg {
  block_id: Buffer;
  execution_receipt_id: Buffer;
  execution_receipt_signatures: Buffer[];
  result_approval_signatures: Buffer[];
  final_state: Buffer;
  result_id: Buffer;
  aggregated_approval_sigs: AggregatedSignatureMsg[];
}

export interface ExecutionReceiptMetaMsg {
  executor_id: Buffer;
  result_id: Buffer;
  spocks: Buffer[];
  executor_signature: Buffer;
}

export interface ChunkMsg {
  /** uint32 */
  CollectionIndex: number;
  start_state: Buffer;
  event_collection: Buffer;
  block_id: Buffer;
  total_computation_used: string;
  /** uint32 */
  number_of_transactions: number;
  index: string;
  end_state: Buffer;
  execution_data_id: Buffer;
  state_delta_commitment: Buffer;
  /** uint32; v0.43+: the uint16 value */
  service_event_count: number;
}

export interface ServiceEventMsg {
  type: string;
  payload: Buffer;
}

export interface ExecutionResultMsg {
  previous_result_id: Buffer;
  block_id: Buffer;
  chunks: ChunkMsg[];
  service_events: ServiceEventMsg[];
  execution_data_id: Buffer;
}

export interface BlockMsg {
  id: Buffer;
  parent_id: Buffer;
  height: string;
  timestamp: TimestampMsg | null;
  collection_guarantees: CollectionGuaranteeMsg[];
  block_seals: BlockSealMsg[];
  signatures: Buffer[];
  execution_receipt_metaList: ExecutionReceiptMetaMsg[];
  execution_result_list: ExecutionResultMsg[];
  block_header: BlockHeaderMsg | null;
  protocol_state_id: Buffer;
}

export interface ExecutorMetadataMsg {
  execution_result_id: Buffer;
  executor_ids: Buffer[];
}

export interface MetadataMsg {
  latest_finalized_block_id: Buffer;
  latest_finalized_height: string;
  node_id: Buffer;
  highest_indexed_height: string;
  executor_metadata: ExecutorMetadataMsg | null;
}

export interface CompatibleRangeMsg {
  start_height: string;
  end_height: string;
}

export interface NodeVersionInfoMsg {
  semver: string;
  commit: string;
  spork_id: Buffer;
  protocol_version: string;
  spork_root_block_height: string;
  node_root_block_height: string;
  compatible_range: CompatibleRangeMsg | null;
  protocol_state_version: string;
}

export interface BlockResponseMsg {
  block: BlockMsg | null;
  block_status: BlockStatus;
  metadata: MetadataMsg | null;
}

export interface BlockHeaderResponseMsg {
  block: BlockHeaderMsg | null;
  block_status: BlockStatus;
  metadata: MetadataMsg | null;
}

export interface GetNodeVersionInfoResponseMsg {
  info: NodeVersionInfoMsg | null;
}

export interface GetNetworkParametersResponseMsg {
  chain_id: string;
}

export interface ProtocolStateSnapshotResponseMsg {
  serializedSnapshot: Buffer;
  metadata: MetadataMsg | null;
}

export interface SubscribeBlocksResponseMsg {
  block: BlockMsg | null;
}

export type PingResponseMsg = Record<string, never>;

// Requests, as sent (uint64 as decimal strings).
export interface GetBlockByHeightRequestMsg {
  height: string;
  full_block_response: boolean;
}
export interface GetBlockByIdRequestMsg {
  id: Buffer;
  full_block_response: boolean;
}
export interface GetLatestBlockRequestMsg {
  is_sealed: boolean;
  full_block_response: boolean;
}
export interface GetLatestBlockHeaderRequestMsg {
  is_sealed: boolean;
}
export interface GetBlockHeaderByHeightRequestMsg {
  height: string;
}
export interface GetProtocolStateSnapshotByHeightRequestMsg {
  block_height: string;
}
export interface GetProtocolStateSnapshotByBlockIdRequestMsg {
  block_id: Buffer;
}
export interface SubscribeBlocksFromStartHeightRequestMsg {
  start_block_height: string;
  block_status: BlockStatus;
  full_block_response: boolean;
}
export interface SubscribeBlocksFromStartBlockIdRequestMsg {
  start_block_id: Buffer;
  block_status: BlockStatus;
  full_block_response: boolean;
}
export interface SubscribeBlocksFromLatestRequestMsg {
  block_status: BlockStatus;
  full_block_response: boolean;
}

// ---------------------------------------------------------------- loading

let loaded: PackageDefinition | undefined;

function packageDefinition(): PackageDefinition {
  loaded ??= loadSync(['flow/access/access.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    bytes: Buffer,
    defaults: true,
    oneofs: false,
  });
  return loaded;
}

/** The `grpc.ServiceDefinition` of `flow.access.AccessAPI` (for `Server.addService`). */
export function accessServiceDefinition(): ServiceDefinition {
  return packageDefinition()[ACCESS_SERVICE] as unknown as ServiceDefinition;
}

type AnyMethod = MethodDefinition<object, object>;

function method(rpc: string): AnyMethod {
  const m = (packageDefinition()[ACCESS_SERVICE] as unknown as Record<string, AnyMethod | undefined>)[rpc];
  if (m === undefined) throw new Error(`${ACCESS_SERVICE} has no RPC ${rpc}`);
  return m;
}

/** Binary protobuf `flow.access.BlockResponse` → the message as proto-loader gives it. */
export function decodeBlockResponse(bytes: Uint8Array): BlockResponseMsg {
  return method('GetBlockByHeight').responseDeserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as BlockResponseMsg;
}

export function encodeBlockResponse(msg: BlockResponseMsg): Buffer {
  return method('GetBlockByHeight').responseSerialize(msg);
}

/** A BlockResponse as the fetch reads it: decoded straight into a record (wire.ts), or the message. */
export type WireBlockResponse = { fast: { record: BlockRecord; latestFinalizedHeight: U64 | null } } | { message: BlockResponseMsg };
export type WireSubscribeBlocksResponse = { record: BlockRecord } | { message: SubscribeBlocksResponseMsg };

/** Binary BlockResponse → the record when it has the regular shape, else proto-loader's message (which may throw). */
export function wireBlockResponse(bytes: Buffer): WireBlockResponse {
  const fast = fastBlockResponse(bytes);
  return fast !== null ? { fast } : { message: decodeBlockResponse(bytes) };
}

// ---------------------------------------------------------------- client

export interface AccessClientOptions {
  /** `host:port` */
  address: string;
  tls: boolean;
  /** Largest response accepted (grpc.max_receive_message_length); default 256 MiB. */
  maxReceiveBytes?: number;
  /** Default deadline of one unary call (ms); default 60 s. */
  deadlineMs?: number;
}

export const DEFAULT_MAX_RECEIVE_BYTES = 256 * 1024 * 1024;
/**
 * HTTP/2 receive window (connection and stream): 4 MiB instead of 64 KiB, so that a block stream
 * (a few KiB a block) is not held back waiting for window updates; it also bounds what a stream
 * buffers before the fetch reads it.
 */
export const FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;
export const DEFAULT_DEADLINE_MS = 60_000;

/** grpc-js's wording when the client itself refuses an over-limit message (subchannel-call.ts). */
const LOCAL_RECEIVE_LIMIT = /^Received message larger than max \((\d+) vs (\d+)\)$/;

/** The receive limit of the client that saw each RESOURCE_EXHAUSTED error (the error is left untouched). */
const limitSeenBy = new WeakMap<object, number>();

/**
 * True when a RESOURCE_EXHAUSTED was raised by this side for a response over the receive limit
 * (ACCESS 6.6: stop and say to raise the limit), false when the server sent it (rate limit,
 * stream limit: retry). grpc-js marks the local one only by its text, "Received message larger
 * than max (N vs LIMIT)"; when the error came through an AccessClient, LIMIT must also be that
 * client's own limit, so that a server echoing the same text about its limit is not taken for it.
 */
export function isClientReceiveLimit(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as Partial<ServiceError>;
  if (e.code !== status.RESOURCE_EXHAUSTED || typeof e.details !== 'string') return false;
  const m = LOCAL_RECEIVE_LIMIT.exec(e.details);
  if (m === null) return false;
  const limit = limitSeenBy.get(err);
  return limit === undefined || Number(m[2]) === limit;
}

export class AccessClient {
  private readonly client: Client;
  private readonly maxReceiveBytes: number;
  private readonly deadlineMs: number;

  constructor(opts: AccessClientOptions) {
    this.maxReceiveBytes = opts.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES;
    this.deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const creds = opts.tls ? credentials.createSsl() : credentials.createInsecure();
    this.client = new Client(opts.address, creds, {
      'grpc.max_receive_message_length': this.maxReceiveBytes,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
      'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW,
    });
  }

  /** Always `full_block_response = true` (ACCESS 2.2: the light form has no header fields). */
  getBlockByHeight(height: bigint, deadlineMs?: number): Promise<BlockResponseMsg> {
    return this.unary<GetBlockByHeightRequestMsg, BlockResponseMsg>('GetBlockByHeight', { height: uint64(height), full_block_response: true }, deadlineMs);
  }

  getBlockHeaderByHeight(height: bigint, deadlineMs?: number): Promise<BlockHeaderResponseMsg> {
    return this.unary<GetBlockHeaderByHeightRequestMsg, BlockHeaderResponseMsg>('GetBlockHeaderByHeight', { height: uint64(height) }, deadlineMs);
  }

  /** `sealed = false`: the latest finalized header (the head, ACCESS 6.3). */
  getLatestBlockHeader(sealed: boolean, deadlineMs?: number): Promise<BlockHeaderResponseMsg> {
    return this.unary<GetLatestBlockHeaderRequestMsg, BlockHeaderResponseMsg>('GetLatestBlockHeader', { is_sealed: sealed }, deadlineMs);
  }

  getLatestBlock(sealed: boolean, deadlineMs?: number): Promise<BlockResponseMsg> {
    return this.unary<GetLatestBlockRequestMsg, BlockResponseMsg>('GetLatestBlock', { is_sealed: sealed, full_block_response: true }, deadlineMs);
  }

  getNodeVersionInfo(deadlineMs?: number): Promise<GetNodeVersionInfoResponseMsg> {
    return this.unary<object, GetNodeVersionInfoResponseMsg>('GetNodeVersionInfo', {}, deadlineMs);
  }

  getNetworkParameters(deadlineMs?: number): Promise<GetNetworkParametersResponseMsg> {
    return this.unary<object, GetNetworkParametersResponseMsg>('GetNetworkParameters', {}, deadlineMs);
  }

  getProtocolStateSnapshotByHeight(height: bigint, deadlineMs?: number): Promise<ProtocolStateSnapshotResponseMsg> {
    return this.unary<GetProtocolStateSnapshotByHeightRequestMsg, ProtocolStateSnapshotResponseMsg>(
      'GetProtocolStateSnapshotByHeight',
      { block_height: uint64(height) },
      deadlineMs,
    );
  }

  ping(deadlineMs?: number): Promise<PingResponseMsg> {
    return this.unary<object, PingResponseMsg>('Ping', {}, deadlineMs);
  }

  /**
   * A server stream of finalized (or sealed) blocks from `start`, full form; no deadline. The
   * stream's errors are the grpc ServiceError (CANCELLED after `cancel()`).
   */
  subscribeBlocksFromStartHeight(start: bigint, blockStatus: 'BLOCK_FINALIZED' | 'BLOCK_SEALED'): ClientReadableStream<SubscribeBlocksResponseMsg> {
    const m = method('SubscribeBlocksFromStartHeight');
    const req: SubscribeBlocksFromStartHeightRequestMsg = { start_block_height: uint64(start), block_status: blockStatus, full_block_response: true };
    const stream = this.client.makeServerStreamRequest<object, SubscribeBlocksResponseMsg>(
      m.path,
      m.requestSerialize,
      m.responseDeserialize as (b: Buffer) => SubscribeBlocksResponseMsg,
      req,
      new Metadata(),
      {},
    );
    stream.on('error', (e: ServiceError) => this.noteError(e));
    return stream;
  }

  /**
   * GetBlockByHeight (full form) for the fetch: the block record decoded straight from the wire
   * when the response has the regular shape, else the message as proto-loader gives it (see
   * wire.ts); a response that does not parse is the same INTERNAL error as for `getBlockByHeight`.
   */
  getBlockRecordByHeight(height: bigint, deadlineMs?: number): Promise<WireBlockResponse> {
    return this.unary<GetBlockByHeightRequestMsg, WireBlockResponse>(
      'GetBlockByHeight',
      { height: uint64(height), full_block_response: true },
      deadlineMs,
      wireBlockResponse,
    );
  }

  /** `subscribeBlocksFromStartHeight` for the fetch: each message as in `getBlockRecordByHeight`. */
  subscribeBlockRecords(start: bigint, blockStatus: 'BLOCK_FINALIZED' | 'BLOCK_SEALED'): ClientReadableStream<WireSubscribeBlocksResponse> {
    const m = method('SubscribeBlocksFromStartHeight');
    const req: SubscribeBlocksFromStartHeightRequestMsg = { start_block_height: uint64(start), block_status: blockStatus, full_block_response: true };
    const general = m.responseDeserialize as (b: Buffer) => SubscribeBlocksResponseMsg;
    const stream = this.client.makeServerStreamRequest<object, WireSubscribeBlocksResponse>(
      m.path,
      m.requestSerialize,
      (b: Buffer) => {
        const record = fastSubscribeBlocksResponse(b);
        return record !== null ? { record } : { message: general(b) };
      },
      req,
      new Metadata(),
      {},
    );
    stream.on('error', (e: ServiceError) => this.noteError(e));
    return stream;
  }

  close(): void {
    this.client.close();
  }

  private unary<Req extends object, Res>(rpc: string, req: Req, deadlineMs?: number, deserialize?: (b: Buffer) => Res): Promise<Res> {
    const m = method(rpc);
    const options: CallOptions = { deadline: Date.now() + (deadlineMs ?? this.deadlineMs) };
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest<object, Res>(
        m.path,
        m.requestSerialize,
        deserialize ?? (m.responseDeserialize as (b: Buffer) => Res),
        req,
        new Metadata(),
        options,
        (err, res) => {
          if (err !== null) {
            this.noteError(err);
            reject(err);
          } else resolve(res as Res);
        },
      );
    });
  }

  private noteError(e: ServiceError): void {
    if (e.code === status.RESOURCE_EXHAUSTED) limitSeenBy.set(e, this.maxReceiveBytes);
  }
}

function uint64(x: bigint): string {
  if (x < 0n || x >= 1n << 64n) throw new RangeError(`not a uint64: ${x}`);
  return x.toString();
}
