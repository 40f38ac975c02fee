// `spork-replay fetch`: builds a store from a Flow Access node (ACCESS.md 6.5): the root from a
// published snapshot or the node, cross-checked against the node; then every finalized block
// from root+1, over one block subscription (or a window of GetBlockByHeight calls in flight),
// written in height order through the store's one record writer. Progress (the last contiguous height written) is committed with the
// records, so a fetch killed at any point continues where its last commit ended.
import type { ClientReadableStream } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { encodeArchiveHeader, encodeBlockRecord } from '../model/archive.js';
import { bytesEqual, fromHex, toHex } from '../model/bytes.js';
import { EncodeError } from '../model/codec.js';
import { decodeStoredRecord } from '../model/record.js';
import type { BlockRecord, Id, RootSnapshot } from '../model/types.js';
import { u64 } from '../model/u64.js';
import { compareSemver, parseBinaryVersion, parseSemver } from '../protocol/versions/semver.js';
import type { BlockStore } from '../store/store.js';
import { validateRoot } from '../store/root.js';
import { RecordConflict, RecordWriter } from '../store/writer.js';
import { InputError } from '../util/errors.js';
import { checkRecord, HeightMismatch, recordOfWireResponse, recordOfWireStreamMessage } from './block.js';
import { MappingError } from './errors.js';
import type { FetchOptions, FetchStats } from './fetch-types.js';
import type { AccessClient, NodeVersionInfoMsg, WireSubscribeBlocksResponse } from './grpc.js';
import { backoffMs, classify, codeName, isServiceError, sleep, type CallKind } from './retry.js';
import { mapRootSnapshot } from './snapshot.js';

/** flow-go releases whose encodings are SPEC's (ACCESS.md 1.1). */
const MIN_NODE_VERSION = parseSemver('0.43.0')!;

export type { FetchOptions, FetchProgress, FetchStats } from './fetch-types.js';

/** The fetch stops: one clear line, exit 2; everything written before it is kept. */
export class FetchError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'FetchError';
  }
}

interface Stored {
  height: string;
  id: string;
}

const progressKey = (rootId: Id) => `fetch:${toHex(rootId)}`;

export async function fetchChain(store: BlockStore, opts: FetchOptions): Promise<FetchStats> {
  return new Fetch(store, opts).run();
}

class Fetch {
  private readonly client: AccessClient;
  private readonly log: (line: string) => void;
  private retries = 0;
  private readonly retriesByCode: Record<string, number> = {};
  private head = 0n;
  private writer!: RecordWriter;
  private root!: RootSnapshot;
  private rootId!: Id;
  private rootHeight = 0n;
  /** Last height written (staged or committed) and its block id. */
  private height = 0n;
  private prevId!: Id;
  private nextGlobal = 0;
  private written = 0;
  private duplicates = 0;
  private lastCommit = Date.now();
  private readonly mismatches = { idMismatch: 0, payloadMismatch: 0, parentLink: 0, decodeError: 0 };
  private readonly warnings: string[] = [];
  private nextCallAt = 0;
  /** The node answered a subscription UNIMPLEMENTED: blocks come by GetBlockByHeight. */
  private noStreams = false;

  constructor(
    private readonly store: BlockStore,
    private readonly opts: FetchOptions,
  ) {
    this.client = opts.client;
    this.log = opts.log ?? (() => {});
  }

  private get aborted(): boolean {
    return this.opts.signal?.aborted === true;
  }

  async run(): Promise<FetchStats> {
    const info = await this.call('probe', 'GetNodeVersionInfo', () => this.client.getNodeVersionInfo());
    const node = info.info;
    if (node === null) throw new FetchError('GetNodeVersionInfo: the node sent no version info');
    this.checkNodeVersion(node);
    const fromNode = this.opts.rootSnapshot === undefined;
    if (fromNode) this.checkNodeRoot(node, true, BigInt(node.spork_root_block_height)); // before asking it for the root
    const { root, source } = await this.loadRoot(BigInt(node.spork_root_block_height));
    this.root = root;
    this.rootId = root.rootSeal.blockId;
    this.rootHeight = BigInt(root.rootBlock.header.height);
    await this.checkNode(node, fromNode);
    const resumed = this.openStore();
    const fromHeight = this.height + 1n;
    this.head = await this.latestHead();
    const end = this.opts.follow ? undefined : this.opts.to === undefined || this.opts.to > this.head ? this.head : this.opts.to;
    if (this.opts.to !== undefined && this.opts.to > this.head && !this.opts.follow) {
      this.warnings.push(`--to ${this.opts.to} is above the node's finalized head ${this.head}: fetched up to the head`);
    }
    let stoppedBy: FetchStats['stoppedBy'] = 'end';
    // what is written reaches the store within a second also while the head is quiet
    const flush = setInterval(() => {
      if (this.writer.staged > 0) this.commit();
    }, 1000);
    flush.unref();
    try {
      if (end === undefined || this.height < end) await this.fetchRange(this.height + 1n, end ?? this.head);
      if (this.opts.follow) await this.follow();
      if (this.aborted) stoppedBy = 'signal';
    } catch (e) {
      if (!(e instanceof FetchError)) throw e;
      this.commit();
      throw new FetchError(`${e.message}; kept: the root and every block up to height ${this.height} (fetch again to continue)`);
    } finally {
      clearInterval(flush);
      this.commit();
      await this.store.sync();
    }
    return {
      rootId: toHex(this.rootId),
      rootHeight: u64(this.rootHeight),
      chainId: root.rootBlock.header.chainId,
      rootSource: source,
      fromHeight: u64(fromHeight),
      height: u64(this.height),
      head: u64(this.head),
      resumed,
      written: this.written,
      duplicates: this.duplicates,
      retries: this.retries,
      retriesByCode: this.retriesByCode,
      recordedMismatches: this.mismatches,
      warnings: this.warnings,
      stoppedBy,
      node: { semver: node.semver, sporkRootHeight: u64(BigInt(node.spork_root_block_height)), nodeRootHeight: u64(BigInt(node.node_root_block_height)) },
    };
  }

  // ------------------------------------------------------------ root and node checks (5.7, 6.3)

  private checkNodeVersion(node: NodeVersionInfoMsg): void {
    const v = parseBinaryVersion(node.semver).version;
    if (v === null) throw new FetchError(`GetNodeVersionInfo: the node's version ${JSON.stringify(node.semver)} does not parse: not a flow-go Access node?`);
    if (compareSemver(v, MIN_NODE_VERSION) < 0) {
      throw new FetchError(
        `GetNodeVersionInfo: the node runs flow-go ${node.semver}, older than v0.43.0: its data does not hash as SPEC says (pre-v0.43 sporks are not supported)`,
      );
    }
  }

  private async loadRoot(sporkRootHeight: bigint): Promise<{ root: RootSnapshot; source: string }> {
    let text: string | Uint8Array;
    let source: string;
    if (this.opts.rootSnapshot !== undefined) {
      ({ text, source } = this.opts.rootSnapshot);
    } else {
      const r = await this.call('snapshot', `GetProtocolStateSnapshotByHeight(${sporkRootHeight})`, () =>
        this.client.getProtocolStateSnapshotByHeight(sporkRootHeight),
      );
      text = r.serializedSnapshot;
      source = `the node's snapshot at the spork root height ${sporkRootHeight}`;
    }
    let mapped;
    try {
      mapped = mapRootSnapshot(text, this.opts.expected);
    } catch (e) {
      if (e instanceof MappingError) throw new FetchError(`${source}: root snapshot refused: ${e.message}`);
      throw e;
    }
    for (const w of mapped.warnings) this.warnings.push(`${source}: ${w}`);
    const problem = validateRoot(mapped.root);
    if (problem !== null) throw new FetchError(`${source}: root snapshot refused: ${problem}`);
    return { root: mapped.root, source };
  }

  private async checkNode(node: NodeVersionInfoMsg, rootFromNode: boolean): Promise<void> {
    const rootHex = toHex(this.rootId);
    const sporkId = toHex(node.spork_id);
    if (sporkId !== rootHex) throw new FetchError(`the node serves spork ${sporkId}, not the root snapshot's spork ${rootHex} (another spork or network)`);
    const sporkRoot = BigInt(node.spork_root_block_height);
    if (sporkRoot !== this.rootHeight) throw new FetchError(`the node's spork root height is ${sporkRoot}, the root snapshot's ${this.rootHeight}`);
    this.checkNodeRoot(node, rootFromNode, this.rootHeight);
    const params = await this.call('probe', 'GetNetworkParameters', () => this.client.getNetworkParameters());
    const chainId = this.root.rootBlock.header.chainId;
    if (params.chain_id !== chainId) throw new FetchError(`the node's chain is ${params.chain_id}, the root snapshot's ${chainId}`);
  }

  /** ACCESS 6.3: the node must serve the root snapshot (root from the node) or root+1 (root from a file). */
  private checkNodeRoot(node: NodeVersionInfoMsg, rootFromNode: boolean, rootHeight: bigint): void {
    const nodeRoot = BigInt(node.node_root_block_height);
    if (rootFromNode ? nodeRoot !== rootHeight : nodeRoot > rootHeight + 1n) {
      throw new FetchError(
        `the node's own root height ${nodeRoot} is above the spork root ${rootHeight}: it cannot serve ${rootFromNode ? 'the root snapshot' : `height ${rootHeight + 1n}`}; ` +
          'use an Access node bootstrapped at the spork root (its node_root_block_height equals spork_root_block_height)' +
          (rootFromNode && nodeRoot <= rootHeight + 1n ? ', or give the published root snapshot with --root-snapshot FILE' : ''),
      );
    }
  }

  /** Creates the store's root or checks it; restores the fetch progress. Returns whether it resumed. */
  private openStore(): boolean {
    const store = this.store;
    const header = Buffer.from(encodeArchiveHeader(this.root));
    const stored = store.rootHeaderBytes();
    if (stored !== undefined && !stored.equals(header)) {
      throw new FetchError(`${store.dir}: the store holds another spork's root (or a different root snapshot of it); a store holds one spork`);
    }
    const key = progressKey(this.rootId);
    const p: Stored | undefined = store.meta.get(key);
    if (stored === undefined) {
      store.env.transactionSync(() => {
        store.meta.putSync('root', header);
        store.meta.putSync('recordCount', store.recordCount());
      });
    }
    this.writer = new RecordWriter(store, this.root);
    this.nextGlobal = store.recordCount() + 1;
    if (p === undefined) {
      this.height = this.rootHeight;
      this.prevId = this.rootId;
      return false;
    }
    this.height = BigInt(p.height);
    this.prevId = fromHex(p.id);
    return true;
  }

  private async latestHead(): Promise<bigint> {
    const r = await this.call('probe', 'GetLatestBlockHeader', () => this.client.getLatestBlockHeader(false));
    if (r.block === null) throw new FetchError('GetLatestBlockHeader: the node sent no header');
    return this.seeHead(BigInt(r.block.height), r.metadata?.latest_finalized_height);
  }

  private seeHead(h: bigint, meta?: string | null): bigint {
    if (h > this.head) this.head = h;
    if (meta !== undefined && meta !== null && meta !== '' && BigInt(meta) > this.head) this.head = BigInt(meta);
    return this.head;
  }

  // ------------------------------------------------------------ calls, retries, rate

  private async throttle(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await sleep(wait, this.opts.signal);
  }

  /** The next slot of `rate`: how long to wait before using it (ms). */
  private reserve(): number {
    const rate = this.opts.rate;
    if (rate === undefined || rate <= 0) return 0;
    const now = Date.now();
    const at = Math.max(now, this.nextCallAt);
    this.nextCallAt = at + 1000 / rate;
    return at - now;
  }

  private countRetry(why: string, code: string): void {
    this.retries++;
    this.retriesByCode[code] = (this.retriesByCode[code] ?? 0) + 1;
    this.log(`retry: ${why}`);
  }

  /** One call with the 6.6 retry table; NOT_FOUND handling is the caller's (`notFound`). */
  private async call<T>(kind: CallKind, what: string, f: () => Promise<T>, notFound?: (failures: number) => 'retry' | 'stop'): Promise<T> {
    for (let failures = 0; ; ) {
      await this.throttle();
      try {
        return await f();
      } catch (e) {
        if (e instanceof FetchError) throw e;
        if (e instanceof HeightMismatch) {
          failures++;
          this.countRetry(`${what}: ${e.message}`, 'WRONG_HEIGHT');
          if (failures >= this.opts.retry.attempts) throw new FetchError(`${what}: ${e.message}, ${failures} times in a row`);
        } else {
          let d = classify(e, kind);
          if (isServiceError(e) && e.code === status.NOT_FOUND && notFound !== undefined && notFound(failures + 1) === 'retry') {
            d = { action: 'retry', why: `${codeName(e.code)}: ${e.details}` };
          }
          if (d.action === 'stop') throw new FetchError(`${what}: ${d.why}${d.hint ? ` (${d.hint})` : ''}`);
          failures++;
          this.countRetry(`${what}: ${d.why}`, isServiceError(e) ? codeName(e.code) : 'ERROR');
          if (failures >= this.opts.retry.attempts) throw new FetchError(`${what} failed ${failures} times in a row; last: ${d.why}`);
        }
        if (this.aborted) throw new FetchError(`${what}: interrupted`);
        await sleep(backoffMs(this.opts.retry, failures - 1), this.opts.signal);
      }
    }
  }

  /** A finalized block by height, mapped; NOT_FOUND at or below a head already seen is a lagging node (3 tries). */
  private async block(h: bigint): Promise<BlockRecord> {
    return this.call(
      'block',
      `height ${h}: GetBlockByHeight`,
      async () => {
        const r = await this.client.getBlockRecordByHeight(h);
        const latest = 'fast' in r ? r.fast.latestFinalizedHeight : r.message.metadata?.latest_finalized_height;
        if (latest !== undefined && latest !== null && latest !== '') this.seeHead(BigInt(latest));
        return this.map(() => recordOfWireResponse(r, h), h); // a HeightMismatch here is retried
      },
      (n) => (h <= this.head && n <= 3 ? 'retry' : 'stop'),
    );
  }

  private map(f: () => BlockRecord, h: bigint): BlockRecord {
    try {
      return f();
    } catch (e) {
      if (e instanceof MappingError) throw new FetchError(`height ${h}: ${e.message}`);
      throw e;
    }
  }

  // ------------------------------------------------------------ writing in height order

  private write(rec: BlockRecord): void {
    const h = BigInt(rec.header.height);
    if (!bytesEqual(rec.header.parentId, this.prevId)) {
      if (h === this.rootHeight + 1n) {
        throw new FetchError(
          `height ${h}: parent_id ${toHex(rec.header.parentId)} is not the root block ${toHex(this.rootId)}: the node serves another spork or network`,
        );
      }
      this.mismatches.parentLink++;
      this.recordedMismatch(h, `parent_id ${toHex(rec.header.parentId)} is not the block written at height ${h - 1n} (${toHex(this.prevId)})`);
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeBlockRecord(rec);
    } catch (e) {
      if (e instanceof EncodeError) throw new FetchError(`height ${h}: the block cannot be written in the archive model: ${e.message}`);
      throw e;
    }
    const decoded = decodeStoredRecord(bytes);
    if (decoded.decodeError !== null) {
      this.mismatches.decodeError++;
      this.recordedMismatch(h, `the block does not fit the model (${decoded.decodeError})`);
    } else {
      const check = checkRecord(rec);
      if (!check.idMatches) {
        this.mismatches.idMismatch++;
        this.recordedMismatch(h, `the header does not hash to the block id ${toHex(rec.blockId)}`);
      }
      if (!check.payloadHashMatches) {
        this.mismatches.payloadMismatch++;
        this.recordedMismatch(h, `the payload does not hash to payload_hash ${toHex(rec.header.payloadHash)}`);
      }
    }
    let outcome;
    try {
      outcome = this.writer.put(this.nextGlobal, bytes, rec.blockId, `height ${h}`, decoded);
    } catch (e) {
      if (e instanceof RecordConflict) throw new FetchError(e.message);
      throw e;
    }
    if (outcome === 'stored') {
      this.nextGlobal++;
      this.written++;
    } else this.duplicates++;
    this.height = h;
    this.prevId = rec.blockId;
    if (this.writer.staged >= (this.opts.batchRecords ?? 512) || Date.now() - this.lastCommit >= 1000) this.commit();
  }

  private recordedMismatch(h: bigint, what: string): void {
    if (this.opts.strict) throw new FetchError(`height ${h}: ${what} (--strict)`);
    this.log(`height ${h}: ${what}; written as received (the replay reports it)`);
  }

  private commit(): void {
    if (this.writer === undefined) return;
    const p: Stored = { height: String(this.height), id: toHex(this.prevId) };
    this.writer.commit([
      [progressKey(this.rootId), p],
      ['recordCount', this.nextGlobal - 1],
    ]);
    this.lastCommit = Date.now();
    this.progress(false);
  }

  private progress(following: boolean): void {
    this.opts.onProgress?.({ rootHeight: this.rootHeight, height: this.height, head: this.head, written: this.written, retries: this.retries, following });
  }

  /** Heights from..to (from = the last written + 1), by the chosen transport. */
  private async fetchRange(from: bigint, to: bigint): Promise<void> {
    if ((this.opts.transport ?? 'stream') === 'stream' && !this.noStreams && (await this.streamRange(to))) return;
    await this.windowRange(from, to);
  }

  /**
   * Heights up to `to` over SubscribeBlocksFromStartHeight, reconnecting from the last written
   * height + 1 after an error with the 6.6 table (a call failing `attempts` times in a row without
   * a block stops). NOT_FOUND here is a start at or below the head the node reported: a lagging
   * node, retried 3 times. Returns false when the node has no subscriptions (UNIMPLEMENTED).
   */
  private async streamRange(to: bigint): Promise<boolean> {
    let failures = 0;
    while (this.height < to && !this.aborted) {
      const before = this.height;
      try {
        await this.subscribe(to);
      } catch (e) {
        if (this.aborted) break;
        if (e instanceof FetchError) throw e;
        if (isServiceError(e) && e.code === status.UNIMPLEMENTED) {
          this.log('the node has no block subscriptions: fetching with GetBlockByHeight');
          this.noStreams = true;
          return false;
        }
        if (this.height > before) failures = 0;
        const what = `SubscribeBlocksFromStartHeight(${this.height + 1n})`;
        let d = classify(e, 'stream');
        if (isServiceError(e) && e.code === status.NOT_FOUND && failures < 3) d = { action: 'retry', why: `${codeName(e.code)}: ${e.details}` };
        if (d.action === 'stop') throw new FetchError(`${what}: ${d.why}${d.hint ? ` (${d.hint})` : ''}`);
        failures++;
        this.countRetry(`${what}: ${d.why}`, isServiceError(e) ? codeName(e.code) : 'ERROR');
        if (failures >= this.opts.retry.attempts) throw new FetchError(`${what} failed ${failures} times in a row; last: ${d.why}`);
        await sleep(backoffMs(this.opts.retry, failures - 1), this.opts.signal);
      }
    }
    return true;
  }

  /** Heights from..to with `concurrency` calls in flight; records are written in height order. */
  private async windowRange(from: bigint, to: bigint): Promise<void> {
    const ready = new Map<bigint, BlockRecord>();
    const inflight = new Map<bigint, Promise<void>>();
    let failure: unknown = null;
    let next = from;
    const start = (h: bigint) => {
      const p = this.block(h)
        .then(
          (rec) => {
            ready.set(h, rec);
          },
          (e) => {
            if (failure === null) failure = e;
          },
        )
        .finally(() => inflight.delete(h));
      inflight.set(h, p);
    };
    try {
      while (this.height < to && !this.aborted) {
        while (failure === null && inflight.size < this.opts.concurrency && next <= to && ready.size < 4 * this.opts.concurrency) start(next++);
        if (inflight.size > 0 && !ready.has(this.height + 1n)) await Promise.race(inflight.values());
        for (let rec = ready.get(this.height + 1n); rec !== undefined; rec = ready.get(this.height + 1n)) {
          ready.delete(this.height + 1n);
          this.write(rec);
          this.progress(false);
        }
        if (failure !== null && !ready.has(this.height + 1n) && !inflight.has(this.height + 1n)) throw failure;
      }
    } finally {
      // on a stop, let the calls already made land (their records are not written); on a signal, don't wait
      if (!this.aborted) await Promise.allSettled(inflight.values());
    }
  }

  // ------------------------------------------------------------ following the head

  private async follow(): Promise<void> {
    let failures = 0;
    let poll = false;
    while (!this.aborted) {
      if (poll) {
        await sleep(this.opts.pollMs ?? 1000, this.opts.signal);
        if (this.aborted) break;
        const head = await this.latestHead();
        if (head > this.height) await this.fetchRange(this.height + 1n, head);
        this.progress(true);
        continue;
      }
      const before = this.height;
      try {
        await this.subscribe();
        failures = 0;
      } catch (e) {
        if (this.aborted) break;
        if (isServiceError(e) && e.code === status.UNIMPLEMENTED) {
          this.log('the node has no block subscriptions: following by polling the latest header');
          poll = true;
          continue;
        }
        if (e instanceof FetchError) throw e;
        if (isServiceError(e) && e.code === status.NOT_FOUND) {
          // the next height is not finalized yet (ACCESS 6.4): wait for it, this is no failure
          await sleep(this.opts.pollMs ?? 1000, this.opts.signal);
          continue;
        }
        const d = classify(e, 'stream');
        if (d.action === 'stop') throw new FetchError(`SubscribeBlocksFromStartHeight(${this.height + 1n}): ${d.why}`);
        if (this.height > before) failures = 0;
        failures++;
        this.countRetry(`SubscribeBlocksFromStartHeight: ${d.why}`, isServiceError(e) ? codeName(e.code) : 'ERROR');
        if (failures >= this.opts.retry.attempts) throw new FetchError(`SubscribeBlocksFromStartHeight failed ${failures} times in a row; last: ${d.why}`);
        await sleep(backoffMs(this.opts.retry, failures - 1), this.opts.signal);
      }
    }
  }

  /**
   * One subscription from the next height; resolves when the fetch is aborted or, with `until`,
   * once that height is written. With `until` (catching up, not following at the head), a stream
   * that brings no block within the call deadline is cancelled as DEADLINE_EXCEEDED.
   */
  private subscribe(until?: bigint): Promise<void> {
    const start = this.height + 1n;
    const stream: ClientReadableStream<WireSubscribeBlocksResponse> = this.client.subscribeBlockRecords(start, 'BLOCK_FINALIZED');
    const following = until === undefined;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let stall: NodeJS.Timeout | undefined;
      let paused: NodeJS.Timeout | undefined;
      const finish = (e?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(stall);
        clearTimeout(paused);
        this.opts.signal?.removeEventListener('abort', onAbort);
        if (e === undefined) resolve();
        else reject(e);
      };
      if (!following) {
        const ms = this.opts.retry.deadlineMs;
        stall = setTimeout(() => {
          stream.cancel();
          finish(Object.assign(new Error('the stream stalled'), { code: status.DEADLINE_EXCEEDED, details: `no block within ${ms / 1000} s` }));
        }, ms);
      }
      const onAbort = () => {
        stream.cancel();
        finish();
      };
      this.opts.signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (w: WireSubscribeBlocksResponse) => {
        if (settled) return;
        try {
          const { height: h, map } = recordOfWireStreamMessage(w);
          if (h <= this.height) return; // a subscription may deliver its start height again (6.5 step 5)
          if (h !== this.height + 1n)
            throw new FetchError(`SubscribeBlocksFromStartHeight: height ${h} arrived after ${this.height}: the stream skipped heights`);
          this.seeHead(h);
          this.write(this.map(map, h));
          this.progress(following);
          if (!following && this.height >= until) {
            stream.cancel();
            finish();
            return;
          }
          stall?.refresh();
          const wait = this.reserve();
          if (wait > 0) {
            stream.pause();
            paused = setTimeout(() => {
              stall?.refresh(); // the wait for --rate is no stall
              stream.resume();
            }, wait);
          }
        } catch (e) {
          stream.cancel();
          finish(e);
        }
      });
      stream.on('error', (e: Error & { code?: number }) => finish(e.code === status.CANCELLED && this.aborted ? undefined : e));
      stream.on('end', () => finish(Object.assign(new Error('the stream ended'), { code: status.UNAVAILABLE, details: 'the subscription stream ended' })));
    });
  }
}
