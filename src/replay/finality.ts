// SPEC 6 "Finality" and 9.11: the finalized records must form one chain from the root. Fed one
// height at a time in increasing order (the report order), it keeps one height in memory.
import type { U64 } from '../model/types.js';
import { add } from '../model/u64.js';

export type ConflictKind = 'gap' | 'two-finalized' | 'parent-not-finalized' | 'at-or-below-root';

export interface FinalityConflict {
  height: U64;
  kind: ConflictKind;
  ids: string[];
}

export interface FinalizedEntry {
  id: string;
  parentId: string;
}

export class FinalityWalker {
  readonly conflicts: FinalityConflict[] = [];
  /** Last height of the consistent finalized chain from the root. */
  finalizedHeight: U64;
  private broken = false;
  /** The single finalized block of the previous height fed (null after two at one height). */
  private prev: { height: U64; id: string } | null;

  constructor(
    private readonly rootHeight: U64,
    rootId: string,
  ) {
    this.finalizedHeight = rootHeight;
    this.prev = { height: rootHeight, id: rootId };
  }

  /**
   * Feeds the finalized records of one height (heights strictly increasing). Returns the id
   * of the block that extends the consistent chain at this height, or null.
   */
  addHeight(height: U64, entries: readonly FinalizedEntry[]): string | null {
    if (entries.length === 0) return null;
    if (height <= this.rootHeight) {
      for (const e of entries) this.conflicts.push({ height, kind: 'at-or-below-root', ids: [e.id] });
      return null;
    }
    const prev = this.prev;
    const follows = prev !== null && height === add(prev.height, 1);
    if (prev !== null && !follows) {
      this.conflicts.push({ height: add(prev.height, 1), kind: 'gap', ids: [] });
      this.broken = true;
    }
    if (entries.length > 1) {
      this.conflicts.push({ height, kind: 'two-finalized', ids: entries.map((e) => e.id).sort() });
      this.broken = true;
      this.prev = null;
      return null;
    }
    const e = entries[0];
    if (follows && e.parentId !== prev!.id) {
      this.conflicts.push({ height, kind: 'parent-not-finalized', ids: [e.id] });
      this.broken = true;
    }
    if (prev === null) this.broken = true;
    this.prev = { height, id: e.id };
    if (this.broken) return null;
    this.finalizedHeight = height;
    return e.id;
  }
}
