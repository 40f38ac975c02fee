// spork-replay synth: a deterministic, streaming spork generator with fault injection.
//
//   synthesize(opts, sink)        root snapshot, then block records in order (parents first)
//   writeSporkArchive(path, opts) the same into a .spork archive (ArchiveWriter) and, when faults
//                                 were requested, PATH.faults.json
//
// Memory stays bounded whatever the length: only the tip of the main chain and a few pending
// executions/results are kept; forks and fault branches are built and emitted at once.
//
// Storyline (heights as fractions of `blocks`; every event rides in an execution result and
// takes effect when a later block seals it, a few blocks on):
//   always   epochs: setup at 40% of the epoch, commit at 55%, transition after the final view
//   0.03     version beacon (seq root+1): boundary 0.41.0 at 0.30
//   0.06     an event of an unknown type (ignored)
//   0.08     set-execution-component-version while v2 (rejected: needs v3)
//   0.10     set-epoch-extension-view-count 2t-1 (rejected) and E+60 (applied)
//   0.14+    eject a verification node (staking phase) + eject an unknown node (rejected)
//   0.18     beacon moving the 0.41.0 boundary from 0.30 to 0.36, adding 0.42.0-rc.1 at 0.80
//   0.20     fork (6 blocks) sealing its own upgrade-to-v3 event and a beacon
//   0.22     upgrades: activeView <= V+t (rule 1), version 5 (rule 2), v3 accepted (~0.25)
//   0.235    same-version replacement of the pending upgrade (rule 3 accepted, +20 views)
//   0.24+    fork jumping to the activation view: v3 there before the main chain
//   ~0.25    main chain activates v3
//   0.26+    v3: execution 1.0, cadence 1.0, metering parameters; cadence with activationView
//            <= V+t (rejected)
//   0.33     fork sealing its own beacon and cadence version
//   0.45     invalid beacon (versions decrease: rejected, sequence not consumed)
//   0.50     execution 1.1 (far activation) and beacon 0.42.0 at 0.80; 0.505: 1.2 overwrites
//            the pending 1.1 before it activates
//   0.55+    EFM: the next epoch's setup is withheld; at the deadline the block enters
//            fallback and extends the epoch; the late setup is ignored; a recover with a
//            wrong counter is rejected; after the second extension a recover is applied and
//            the chain transitions into the recovered epoch
//   0.62     metering parameters with memoryLimit 2^64-2
//   0.70+    eject an access node in the committed phase
//   0.85     beacon 0.42.1 at 0.97
//   random   abandoned forks of 1-4 blocks every ~forkEvery blocks (some seal their own event)
// Faults (`--faults`) branch off the main chain between 0.35 and 0.92, one branch each.
//
// Profile `flow` (`profile: 'flow'`): what a Mainnet28 Access node could serve (ACCESS 4.3, 5.2,
// 6.1). Chain id flow-mainnet; a bootstrapped spork root (current epoch only, setup and commit
// in the root result, no version beacon, spork id = root id); KV store v2 throughout (one
// upgrade event, rejected by rule 1); only flow-go event types; every block finalized, no forks,
// no proposer signatures (not served from v0.43), DKG index maps in index order (as an importer
// writes them). Kept: epochs, valid beacons, the extension-count events, ejections, the EFM
// episode with its recover, view skips with TCs. Faults replace main-chain blocks (faults.ts).
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { BlockRecord, RootSnapshot, ServiceEvent } from '../model/types.js';
import { toHex } from '../model/bytes.js';
import { ArchiveWriter } from '../model/archive.js';
import type { EventOutcome } from '../protocol/evolve.js';
import { BlockBuilder } from './chain.js';
import type { Branch, Built, ChainParams } from './chain.js';
import { DEFAULT_ROLES } from './identities.js';
import type { RoleCounts } from './identities.js';
import { Rng } from './rng.js';
import { Storyline, buildRoot } from './scenario.js';
import type { ForkSpec, Milestone, StoryParams } from './scenario.js';
import { FAULT_KINDS, FLOW_FAULT_KINDS, blockRef, injectFault, injectMainFault, mainFaultVerdict, parseFaults } from './faults.js';
import type { FaultKind, FaultManifestEntry, FaultRequest } from './faults.js';
import type { SynthProfile } from './scenario.js';

export { parseFaults, FAULT_KINDS, FLOW_FAULT_KINDS } from './faults.js';
export type { FaultKind, FaultManifestEntry, FaultRequest } from './faults.js';
export type { Milestone, SynthProfile } from './scenario.js';

export const SYNTH_PROFILES: readonly SynthProfile[] = ['spec', 'flow'];

export interface SynthOptions {
  /**
   * `spec` (default): every SPEC feature. `flow`: only what a Mainnet28 Access node could serve
   * (see the top of this file); it refuses forks, an unfinalized tail and fault kinds that
   * need a branch or a KV store above v2.
   */
  profile?: SynthProfile;
  /** Main-chain blocks after the root (finalized). Default 10,000. */
  blocks?: number;
  /** Any seed; same options + seed = byte-identical archive. Default 1. */
  seed?: number | bigint | string;
  /** `KIND[:COUNT],...` or parsed requests. */
  faults?: string | FaultRequest[];
  chainId?: string;
  rootHeight?: number;
  rootView?: number;
  /** Unix milliseconds of the root block. */
  rootTimestamp?: number;
  /** Counter of the root's epoch. */
  epochCounter?: number;
  /** Size options. */
  guarantees?: number;
  chunks?: number;
  executors?: number;
  approvals?: number;
  roles?: Partial<RoleCounts>;
  clusters?: number;
  /** Views per epoch (default scales with `blocks`, at least 4t + 2*margin). */
  epochViews?: number;
  /** finalizationSafetyThreshold t (default 100). */
  safetyThreshold?: number;
  /** epochExtensionViewCount E (default max(2t, epochViews / 4)). */
  extensionViews?: number;
  /** Average main blocks between random abandoned forks (0: none). Default 150. */
  forkEvery?: number;
  /** Probability that a main block skips views (carrying a TC). Default 0.04. */
  viewSkipRate?: number;
  /** The special storyline events (default: on when blocks >= 400). */
  storyline?: boolean;
  /** The last K main blocks are not finalized. Default 0. */
  unfinalizedTail?: number;
}

export interface ResolvedOptions {
  profile: SynthProfile;
  blocks: number;
  seed: number | bigint | string;
  faults: FaultRequest[];
  chainId: string;
  rootHeight: number;
  rootView: number;
  rootTimestamp: number;
  epochCounter: number;
  guarantees: number;
  chunks: number;
  executors: number;
  approvals: number;
  roles: RoleCounts;
  clusters: number;
  epochViews: number;
  safetyThreshold: number;
  extensionViews: number;
  forkEvery: number;
  viewSkipRate: number;
  storyline: boolean;
  unfinalizedTail: number;
  margin: number;
}

export type SynthBranch = 'main' | 'fork' | 'fault';

export interface SynthBlockInfo {
  /** Profile `flow`: `fault` blocks take the place of main-chain blocks (finalized). */
  branch: SynthBranch;
  /** The verdict a conforming replay gives this block (SPEC 6). */
  expectedVerdict: string;
  /** For fault branches: the kind of the fault. */
  fault?: FaultKind;
  /** Bytes to write instead of encoding the record (well-framed records the model cannot express). */
  raw?: Uint8Array;
  /** Outcomes of the service events this block applies (when its state was evaluated). */
  outcomes?: EventOutcome[];
  /** The events the block applies (EV). */
  sealedEvents: ServiceEvent[];
}

export interface SynthSink {
  root(root: RootSnapshot): void | Promise<void>;
  block(record: BlockRecord, info: SynthBlockInfo): void | Promise<void>;
}

export interface SynthSummary {
  options: ResolvedOptions;
  rootId: string;
  rootHeight: number;
  /** Block records emitted (all branches). */
  records: number;
  mainBlocks: number;
  /** Abandoned forks built (storyline and random ones). */
  forks: number;
  forkBlocks: number;
  /** Profile `flow`: these take main-chain heights (and are not counted in `mainBlocks`). */
  faultBlocks: number;
  finalizedHeight: number;
  tipHeight: number;
  /** Expected replay verdict counts (SPEC 7.2 summary `verdicts`). */
  expectedVerdicts: Record<string, number>;
  faults: FaultManifestEntry[];
  skippedFaults: { kind: FaultKind; reason: string }[];
  /** What happened where on the main chain (and where forks and faults branch off). */
  milestones: Milestone[];
}

const MIN_STORY_BLOCKS = 400;

/** Defaults of the `flow` profile: Mainnet28's root height and date (ACCESS 1.1); the view is made up. */
const FLOW_ROOT = { chainId: 'flow-mainnet', height: 137_390_146, view: 160_000_000, timestamp: 1_766_966_400_000 };

function resolveProfile(p: unknown): SynthProfile {
  if (p === undefined) return 'spec';
  if (!(SYNTH_PROFILES as readonly unknown[]).includes(p))
    throw new RangeError(`profile must be one of ${SYNTH_PROFILES.join(', ')}, got ${JSON.stringify(p)}`);
  return p as SynthProfile;
}

/** What an Access node cannot serve (ACCESS 6.1: finalized blocks only, no forks). */
function refuseForFlow(opts: SynthOptions, faults: FaultRequest[]): void {
  const why = 'an Access node serves finalized blocks only, one per height (ACCESS 6.1)';
  if ((opts.forkEvery ?? 0) > 0) throw new RangeError(`profile flow: forkEvery (--fork-every) must be 0, got ${opts.forkEvery}: ${why}`);
  if ((opts.unfinalizedTail ?? 0) > 0)
    throw new RangeError(`profile flow: unfinalizedTail (--unfinalized-tail) must be 0, got ${opts.unfinalizedTail}: ${why}`);
  const bad = faults.filter((f) => !FLOW_FAULT_KINDS.includes(f.kind)).map((f) => f.kind);
  if (bad.length > 0)
    throw new RangeError(
      `profile flow: fault kind ${bad.join(', ')} cannot come from a flow-go node (it needs a KV store above v2); supported: ${FLOW_FAULT_KINDS.join(', ')}`,
    );
}

export function resolveOptions(opts: SynthOptions = {}): ResolvedOptions {
  const profile = resolveProfile(opts.profile);
  const flow = profile === 'flow';
  const blocks = opts.blocks ?? 10_000;
  if (!Number.isSafeInteger(blocks) || blocks < 1) throw new RangeError(`blocks must be a positive integer, got ${blocks}`);
  const t = opts.safetyThreshold ?? 100;
  const margin = 150;
  const minEpoch = 4 * t + 2 * margin;
  const epochViews = opts.epochViews ?? Math.min(600_000, Math.max(minEpoch, Math.round((blocks * 1.12) / 7)));
  if (epochViews < 3 * t + 60) throw new RangeError(`epochViews ${epochViews} too short for t = ${t} (need >= ${3 * t + 60})`);
  const E = opts.extensionViews ?? Math.max(2 * t, Math.round(epochViews / 4));
  if (E < 2 * t) throw new RangeError(`extensionViews ${E} must be >= 2t = ${2 * t} (SPEC 3 root validity)`);
  const pos = (name: string, v: number, min = 1) => {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
    return v;
  };
  const roles = { ...DEFAULT_ROLES, ...(opts.roles ?? {}) };
  for (const [k, v] of Object.entries(roles)) pos(`roles.${k}`, v, k === 'access' ? 0 : 1);
  const faults = typeof opts.faults === 'string' ? parseFaults(opts.faults) : (opts.faults ?? []);
  if (flow) refuseForFlow(opts, faults);
  const rootHeight = opts.rootHeight ?? (flow ? FLOW_ROOT.height : 90_000_000);
  const rootView = opts.rootView ?? (flow ? FLOW_ROOT.view : 120_000_000);
  return {
    profile,
    blocks,
    seed: opts.seed ?? 1,
    faults,
    chainId: opts.chainId ?? (flow ? FLOW_ROOT.chainId : 'flow-localnet'),
    rootHeight: pos('rootHeight', rootHeight, 0),
    rootView: pos('rootView', rootView, 0),
    rootTimestamp: pos('rootTimestamp', opts.rootTimestamp ?? (flow ? FLOW_ROOT.timestamp : 1_735_689_600_000), 0),
    epochCounter: pos('epochCounter', opts.epochCounter ?? 120, 0),
    guarantees: pos('guarantees', opts.guarantees ?? 4, 0),
    chunks: pos('chunks', opts.chunks ?? 5),
    executors: pos('executors', opts.executors ?? 2),
    approvals: pos('approvals', opts.approvals ?? 3),
    roles,
    clusters: pos('clusters', opts.clusters ?? 2),
    epochViews,
    safetyThreshold: pos('safetyThreshold', t),
    extensionViews: E,
    forkEvery: pos('forkEvery', opts.forkEvery ?? (flow ? 0 : 150), 0),
    viewSkipRate: Math.min(0.5, Math.max(0, opts.viewSkipRate ?? 0.04)),
    storyline: opts.storyline ?? blocks >= MIN_STORY_BLOCKS,
    unfinalizedTail: pos('unfinalizedTail', opts.unfinalizedTail ?? 0, 0),
    margin,
  };
}

interface PlannedFault {
  kind: FaultKind;
  index: number;
  height: number;
}

function planFaults(o: ResolvedOptions): PlannedFault[] {
  const list: { kind: FaultKind; index: number }[] = [];
  // interleave kinds so that each kind's instances spread over the chain
  const left = new Map(o.faults.map((f) => [f.kind, f.count]));
  const used = new Map<FaultKind, number>();
  const kinds = o.profile === 'flow' ? FLOW_FAULT_KINDS : FAULT_KINDS;
  while ([...left.values()].some((n) => n > 0)) {
    for (const kind of kinds) {
      const n = left.get(kind) ?? 0;
      if (n <= 0) continue;
      left.set(kind, n - 1);
      const index = used.get(kind) ?? 0;
      used.set(kind, index + 1);
      list.push({ kind, index });
    }
  }
  const k = list.length;
  return list.map((f, j) => ({
    ...f,
    height: o.rootHeight + Math.min(o.blocks, Math.max(1, Math.round(o.blocks * (0.35 + (0.57 * (j + 0.5)) / k)))),
  }));
}

function isThenable(x: unknown): x is Promise<void> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

/** Generates the spork: the root snapshot, then every block record (parents before children). */
export async function synthesize(opts: SynthOptions, sink: SynthSink): Promise<SynthSummary> {
  const o = resolveOptions(opts);
  const rng = new Rng(o.seed);
  const storyRng = rng.fork('story');
  const chainRng = rng.fork('chain');
  const sideRng = rng.fork('side');
  const sp: StoryParams = {
    profile: o.profile,
    blocks: o.blocks,
    chainId: o.chainId,
    rootHeight: o.rootHeight,
    rootView: o.rootView,
    rootTimestamp: o.rootTimestamp,
    epochCounter: o.epochCounter,
    epochViews: o.epochViews,
    t: o.safetyThreshold,
    E: o.extensionViews,
    margin: o.margin,
    roles: o.roles,
    clusters: o.clusters,
    msPerView: [800, 1400],
    storyline: o.storyline,
  };
  const cp: ChainParams = {
    chainId: o.chainId,
    guarantees: o.guarantees,
    chunks: o.chunks,
    executors: o.executors,
    approvals: o.approvals,
    msPerView: sp.msPerView,
    proposerSigData: o.profile === 'spec',
  };
  const { root, main, roster } = buildRoot(sp, storyRng);
  const builder = new BlockBuilder(cp, chainRng);
  const story = new Storyline(sp, storyRng, roster);

  const summary: SynthSummary = {
    options: o,
    rootId: toHex(main.tipId),
    rootHeight: o.rootHeight,
    records: 0,
    mainBlocks: 0,
    forks: 0,
    forkBlocks: 0,
    faultBlocks: 0,
    finalizedHeight: o.rootHeight,
    tipHeight: o.rootHeight,
    expectedVerdicts: {},
    faults: [],
    skippedFaults: [],
    milestones: story.milestones,
  };
  const verdicts = summary.expectedVerdicts;

  const r = sink.root(root);
  if (isThenable(r)) await r;

  const emit = async (built: Built | null, record: BlockRecord, info: SynthBlockInfo): Promise<void> => {
    summary.records++;
    verdicts[info.expectedVerdict] = (verdicts[info.expectedVerdict] ?? 0) + 1;
    if (built?.evolved.ok && info.expectedVerdict === 'ok') info.outcomes = built.evolved.outcomes;
    const x = sink.block(record, info);
    if (isThenable(x)) await x;
  };

  const reserve = (view: number) => {
    main.reservedView = Math.max(main.reservedView, Math.min(view, main.tipView + 8));
  };
  const sideView = () => Math.max(main.tipView, main.reservedView) + 1;

  const buildFork = async (spec: ForkSpec): Promise<void> => {
    const br: Branch = main.clone();
    const forkBase = main.tipHeight;
    let given = spec.ownEvents === undefined;
    const events = (hh: number): ServiceEvent[] => {
      if (given || hh <= forkBase) return [];
      given = true;
      return spec.ownEvents!;
    };
    let view = sideView();
    summary.forks++;
    if (!spec.random)
      story.milestones.push({ height: forkBase + 1, view, what: `abandoned fork of ${spec.length} block(s) off height ${forkBase}: ${spec.label}` });
    for (let k = 0; k < spec.length; k++) {
      if (spec.jump !== undefined && spec.jump.index === k) view = Math.max(view, spec.jump.view);
      else if (k > 0 && sideRng.chance(0.15)) view += sideRng.range(1, 2);
      const built = builder.build(br, { view, maxResults: 64, maxSeals: 3, sealLag: 1, events, finalized: false });
      if (!built.evolved.ok) throw new Error(`synth: fork block failed to evolve: ${built.evolved.reason}`);
      summary.forkBlocks++;
      await emit(built, built.record, { branch: 'fork', expectedVerdict: 'ok', sealedEvents: built.sealedEvents });
      if (k === 0) reserve(view);
      else reserve(Math.min(view, main.tipView + 8));
      view++;
    }
  };

  const planned = planFaults(o);
  let nextFault = 0;
  const tailStart = o.blocks - o.unfinalizedTail;
  const flow = o.profile === 'flow';

  // profile flow: faults take main-chain heights; every block after the first descends from it
  let afterFault = false;
  let childOf: FaultManifestEntry | null = null;
  const adopt = (record: BlockRecord, verdict: string) => {
    if (childOf !== null) childOf.children.push(blockRef(record, verdict));
    childOf = null;
  };
  const mainFault = async (f: PlannedFault, h: number): Promise<void> => {
    const firstView = Math.max(main.tipView, main.reservedView) + 1;
    const verdict = mainFaultVerdict(f.kind, afterFault);
    const { block, entry } = injectMainFault(f.kind, f.index, main, { builder, rng: sideRng, firstView }, verdict);
    story.observe(block.built);
    afterFault = true;
    summary.faultBlocks++;
    summary.finalizedHeight = h;
    summary.tipHeight = h;
    adopt(block.record, verdict);
    summary.faults.push(entry);
    childOf = entry;
    story.milestones.push({ height: h, view: firstView, what: `fault ${f.kind} (${entry.variant}) in place of the main block` });
    await emit(block.built, block.record, { branch: 'fault', expectedVerdict: verdict, fault: f.kind, raw: block.raw, sealedEvents: block.built.sealedEvents });
  };

  for (let i = 1; i <= o.blocks; i++) {
    const h = o.rootHeight + i;
    if (flow && nextFault < planned.length && planned[nextFault].height <= h) {
      await mainFault(planned[nextFault++], h);
      continue;
    }
    // ---- side branches off the current main tip (siblings of block h)
    while (!flow && nextFault < planned.length && planned[nextFault].height <= h) {
      const f = planned[nextFault++];
      const firstView = sideView();
      const { blocks, entry } = injectFault(f.kind, f.index, main, { builder, rng: sideRng, firstView });
      for (const b of blocks) {
        summary.faultBlocks++;
        await emit(b.built, b.record, { branch: 'fault', expectedVerdict: b.expectedVerdict, fault: f.kind, raw: b.raw, sealedEvents: b.built.sealedEvents });
      }
      reserve(Math.max(firstView, Math.min(blocks[blocks.length - 1].record.header.view as number, firstView + 2)));
      summary.faults.push(entry);
      story.milestones.push({ height: h, view: firstView, what: `fault ${f.kind} (${entry.variant}) off height ${h - 1}` });
    }
    for (const spec of story.takeForks()) await buildFork(spec);
    if (o.forkEvery > 0 && sideRng.chance(1 / o.forkEvery)) {
      const length = sideRng.range(1, 4);
      const own: ServiceEvent[] | undefined =
        length >= 4 && sideRng.chance(0.5)
          ? [{ type: 'set-epoch-extension-view-count', event: { value: Number(main.snap.kv.epochExtensionViewCount) + 7 } }]
          : undefined;
      await buildFork({ label: own ? 'random fork with its own event' : 'random fork', length, ownEvents: own, random: true });
    }

    // ---- the main block
    let view = Math.max(main.tipView, main.reservedView) + 1;
    if (chainRng.chance(o.viewSkipRate)) view += chainRng.range(1, 3);
    story.plan(main, h, view);
    const delayResult = main.unexecuted.length === 1 && chainRng.chance(0.03);
    const delaySeal = chainRng.chance(0.03);
    const built = builder.build(main, {
      view,
      maxResults: delayResult ? 0 : 64,
      maxSeals: delaySeal ? 0 : 3,
      sealLag: 2,
      events: story.take,
      finalized: i <= tailStart,
    });
    if (!built.evolved.ok) throw new Error(`synth: main block ${h} failed to evolve: ${built.evolved.reason}`);
    story.observe(built);
    summary.mainBlocks++;
    if (i <= tailStart) summary.finalizedHeight = h;
    summary.tipHeight = h;
    const verdict = afterFault ? 'descends-from-invalid' : 'ok';
    adopt(built.record, verdict);
    await emit(built, built.record, { branch: 'main', expectedVerdict: verdict, sealedEvents: built.sealedEvents });
  }
  for (; nextFault < planned.length; nextFault++) summary.skippedFaults.push({ kind: planned[nextFault].kind, reason: 'beyond the last block' });
  return summary;
}

export interface WriteResult extends SynthSummary {
  path: string;
  manifestPath: string | null;
  bytes: number;
  seconds: number;
}

/** Generates the spork straight into a `.spork` archive (streaming, bounded memory). */
export async function writeSporkArchive(path: string, opts: SynthOptions): Promise<WriteResult> {
  const started = process.hrtime.bigint();
  let aw: ArchiveWriter | null = null;
  const sink: SynthSink = {
    async root(root) {
      aw = await ArchiveWriter.create(path, root);
    },
    block(record, info) {
      return info.raw !== undefined ? aw!.writeRaw(info.raw) : aw!.writeBlock(record);
    },
  };
  let summary: SynthSummary;
  try {
    summary = await synthesize(opts, sink);
  } finally {
    if (aw !== null) await (aw as ArchiveWriter).close();
  }
  const bytes = (aw as ArchiveWriter | null)?.bytes ?? 0;
  let manifestPath: string | null = null;
  if (summary.options.faults.length > 0) {
    manifestPath = `${path}.faults.json`;
    await writeFile(manifestPath, JSON.stringify(faultManifest(basename(path), summary), null, 1) + '\n');
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ...summary, path, manifestPath, bytes, seconds };
}

/** The FILE.faults.json document. */
export function faultManifest(archive: string, s: SynthSummary) {
  return {
    format: 'spork-synth-faults',
    version: 1,
    archive,
    ...(s.options.profile === 'flow' ? { profile: s.options.profile } : {}),
    seed: String(s.options.seed),
    blocks: s.options.blocks,
    rootId: s.rootId,
    finalizedHeight: s.finalizedHeight,
    expectedVerdicts: s.expectedVerdicts,
    faults: s.faults,
    skipped: s.skippedFaults,
  };
}
