// SPEC 6 bad-linkage: a block's header against its parent's. Every rule that fails is recorded
// (the row does not stop evaluation, SPEC 9.8).
import { add, sub } from '../model/u64.js';
import type { LinkHeader } from './facts.js';
import { fail, type BlockResult } from './result.js';

export function checkLinkage(h: LinkHeader, p: LinkHeader, rootChainId: string, r: BlockResult): void {
  if (h.chainId !== rootChainId) fail(r, '6.linkage.chain-id', `chainId ${h.chainId} differs from the root's ${rootChainId}`);
  if (h.height !== add(p.height, 1)) fail(r, '6.linkage.height', `height ${h.height} != parent height ${p.height} + 1`);
  if (h.view <= p.view) fail(r, '6.linkage.view', `view ${h.view} <= parent view ${p.view}`);
  if (h.parentView !== p.view) fail(r, '6.linkage.parent-view', `parentView ${h.parentView} != parent view ${p.view}`);
  if (h.timestamp < p.timestamp) fail(r, '6.linkage.timestamp', `timestamp ${h.timestamp} < parent timestamp ${p.timestamp}`);
  const tc = h.tc;
  if (h.view === add(h.parentView, 1)) {
    if (tc !== null) fail(r, '6.linkage.tc-present', `view ${h.view} == parentView + 1 but lastViewTC is present`);
    return;
  }
  if (tc === null) {
    fail(r, '6.linkage.tc-absent', `view ${h.view} != parentView + 1 and lastViewTC is absent`);
    return;
  }
  const want = sub(h.view, 1);
  if (tc.view !== want) fail(r, '6.linkage.tc-view', `lastViewTC.view ${tc.view} != view - 1 = ${want}`);
  if (tc.newestQCView > h.parentView) fail(r, '6.linkage.tc-newest-qc', `lastViewTC.newestQC.view ${tc.newestQCView} > parentView ${h.parentView}`);
}
