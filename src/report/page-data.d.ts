// The data the HTML report page carries for its program (`<script id="report-data">`): written
// by html.ts (Node), read by browser/page.ts (DOM). Declarations only, so both programs, with
// their different libraries, compile against this one description and neither emits it.
// `V` is the verdict type: the replay's Verdict union on the Node side, any string in the page.

/**
 * A counter (height, view, epoch counter) by the project's 64-bit rule (docs/output.md): a JSON
 * number, exact digits even above 2^53; the Node side holds it as number or bigint.
 */
export type Counter = number | bigint;

/** What the details panel shows for one block. */
export interface BlockDetails<V extends string = string> {
  id: string | null;
  record: number;
  height: Counter | null;
  view: Counter | null;
  parentId: string | null;
  finalized: boolean;
  onChain: boolean;
  verdict: V;
  failed: string[];
  reasons: Record<string, string>;
  /** The rule ids (docs/rules.md) that failed, by failed check. */
  rules: Record<string, string[]>;
  /**
   * For a not-ok block whose state the replay computed: the state change from the parent's state
   * to the computed one (one text per field); null otherwise or past the page's cap.
   */
  stateDiff: string[] | null;
  /** False when the committed state id is no state the replay computed; null when not known. */
  committedStateComputed: boolean | null;
  events: { type: string; outcome: string; reason: string }[];
  eventsTotal: number;
  committedStateId: string | null;
  computedStateId: string | null;
  protocolStateVersion: number | null;
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
  pendingUpgrade: string | null;
  epochCounter: Counter | null;
  epochPhase: string | null;
  epochFinalView: Counter | null;
  requiredVersion: string | null;
}

/** The pixel geometry the page re-lays the timeline out with (the same html.ts draws with). */
export interface PageGeometry {
  labelWidth: number;
  rightPad: number;
  gutter: number;
  cell: number;
  denseCell: number;
}

export interface PageData<V extends string = string> {
  /** The lowest height drawn; element positions are height offsets from it. */
  low: Counter;
  span: number;
  geometry: PageGeometry;
  verdictColors: Record<V, string>;
  maxMarkers: number;
  details: Record<string, BlockDetails<V>>;
}
