// Epoch machine (SPEC 4.4, 4.6): mode selection, fallback set-up (flag, dropping an uncommitted
// next epoch, extensions), the epoch transition, and setup / commit / recover / eject-node
// events, with the happy path discarded and the block re-run in fallback mode when a setup,
// commit or recover is invalid there (step 3).
//
// Pure: the parent's state and cached events are never mutated. Unchanged containers are
// shared with the parent, and a block that changes nothing returns the parent's own objects.
import type { DynamicIdentity, EpochCommit, EpochContainer, EpochEvents, EpochRecover, EpochSetup, EpochState, Id, ServiceEvent, U64 } from '../model/types.js';
import { Role } from '../model/types.js';
import { add } from '../model/u64.js';
import { compareBytes, isZero, shortId, toHex } from '../model/bytes.js';
import { commitId, setupId } from '../model/ids.js';
import { eventOutcome, rejectedBy, type EventOutcome, type MachineOutcomes } from './outcome.js';
import { problem, type Problem } from './rules.js';

// ---------------------------------------------------------------------------------------------
// 4.4: derived values

export type Phase = 'staking' | 'setup' | 'committed' | 'fallback';

/** The epoch state plus the full setup/commit events it references (kept for validation/reports). */
export interface EpochView {
  state: EpochState;
  events: EpochEvents;
}

export function isCommitted(c: EpochContainer | null): boolean {
  return c !== null && !isZero(c.commitId);
}

/** SPEC 4.4 phase (derived, never stored). */
export function phase(es: EpochState): Phase {
  if (es.fallbackTriggered) return isCommitted(es.next) ? 'committed' : 'fallback';
  if (es.next === null) return 'staking';
  return isCommitted(es.next) ? 'committed' : 'setup';
}

/** `finalView(c)`: the last extension's finalView, else the setup's. */
export function containerFinalView(c: EpochContainer, setup: EpochSetup): U64 {
  return c.extensions.length > 0 ? c.extensions[c.extensions.length - 1].finalView : setup.finalView;
}

/** `F = finalView(current)`. */
export function epochFinalView(es: EpochState, events: EpochEvents): U64 {
  return containerFinalView(es.current, events.currentSetup);
}

// ---------------------------------------------------------------------------------------------
// 4.6: event validity

const ROLE_NAMES: Record<number, string> = { 1: 'collection', 2: 'consensus', 3: 'execution', 4: 'verification', 5: 'access' };

/** SPEC 4.6 "well-formed setup": null when well-formed, else the first problem found. */
export function setupProblem(s: EpochSetup): Problem | null {
  if (s.randomSource.length !== 16) return problem('4.6.well-formed.random-source', `randomSource is ${s.randomSource.length} bytes, want 16`);
  const views: [string, U64][] = [
    ['firstView', s.firstView],
    ['dkgPhase1FinalView', s.dkgPhase1FinalView],
    ['dkgPhase2FinalView', s.dkgPhase2FinalView],
    ['dkgPhase3FinalView', s.dkgPhase3FinalView],
    ['finalView', s.finalView],
  ];
  for (let i = 1; i < views.length; i++) {
    const [an, a] = views[i - 1];
    const [bn, b] = views[i];
    if (!(a < b)) return problem('4.6.well-formed.views', `${an} ${a} >= ${bn} ${b}`);
  }
  const ids = new Set<string>();
  const addresses = new Set<string>();
  const positiveCollection = new Map<string, boolean>(); // hex -> seen in a cluster
  const known = new Set<string>();
  const rolesPresent = new Set<number>();
  for (let i = 0; i < s.participants.length; i++) {
    const p = s.participants[i];
    if (!Number.isInteger(p.role) || p.role < 1 || p.role > 5)
      return problem('4.6.well-formed.role', `participant ${shortId(p.nodeId)} has role ${p.role} outside 1..5`);
    const h = toHex(p.nodeId);
    if (ids.has(h)) return problem('4.6.well-formed.node-ids', `duplicate participant ${shortId(p.nodeId)}`);
    ids.add(h);
    if (addresses.has(p.address)) return problem('4.6.well-formed.addresses', `duplicate address ${JSON.stringify(p.address)}`);
    addresses.add(p.address);
    if (i > 0 && compareBytes(s.participants[i - 1].nodeId, p.nodeId) >= 0)
      return problem('4.6.well-formed.order', `participants not in canonical order at ${shortId(p.nodeId)}`);
    known.add(h);
    if (p.initialWeight > 0) {
      rolesPresent.add(p.role);
      if (p.role === Role.collection) positiveCollection.set(h, false);
    }
  }
  for (const r of [Role.collection, Role.consensus, Role.execution, Role.verification])
    if (!rolesPresent.has(r)) return problem('4.6.well-formed.roles', `no ${ROLE_NAMES[r]} node with positive weight`);
  if (s.assignments.length === 0) return problem('4.6.well-formed.clusters', 'no clusters');
  for (let c = 0; c < s.assignments.length; c++) {
    const cluster = s.assignments[c];
    if (cluster.length === 0) return problem('4.6.well-formed.empty-cluster', `cluster ${c} is empty`);
    for (let j = 0; j < cluster.length; j++) {
      const id = cluster[j];
      const h = toHex(id);
      const seen = positiveCollection.get(h);
      if (seen === undefined)
        return known.has(h)
          ? problem('4.6.well-formed.cluster-member', `cluster ${c}: node ${shortId(id)} is not a collection node with positive weight`)
          : problem('4.6.well-formed.cluster-unknown', `cluster ${c}: unknown node ${shortId(id)}`);
      if (seen) return problem('4.6.well-formed.cluster-twice', `node ${shortId(id)} assigned to more than one cluster`);
      positiveCollection.set(h, true);
      if (j > 0 && compareBytes(cluster[j - 1], id) >= 0) return problem('4.6.well-formed.cluster-order', `cluster ${c} not in canonical order`);
    }
  }
  for (const [h, seen] of positiveCollection)
    if (!seen) return problem('4.6.well-formed.unassigned', `collection node ${h.slice(0, 16)} not assigned to a cluster`);
  if (!(s.targetDuration > 0)) return problem('4.6.well-formed.target-duration', 'targetDuration is 0');
  return null;
}

/** SPEC 9.13: `floor(62 * n / 100)` in integers. */
export function randomBeaconThreshold(n: number): number {
  const x = 62 * n;
  return (x - (x % 100)) / 100;
}

/** SPEC 4.6 "commit valid for setup": null when valid, else the first problem found. */
export function commitProblem(c: EpochCommit, s: EpochSetup): Problem | null {
  if (c.clusterQCs.length !== s.assignments.length)
    return problem('4.6.commit-valid.cluster-qcs', `${c.clusterQCs.length} cluster QCs for ${s.assignments.length} clusters`);
  if (c.counter !== s.counter) return problem('4.6.commit-valid.counter', `counter ${c.counter} != setup counter ${s.counter}`);
  if (c.dkgGroupKey.length === 0) return problem('4.6.commit-valid.group-key', 'empty DKG group key');
  const inMap = new Set<string>();
  for (const [id] of c.dkgIndexMap) inMap.add(toHex(id));
  let have = 0;
  for (const p of s.participants) if (p.role === Role.consensus && p.initialWeight > 0 && inMap.has(toHex(p.nodeId))) have++;
  const need = randomBeaconThreshold(c.dkgIndexMap.length);
  if (have < need) return problem('4.6.commit-valid.threshold', `random beacon threshold: need ${need} consensus participants in the DKG map, have ${have}`);
  return null;
}

// ---------------------------------------------------------------------------------------------
// 4.6: the machine

export interface EpochContext {
  /** Candidate view `V`. */
  view: U64;
  /** `t` of the parent's KV store. */
  t: U64;
  /** `E` (epochExtensionViewCount) of the parent's KV store. */
  E: U64;
}

export type EpochMode = 'happy' | 'fallback';

/** Step 0: fallback if the flag is set, or the deadline `V + t >= currentSetup.finalView` passed uncommitted. */
export function chooseMode(parent: EpochView, ctx: EpochContext): EpochMode {
  if (parent.state.fallbackTriggered) return 'fallback';
  return phase(parent.state) !== 'committed' && add(ctx.view, ctx.t) >= parent.events.currentSetup.finalView ? 'fallback' : 'happy';
}

/**
 * True iff the epoch machine, given no events, returns the parent state unchanged at this view:
 * no deadline crossing (entering fallback), no extension, no transition. Conservative by
 * construction: it mirrors exactly the three view-driven changes of 4.6.
 */
export function epochNothingDue(parent: EpochView, ctx: EpochContext): boolean {
  const es = parent.state;
  const ph = phase(es);
  const F = epochFinalView(es, parent.events);
  if (ph === 'committed') return !(ctx.view > F); // only a transition can happen
  const vt = add(ctx.view, ctx.t);
  if (!es.fallbackTriggered) return !(vt >= parent.events.currentSetup.finalView); // deadline
  return !(vt >= F); // fallback phase: extension
}

export const EPOCH_TYPES: ReadonlySet<string> = new Set(['setup', 'commit', 'recover', 'eject-node']);

function newContainer(setup: EpochSetup, commit: EpochCommit | null): EpochContainer {
  return {
    setupId: setupId(setup),
    commitId: commit === null ? new Uint8Array(32) : commitId(commit),
    identities: setup.participants.map((p): DynamicIdentity => ({ nodeId: p.nodeId, ejected: false })),
    extensions: [],
  };
}

function hasNode(c: EpochContainer | null, hex: string): boolean {
  if (c === null) return false;
  for (const d of c.identities) if (toHex(d.nodeId) === hex) return true;
  return false;
}

function eject(c: EpochContainer | null, hex: string): EpochContainer | null {
  if (c === null || !hasNode(c, hex)) return c;
  return { ...c, identities: c.identities.map((d) => (toHex(d.nodeId) === hex ? { nodeId: d.nodeId, ejected: true } : d)) };
}

/** A block's working epoch state: fields are replaced (never mutated) so unchanged parts stay shared. */
class Work {
  previous: EpochContainer | null;
  current: EpochContainer;
  next: EpochContainer | null;
  fallbackTriggered: boolean;
  ev: EpochEvents;
  changed = false;
  /** hex ids of every `eject-node` seen so far in this block (known or not; SPEC 9.12). */
  readonly ejectedThisBlock = new Set<string>();

  constructor(readonly parent: EpochView) {
    const s = parent.state;
    this.previous = s.previous;
    this.current = s.current;
    this.next = s.next;
    this.fallbackTriggered = s.fallbackTriggered;
    this.ev = parent.events;
  }

  F(): U64 {
    return containerFinalView(this.current, this.ev.currentSetup);
  }

  setFallback(v: boolean): void {
    this.fallbackTriggered = v;
    this.changed = true;
  }

  dropNext(): void {
    if (this.next === null && this.ev.nextSetup === null && this.ev.nextCommit === null) return;
    this.next = null;
    this.ev = { ...this.ev, nextSetup: null, nextCommit: null };
    this.changed = true;
  }

  extend(firstView: U64, finalView: U64): void {
    this.current = { ...this.current, extensions: [...this.current.extensions, { firstView, finalView }] };
    this.changed = true;
  }

  transition(): void {
    const ev = this.ev;
    if (this.next === null || ev.nextSetup === null) throw new Error('epoch transition without a next epoch');
    this.previous = this.current;
    this.current = this.next;
    this.next = null;
    this.ev = {
      previousSetup: ev.currentSetup,
      previousCommit: ev.currentCommit,
      currentSetup: ev.nextSetup,
      currentCommit: ev.nextCommit,
      nextSetup: null,
      nextCommit: null,
    };
    this.changed = true;
  }

  setNext(setup: EpochSetup, commit: EpochCommit | null): void {
    this.next = newContainer(setup, commit);
    this.ev = { ...this.ev, nextSetup: setup, nextCommit: commit };
    this.changed = true;
  }

  commitNext(commit: EpochCommit): void {
    if (this.next === null) throw new Error('commit without a next epoch');
    this.next = { ...this.next, commitId: commitId(commit) };
    this.ev = { ...this.ev, nextCommit: commit };
    this.changed = true;
  }

  /** Returns false for a node in none of the lists. */
  eject(nodeId: Id): boolean {
    const hex = toHex(nodeId);
    this.ejectedThisBlock.add(hex);
    const p = eject(this.previous, hex);
    const c = eject(this.current, hex) as EpochContainer;
    const n = eject(this.next, hex);
    if (p === this.previous && c === this.current && n === this.next) return false;
    this.previous = p;
    this.current = c;
    this.next = n;
    this.changed = true;
    return true;
  }

  /** Participant checks shared by setup and recover (ejected in current, ejected earlier in this block). */
  ejectionProblem(setup: EpochSetup): Problem | null {
    const ejectedInCurrent = new Set<string>();
    for (const d of this.current.identities) if (d.ejected) ejectedInCurrent.add(toHex(d.nodeId));
    for (const p of setup.participants)
      if (ejectedInCurrent.has(toHex(p.nodeId))) return problem('4.6.setup.ejected', `participant ${shortId(p.nodeId)} is ejected in the current epoch`);
    for (const p of setup.participants)
      if (this.ejectedThisBlock.has(toHex(p.nodeId)))
        return problem('4.6.setup.ejected-in-block', `participant ${shortId(p.nodeId)} was ejected earlier in this block`);
    return null;
  }

  /** Checks of a new next epoch's setup (both `setup` and `recover`); `commitCheck` runs after well-formedness. */
  newEpochProblem(setup: EpochSetup, commit: EpochCommit | null): Problem | null {
    if (this.next !== null) return NEXT_PRESENT;
    const cc = this.ev.currentSetup.counter;
    if (setup.counter !== add(cc, 1)) return problem('4.6.setup.counter', `counter ${setup.counter} != current counter ${cc} + 1`);
    const f1 = add(this.F(), 1);
    if (setup.firstView !== f1) return problem('4.6.setup.first-view', `firstView ${setup.firstView} != F + 1 = ${f1}`);
    const wf = setupProblem(setup);
    if (wf !== null) return wf;
    if (commit !== null) {
      const cp = commitProblem(commit, setup);
      if (cp !== null) return cp;
    }
    return this.ejectionProblem(setup);
  }

  result(): EpochView {
    if (!this.changed) return this.parent;
    return {
      state: { previous: this.previous, current: this.current, next: this.next, fallbackTriggered: this.fallbackTriggered },
      events: this.ev,
    };
  }
}

interface RunResult {
  view: EpochView;
  outcomes: MachineOutcomes;
  /** Happy path only: the first invalid setup/commit/recover (`problem` null for a recover). */
  failed: { index: number; problem: Problem | null } | null;
}

const NEXT_PRESENT = problem('4.6.setup.next-present', 'next epoch already present');
const NO_NEXT = problem('4.6.commit.no-next', 'no next epoch to commit');
const ALREADY_COMMITTED = problem('4.6.commit.committed', 'next epoch already committed');
const FALLBACK_IGNORED = 'epoch fallback mode';

function recoverInFallback(w: Work, r: EpochRecover, ctx: EpochContext): EventOutcome {
  const type = 'recover';
  const vt = add(ctx.view, ctx.t);
  const F = w.F();
  if (!(vt < F)) return eventOutcome(type, '4.6.recover.too-late', `V+t = ${vt} >= F = ${F}`);
  const p = w.newEpochProblem(r.setup, r.commit);
  if (p !== null) return rejectedBy(type, p);
  w.setNext(r.setup, r.commit);
  w.setFallback(false);
  return eventOutcome(type, '4.6.recover.applied', `recovered: epoch ${r.setup.counter} committed, fallback cleared`);
}

/** Why a commit on the happy path is invalid, or null. */
function commitEventProblem(w: Work, c: EpochCommit): Problem | null {
  const nextSetup = w.ev.nextSetup;
  if (w.next === null || nextSetup === null) return NO_NEXT;
  if (isCommitted(w.next)) return ALREADY_COMMITTED;
  return commitProblem(c, nextSetup);
}

/** One pass over the block in the given mode (fallback set-up, step 1, step 2). */
function run(mode: EpochMode, parent: EpochView, ev: readonly ServiceEvent[], ctx: EpochContext): RunResult {
  const w = new Work(parent);
  const PE = parent.state;
  const parentPhase = phase(PE);
  const F0 = epochFinalView(PE, parent.events);
  if (mode === 'fallback') {
    // Fallback set-up
    const nextCommitted = parentPhase === 'committed';
    if (!PE.fallbackTriggered) {
      w.setFallback(true);
      if (!nextCommitted) w.dropNext();
    }
    if (!nextCommitted && add(ctx.view, ctx.t) >= F0) w.extend(add(F0, 1), add(F0, ctx.E)); // at most one per block
  }
  // Step 1: transition strictly after the parent's current final view
  if (parentPhase === 'committed' && ctx.view > F0) w.transition();
  // Step 2: events in order
  const outcomes: MachineOutcomes = [];
  for (let i = 0; i < ev.length; i++) {
    const e = ev[i];
    if (e.unknown) continue;
    switch (e.type) {
      case 'setup': {
        if (mode === 'fallback') {
          outcomes[i] = eventOutcome(e.type, '4.6.fallback.ignored', FALLBACK_IGNORED);
          break;
        }
        const p = w.newEpochProblem(e.event, null);
        if (p !== null) return { view: parent, outcomes, failed: { index: i, problem: p } };
        w.setNext(e.event, null);
        outcomes[i] = eventOutcome(e.type, '4.6.setup.applied', `next epoch ${e.event.counter} set up`);
        break;
      }
      case 'commit': {
        if (mode === 'fallback') {
          outcomes[i] = eventOutcome(e.type, '4.6.fallback.ignored', FALLBACK_IGNORED);
          break;
        }
        const p = commitEventProblem(w, e.event);
        if (p !== null) return { view: parent, outcomes, failed: { index: i, problem: p } };
        w.commitNext(e.event);
        outcomes[i] = eventOutcome(e.type, '4.6.commit.applied', `next epoch ${w.ev.nextSetup!.counter} committed`);
        break;
      }
      case 'recover': {
        if (mode === 'happy') return { view: parent, outcomes, failed: { index: i, problem: null } };
        outcomes[i] = recoverInFallback(w, e.event, ctx);
        break;
      }
      case 'eject-node': {
        const id = e.event.nodeId;
        outcomes[i] = w.eject(id)
          ? eventOutcome(e.type, '4.6.eject.applied', `node ${shortId(id)} ejected`)
          : eventOutcome(e.type, '4.6.eject.unknown-node', `unknown node ${shortId(id)}`);
        break;
      }
      default:
        break;
    }
  }
  return { view: w.result(), outcomes, failed: null };
}

export interface EpochResult extends EpochView {
  outcomes: MachineOutcomes;
  /** The mode the block's result was computed in (after a step-3 re-run: `fallback`). */
  mode: EpochMode;
}

/**
 * Step 3 (9.14): the event that made the happy path fail. A setup or commit is rejected by its
 * rule; a recover keeps the outcome (and rule) of its fallback re-run.
 */
function failingOutcome(type: string, p: Problem | null, fallbackOutcome: EventOutcome): EventOutcome {
  if (p !== null) return eventOutcome(type, p.rule, `${p.reason}; triggers epoch fallback mode`);
  const reason = `recover on the happy path triggers epoch fallback mode; in fallback mode: ${fallbackOutcome.reason}`;
  return eventOutcome(type, fallbackOutcome.rule, reason);
}

/**
 * The epoch machine for one block (SPEC 4.6). Returns the parent's own `state`/`events` objects
 * when nothing changed. Outcomes are aligned with `ev` (undefined for types it does not handle).
 */
export function epochMachine(parent: EpochView, ev: readonly ServiceEvent[], ctx: EpochContext): EpochResult {
  const mode = chooseMode(parent, ctx);
  if (mode === 'happy') {
    const h = run('happy', parent, ev, ctx);
    if (h.failed === null) return { ...h.view, outcomes: h.outcomes, mode };
    // Step 3: discard everything the happy path did and re-run the block in fallback mode.
    const f = run('fallback', parent, ev, ctx);
    const i = h.failed.index;
    f.outcomes[i] = failingOutcome(ev[i].type, h.failed.problem, f.outcomes[i]!);
    return { ...f.view, outcomes: f.outcomes, mode: 'fallback' };
  }
  const f = run('fallback', parent, ev, ctx);
  return { ...f.view, outcomes: f.outcomes, mode };
}
