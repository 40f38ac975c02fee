// The rule registry: every replay check (SPEC 6, 9.10, 4.1) and every service-event outcome
// (SPEC 4.5-4.7, 5.2, 9.14) has a stable id named after its SPEC row. Code and tests name
// rules by id; the reason texts beside them are for humans and may change. Ids never change
// meaning: a new rule gets a new id. Which verdict a check rule fails is the SPEC 6 table's
// business (replay/verdicts.ts); the outcome of an event rule is fixed here.

export type Outcome = 'applied' | 'rejected' | 'ignored';

interface CheckRule {
  readonly kind: 'check';
  readonly section: string;
  readonly description: string;
}

interface EventRule {
  readonly kind: 'event';
  readonly section: string;
  readonly outcome: Outcome;
  readonly description: string;
}

type Rule = CheckRule | EventRule;

const check = (section: string, description: string) => ({ kind: 'check', section, description }) as const;
const applied = (section: string, description: string) => ({ kind: 'event', section, outcome: 'applied', description }) as const;
const rejected = (section: string, description: string) => ({ kind: 'event', section, outcome: 'rejected', description }) as const;
const ignored = (section: string, description: string) => ({ kind: 'event', section, outcome: 'ignored', description }) as const;

export const RULES = {
  // ---- SPEC 6: integrity
  '6.decode-error': check('6', 'the stored record does not decode into the model (9.2)'),
  '6.id-mismatch': check('6', 'ID(header) differs from the id the block is stored under'),
  '6.payload-mismatch': check('6', 'the recomputed payload hash differs from header.payloadHash'),
  // ---- SPEC 6: linkage
  '6.unknown-parent': check('6', 'parentId is neither the root nor a stored block'),
  '6.linkage.chain-id': check('6', "chainId differs from the root's"),
  '6.linkage.height': check('6', 'height != parent.height + 1'),
  '6.linkage.view': check('6', 'view <= parent.view'),
  '6.linkage.parent-view': check('6', 'parentView != parent.view'),
  '6.linkage.timestamp': check('6', 'timestamp < parent.timestamp'),
  '6.linkage.tc-absent': check('6', 'view != parentView + 1 and lastViewTC is absent'),
  '6.linkage.tc-view': check('6', 'view != parentView + 1 and lastViewTC.view != view - 1'),
  '6.linkage.tc-newest-qc': check('6', 'view != parentView + 1 and lastViewTC.newestQC.view > parentView'),
  '6.linkage.tc-present': check('6', 'view == parentView + 1 and lastViewTC is present'),
  '6.descends-from-invalid': check('6', "the parent's verdict is not ok"),
  '9.10.parent-cycle': check('9.10', "the block's ancestry never reaches the root (a parent cycle through a wrong claimed id)"),
  // ---- SPEC 6: seals
  '6.seal.result': check('6', "a seal's resultId is neither the root result nor a result included in this block or an ancestor"),
  '6.seal.block-id': check('6', "a seal's blockId differs from its result's blockId"),
  '6.seal.ancestor': check('6', 'a sealed block is not an ancestor of this block'),
  '6.seal.duplicate': check('6', 'two seals for one block'),
  '6.seal.order': check('6', 'the sealed heights, in order, are not exactly lastSealed+1, lastSealed+2, ...'),
  // ---- SPEC 6: protocol state (4.1 replication, then the state id)
  '4.1.incompatible-version-change': check('4.1', 'replication to a version other than S.version or S.version + 1'),
  '4.1.unknown-version': check('4.1', 'replication from or to a KV store version this implementation does not implement'),
  '6.state-mismatch': check('6', 'the computed protocol state ID differs from payload.protocolStateId'),

  // ---- SPEC 4.5: upgrade machine
  '4.5.rule1': rejected('4.5', 'activeView <= V + t (it must be strictly greater)'),
  '4.5.rule2': rejected('4.5', "newProtocolStateVersion != the parent's version + 1"),
  '4.5.rule3': rejected('4.5', 'a still pending upgrade (activationView >= V) is to another version'),
  '4.5.rule4': applied('4.5', 'accepted: M.versionUpgrade = {newProtocolStateVersion, activeView}'),
  // ---- SPEC 4.6: epoch machine, a new next epoch (setup, and the setup of a recover)
  '4.6.setup.applied': applied('4.6', 'next epoch set up (not committed yet)'),
  '4.6.setup.next-present': rejected('4.6', 'a next epoch is already present'),
  '4.6.setup.counter': rejected('4.6', "setup counter != the current setup's counter + 1"),
  '4.6.setup.first-view': rejected('4.6', 'setup firstView != F + 1'),
  '4.6.setup.ejected': rejected('4.6', 'a participant is marked ejected in the current epoch'),
  '4.6.setup.ejected-in-block': rejected('4.6', 'a participant was ejected earlier in this block, known node or not (9.12)'),
  // ---- SPEC 4.6: well-formed setup
  '4.6.well-formed.random-source': rejected('4.6', 'randomSource is not 16 bytes (9.3)'),
  '4.6.well-formed.views': rejected('4.6', 'not firstView < dkgPhase1FinalView < dkgPhase2FinalView < dkgPhase3FinalView < finalView'),
  '4.6.well-formed.role': rejected('4.6', 'a participant role outside 1..5 (9.3)'),
  '4.6.well-formed.node-ids': rejected('4.6', 'two participants with one node ID'),
  '4.6.well-formed.addresses': rejected('4.6', 'two participants with one address'),
  '4.6.well-formed.order': rejected('4.6', 'participants not in canonical order (node IDs strictly ascending)'),
  '4.6.well-formed.roles': rejected('4.6', 'no participant with initialWeight > 0 of one of collection, consensus, execution, verification'),
  '4.6.well-formed.clusters': rejected('4.6', 'no cluster'),
  '4.6.well-formed.empty-cluster': rejected('4.6', 'an empty cluster'),
  '4.6.well-formed.cluster-unknown': rejected('4.6', 'a cluster lists a node that is not a participant'),
  '4.6.well-formed.cluster-member': rejected('4.6', 'a cluster lists a participant that is not a collection node with positive weight'),
  '4.6.well-formed.cluster-twice': rejected('4.6', 'a node assigned to more than one cluster'),
  '4.6.well-formed.unassigned': rejected('4.6', 'a collection node with positive weight in no cluster'),
  '4.6.well-formed.cluster-order': rejected('4.6', 'a cluster not in canonical order'),
  '4.6.well-formed.target-duration': rejected('4.6', 'targetDuration is 0'),
  // ---- SPEC 4.6: commit valid for setup
  '4.6.commit-valid.cluster-qcs': rejected('4.6', 'len(clusterQCs) != len(setup.assignments)'),
  '4.6.commit-valid.counter': rejected('4.6', "commit counter != the setup's counter"),
  '4.6.commit-valid.group-key': rejected('4.6', 'dkgGroupKey is empty'),
  '4.6.commit-valid.threshold': rejected('4.6', 'fewer weighted consensus participants in dkgIndexMap than floor(62 * n / 100) (9.13)'),
  // ---- SPEC 4.6: commit, recover, eject-node, fallback mode
  '4.6.commit.applied': applied('4.6', 'next epoch committed'),
  '4.6.commit.no-next': rejected('4.6', 'no next epoch to commit'),
  '4.6.commit.committed': rejected('4.6', 'the next epoch is already committed'),
  '4.6.fallback.ignored': ignored('4.6', 'setup or commit in epoch fallback mode (no error, no change)'),
  '4.6.recover.applied': applied('4.6', 'recovered: next epoch set up and committed, fallback cleared'),
  '4.6.recover.too-late': rejected('4.6', "V + t >= F (F after this block's extension)"),
  '4.6.eject.applied': applied('4.6', 'node flagged ejected in previous, current and next'),
  '4.6.eject.unknown-node': rejected('4.6', 'the node is in none of the lists (9.12)'),
  // ---- SPEC 4.7: set-value machine
  '4.7.eevc.applied': applied('4.7', 'epochExtensionViewCount set (this block; last accepted wins)'),
  '4.7.eevc.too-small': rejected('4.7', 'set-epoch-extension-view-count value < 2 * finalizationSafetyThreshold'),
  '4.7.update.scheduled': applied('4.7', 'v3 Updatable field scheduled: update = {data, activationView}'),
  '4.7.update.below-v3': rejected('4.7', 'v3 set-value event while M.version < 3'),
  '4.7.update.activation-view': rejected('4.7', 'v3 set-value event with activationView <= V + t'),
  // ---- SPEC 5.2 and 9.14: events no state machine handles
  '5.2.beacon.indexed': ignored('5.2', 'valid version beacon: indexed when the sealing block is finalized, not the KV store'),
  '5.2.beacon.invalid': rejected('5.2', 'invalid version beacon'),
  '9.14.unknown-type': ignored('9.14', 'unknown service event type'),
} as const satisfies Record<string, Rule>;

export type RuleId = keyof typeof RULES;

type IdsOfKind<K extends Rule['kind']> = { [R in RuleId]: (typeof RULES)[R]['kind'] extends K ? R : never }[RuleId];

/** Rules of replay checks: failing one fails the block (its verdict row: replay/verdicts.ts). */
export type CheckRuleId = IdsOfKind<'check'>;
/** Rules of service-event outcomes: they never change a verdict. */
export type EventRuleId = IdsOfKind<'event'>;

/** The outcome an event rule gives. */
export function outcomeOf(rule: EventRuleId): Outcome {
  return RULES[rule].outcome;
}

/** A validity check's finding: the rule that failed and a text for humans. */
export interface Problem {
  readonly rule: EventRuleId;
  readonly reason: string;
}

export function problem(rule: EventRuleId, reason: string): Problem {
  return { rule, reason };
}
