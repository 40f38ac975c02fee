// The storyline of a generated spork: the root snapshot, the epoch lifecycles and the special
// events, planned against the main chain's tip state as a real network would emit them.
//
// Service events ride in execution results and take effect when a later block seals the result
// (a few blocks and views later), so events whose validity depends on the view (activation
// views, recover) are built with a safety margin over that lag. The storyline watches the
// outcomes of its events on the main chain and retries the epoch events should one be rejected.
//
// Profile `flow` keeps to what a flow-go v0.43+ network emits (ACCESS 4.2, 4.3): a root as
// flow-go's bootstrap writes it (ACCESS 5.2), KV store v2 throughout (the one upgrade event is
// rejected by rule 1), only the seven flow-go event types, no invalid beacon and no forks.
import type { EpochCommit, EpochSetup, Id, MeteringParams, ServiceEvent, U64, VersionBeacon } from '../model/types.js';
import { toHex } from '../model/bytes.js';
import { U64_MAX } from '../model/u64.js';
import type { EventOutcome, ProtocolSnapshot } from '../protocol/evolve.js';
import { epochFinalView, phase } from '../protocol/epoch.js';
import { meteringParamsEquals } from '../protocol/kvstore.js';
import { Role } from '../model/types.js';
import type { Branch } from './chain.js';
import type { Built } from './chain.js';
import { makeCommit, makeSetup, nextRoster } from './identities.js';
import type { Roster } from './identities.js';
import type { Rng } from './rng.js';
import { BEACON_VERSIONS, ROOT_BEACON_SEQUENCE } from './root.js';
import type { Milestone, StoryParams } from './root.js';
export { buildRoot, ROOT_BEACON_SEQUENCE } from './root.js';
export type { Milestone, RootBundle, StoryParams, SynthProfile } from './root.js';

/** A fork the storyline wants built off the main tip before the next main block. */
export interface ForkSpec {
  label: string;
  length: number;
  /** Events for the first result of one of the fork's own blocks. */
  ownEvents?: ServiceEvent[];
  /** View of the fork block at this index (0-based), reached with a TC. */
  jump?: { index: number; view: number };
  /** A background fork (not listed in the milestones). */
  random?: boolean;
}

interface Act {
  name: string;
  at: number;
  until: number;
  done: boolean;
  run: (main: Branch, h: number, view: number) => boolean;
}

type Tag = 'setup' | 'commit' | 'recover';

export class Storyline {
  readonly milestones: Milestone[] = [];
  private outbox: ServiceEvent[] = [];
  private readonly acts: Act[] = [];
  private readonly forks: ForkSpec[] = [];
  private roster: Roster;
  private readonly ejectedAll = new Set<string>();
  private readonly setupSent = new Set<number>();
  private readonly commitSent = new Set<number>();
  private readonly watched = new Map<ServiceEvent, { tag: Tag; counter: number }>();
  private efmEpoch: number | null = null;
  private efmDone = false;
  private lateSetupSent = false;
  private badRecoverSent = false;
  private recoverSent = false;
  private beaconSeq = ROOT_BEACON_SEQUENCE;
  private upgradeView = 0;

  constructor(
    private readonly p: StoryParams,
    private readonly rng: Rng,
    roster: Roster,
  ) {
    this.roster = roster;
    if (p.storyline && p.profile === 'flow') this.defineFlowActs();
    else if (p.storyline) this.defineSpecActs();
  }

  /** Height at fraction `f` of the spork. */
  private H(f: number): number {
    return this.p.rootHeight + Math.max(1, Math.round(f * this.p.blocks));
  }

  private emit(...events: ServiceEvent[]): void {
    this.outbox.push(...events);
  }

  /** Events for the next result the main chain creates (drains the outbox). */
  readonly take = (): ServiceEvent[] => {
    if (this.outbox.length === 0) return [];
    const e = this.outbox;
    this.outbox = [];
    return e;
  };

  /** Forks to build off the main tip now. */
  takeForks(): ForkSpec[] {
    if (this.forks.length === 0) return [];
    return this.forks.splice(0, this.forks.length);
  }

  // ------------------------------------------------------------------ planning

  /** Called before each main block (height h, planned view): epoch lifecycle and acts. */
  plan(main: Branch, h: number, view: number): void {
    this.epochLifecycle(main, h, view);
    for (const act of this.acts) {
      if (act.done || h < act.at) continue;
      if (h > act.until) {
        act.done = true;
        continue;
      }
      if (act.run(main, h, view)) act.done = true;
    }
  }

  private avgMs(): number {
    return (this.p.msPerView[0] + this.p.msPerView[1]) / 2;
  }

  private newSetup(main: Branch, counter: number, firstView: number, finalView: number): EpochSetup {
    this.roster = nextRoster(this.roster, this.ejectedAll, this.rng, this.p.clusters);
    const avg = this.avgMs();
    return makeSetup(
      this.roster,
      {
        counter,
        firstView,
        finalView,
        targetEndTime: Math.round((main.tipTimestamp + (finalView - main.tipView) * avg) / 1000),
        secondsPerView: avg / 1000,
      },
      this.rng,
    );
  }

  private commitFor(setup: EpochSetup): EpochCommit {
    return makeCommit(setup, this.rng, this.p.profile === 'flow');
  }

  private watch(e: ServiceEvent, tag: Tag, counter: number): ServiceEvent {
    this.watched.set(e, { tag, counter });
    return e;
  }

  private epochLifecycle(main: Branch, h: number, view: number): void {
    const s = main.snap;
    const es = s.epoch;
    const ph = phase(es);
    const cur = s.events.currentSetup;
    const c = Number(cur.counter);
    const F = Number(epochFinalView(es, s.events));
    const t = this.p.t;
    const len = Number(cur.finalView) - Number(cur.firstView) + 1;
    const first = Number(cur.firstView);

    if (ph === 'fallback') {
      // epoch fallback mode: a late setup is ignored; after extensions, a recover
      if (this.efmEpoch === c && !this.lateSetupSent) {
        const late = this.newSetup(main, c + 1, Number(cur.finalView) + 1, Number(cur.finalView) + this.p.epochViews);
        this.emit({ type: 'setup', event: late });
        this.lateSetupSent = true;
        this.milestone(h, view, `epoch ${c}: setup for epoch ${c + 1} emitted after the deadline (ignored in fallback)`);
      }
      const ext = es.current.extensions.length;
      if (ext >= 1 && !this.badRecoverSent && this.p.storyline) {
        // a recover with the wrong counter: dropped, fallback continues (outcome rejected)
        const setup = this.newSetup(main, c + 2, F + 1, F + this.p.epochViews);
        this.emit({ type: 'recover', event: { setup, commit: this.commitFor(setup) } });
        this.badRecoverSent = true;
      }
      const wantExt = this.efmEpoch === c ? 2 : 1;
      const recoverMargin = Math.min(this.p.margin, Math.floor(Number(s.kv.epochExtensionViewCount) / 2));
      if (ext >= wantExt && !this.recoverSent && F - (view + t) > recoverMargin) {
        const setup = this.newSetup(main, c + 1, F + 1, F + this.p.epochViews);
        const commit = this.commitFor(setup);
        this.emit(this.watch({ type: 'recover', event: { setup, commit } }, 'recover', c + 1));
        this.recoverSent = true;
      }
      return;
    }
    if (ph === 'staking' && !this.setupSent.has(c + 1)) {
      if (this.p.storyline && !this.efmDone && this.efmEpoch === null && h >= this.H(0.55)) {
        this.efmEpoch = c; // this epoch's setup is withheld until after the deadline
        this.milestone(h, view, `epoch ${c}: setup for epoch ${c + 1} withheld (EFM episode)`);
      }
      if (this.efmEpoch === c) return;
      if (view >= first + Math.floor(len * 0.4)) {
        const setup = this.newSetup(main, c + 1, F + 1, F + this.p.epochViews);
        this.emit(this.watch({ type: 'setup', event: setup }, 'setup', c + 1));
        this.setupSent.add(c + 1);
      }
      return;
    }
    if (ph === 'setup' && !this.commitSent.has(c + 1) && s.events.nextSetup !== null) {
      if (view >= first + Math.floor(len * 0.55)) {
        this.emit(this.watch({ type: 'commit', event: this.commitFor(s.events.nextSetup) }, 'commit', c + 1));
        this.commitSent.add(c + 1);
      }
    }
  }

  // ------------------------------------------------------------------ observing the main chain

  private milestone(height: number, view: number, what: string): void {
    this.milestones.push({ height, view, what });
  }

  /** Records what a main block did and retries epoch events that were rejected. */
  observe(built: Built): void {
    const h = Number(built.record.header.height);
    const v = Number(built.record.header.view);
    const ev = built.sealedEvents;
    const r = built.evolved;
    if (!r.ok) {
      this.milestone(h, v, `UNEXPECTED main block verdict unsupported-version: ${r.reason}`);
      return;
    }
    for (let i = 0; i < ev.length; i++) {
      const o: EventOutcome = r.outcomes[i];
      this.milestone(h, v, `${o.type} ${o.outcome}: ${o.reason}`);
      const w = this.watched.get(ev[i]);
      if (w !== undefined) {
        this.watched.delete(ev[i]);
        if (o.outcome !== 'applied') {
          if (w.tag === 'setup') this.setupSent.delete(w.counter);
          if (w.tag === 'commit') this.commitSent.delete(w.counter);
          if (w.tag === 'recover') this.recoverSent = false;
        } else if (w.tag === 'recover') {
          this.efmDone = true;
          this.efmEpoch = null;
          this.lateSetupSent = false;
          this.badRecoverSent = false;
          this.recoverSent = false;
        }
      }
    }
    if (!r.changed) return;
    const a = built.parentSnap;
    const b = r.snapshot;
    if (a.kv.version !== b.kv.version) this.milestone(h, v, `protocol state version ${a.kv.version} -> ${b.kv.version}`);
    const cv = (s: ProtocolSnapshot, k: 'executionComponentVersion' | 'cadenceComponentVersion') => {
      const x = s.kv[k];
      return x === undefined ? null : `${x.current.major}.${x.current.minor}`;
    };
    for (const k of ['executionComponentVersion', 'cadenceComponentVersion'] as const) {
      if (a.kv.version >= 3 && b.kv.version >= 3 && cv(a, k) !== cv(b, k)) this.milestone(h, v, `${k} ${cv(a, k)} -> ${cv(b, k)} (activated)`);
    }
    const am = a.kv.executionMeteringParameters;
    const bm = b.kv.executionMeteringParameters;
    if (am !== undefined && bm !== undefined && !meteringParamsEquals(am.current, bm.current))
      this.milestone(h, v, `execution metering parameters activated (memoryLimit ${bm.current.memoryLimit})`);
    const ca = Number(a.events.currentSetup.counter);
    const cb = Number(b.events.currentSetup.counter);
    if (ca !== cb) this.milestone(h, v, `epoch transition ${ca} -> ${cb}`);
    const pa = phase(a.epoch);
    const pb = phase(b.epoch);
    if (pa !== pb) this.milestone(h, v, `epoch phase ${pa} -> ${pb}`);
    const xa = a.epoch.current.extensions.length;
    const xb = b.epoch.current.extensions.length;
    if (ca === cb && xb > xa) {
      const x = b.epoch.current.extensions[xb - 1];
      this.milestone(h, v, `epoch extension [${x.firstView}, ${x.finalView}]`);
    }
    if (Number(a.kv.epochExtensionViewCount) !== Number(b.kv.epochExtensionViewCount))
      this.milestone(h, v, `epochExtensionViewCount ${a.kv.epochExtensionViewCount} -> ${b.kv.epochExtensionViewCount}`);
  }

  // ------------------------------------------------------------------ the special acts

  private act(name: string, at: number, run: Act['run'], until = 0.97): void {
    this.acts.push({ name, at: this.H(at), until: this.H(until), done: false, run });
  }

  private beacon(boundaries: [number, string][], sequence?: number): ServiceEvent {
    const b: VersionBeacon = {
      boundaries: boundaries.map(([blockHeight, version]) => ({ blockHeight, version })),
      sequence: sequence ?? ++this.beaconSeq,
    };
    return { type: 'version-beacon', event: b };
  }

  private defineSpecActs(): void {
    const p = this.p;
    const t = p.t;
    const M = p.margin;
    const past = Math.max(0, p.rootHeight - 20_000);
    const H = (f: number) => this.H(f);

    // version beacons: boundaries on the finalized chain, a moved boundary, increasing sequences
    this.beaconActs('early');
    this.act('unknown-event-type', 0.06, () => {
      this.emit({ type: 'flow.ProtocolStateNote', event: [1, 'synthetic', new Uint8Array([0xde, 0xad])], unknown: true });
      return true;
    });
    this.act('v3-event-before-v3', 0.08, (_main, _h, view) => {
      this.emit({ type: 'set-execution-component-version', event: { version: { major: 1, minor: 0 }, activationView: view + t + M } });
      return true;
    });
    this.extensionCountAct();
    this.ejectInStakingAct();
    this.act('fork-with-own-upgrade', 0.2, (_main, _h, view) => {
      this.forks.push({
        label: 'fork carrying its own upgrade and beacon',
        length: 6,
        ownEvents: [
          { type: 'protocol-state-version-upgrade', event: { newProtocolStateVersion: 3, activeView: view + 6 + t + M } },
          this.beacon(
            [
              [past, '0.40.0'],
              [H(0.25), '0.40.9'],
            ],
            900,
          ),
        ],
      });
      return true;
    });
    this.act('upgrade-v3', 0.22, (main, _h, view) => {
      if (main.snap.kv.version !== 2) return true;
      this.upgradeView = view + t + M + Math.round(0.03 * p.blocks);
      this.emit(
        { type: 'protocol-state-version-upgrade', event: { newProtocolStateVersion: 3, activeView: view } },
        { type: 'protocol-state-version-upgrade', event: { newProtocolStateVersion: 5, activeView: this.upgradeView } },
        { type: 'protocol-state-version-upgrade', event: { newProtocolStateVersion: 3, activeView: this.upgradeView } },
      );
      return true;
    });
    this.act('upgrade-v3-replaced', 0.235, (main, _h, view) => {
      const up = main.snap.kv.versionUpgrade;
      if (up === null) return false;
      const next = Number(up.activationView) + 20;
      if (Number(up.activationView) <= view + t + M) return true; // too late to replace safely
      this.upgradeView = next;
      this.emit({ type: 'protocol-state-version-upgrade', event: { newProtocolStateVersion: 3, activeView: next } });
      return true;
    });
    this.act('fork-activates-upgrade-elsewhere', 0.24, (main, _h, _view) => {
      const up = main.snap.kv.versionUpgrade;
      if (up === null || Number(up.activationView) !== this.upgradeView) return false;
      const A = Number(up.activationView);
      if (A - main.tipView > 2000) return false; // wait until the activation is near
      if (A - main.tipView < 4) return true;
      // a fork that skips ahead to the activation view: v3 there, while main is still v2
      this.forks.push({ label: 'fork reaching the activation view early', length: 3, jump: { index: 1, view: A } });
      return true;
    });
    this.act('v3-updates', 0.26, (main, _h, view) => {
      if (main.snap.kv.version < 3) return false;
      const metering: MeteringParams = {
        effortWeights: [
          [12, 3],
          [1, 100],
          [7, 250],
        ],
        memoryWeights: [
          [2, 20],
          [5, 8],
        ],
        memoryLimit: 2 ** 33,
      };
      this.emit(
        { type: 'set-execution-component-version', event: { version: { major: 1, minor: 0 }, activationView: view + t + M } },
        { type: 'set-cadence-component-version', event: { version: { major: 1, minor: 0 }, activationView: view + t + M + 10 } },
        { type: 'set-execution-metering-parameters', event: { params: metering, activationView: view + t + M + 20 } },
        { type: 'set-cadence-component-version', event: { version: { major: 9, minor: 9 }, activationView: view } },
      );
      return true;
    });
    this.act('fork-with-own-events', 0.33, (_main, _h, view) => {
      this.forks.push({
        label: 'fork carrying its own beacon and component version',
        length: 5,
        ownEvents: [
          this.beacon(
            [
              [past, '0.40.0'],
              [H(0.4), '0.50.0'],
            ],
            901,
          ),
          { type: 'set-cadence-component-version', event: { version: { major: 2, minor: 0 }, activationView: view + 5 + t + M } },
        ],
      });
      return true;
    });
    this.act('invalid-beacon', 0.45, () => {
      // versions decrease: invalid, ignored by the index (sequence not consumed)
      this.emit(
        this.beacon(
          [
            [H(0.36), '0.41.0'],
            [H(0.6), '0.40.5'],
          ],
          this.beaconSeq + 1,
        ),
      );
      return true;
    });
    this.act('component-update', 0.5, (main, _h, view) => {
      if (main.snap.kv.version < 3) return false;
      this.emit({ type: 'set-execution-component-version', event: { version: { major: 1, minor: 1 }, activationView: view + t + M + 200 } });
      return true;
    });
    this.beaconActs('middle');
    this.act('component-update-overwritten', 0.505, (main, _h, view) => {
      const u = main.snap.kv.executionComponentVersion?.update;
      if (u === undefined || u === null || Number(u.data.minor) !== 1) return false;
      if (Number(u.activationView) <= view + t + M) return true;
      this.emit({ type: 'set-execution-component-version', event: { version: { major: 1, minor: 2 }, activationView: view + t + M } });
      return true;
    });
    this.act('metering-update', 0.62, (main, _h, view) => {
      if (main.snap.kv.version < 3) return false;
      const big: U64 = U64_MAX - 1n;
      this.emit({
        type: 'set-execution-metering-parameters',
        event: {
          params: {
            effortWeights: [
              [1, 120],
              [3, 40],
            ],
            memoryWeights: [],
            memoryLimit: big,
          },
          activationView: view + t + M,
        },
      });
      return true;
    });
    this.ejectInCommittedAct();
    this.beaconActs('late');
  }

  /**
   * Profile `flow`: only flow-go event types and KV store v2 throughout. The one upgrade event
   * is rejected by rule 1 (flow-go rejects it the same way), so no state above v2 ever arises.
   */
  private defineFlowActs(): void {
    this.beaconActs('early');
    this.extensionCountAct();
    this.ejectInStakingAct();
    this.act('upgrade-rejected-rule-1', 0.22, (main, _h, view) => {
      this.emit({ type: 'protocol-state-version-upgrade', event: { newProtocolStateVersion: main.snap.kv.version + 1, activeView: view } });
      return true;
    });
    this.beaconActs('middle');
    this.ejectInCommittedAct();
    this.beaconActs('late');
  }

  /** Valid version beacons with increasing sequences; the 2nd moves a boundary, the 3rd drops a passed one. */
  private beaconActs(which: 'early' | 'middle' | 'late'): void {
    const v = BEACON_VERSIONS[this.p.profile];
    const past = Math.max(0, this.p.rootHeight - 20_000);
    const H = (f: number) => this.H(f);
    const once = (name: string, at: number, boundaries: () => [number, string][]) =>
      this.act(name, at, () => {
        this.emit(this.beacon(boundaries()));
        return true;
      });
    if (which === 'early') {
      once('beacon-1', 0.03, () => [
        [past, v.root],
        [H(0.3), v.first],
      ]);
      once('beacon-2-moves-boundary', 0.18, () => [
        [past, v.root],
        [H(0.36), v.first],
        [H(0.8), v.rc],
      ]);
    } else if (which === 'middle') {
      once('beacon-3', 0.5, () => [
        [H(0.36), v.first],
        [H(0.8), v.second],
      ]);
    } else {
      once('beacon-4', 0.85, () => [
        [H(0.8), v.second],
        [H(0.97), v.third],
      ]);
    }
  }

  /** set-epoch-extension-view-count: 2t-1 (rejected), then E+60 (applied). */
  private extensionCountAct(): void {
    const t = this.p.t;
    this.act('set-epoch-extension-view-count', 0.1, () => {
      this.emit(
        { type: 'set-epoch-extension-view-count', event: { value: 2 * t - 1 } },
        { type: 'set-epoch-extension-view-count', event: { value: this.p.E + 60 } },
      );
      return true;
    });
  }

  /** Ejects a verification node in the staking phase, and a node nobody knows (rejected). */
  private ejectInStakingAct(): void {
    this.act('eject-verification-node', 0.14, (main) => {
      if (phase(main.snap.epoch) !== 'staking') return false;
      const victim = this.pickLive(main, Role.verification);
      if (victim === null) return true;
      this.ejectedAll.add(toHex(victim));
      this.emit({ type: 'eject-node', event: { nodeId: victim } }, { type: 'eject-node', event: { nodeId: this.rng.bytes(32) } });
      return true;
    });
  }

  /** Ejects an access node in the committed phase (outside fallback). */
  private ejectInCommittedAct(): void {
    this.act(
      'eject-in-committed-phase',
      0.7,
      (main) => {
        if (phase(main.snap.epoch) !== 'committed' || main.snap.epoch.fallbackTriggered) return false;
        const victim = this.pickLive(main, Role.access);
        if (victim === null) return true;
        this.ejectedAll.add(toHex(victim));
        this.emit({ type: 'eject-node', event: { nodeId: victim } });
        return true;
      },
      0.95,
    );
  }

  /** A node of `role` in the current epoch that is not ejected (and stays in later rosters). */
  private pickLive(main: Branch, role: number): Id | null {
    const s = main.snap;
    const ejected = new Set(s.epoch.current.identities.filter((i) => i.ejected).map((i) => toHex(i.nodeId)));
    const live = s.events.currentSetup.participants.filter((x) => x.role === role && !ejected.has(toHex(x.nodeId)) && !this.ejectedAll.has(toHex(x.nodeId)));
    const sameRole = this.roster.participants.filter((x) => x.role === role && !this.ejectedAll.has(toHex(x.nodeId)));
    if (live.length === 0 || sameRole.length < 3) return null;
    return this.rng.pick(live).nodeId;
  }
}
