// Fault injection (`--faults KIND[:COUNT],...`). Each fault is made by building a correct block
// and then breaking exactly one thing, recomputing whatever must stay consistent (payload hash,
// id), so the verdict is the intended one (SPEC 6: the first failing row).
//  - profile `spec`: one abandoned branch off the main chain per fault, holding the faulty block
//    and a child re-pointed to it (so `descends-from-invalid` is visible). None of these blocks
//    is finalized.
//  - profile `flow`: an Access node serves one finalized block per height and no branch (ACCESS
//    6.1), so the faulty block *replaces* a main-chain block, finalized, and the main chain goes
//    on from the id it claims. Only what a v0.43+ node and the importer could deliver (ACCESS
//    3.4, 6.6 "written as received"): no `unsupported-version` (flow-go knows no KV store above
//    v2), and `decode-error` only as a commit whose DKG index map is not a permutation; the
//    `bad-linkage` variant that changes the height is left out (the importer checks heights).
import type { BlockRecord, EpochCommit, Id, ServiceEvent } from '../model/types.js';
import { toHex } from '../model/bytes.js';
import { headerId } from '../model/ids.js';
import { payloadHash } from '../model/payload.js';
import { encodeBlockRecord } from '../model/archive.js';
import type { Branch, BlockBuilder, Built, PendingResult } from './chain.js';
import { makeCommit } from './identities.js';
import type { Rng } from './rng.js';

export const FAULT_KINDS = [
  'decode-error',
  'id-mismatch',
  'payload-mismatch',
  'unknown-parent',
  'bad-linkage',
  'bad-seal',
  'state-mismatch',
  'unsupported-version',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * The kinds a `flow`-profile spork can carry (each replaces a main-chain block), in the order
 * they are placed: the two that a fault further down the chain would hide come first.
 */
export const FLOW_FAULT_KINDS: readonly FaultKind[] = [
  'state-mismatch',
  'bad-seal',
  'decode-error',
  'id-mismatch',
  'payload-mismatch',
  'unknown-parent',
  'bad-linkage',
];

/**
 * Kinds whose check comes before `descends-from-invalid` in SPEC 6: on a main chain that
 * already descends from a fault they still get their own verdict.
 */
const CHECKED_BEFORE_ANCESTRY: readonly FaultKind[] = ['decode-error', 'id-mismatch', 'payload-mismatch', 'unknown-parent', 'bad-linkage'];

/** The verdict of a flow-profile fault block; `afterFault`: the main chain already descends from one. */
export function mainFaultVerdict(kind: FaultKind, afterFault: boolean): string {
  return !afterFault || CHECKED_BEFORE_ANCESTRY.includes(kind) ? kind : 'descends-from-invalid';
}

export interface FaultRequest {
  kind: FaultKind;
  count: number;
}

/** Parses `KIND[:COUNT],...` (`all[:COUNT]` = every kind). Throws on an unknown kind or a bad count. */
export function parseFaults(spec: string): FaultRequest[] {
  const out = new Map<FaultKind, number>();
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const m = /^([a-z-]+)(?::(\d+))?$/.exec(part);
    if (!m) throw new Error(`--faults: cannot parse ${JSON.stringify(part)} (expected KIND[:COUNT])`);
    const count = m[2] === undefined ? 1 : Number(m[2]);
    if (!Number.isSafeInteger(count) || count < 0) throw new Error(`--faults: bad count in ${JSON.stringify(part)}`);
    const kinds: FaultKind[] = m[1] === 'all' ? [...FAULT_KINDS] : [m[1] as FaultKind];
    for (const k of kinds) {
      if (!(FAULT_KINDS as readonly string[]).includes(k))
        throw new Error(`--faults: unknown kind ${JSON.stringify(k)} (known: ${FAULT_KINDS.join(', ')}, all)`);
      out.set(k, (out.get(k) ?? 0) + count);
    }
  }
  return [...out].filter(([, n]) => n > 0).map(([kind, count]) => ({ kind, count }));
}

export interface FaultBlockRef {
  id: string | null;
  height: number;
  view: number;
  expectedVerdict: string;
}

/** One entry of FILE.faults.json. */
export interface FaultManifestEntry extends FaultBlockRef {
  kind: FaultKind;
  /** Which way the block is broken. */
  variant: string;
  parentId: string;
  /** Blocks built on the faulty block: `descends-from-invalid`. */
  children: FaultBlockRef[];
  /** Valid blocks of the same branch (before the faulty one): `ok`. */
  okBlocks: FaultBlockRef[];
  /** Other blocks of the branch that stay valid although they hang off it (siblings): `ok`. */
  siblings: FaultBlockRef[];
}

/** What a fault injection hands to the emitter, in order (parents first). */
export interface FaultBlock {
  record: BlockRecord;
  raw?: Uint8Array;
  expectedVerdict: string;
  built: Built;
}

export interface FaultContext {
  builder: BlockBuilder;
  rng: Rng;
  /** View of the first block of the branch (above every view used off this tip so far). */
  firstView: number;
}

const SEAL_ALL = { maxResults: 64, maxSeals: 64, sealLag: 1, finalized: false } as const;

export function blockRef(rec: BlockRecord, expectedVerdict: string, id: Id | null = rec.blockId): FaultBlockRef {
  return { id: id === null ? null : toHex(id), height: Number(rec.header.height), view: Number(rec.header.view), expectedVerdict };
}

function rehash(rec: BlockRecord): void {
  rec.header.payloadHash = payloadHash(rec.payload);
  rec.blockId = headerId(rec.header);
}

function randomId(rng: Rng): Id {
  return rng.bytes(32);
}

/** Replaces the trailing `c4 20 <protocolStateId> <finalized>` of an encoded record. */
function patchProtocolStateId(bytes: Uint8Array, replacement: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (bytes[n - 35] !== 0xc4 || bytes[n - 34] !== 0x20) throw new Error('faults: unexpected record layout');
  const out = new Uint8Array(n - 34 + replacement.length);
  out.set(bytes.subarray(0, n - 35), 0);
  out.set(replacement, n - 35);
  out[out.length - 1] = bytes[n - 1];
  return out;
}

/** What the faulty block's parent was (breaking a block on the main chain moves the tip). */
interface ParentView {
  id: Id;
  timestamp: number;
  unsealed: PendingResult[];
}

interface Broken {
  record: BlockRecord;
  raw?: Uint8Array;
  variant: string;
  /** The id the record claims (its children point to it). */
  claimed: Id;
  /** The view the block was built at (before any change to its header). */
  view: number;
  built: Built;
}

const FLOW_LINKAGE_VARIANTS = [0, 2, 3, 4, 5];

/** A DKG index map one entry short of the participant keys (ACCESS 6.6: written as received, replay: decode-error). */
function shortDkgMap(commit: EpochCommit): EpochCommit {
  const n = commit.dkgIndexMap.length;
  return { ...commit, dkgIndexMap: commit.dkgIndexMap.filter(([, i]) => Number(i) !== n - 1) };
}

/** Builds a correct block on `br` (extending it) and breaks one thing of kind `kind`. */
function breakBlock(kind: FaultKind, index: number, br: Branch, ctx: FaultContext, flow: boolean): Broken {
  const { builder, rng } = ctx;
  const parent: ParentView = { id: br.tipId, timestamp: br.tipTimestamp, unsealed: br.unsealed.slice() };
  const linkage = flow ? FLOW_LINKAGE_VARIANTS[index % FLOW_LINKAGE_VARIANTS.length] : index % 6;
  let view = ctx.firstView;
  let variant = '';
  if (kind === 'bad-linkage' && linkage === 0) view += 1; // skip a view (the builder adds a TC, removed below)
  let badCommit: ServiceEvent | null = null;
  if (kind === 'decode-error' && flow) {
    const commit = shortDkgMap(makeCommit(br.snap.events.currentSetup, rng, true));
    badCommit = { type: 'commit', event: commit };
  }
  let given = false;
  const events =
    badCommit === null
      ? undefined
      : () => {
          if (given) return [];
          given = true;
          return [badCommit!];
        };
  const built = builder.build(br, { view, ...SEAL_ALL, finalized: flow, events });
  const rec = built.record;
  const h = rec.header;
  let raw: Uint8Array | undefined;
  let claimed: Id = rec.blockId;

  switch (kind) {
    case 'decode-error': {
      if (flow) {
        variant = 'a commit whose DKG index map is one entry short of its participant keys (not a permutation)';
        // the builder must not apply it later: the blocks sealing it descend from this one anyway
        const k = br.unsealed.findIndex((p) => p.events.length === 1 && p.events[0] === badCommit);
        if (k >= 0) br.unsealed[k] = { ...br.unsealed[k], events: [] };
        raw = encodeBlockRecord(rec);
        break;
      }
      const v = index % 3;
      if (v === 0) {
        variant = 'protocolStateId is ZERO';
        rec.payload.protocolStateId = new Uint8Array(32);
        rehash(rec);
        raw = encodeBlockRecord(rec);
      } else if (v === 1) {
        variant = 'protocolStateId is a str, not a 32-byte bin';
        raw = patchProtocolStateId(encodeBlockRecord(rec), Uint8Array.of(0xa6, 0x42, 0x61, 0x64, 0x53, 0x74, 0x72)); // "BadStr"
      } else {
        variant = 'protocolStateId is a 33-byte bin';
        const id33 = new Uint8Array(2 + 33);
        id33[0] = 0xc4;
        id33[1] = 33;
        id33.set(rec.payload.protocolStateId, 2);
        id33[34] = 0x01;
        raw = patchProtocolStateId(encodeBlockRecord(rec), id33);
      }
      claimed = rec.blockId;
      break;
    }
    case 'id-mismatch':
      variant = 'record claims a random id';
      rec.blockId = randomId(rng);
      claimed = rec.blockId;
      break;
    case 'payload-mismatch': {
      const v = index % 3;
      const g = rec.payload.guarantees;
      if (v === 0 || g.length < 2) {
        variant = 'a guarantee signature changed after hashing';
        g[0] = { ...g[0], signature: rng.bytes(g[0].signature.length) };
      } else if (v === 1) {
        variant = 'last guarantee dropped after hashing';
        g.pop();
      } else {
        variant = 'two guarantees swapped after hashing (positions are hashed)';
        const x = g[0];
        g[0] = g[1];
        g[1] = x;
      }
      break;
    }
    case 'unknown-parent':
      variant = 'parentId is a block nobody has';
      h.parentId = randomId(rng);
      rec.blockId = headerId(h);
      claimed = rec.blockId;
      break;
    case 'bad-linkage': {
      if (linkage === 0) {
        variant = 'views skipped but lastViewTC absent';
        h.lastViewTC = null;
      } else if (linkage === 1) {
        variant = 'height is parent height + 2';
        h.height = Number(h.height) + 1;
      } else if (linkage === 2) {
        variant = 'timestamp before the parent';
        h.timestamp = parent.timestamp - 1 - rng.int(5000);
      } else if (linkage === 3) {
        variant = 'parentView differs from the parent view';
        h.parentView = Number(h.parentView) + 1 > Number(h.view) - 1 ? Number(h.parentView) - 1 : Number(h.parentView) + 1;
      } else if (linkage === 4) {
        variant = 'lastViewTC present although view == parentView + 1';
        h.view = Number(h.parentView) + 1;
        h.lastViewTC = {
          view: Number(h.view) - 1,
          newestQCViews: [Number(h.parentView)],
          newestQC: { view: Number(h.parentView), blockId: h.parentId, signerIndices: rng.bytes(6), sigData: rng.bytes(96) },
          signerIndices: rng.bytes(6),
          sigData: rng.bytes(96),
        };
      } else {
        variant = 'chainId differs from the root';
        h.chainId = `${h.chainId}-other`;
      }
      rec.blockId = headerId(h);
      claimed = rec.blockId;
      break;
    }
    case 'bad-seal': {
      const seals = rec.payload.seals;
      const v = index % 4;
      // order seals by sealed height (the builder shuffled them)
      const heights = new Map<string, number>();
      for (const p of parent.unsealed) heights.set(toHex(p.blockId), p.height);
      seals.sort((a, b) => (heights.get(toHex(a.blockId)) ?? 0) - (heights.get(toHex(b.blockId)) ?? 0));
      if (v === 0 && seals.length >= 2) {
        variant = 'sealed heights skip one (first seal dropped)';
        seals.shift();
      } else if ((v === 0 || v === 1) && seals.length >= 1) {
        variant = "a seal's resultId is not a known result";
        seals[0] = { ...seals[0], resultId: randomId(rng) };
      } else if (v === 2 && seals.length >= 1) {
        variant = 'two seals for one block';
        seals.push({ ...seals[0], approvalSigs: seals[0].approvalSigs.slice().reverse() });
      } else if (seals.length >= 1) {
        variant = "a seal's blockId differs from its result's blockId";
        seals[0] = { ...seals[0], blockId: parent.id };
      } else {
        variant = 'seal of an unknown result';
        seals.push({ blockId: parent.id, resultId: randomId(rng), finalState: randomId(rng), approvalSigs: [] });
      }
      rehash(rec);
      claimed = rec.blockId;
      break;
    }
    case 'state-mismatch': {
      variant = 'protocolStateId is not the evolved state';
      let psid = randomId(rng);
      if (index % 2 === 1) {
        if (!equal(built.parentSnap.kvId, rec.payload.protocolStateId)) {
          psid = built.parentSnap.kvId;
          variant = "protocolStateId is the parent's (the block changes the state)";
        } else {
          psid = Uint8Array.from(rec.payload.protocolStateId);
          psid[31] ^= 1;
          variant = 'protocolStateId is the evolved state with one bit flipped';
        }
      }
      rec.payload.protocolStateId = psid;
      rehash(rec);
      claimed = rec.blockId;
      break;
    }
    case 'unsupported-version':
      throw new Error('faults: unsupported-version is built as its own fork');
  }
  return { record: rec, raw, variant, claimed, view, built };
}

/**
 * Builds one fault branch off `main` (which is not modified): the faulty block, then its child.
 * `index` selects the variant of the kind (they rotate).
 */
export function injectFault(kind: FaultKind, index: number, main: Branch, ctx: FaultContext): { blocks: FaultBlock[]; entry: FaultManifestEntry } {
  if (kind === 'unsupported-version') return unsupportedVersion(main, ctx);
  const br = main.clone();
  const b = breakBlock(kind, index, br, ctx, false);
  const h = b.record.header;
  const blocks: FaultBlock[] = [{ record: b.record, raw: b.raw, expectedVerdict: kind, built: b.built }];
  // the child, re-pointed to the claimed id of the faulty block
  br.retip(b.claimed, h);
  const childBuilt = ctx.builder.build(br, { view: Math.max(br.tipView, b.view) + 1, ...SEAL_ALL });
  blocks.push({ record: childBuilt.record, expectedVerdict: 'descends-from-invalid', built: childBuilt });
  const entry: FaultManifestEntry = {
    kind,
    variant: b.variant,
    ...blockRef(b.record, kind, b.claimed),
    parentId: toHex(h.parentId),
    children: [blockRef(childBuilt.record, 'descends-from-invalid')],
    okBlocks: [],
    siblings: [],
  };
  return { blocks, entry };
}

/**
 * Profile `flow`: the next main-chain block is the faulty one (finalized); `main` goes on from
 * the id it claims. The caller adds the next main block to `entry.children`.
 */
export function injectMainFault(
  kind: FaultKind,
  index: number,
  main: Branch,
  ctx: FaultContext,
  expectedVerdict: string,
): { block: FaultBlock; entry: FaultManifestEntry } {
  if (!FLOW_FAULT_KINDS.includes(kind)) throw new RangeError(`faults: ${kind} cannot replace a main-chain block`);
  const b = breakBlock(kind, index, main, ctx, true);
  main.retip(b.claimed, b.record.header);
  const entry: FaultManifestEntry = {
    kind,
    variant: b.variant,
    ...blockRef(b.record, expectedVerdict, b.claimed),
    parentId: toHex(b.record.header.parentId),
    children: [],
    okBlocks: [],
    siblings: [],
  };
  return { block: { record: b.record, raw: b.raw, expectedVerdict, built: b.built }, entry };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A fork whose own results carry protocol-state upgrades, one version at a time (accepted:
 * the rules hold), up to version 4: the first block with view >= the v4 activeView cannot
 * replicate to v4. When the main chain is still below v3 the fork first upgrades itself to v3
 * the same way. A sibling one view before the v4 activation is still ok; the child of the
 * failing block descends from invalid.
 */
function unsupportedVersion(main: Branch, ctx: FaultContext): { blocks: FaultBlock[]; entry: FaultManifestEntry } {
  const { builder, rng } = ctx;
  const br = main.clone();
  const t = Number(main.snap.kv.finalizationSafetyThreshold);
  const blocks: FaultBlock[] = [];
  const okBlocks: FaultBlockRef[] = [];
  const ok = (b: Built) => {
    blocks.push({ record: b.record, expectedVerdict: 'ok', built: b });
    okBlocks.push(blockRef(b.record, 'ok'));
  };
  let v = ctx.firstView;
  for (;;) {
    const target = br.snap.kv.version + 1;
    const b1 = builder.build(br, { view: v, ...SEAL_ALL });
    ok(b1);
    const b1Height = Number(b1.record.header.height);
    // b3 (view v+2) seals b1's result: activeView must exceed v + 2 + t
    const activeView = v + 2 + t + 1 + rng.int(5);
    const upgrade: ServiceEvent = { type: 'protocol-state-version-upgrade', event: { newProtocolStateVersion: target, activeView } };
    const b2 = builder.build(br, { view: v + 1, ...SEAL_ALL, events: (hh) => (hh === b1Height ? [upgrade] : []) });
    ok(b2);
    const b3 = builder.build(br, { view: v + 2, ...SEAL_ALL });
    ok(b3);
    const i = b3.sealedEvents.indexOf(upgrade);
    if (i < 0 || !b3.evolved.ok || b3.evolved.outcomes[i].outcome !== 'applied')
      throw new Error(`unsupported-version fault: the upgrade to v${target} was not applied`);
    if (target <= 3) {
      // reach the activation view: this fork is now at `target`
      const b4 = builder.build(br, { view: activeView, ...SEAL_ALL });
      if (!b4.evolved.ok || b4.evolved.snapshot.kv.version !== target) throw new Error(`unsupported-version fault: v${target} did not activate`);
      ok(b4);
      v = activeView + 1;
      continue;
    }
    // a sibling one view before the activation: still v3, ok
    const sib = br.clone();
    const s1 = builder.build(sib, { view: activeView - 1, ...SEAL_ALL });
    blocks.push({ record: s1.record, expectedVerdict: 'ok', built: s1 });
    const f = builder.build(br, { view: activeView, ...SEAL_ALL });
    if (f.evolved.ok) throw new Error('unsupported-version fault: the activation block evolved');
    blocks.push({ record: f.record, expectedVerdict: 'unsupported-version', built: f });
    const child = builder.build(br, { view: activeView + 1, ...SEAL_ALL });
    blocks.push({ record: child.record, expectedVerdict: 'descends-from-invalid', built: child });
    const entry: FaultManifestEntry = {
      kind: 'unsupported-version',
      variant: `upgrade to v4 at view ${activeView} accepted on the fork, then activated${okBlocks.length > 3 ? ' (after the fork upgraded itself to v3)' : ''}`,
      ...blockRef(f.record, 'unsupported-version'),
      parentId: toHex(f.record.header.parentId),
      children: [blockRef(child.record, 'descends-from-invalid')],
      okBlocks,
      siblings: [blockRef(s1.record, 'ok')],
    };
    return { blocks, entry };
  }
}
