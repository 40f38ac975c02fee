// The proposer: builds each block exactly as a proposer would (SPEC 2, 4, 6).
//
// A Branch is everything needed to extend one fork: its tip, the tip's protocol state, the
// execution pipeline (blocks not yet executed, results included but not yet sealed) and the
// last sealed height. The builder extends a branch by one block:
//  - header: parentId/height/view/parentView/timestamp of the tip; a lastViewTC whenever views
//    were skipped (TC view = view - 1, newestQC = the QC of the parent, views <= parentView);
//  - results for executed ancestors (previousResultId chaining, several chunks whose states
//    chain, the last one the system chunk carrying the service events) with receipts from
//    several executors;
//  - seals for results included in earlier blocks, in consecutive sealed-height order, with
//    approval signatures per chunk;
//  - protocolStateId = kvId of `evolve` on the parent's snapshot with the service events of
//    the results this block seals (in sealed-height order);
//  - payloadHash, id = headerId.
// Branches are small (queues of a few entries), so forks clone them cheaply; nothing grows
// with the length of the chain.
import type { BlockRecord, Chunk, Guarantee, Header, Id, Payload, ReceiptStub, Result, Seal, ServiceEvent, TimeoutCertificate } from '../model/types.js';
import { guaranteeId, headerId, receiptStubId, resultId, sealId } from '../model/ids.js';
import { toHex } from '../model/bytes.js';
import { evolve } from '../protocol/evolve.js';
import type { EvolveResult, ProtocolSnapshot } from '../protocol/evolve.js';
import { AGG_SIG_BYTES, BLS_SIG_BYTES, makeCommittee } from './identities.js';
import type { Committee } from './identities.js';
import { payloadHashFromRoots } from '../model/payload.js';
import { idsRoot } from '../model/trie.js';
import { BytePool, type Rng } from './rng.js';

export interface ChainParams {
  chainId: string;
  /** Collection guarantees per block. */
  guarantees: number;
  /** Chunks per execution result (the last one is the system chunk). */
  chunks: number;
  /** Execution receipts per result (one per executor). */
  executors: number;
  /** Verifier signatures per chunk approval in a seal. */
  approvals: number;
  /** Milliseconds per view, drawn uniformly from [min, max]. */
  msPerView: readonly [number, number];
  /** Headers carry a proposer signature (a v0.43+ Access node serves none, ACCESS 3.1). */
  proposerSigData: boolean;
}

export interface PendingExecution {
  id: Id;
  height: number;
}

export interface PendingResult {
  height: number;
  blockId: Id;
  resultId: Id;
  finalState: Id;
  events: ServiceEvent[];
  chunks: number;
  includedAt: number;
}

const RECENT = 12;

export class Branch {
  constructor(
    public tipId: Id,
    public tipHeight: number,
    public tipView: number,
    public tipTimestamp: number,
    public snap: ProtocolSnapshot,
    public lastSealed: number,
    public unexecuted: PendingExecution[],
    public unsealed: PendingResult[],
    public lastResultId: Id,
    public lastEndState: Id,
    /** Recent ancestor ids, newest last (reference blocks of guarantees). */
    public recent: Id[],
    /** Highest view used by side branches built off this tip (the next block's view goes above). */
    public reservedView: number,
  ) {}

  clone(): Branch {
    return new Branch(
      this.tipId,
      this.tipHeight,
      this.tipView,
      this.tipTimestamp,
      this.snap,
      this.lastSealed,
      this.unexecuted.slice(),
      this.unsealed.slice(),
      this.lastResultId,
      this.lastEndState,
      this.recent.slice(),
      this.reservedView,
    );
  }

  /** Points the branch at another tip (a faulty block whose claimed id or header differs). */
  retip(id: Id, header: Header): void {
    this.tipId = id;
    this.tipHeight = Number(header.height);
    this.tipView = Number(header.view);
    this.tipTimestamp = Number(header.timestamp);
    const n = this.unexecuted.length;
    if (n > 0) this.unexecuted[n - 1] = { id, height: this.unexecuted[n - 1].height };
    this.recent[this.recent.length - 1] = id;
  }
}

export interface BuildRequest {
  view: number;
  /** Defaults to the tip's timestamp plus a realistic time per view. */
  timestamp?: number;
  /** Results of executed ancestors to include (oldest first). */
  maxResults: number;
  /** Seals to include at most. */
  maxSeals: number;
  /** Only results included at least this many blocks ago are sealed (approvals take time). */
  sealLag: number;
  /** Events for the next result this block creates (`execHeight` = height of the executed block). */
  events?: (execHeight: number) => ServiceEvent[];
  finalized: boolean;
}

export interface Built {
  record: BlockRecord;
  evolved: EvolveResult;
  /** The events this block applies (EV, SPEC 4.2). */
  sealedEvents: ServiceEvent[];
  /** The parent's snapshot (before this block). */
  parentSnap: ProtocolSnapshot;
}

export class BlockBuilder {
  private readonly pool: BytePool;
  private committeeKey: unknown = null;
  private committeeKey2: unknown = null;
  private committee: Committee | null = null;

  constructor(
    readonly params: ChainParams,
    private readonly rng: Rng,
  ) {
    this.pool = new BytePool(rng.fork('pool'), 1 << 18);
  }

  /** The committee of the epoch a snapshot is in (cached per epoch state container). */
  committeeOf(snap: ProtocolSnapshot): Committee {
    const setup = snap.events.currentSetup;
    const cur = snap.epoch.current;
    if (this.committee !== null && this.committeeKey === setup && this.committeeKey2 === cur) return this.committee;
    const ejected = new Set<string>();
    for (const i of cur.identities) if (i.ejected) ejected.add(toHex(i.nodeId));
    this.committee = makeCommittee(setup, ejected);
    this.committeeKey = setup;
    this.committeeKey2 = cur;
    return this.committee;
  }

  nextTimestamp(br: Branch, view: number): number {
    const [lo, hi] = this.params.msPerView;
    return br.tipTimestamp + (view - br.tipView) * this.rng.range(lo, hi);
  }

  private tc(br: Branch, view: number, c: Committee): TimeoutCertificate {
    const views = [br.tipView];
    if (this.rng.chance(0.5) && br.tipView > 0) views.push(br.tipView - this.rng.range(1, Math.min(3, br.tipView)));
    return {
      view: view - 1,
      newestQCViews: views,
      newestQC: {
        view: br.tipView,
        blockId: br.tipId,
        signerIndices: this.rng.pick(c.consensusIndices),
        sigData: this.pool.take(AGG_SIG_BYTES),
      },
      signerIndices: this.rng.pick(c.consensusIndices),
      sigData: this.pool.take(AGG_SIG_BYTES),
    };
  }

  private makeResult(br: Branch, ex: PendingExecution, events: ServiceEvent[]): Result {
    const rng = this.rng;
    const n = Math.max(1, this.params.chunks);
    const chunks: Chunk[] = new Array(n);
    let state = br.lastEndState;
    for (let i = 0; i < n; i++) {
      const system = i === n - 1;
      const end = rng.bytes(32);
      chunks[i] = {
        collectionIndex: i,
        startState: state,
        eventCollection: rng.bytes(32),
        serviceEventCount: system ? events.length : 0,
        blockId: ex.id,
        totalComputationUsed: rng.int(system ? 2_000_000 : 9_000_000),
        numberOfTransactions: system ? 1 : rng.range(1, 80),
        index: i,
        endState: end,
      };
      state = end;
    }
    return { previousResultId: br.lastResultId, blockId: ex.id, chunks, serviceEvents: events, executionDataId: rng.bytes(32) };
  }

  private makeSeal(p: PendingResult, c: Committee): Seal {
    const approvalSigs = new Array(p.chunks);
    const a = Math.max(1, Math.min(this.params.approvals, c.verification.length));
    for (let i = 0; i < p.chunks; i++) {
      const sigs: Uint8Array[] = new Array(a);
      const ids: Id[] = new Array(a);
      const start = this.rng.int(c.verification.length);
      for (let j = 0; j < a; j++) {
        sigs[j] = this.pool.take(BLS_SIG_BYTES);
        ids[j] = c.verification[(start + j) % c.verification.length];
      }
      approvalSigs[i] = { verifierSignatures: sigs, signerIds: ids };
    }
    return { blockId: p.blockId, resultId: p.resultId, finalState: p.finalState, approvalSigs };
  }

  /** Extends `br` by one block (mutating it) and returns the block. */
  build(br: Branch, req: BuildRequest): Built {
    const rng = this.rng;
    const pool = this.pool;
    const height = br.tipHeight + 1;
    const view = req.view;
    if (!(view > br.tipView)) throw new RangeError(`view ${view} <= parent view ${br.tipView}`);
    const c = this.committeeOf(br.snap);
    const parentSnap = br.snap;

    // results of executed ancestors, with receipts
    const results: Result[] = [];
    const resultIds: Id[] = [];
    const receipts: ReceiptStub[] = [];
    const nExec = Math.max(1, Math.min(this.params.executors, c.execution.length));
    while (results.length < req.maxResults && br.unexecuted.length > 0) {
      const ex = br.unexecuted.shift()!;
      const events = req.events ? req.events(ex.height) : [];
      const r = this.makeResult(br, ex, events);
      const rid = resultId(r);
      results.push(r);
      resultIds.push(rid);
      const finalState = r.chunks[r.chunks.length - 1].endState;
      br.lastResultId = rid;
      br.lastEndState = finalState;
      br.unsealed.push({ height: ex.height, blockId: ex.id, resultId: rid, finalState, events, chunks: r.chunks.length, includedAt: height });
      const first = rng.int(c.execution.length);
      for (let e = 0; e < nExec; e++) {
        const spocks: Uint8Array[] = new Array(r.chunks.length);
        for (let i = 0; i < spocks.length; i++) spocks[i] = pool.take(BLS_SIG_BYTES);
        receipts.push({
          executorId: c.execution[(first + e) % c.execution.length],
          resultId: rid,
          spocks,
          executorSignature: pool.take(BLS_SIG_BYTES),
        });
      }
    }

    // seals, in consecutive sealed-height order
    const seals: Seal[] = [];
    let sealedEvents: ServiceEvent[] = [];
    while (seals.length < req.maxSeals && br.unsealed.length > 0 && br.unsealed[0].includedAt <= height - req.sealLag) {
      const p = br.unsealed.shift()!;
      seals.push(this.makeSeal(p, c));
      if (p.events.length > 0) sealedEvents = sealedEvents.length === 0 ? p.events : sealedEvents.concat(p.events);
      br.lastSealed = p.height;
    }
    if (seals.length > 1) rng.shuffle(seals); // payload order is free (SPEC 9.9)

    // protocol state
    const evolved = evolve(parentSnap, view, sealedEvents);
    const protocolStateId = evolved.ok ? evolved.snapshot.kvId : parentSnap.kvId;

    // collection guarantees
    const guarantees: Guarantee[] = new Array(this.params.guarantees);
    const recent = br.recent;
    for (let i = 0; i < guarantees.length; i++) {
      const cl = c.clusters[rng.int(c.clusters.length)];
      guarantees[i] = {
        collectionId: rng.bytes(32),
        referenceBlockId: recent[recent.length - 1 - rng.int(Math.min(recent.length, 6))],
        clusterChainId: cl.chainId,
        signerIndices: cl.indices[rng.int(cl.indices.length)],
        signature: pool.take(BLS_SIG_BYTES),
      };
    }

    const payload: Payload = { guarantees, seals, receipts, results, protocolStateId };
    const payloadHash = payloadHashFromRoots(
      [idsRoot(guarantees.map(guaranteeId)), idsRoot(seals.map(sealId)), idsRoot(receipts.map(receiptStubId)), idsRoot(resultIds)],
      protocolStateId,
    );
    const header: Header = {
      chainId: this.params.chainId,
      parentId: br.tipId,
      height,
      timestamp: req.timestamp ?? this.nextTimestamp(br, view),
      view,
      parentView: br.tipView,
      parentVoterIndices: c.consensusIndices[rng.int(c.consensusIndices.length)],
      parentVoterSigData: pool.take(AGG_SIG_BYTES),
      proposerId: c.consensus[view % c.consensus.length],
      lastViewTC: view === br.tipView + 1 ? null : this.tc(br, view, c),
      payloadHash,
      proposerSigData: this.params.proposerSigData ? pool.take(AGG_SIG_BYTES) : new Uint8Array(0),
    };
    const id = headerId(header);

    br.tipId = id;
    br.tipHeight = height;
    br.tipView = view;
    br.tipTimestamp = Number(header.timestamp);
    if (evolved.ok) br.snap = evolved.snapshot;
    br.unexecuted.push({ id, height });
    recent.push(id);
    if (recent.length > RECENT) recent.shift();
    br.reservedView = view;
    return { record: { blockId: id, header, payload, finalized: req.finalized }, evolved, sealedEvents, parentSnap };
  }
}
