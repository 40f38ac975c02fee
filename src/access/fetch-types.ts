// The options, progress and statistics of `fetchChain` (fetch.ts).
import type { Id, U64 } from '../model/types.js';
import type { AccessClient } from './grpc.js';
import type { RetryPolicy } from './retry.js';

export interface FetchOptions {
  client: AccessClient;
  /** The published root snapshot (JSON text) and where it came from; else the node's. */
  rootSnapshot?: { text: string | Uint8Array; source: string };
  /** Optional cross-checks (ACCESS.md 5.7): sporks.json's rootParentId and rootStateCommitment. */
  expected?: { rootParentId?: Id; rootStateCommitment?: Id };
  /** Last height to fetch (clamped to the node's finalized head); default the head. */
  to?: bigint;
  /** After the head, keep importing newly finalized blocks until `signal` aborts. */
  follow?: boolean;
  /**
   * How the blocks up to the head come: one SubscribeBlocksFromStartHeight stream, reconnected
   * from the next height after an error (default; a node without subscriptions falls back to
   * calls), or GetBlockByHeight calls with `concurrency` in flight (ACCESS 6.5 step 4).
   */
  transport?: 'stream' | 'unary';
  /** Calls in flight (the unary transport). */
  concurrency: number;
  /** Calls started (unary) or blocks received (stream) per second at most (none: unlimited). */
  rate?: number;
  retry: RetryPolicy;
  /** Stop at the first block whose id, payload hash or parent link does not recompute (else written as received). */
  strict?: boolean;
  /** Records per write transaction (a commit also happens every second). */
  batchRecords?: number;
  /** Follow mode without subscriptions: how often to ask for the head (ms). */
  pollMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: FetchProgress) => void;
  /** Notes for the log (one line each): checks that failed on written records, retries. */
  log?: (line: string) => void;
}

export interface FetchProgress {
  rootHeight: bigint;
  /** Last height written. */
  height: bigint;
  /** The node's finalized head as last seen. */
  head: bigint;
  /** Blocks written by this run. */
  written: number;
  retries: number;
  following: boolean;
}

export interface FetchStats {
  rootId: string;
  rootHeight: U64;
  chainId: string;
  rootSource: string;
  /** First height fetched by this run (root+1, or where an earlier fetch stopped, +1). */
  fromHeight: U64;
  /** Last height written (the root height when nothing was written). */
  height: U64;
  head: U64;
  resumed: boolean;
  written: number;
  duplicates: number;
  retries: number;
  retriesByCode: Record<string, number>;
  /** Written as received although a 3.4 check failed (the replay reports them). */
  recordedMismatches: { idMismatch: number; payloadMismatch: number; parentLink: number; decodeError: number };
  warnings: string[];
  stoppedBy: 'end' | 'signal';
  node: { semver: string; sporkRootHeight: U64; nodeRootHeight: U64 };
}
